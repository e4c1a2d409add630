/**
 * DKT forward/backward on packed, time-major batches.
 *
 * A batch's windows are sorted by length (longest first) and stored step by step, so step t holds
 * rows for the n_t windows still running, as a prefix of step t−1's rows: no padding is computed.
 * A window of L answers gives L−1 LSTM steps; the step at answer t predicts answer t+1.
 */
import { DktConfig, DktLayout, dktLayout, interactionIndex, paramView } from '../dkt';
import type { StudentSequence } from '../types';
import { FloatArray, Kernels } from './kernels';

export interface PackedBatch {
  /** Number of windows (rows at step 0). */
  sequences: number;
  /** Number of LSTM steps of the longest window. */
  steps: number;
  /** Rows running at step t (non-increasing). */
  counts: Int32Array;
  /** First row of step t; offsets[steps] = rows. */
  offsets: Int32Array;
  rows: number;
  /** One-hot interaction index of the answer fed at the row. */
  input: Int32Array;
  /** Item answered at the row (item-aware models), else null. */
  inputItem: Int32Array | null;
  /** Skill, item and correctness of the next answer, which the row predicts. */
  targetSkill: Int32Array;
  targetItem: Int32Array | null;
  targetCorrect: Uint8Array;
}

/** Packs windows (each ≥ 2 answers) time-major, longest first. */
export function packWindows(windows: readonly StudentSequence[], numSkills: number, withItems: boolean): PackedBatch {
  const order = windows.map((w, i) => ({ w, i, steps: w.skills.length - 1 }));
  for (const o of order) if (o.steps < 1) throw new Error(`window ${o.i} has fewer than 2 answers`);
  order.sort((a, b) => b.steps - a.steps || a.i - b.i);
  const steps = order.length ? order[0].steps : 0;
  const counts = new Int32Array(steps);
  for (const o of order) for (let t = 0; t < o.steps; t++) counts[t]++;
  const offsets = new Int32Array(steps + 1);
  for (let t = 0; t < steps; t++) offsets[t + 1] = offsets[t] + counts[t];
  const rows = offsets[steps];
  const input = new Int32Array(rows);
  const targetSkill = new Int32Array(rows);
  const targetCorrect = new Uint8Array(rows);
  const inputItem = withItems ? new Int32Array(rows) : null;
  const targetItem = withItems ? new Int32Array(rows) : null;
  order.forEach(({ w }, r) => {
    for (let t = 0; t < w.skills.length - 1; t++) {
      const row = offsets[t] + r;
      input[row] = interactionIndex(numSkills, w.skills[t], w.correct[t]);
      targetSkill[row] = w.skills[t + 1];
      targetCorrect[row] = w.correct[t + 1];
      if (inputItem && targetItem) {
        if (!w.items) throw new Error(`sequence ${w.student} has no item ids but the model is item-aware`);
        inputItem[row] = w.items[t];
        targetItem[row] = w.items[t + 1];
      }
    }
  });
  return { sequences: order.length, steps, counts, offsets, rows, input, inputItem, targetSkill, targetItem, targetCorrect };
}

export interface EngineCapacity {
  /** Most rows (answers minus one per window) in one batch. */
  maxRows: number;
  /** Most windows in one batch. */
  maxSequences: number;
  /** Allocate gradients and Adam moments. */
  training: boolean;
}

export interface AdamOptions {
  learningRate: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Clip the global gradient norm to this (≤ 0: no clipping). */
  clipNorm: number;
}

export const DEFAULT_ADAM: AdamOptions = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, clipNorm: 10 };

/** Softplus, stable for large |z|: log(1 + e^z). */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/**
 * Owns the parameters (in the kernel's memory and precision), the per-batch buffers and, when
 * training, the gradients and Adam state.
 */
export class DktEngine {
  readonly layout: DktLayout;
  private readonly H: number;
  private readonly f: Record<string, FloatArray>;
  private readonly ints: Record<'input' | 'targetSkill', Int32Array>;
  private adamSteps = 0;

  constructor(
    readonly kernels: Kernels,
    readonly config: DktConfig,
    readonly capacity: EngineCapacity,
  ) {
    this.layout = dktLayout(config);
    this.H = config.hidden;
    const H = config.hidden;
    const R = capacity.maxRows;
    const P = this.layout.total;
    const g = capacity.training ? 1 : 0;
    const arena = kernels.allocate(
      {
        params: P,
        recurrentT: g * 4 * H * H,
        grads: g * P,
        adamM: g * P,
        adamV: g * P,
        gates: R * 4 * H,
        c: R * H,
        tanhC: R * H,
        h: R * H,
        mask: g * R * H,
        hPrev: g * R * H,
        dh: g * capacity.maxSequences * H,
        dc: g * capacity.maxSequences * H,
        logits: R,
        dLogits: g * R,
        rowScale: R,
        rowDots: g * R,
      },
      { input: R, targetSkill: R },
    );
    this.f = arena.f;
    this.ints = arena.i;
  }

  setParams(params: ArrayLike<number>): void {
    if (params.length !== this.layout.total) throw new Error(`expected ${this.layout.total} parameters, got ${params.length}`);
    this.f.params.set(params);
  }

  getParams(into: Float32Array | Float64Array = new Float32Array(this.layout.total)): Float32Array | Float64Array {
    into.set(this.f.params);
    return into;
  }

  /** The gradient of the last `lossAndGradients` (a view; engine layout). */
  get gradients(): FloatArray {
    return this.f.grads;
  }

  /**
   * Probabilities that each row's next answer is correct, in packed row order (a new array; the
   * logits stay in the engine for the backward pass). dropoutKey null = inference (no dropout).
   */
  forward(batch: PackedBatch, dropoutKey: number | null = null): FloatArray {
    this.checkCapacity(batch);
    const { kernels: k, H, f } = this;
    const W = 4 * H;
    const S = this.config.numSkills;
    const rows = batch.rows;
    const params = f.params;
    const useMask = dropoutKey !== null && this.config.dropout > 0;
    if (dropoutKey !== null && !this.capacity.training) throw new Error('dropout needs an engine built for training');
    this.ints.input.set(batch.input);
    this.ints.targetSkill.set(batch.targetSkill);
    const rowScale = this.gatherRowScale(batch);
    const kernel = paramView(this.layout, params, 'kernel');
    const recurrent = paramView(this.layout, params, 'recurrent');
    k.gatherInput(rows, W, kernel, this.ints.input, paramView(this.layout, params, 'bias'), 2 * S, rowScale, f.gates);
    for (let t = 0; t < batch.steps; t++) {
      const n = batch.counts[t];
      const o = batch.offsets[t];
      const gates = f.gates.subarray(o * W, (o + n) * W);
      let cPrev: FloatArray | null = null;
      if (t > 0) {
        const p = batch.offsets[t - 1];
        k.gemm(n, W, H, f.h.subarray(p * H, (p + n) * H), H, false, recurrent, W, gates, W);
        cPrev = f.c.subarray(p * H, (p + n) * H);
      }
      k.lstmGatesForward(n, H, gates, cPrev, f.c.subarray(o * H), f.tanhC.subarray(o * H), f.h.subarray(o * H));
    }
    const mask = useMask ? f.mask : null;
    if (mask) k.dropoutMask(rows * H, dropoutKey as number, this.config.dropout, mask);
    k.outputLogits(rows, H, f.h, mask, paramView(this.layout, params, 'outWeights'), paramView(this.layout, params, 'outBias'), this.ints.targetSkill, f.logits);
    const logits = f.logits.subarray(0, rows);
    if (batch.targetItem) {
      const itemBias = paramView(this.layout, params, 'itemBias');
      for (let r = 0; r < rows; r++) logits[r] += itemBias[batch.targetItem[r]];
    }
    return logits.map((z) => 1 / (1 + Math.exp(-z)));
  }

  /** Mean binary cross-entropy of the batch, with its gradient left in `gradients`. */
  lossAndGradients(batch: PackedBatch, dropoutKey: number | null): number {
    if (!this.capacity.training) throw new Error('engine was not built for training');
    this.forward(batch, dropoutKey);
    const { kernels: k, H, f, layout } = this;
    const W = 4 * H;
    const S = this.config.numSkills;
    const rows = batch.rows;
    const params = f.params;
    const grads = f.grads;
    grads.fill(0);
    const logits = f.logits;
    const dLogits = f.dLogits;
    let loss = 0;
    for (let r = 0; r < rows; r++) {
      const z = logits[r];
      const y = batch.targetCorrect[r];
      loss += softplus(z) - y * z;
      dLogits[r] = (1 / (1 + Math.exp(-z)) - y) / rows;
    }
    if (batch.targetItem) {
      const dItemBias = paramView(layout, grads, 'itemBias');
      for (let r = 0; r < rows; r++) dItemBias[batch.targetItem[r]] += dLogits[r];
    }
    const mask = this.config.dropout > 0 && dropoutKey !== null ? f.mask : null;
    const outW = paramView(layout, params, 'outWeights');
    const dOutW = paramView(layout, grads, 'outWeights');
    const dOutB = paramView(layout, grads, 'outBias');
    // recurrentT serves dh_{t-1} += dGates_t · Uᵀ as a plain row-major product.
    k.transpose(H, W, paramView(layout, params, 'recurrent'), f.recurrentT);
    for (let t = batch.steps - 1; t >= 0; t--) {
      const n = batch.counts[t];
      const o = batch.offsets[t];
      const nNext = t + 1 < batch.steps ? batch.counts[t + 1] : 0;
      const dh = f.dh.subarray(0, n * H);
      k.outputBackward(n, H, f.h.subarray(o * H), mask && mask.subarray(o * H), outW, this.ints.targetSkill.subarray(o), dLogits.subarray(o), dh, dOutW, dOutB);
      if (nNext > 0) {
        const on = batch.offsets[t + 1];
        k.gemm(nNext, H, W, f.gates.subarray(on * W, (on + nNext) * W), W, false, f.recurrentT, H, dh, H);
      }
      // Windows that end at step t start with no cell gradient from the future.
      f.dc.fill(0, nNext * H, n * H);
      const p = t > 0 ? batch.offsets[t - 1] : 0;
      const cPrev = t > 0 ? f.c.subarray(p * H, (p + n) * H) : null;
      const gates = f.gates.subarray(o * W, (o + n) * W);
      // The gate activations of step t are no longer needed: their gradients overwrite them.
      k.lstmGatesBackward(n, H, gates, cPrev, f.tanhC.subarray(o * H), dh, f.dc, gates);
    }
    const dGates = f.gates;
    // dU in one product: Σ_t h_{t-1}ᵀ·dGates_t over the rows of steps ≥ 1, h_{t-1} gathered contiguously.
    const first = batch.steps > 0 ? batch.counts[0] : 0;
    for (let t = 1; t < batch.steps; t++) {
      const n = batch.counts[t];
      const p = batch.offsets[t - 1];
      const dst = (batch.offsets[t] - first) * H;
      f.hPrev.set(f.h.subarray(p * H, (p + n) * H), dst);
    }
    if (rows > first) {
      k.gemm(H, W, rows - first, f.hPrev, H, true, dGates.subarray(first * W), W, paramView(layout, grads, 'recurrent'), W);
    }
    const rowScale = batch.inputItem ? f.rowScale : null;
    k.inputBackward(rows, W, dGates, this.ints.input, 2 * S, rowScale, paramView(layout, grads, 'kernel'), paramView(layout, grads, 'bias'));
    if (batch.inputItem) {
      k.rowDots(rows, W, paramView(layout, params, 'kernel'), 2 * S, this.ints.input, dGates, f.rowDots);
      const dItemScale = paramView(layout, grads, 'itemScale');
      for (let r = 0; r < rows; r++) dItemScale[batch.inputItem[r]] += f.rowDots[r];
    }
    return loss / rows;
  }

  /** One Adam step on the current gradients, after clipping their global norm. Returns the norm. */
  adamStep(opts: AdamOptions = DEFAULT_ADAM): number {
    const { kernels: k, f } = this;
    const n = this.layout.total;
    const norm = Math.sqrt(k.sumSquares(n, f.grads));
    // torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when that is below 1.
    const gradScale = opts.clipNorm > 0 ? Math.min(1, opts.clipNorm / (norm + 1e-6)) : 1;
    this.adamSteps++;
    const bias1 = 1 - opts.beta1 ** this.adamSteps;
    const bias2 = 1 - opts.beta2 ** this.adamSteps;
    k.adam(n, f.params, f.grads, f.adamM, f.adamV, gradScale, opts.beta1, opts.beta2, opts.learningRate / bias1, 1 / Math.sqrt(bias2), opts.eps);
    return norm;
  }

  private gatherRowScale(batch: PackedBatch): FloatArray | null {
    if (!batch.inputItem) return null;
    if (this.config.numItems === 0) throw new Error('item ids given to a skill-only model');
    const itemScale = paramView(this.layout, this.f.params, 'itemScale');
    const rowScale = this.f.rowScale;
    for (let r = 0; r < batch.rows; r++) rowScale[r] = itemScale[batch.inputItem[r]];
    return rowScale;
  }

  private checkCapacity(batch: PackedBatch): void {
    if (batch.rows > this.capacity.maxRows || batch.sequences > this.capacity.maxSequences) {
      throw new Error(`batch of ${batch.sequences} windows / ${batch.rows} rows exceeds the engine's ${this.capacity.maxSequences} / ${this.capacity.maxRows}`);
    }
    if ((batch.inputItem !== null) !== this.config.numItems > 0) {
      throw new Error(this.config.numItems > 0 ? 'item-aware model needs batches packed with items' : 'skill-only model got item ids');
    }
  }
}
