/**
 * Serving a trained DKT model: a student's state is the LSTM's (h, c); each answer advances it by
 * exactly one step, and the next answer's P(correct) is read from it per skill or per item.
 * Batch versions advance or read a whole class in one matrix product.
 */
import type { KtPredictor } from './coldstart';
import { DktLayout, dktLayout, DktModel, interactionIndex, paramView } from './dkt';
import { createKernels, KernelKind } from './engine';
import type { FloatArray, Kernels } from './engine/kernels';

/** One student's LSTM state after their answers so far. */
export interface DktState {
  h: Float32Array;
  c: Float32Array;
}

/** The answers a state is built from (time order, 0-based ids). */
export interface AnswerHistory {
  skills: ArrayLike<number>;
  items?: ArrayLike<number>;
  correct: ArrayLike<number>;
}

export interface PredictorOptions {
  kernels?: KernelKind;
  /** Most students per batch call (larger calls are split). Default 256. */
  maxBatch?: number;
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

export class DktPredictor implements KtPredictor<DktState> {
  readonly numSkills: number;
  readonly numItems: number;
  private readonly H: number;
  private readonly layout: DktLayout;
  private readonly maxBatch: number;
  /** numSkills rounded up to a multiple of 8, the GEMM kernel's column block. */
  private readonly paddedSkills: number;
  private readonly kernels: Kernels;
  private readonly f: Record<'params' | 'outKernel' | 'h' | 'c' | 'gates' | 'cNext' | 'tanhC' | 'hNext' | 'logits' | 'rowScale', FloatArray>;
  private readonly idx: Int32Array;

  constructor(
    readonly model: DktModel,
    opts: PredictorOptions = {},
  ) {
    const { numSkills: S, numItems, hidden: H } = model.config;
    this.numSkills = S;
    this.numItems = numItems;
    this.H = H;
    this.layout = dktLayout(model.config);
    this.maxBatch = opts.maxBatch ?? 256;
    const B = this.maxBatch;
    const S8 = (this.paddedSkills = Math.ceil(S / 8) * 8);
    this.kernels = createKernels(opts.kernels);
    const arena = this.kernels.allocate(
      { params: this.layout.total, outKernel: H * S8, h: B * H, c: B * H, gates: B * 4 * H, cNext: B * H, tanhC: B * H, hNext: B * H, logits: B * S8, rowScale: B },
      { idx: B },
    );
    this.f = arena.f;
    this.idx = arena.i.idx;
    this.f.params.set(model.params);
    // [H, S8] (a Keras Dense kernel, zero-padded columns) so that a class's logits are one product h·W.
    const outW = paramView(this.layout, this.f.params, 'outWeights');
    for (let s = 0; s < S; s++) for (let j = 0; j < H; j++) this.f.outKernel[j * S8 + s] = outW[s * H + j];
  }

  initialState(): DktState {
    return { h: new Float32Array(this.H), c: new Float32Array(this.H) };
  }

  /** Advances `state` by one answer, in place; returns it. */
  step(state: DktState, skill: number, item: number | undefined, correct: boolean | number): DktState {
    this.stepBatch([state], [skill], item === undefined ? null : [item], [correct ? 1 : 0]);
    return state;
  }

  /** P(correct) on each skill's next question (for an item-aware model: an item of average ease). */
  predictAll(state: DktState): Float32Array {
    return this.predictBatch([state])[0];
  }

  /** P(correct) on a question of `skill`; with an item-aware model and an item, that item's. */
  predictItem(state: DktState, skill: number, item?: number): number {
    this.checkSkill(skill);
    const H = this.H;
    const outW = paramView(this.layout, this.f.params, 'outWeights');
    let z = paramView(this.layout, this.f.params, 'outBias')[skill];
    for (let j = 0; j < H; j++) z += state.h[j] * outW[skill * H + j];
    return sigmoid(z + this.itemBias(item));
  }

  /** Advances each student's state by their answer (in place): one product for the whole class. */
  stepBatch(states: DktState[], skills: ArrayLike<number>, items: ArrayLike<number> | null, correct: ArrayLike<number>): void {
    if (skills.length !== states.length || correct.length !== states.length || (items && items.length !== states.length)) {
      throw new Error(`stepBatch: ${states.length} states but ${skills.length} skills, ${correct.length} answers${items ? `, ${items.length} items` : ''}`);
    }
    for (let start = 0; start < states.length; start += this.maxBatch) {
      const n = Math.min(this.maxBatch, states.length - start);
      this.stepChunk(states, start, n, skills, items, correct);
    }
  }

  /** P(correct) per skill for each student's next answer. */
  predictBatch(states: DktState[]): Float32Array[] {
    const S = this.numSkills;
    const S8 = this.paddedSkills;
    const out: Float32Array[] = [];
    const outBias = paramView(this.layout, this.f.params, 'outBias');
    for (let start = 0; start < states.length; start += this.maxBatch) {
      const n = Math.min(this.maxBatch, states.length - start);
      const h = this.loadStates(states, start, n, 'h');
      const logits = this.f.logits;
      for (let r = 0; r < n; r++) logits.set(outBias, r * S8);
      this.kernels.gemm(n, S8, this.H, h, this.H, false, this.f.outKernel, S8, logits, S8);
      for (let r = 0; r < n; r++) {
        const p = new Float32Array(S);
        for (let s = 0; s < S; s++) p[s] = sigmoid(logits[r * S8 + s]);
        out.push(p);
      }
    }
    return out;
  }

  /** The state after a whole history, from scratch. */
  stateFromHistory(history: AnswerHistory): DktState {
    const state = this.initialState();
    for (let t = 0; t < history.skills.length; t++) this.step(state, history.skills[t], history.items?.[t], history.correct[t]);
    return state;
  }

  private stepChunk(states: DktState[], start: number, n: number, skills: ArrayLike<number>, items: ArrayLike<number> | null, correct: ArrayLike<number>): void {
    const { H, f, kernels: k } = this;
    const S = this.numSkills;
    const W = 4 * H;
    const itemAware = this.numItems > 0;
    const itemScale = paramView(this.layout, f.params, 'itemScale');
    for (let r = 0; r < n; r++) {
      const skill = skills[start + r];
      this.checkSkill(skill);
      this.idx[r] = interactionIndex(S, skill, correct[start + r]);
      const item = items ? items[start + r] : undefined;
      f.rowScale[r] = itemAware && item !== undefined ? itemScale[this.checkItem(item)] : 0;
    }
    const h = this.loadStates(states, start, n, 'h');
    const c = this.loadStates(states, start, n, 'c');
    k.gatherInput(n, W, paramView(this.layout, f.params, 'kernel'), this.idx, paramView(this.layout, f.params, 'bias'), 2 * S, itemAware ? f.rowScale : null, f.gates);
    k.gemm(n, W, H, h, H, false, paramView(this.layout, f.params, 'recurrent'), W, f.gates, W);
    k.lstmGatesForward(n, H, f.gates, c, f.cNext, f.tanhC, f.hNext);
    for (let r = 0; r < n; r++) {
      states[start + r].h.set(f.hNext.subarray(r * H, (r + 1) * H));
      states[start + r].c.set(f.cNext.subarray(r * H, (r + 1) * H));
    }
  }

  private loadStates(states: DktState[], start: number, n: number, part: 'h' | 'c'): FloatArray {
    const H = this.H;
    const buf = this.f[part];
    for (let r = 0; r < n; r++) {
      const v = states[start + r][part];
      if (v.length !== H) throw new Error(`state ${start + r} has ${part} of length ${v.length}, the model has hidden size ${H}`);
      buf.set(v, r * H);
    }
    return buf.subarray(0, n * H);
  }

  private itemBias(item: number | undefined): number {
    if (this.numItems === 0 || item === undefined) return 0;
    return paramView(this.layout, this.f.params, 'itemBias')[this.checkItem(item)];
  }

  private checkSkill(skill: number): void {
    if (!Number.isInteger(skill) || skill < 0 || skill >= this.numSkills) throw new RangeError(`skill ${skill} is outside 0..${this.numSkills - 1}`);
  }

  private checkItem(item: number): number {
    if (!Number.isInteger(item) || item < 0 || item >= this.numItems) throw new RangeError(`item ${item} is outside 0..${this.numItems - 1}`);
    return item;
  }
}
