/**
 * The serving step of a trained DKT network, for the rows [start, start + n) of a table of
 * students (`ServingRows`): advance (h, c) by one answer, or read P(correct) for every skill.
 * The same code runs on the calling thread and in the pool's workers (./serving-pool.ts); each
 * thread owns one `ServingKernel` (its kernel memory) and they meet in the shared table.
 */
import { dktLayout, DktLayout, DktModel, paramView } from '../dkt';
import { createKernels, KernelKind } from './index';
import { packedSize, type FloatArray, type Kernels } from './kernels';

/** Per-student inputs and outputs of a batch call, one row per student. */
export interface ServingRows {
  /** One-hot interaction index of the answer (step). */
  idx: Int32Array;
  /** itemScale of the answered item, 0 without one (step, item-aware models). */
  rowScale: Float32Array;
  /** State before the answer (step), or the state to predict from (probabilities). */
  h: Float32Array;
  c: Float32Array;
  /** State after the answer (step). */
  hNext: Float32Array;
  cNext: Float32Array;
  /** numSkills probabilities per row (probabilities). */
  probs: Float32Array;
}

const ROW_FIELDS = ['idx', 'rowScale', 'h', 'c', 'hNext', 'cNext', 'probs'] as const;

function rowWidths(hidden: number, numSkills: number): Record<(typeof ROW_FIELDS)[number], number> {
  return { idx: 1, rowScale: 1, h: hidden, c: hidden, hNext: hidden, cNext: hidden, probs: numSkills };
}

/** Bytes of a `ServingRows` table (every field is 4-byte elements). */
export function servingRowsBytes(rows: number, hidden: number, numSkills: number): number {
  const widths = rowWidths(hidden, numSkills);
  return ROW_FIELDS.reduce((sum, f) => sum + 4 * rows * widths[f], 0);
}

/** Views of a table over `buffer` (a SharedArrayBuffer when worker threads share it). */
export function servingRows(buffer: ArrayBufferLike, rows: number, hidden: number, numSkills: number): ServingRows {
  const widths = rowWidths(hidden, numSkills);
  let at = 0;
  const view = <T>(make: new (b: ArrayBufferLike, offset: number, length: number) => T, field: (typeof ROW_FIELDS)[number]): T => {
    const v = new make(buffer, at, rows * widths[field]);
    at += 4 * rows * widths[field];
    return v;
  };
  return {
    idx: view(Int32Array, 'idx'),
    rowScale: view(Float32Array, 'rowScale'),
    h: view(Float32Array, 'h'),
    c: view(Float32Array, 'c'),
    hNext: view(Float32Array, 'hNext'),
    cNext: view(Float32Array, 'cNext'),
    probs: view(Float32Array, 'probs'),
  };
}

export type ServingOp = 'step' | 'probabilities';

/** One thread's kernel memory with the model's parameters, for up to `maxRows` rows a call. */
export class ServingKernel {
  private readonly H: number;
  private readonly S: number;
  private readonly layout: DktLayout;
  private readonly k: Kernels;
  /** numSkills rounded up to a multiple of 8, the GEMM kernel's column block. */
  private readonly paddedSkills: number;
  private readonly f: Record<'params' | 'recurrentPacked' | 'outPacked' | 'h' | 'c' | 'gates' | 'cNext' | 'tanhC' | 'hNext' | 'logits' | 'rowScale', FloatArray>;
  private readonly idx: Int32Array;

  constructor(
    model: DktModel,
    readonly maxRows: number,
    kind?: KernelKind,
  ) {
    const { numSkills: S, hidden: H } = model.config;
    this.H = H;
    this.S = S;
    this.layout = dktLayout(model.config);
    const B = maxRows;
    const S8 = (this.paddedSkills = Math.ceil(S / 8) * 8);
    this.k = createKernels(kind);
    const arena = this.k.allocate(
      { params: this.layout.total, recurrentPacked: packedSize(H, 4 * H), outPacked: packedSize(H, S), h: B * H, c: B * H, gates: B * 4 * H, cNext: B * H, tanhC: B * H, hNext: B * H, logits: B * S8, rowScale: B },
      { idx: B },
    );
    this.f = arena.f;
    this.idx = arena.i.idx;
    this.f.params.set(model.params);
    // The weights every call multiplies, packed once for gemmPacked (the plain gemm repacks them per call).
    this.k.packPanels(H, 4 * H, paramView(this.layout, this.f.params, 'recurrent'), 4 * H, this.f.recurrentPacked);
    // The output layer as the [H, S] kernel of a class's logits h·W (outWeights holds it transposed, [S, H]).
    const outW = paramView(this.layout, this.f.params, 'outWeights');
    for (let s = 0; s < S; s++) for (let j = 0; j < H; j++) this.f.outPacked[((s >> 3) * H + j) * 8 + (s & 7)] = outW[s * H + j];
  }

  run(op: ServingOp, rows: ServingRows, start: number, n: number, itemAware: boolean): void {
    if (n > this.maxRows) throw new Error(`${n} rows in one call, the kernel holds ${this.maxRows}`);
    if (op === 'step') this.step(rows, start, n, itemAware);
    else this.probabilities(rows, start, n);
  }

  private step(rows: ServingRows, start: number, n: number, itemAware: boolean): void {
    const { H, f, k } = this;
    const W = 4 * H;
    const span = (a: Float32Array): Float32Array => a.subarray(start * H, (start + n) * H);
    this.idx.set(rows.idx.subarray(start, start + n));
    f.h.set(span(rows.h));
    f.c.set(span(rows.c));
    if (itemAware) f.rowScale.set(rows.rowScale.subarray(start, start + n));
    const params = f.params;
    k.gatherInput(n, W, paramView(this.layout, params, 'kernel'), this.idx, paramView(this.layout, params, 'bias'), 2 * this.S, itemAware ? f.rowScale : null, f.gates);
    k.gemmPacked(n, W, H, f.h, H, f.recurrentPacked, f.gates, W);
    k.lstmGatesForward(n, H, f.gates, f.c, f.cNext, f.tanhC, f.hNext);
    span(rows.hNext).set(f.hNext.subarray(0, n * H));
    span(rows.cNext).set(f.cNext.subarray(0, n * H));
  }

  private probabilities(rows: ServingRows, start: number, n: number): void {
    const { H, S, f } = this;
    const S8 = this.paddedSkills;
    f.h.set(rows.h.subarray(start * H, (start + n) * H));
    const logits = f.logits;
    const outBias = paramView(this.layout, f.params, 'outBias');
    for (let r = 0; r < n; r++) logits.set(outBias, r * S8);
    this.k.gemmPacked(n, S8, H, f.h, H, f.outPacked, logits, S8);
    this.k.sigmoid(n * S8, logits);
    for (let r = 0; r < n; r++) rows.probs.set(logits.subarray(r * S8, r * S8 + S), (start + r) * S);
  }
}
