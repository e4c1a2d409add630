/**
 * Serving a trained DKT model: a student's state is the LSTM's (h, c); each answer advances it by
 * exactly one step, and the next answer's P(correct) is read from it per skill or per item.
 * Batch versions advance or read a whole class in one matrix product, optionally split across
 * worker threads (`threads`).
 */
import type { KtPredictor } from './coldstart';
import { DktLayout, dktLayout, DktModel, interactionIndex, paramView } from './dkt';
import { KernelKind } from './engine';
import { ServingKernel, ServingOp, ServingRows, servingRows, servingRowsBytes } from './engine/serving';
import { CHUNK_ROWS, ServingPool } from './engine/serving-pool';

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
  /**
   * Threads for batch calls of more than CHUNK_ROWS students: this one plus threads − 1 workers
   * (default 1: no workers). Results are identical for any number. Call close() when done.
   */
  threads?: number;
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

export class DktPredictor implements KtPredictor<DktState> {
  readonly numSkills: number;
  readonly numItems: number;
  private readonly H: number;
  private readonly layout: DktLayout;
  private readonly maxBatch: number;
  private readonly kernel: ServingKernel;
  private readonly pool: ServingPool | null;
  /** The students of a call: the pool's shared table, or this thread's own. */
  private readonly rows: ServingRows;
  /** Each row's new h and c in `rows`, made once: a class's step then allocates nothing per student. */
  private readonly hNextRows: Float32Array[];
  private readonly cNextRows: Float32Array[];

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
    const threads = opts.threads ?? 1;
    if (!(Number.isInteger(threads) && threads >= 1)) throw new Error(`threads must be a whole number ≥ 1, got ${threads}`);
    const split = threads > 1 && this.maxBatch > CHUNK_ROWS;
    // Split calls are done a chunk at a time, so this thread's kernel then needs only a chunk's room.
    this.kernel = new ServingKernel(model, split ? CHUNK_ROWS : this.maxBatch, opts.kernels);
    this.pool = split ? new ServingPool(model, this.maxBatch, threads - 1, this.kernel, opts.kernels) : null;
    this.rows = this.pool ? this.pool.rows : servingRows(new ArrayBuffer(servingRowsBytes(this.maxBatch, H, S)), this.maxBatch, H, S);
    const rowViews = (a: Float32Array) => Array.from({ length: this.maxBatch }, (_, r) => a.subarray(r * H, (r + 1) * H));
    this.hNextRows = rowViews(this.rows.hNext);
    this.cNextRows = rowViews(this.rows.cNext);
  }

  /** Resolves once the worker threads (if any) are up; batch calls made before get less help. */
  ready(): Promise<void> {
    return this.pool ? this.pool.ready : Promise.resolve();
  }

  /** Stops the worker threads (if any); the predictor still works, on this thread only. */
  async close(): Promise<void> {
    await this.pool?.close();
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
    const outW = paramView(this.layout, this.model.params, 'outWeights');
    let z = paramView(this.layout, this.model.params, 'outBias')[skill];
    for (let j = 0; j < H; j++) z += state.h[j] * outW[skill * H + j];
    return sigmoid(z + this.itemBias(item));
  }

  /** Advances each student's state by their answer (in place): one product for the whole class. */
  stepBatch(states: DktState[], skills: ArrayLike<number>, items: ArrayLike<number> | null, correct: ArrayLike<number>): void {
    if (skills.length !== states.length || correct.length !== states.length || (items && items.length !== states.length)) {
      throw new Error(`stepBatch: ${states.length} states but ${skills.length} skills, ${correct.length} answers${items ? `, ${items.length} items` : ''}`);
    }
    const { rows } = this;
    const S = this.numSkills;
    const itemAware = this.numItems > 0;
    const itemScale = paramView(this.layout, this.model.params, 'itemScale');
    for (let start = 0; start < states.length; start += this.maxBatch) {
      const n = Math.min(this.maxBatch, states.length - start);
      this.wakeWorkers(n);
      for (let r = 0; r < n; r++) {
        const skill = skills[start + r];
        this.checkSkill(skill);
        rows.idx[r] = interactionIndex(S, skill, correct[start + r]);
        const item = items ? items[start + r] : undefined;
        rows.rowScale[r] = itemAware && item !== undefined ? itemScale[this.checkItem(item)] : 0;
      }
      this.loadStates(states, start, n, true);
      this.run('step', n, itemAware);
      for (let r = 0; r < n; r++) {
        states[start + r].h.set(this.hNextRows[r]);
        states[start + r].c.set(this.cNextRows[r]);
      }
    }
  }

  /** P(correct) per skill for each student's next answer. */
  predictBatch(states: DktState[]): Float32Array[] {
    const S = this.numSkills;
    const out: Float32Array[] = [];
    for (let start = 0; start < states.length; start += this.maxBatch) {
      const n = Math.min(this.maxBatch, states.length - start);
      this.wakeWorkers(n);
      this.loadStates(states, start, n, false);
      this.run('probabilities', n, false);
      for (let r = 0; r < n; r++) out.push(this.rows.probs.slice(r * S, (r + 1) * S));
    }
    return out;
  }

  /** The state after a whole history, from scratch. */
  stateFromHistory(history: AnswerHistory): DktState {
    const state = this.initialState();
    for (let t = 0; t < history.skills.length; t++) this.step(state, history.skills[t], history.items?.[t], history.correct[t]);
    return state;
  }

  /** Before filling the rows of a call the workers will share: their wake-up overlaps with it. */
  private wakeWorkers(n: number): void {
    if (this.pool && n > CHUNK_ROWS) this.pool.wake();
  }

  private run(op: ServingOp, n: number, itemAware: boolean): void {
    if (this.pool && n > CHUNK_ROWS) this.pool.run(op, n, itemAware);
    else this.kernel.run(op, this.rows, 0, n, itemAware);
  }

  /** Copies h (and c) of states [start, start + n) into rows [0, n) of the table. */
  private loadStates(states: DktState[], start: number, n: number, withCell: boolean): void {
    const H = this.H;
    for (let r = 0; r < n; r++) {
      const s = states[start + r];
      if (s.h.length !== H || s.c.length !== H) throw new Error(`state ${start + r} has h of length ${s.h.length} and c of ${s.c.length}, the model has hidden size ${H}`);
      this.rows.h.set(s.h, r * H);
      if (withCell) this.rows.c.set(s.c, r * H);
    }
  }

  private itemBias(item: number | undefined): number {
    if (this.numItems === 0 || item === undefined) return 0;
    return paramView(this.layout, this.model.params, 'itemBias')[this.checkItem(item)];
  }

  private checkSkill(skill: number): void {
    if (!Number.isInteger(skill) || skill < 0 || skill >= this.numSkills) throw new RangeError(`skill ${skill} is outside 0..${this.numSkills - 1}`);
  }

  private checkItem(item: number): number {
    if (!Number.isInteger(item) || item < 0 || item >= this.numItems) throw new RangeError(`item ${item} is outside 0..${this.numItems - 1}`);
    return item;
  }
}
