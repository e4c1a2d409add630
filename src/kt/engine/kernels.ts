/**
 * The hot loops of the LSTM engine behind one interface, implemented twice: in plain JS
 * (reference, fallback and float64 gradient checks) and in a WebAssembly SIMD module (speed).
 *
 * Every array a kernel touches must come from that kernel's own `allocate` (the WASM kernel can
 * only see its linear memory). Matrices are row-major; a "row" is one sequence at one time step.
 * Gate blocks are laid out [i | f | c | o], each `hidden` wide (the Keras order).
 */

export type FloatArray = Float32Array | Float64Array;

/** Named buffers carved out of one kernel's memory in a single allocation. */
export interface Arena<F extends string, I extends string> {
  f: Record<F, FloatArray>;
  i: Record<I, Int32Array>;
}

export interface Kernels {
  readonly name: 'js' | 'wasm';
  readonly precision: 'f32' | 'f64';

  /** Allocates all buffers at once, zero-filled. Callable once per kernel instance. */
  allocate<F extends string, I extends string>(floats: Record<F, number>, ints: Record<I, number>): Arena<F, I>;

  /** C[m×n] += op(A)[m×k] · B[k×n]; op(A) = A (A is m×k, stride lda) or Aᵀ (A is k×m, stride lda). */
  gemm(m: number, n: number, k: number, a: FloatArray, lda: number, transA: boolean, b: FloatArray, ldb: number, c: FloatArray, ldc: number): void;

  /**
   * Packs B[k×n] (stride ldb) for gemmPacked: its 8-column panels one after another, each k rows of
   * 8 floats, the last zero-padded (out holds packedSize(k, n) floats).
   */
  packPanels(k: number, n: number, b: FloatArray, ldb: number, out: FloatArray): void;

  /** C[m×n] += A[m×k] · B, B packed by packPanels(k, n, …): for a B that is multiplied many times (served weights). */
  gemmPacked(m: number, n: number, k: number, a: FloatArray, lda: number, packed: FloatArray, c: FloatArray, ldc: number): void;

  /**
   * out[r] = bias + kernel[idx[r]] (+ rowScale[r] · kernel[scaledRowOffset + idx[r]]):
   * the one-hot input times the LSTM kernel, as a row gather.
   */
  gatherInput(rows: number, width: number, kernel: FloatArray, idx: Int32Array, bias: FloatArray, scaledRowOffset: number, rowScale: FloatArray | null, out: FloatArray): void;

  /** In place: gates (pre-activations) → activations; writes c, tanh(c), h. cPrev null = zero state. */
  lstmGatesForward(n: number, hidden: number, gates: FloatArray, cPrev: FloatArray | null, c: FloatArray, tanhC: FloatArray, h: FloatArray): void;

  /** mask[j] = 0 with probability `rate`, else 1/(1-rate); counter-based on (key, j) so both kernels agree. */
  dropoutMask(count: number, key: number, rate: number, mask: FloatArray): void;

  /** logits[r] = outB[skill[r]] + Σ_j h[r,j]·mask[r,j]·outW[skill[r], j] (only the asked skill's logit). */
  outputLogits(rows: number, hidden: number, h: FloatArray, mask: FloatArray | null, outW: FloatArray, outB: FloatArray, skill: Int32Array, logits: FloatArray): void;

  /** dh = dLogit·outW[skill]·mask; dOutW[skill] += dLogit·h·mask; dOutB[skill] += dLogit. */
  outputBackward(rows: number, hidden: number, h: FloatArray, mask: FloatArray | null, outW: FloatArray, skill: Int32Array, dLogits: FloatArray, dh: FloatArray, dOutW: FloatArray, dOutB: FloatArray): void;

  /** From dh and the cell gradient carried from t+1 (dc, updated in place to the one for t-1), the gate pre-activation gradients. */
  lstmGatesBackward(n: number, hidden: number, gates: FloatArray, cPrev: FloatArray | null, tanhC: FloatArray, dh: FloatArray, dc: FloatArray, dGates: FloatArray): void;

  /** Transpose of gatherInput: dKernel[idx[r]] += dGates[r] (and the scaled rows), dBias += Σ_r dGates[r]. */
  inputBackward(rows: number, width: number, dGates: FloatArray, idx: Int32Array, scaledRowOffset: number, rowScale: FloatArray | null, dKernel: FloatArray, dBias: FloatArray): void;

  /** out[r] = kernel[rowOffset + idx[r]] · x[r]. */
  rowDots(rows: number, width: number, kernel: FloatArray, rowOffset: number, idx: Int32Array, x: FloatArray, out: FloatArray): void;

  /** In place: x[j] = 1 / (1 + e^(−x[j])) (a class's logits for every skill, when serving). */
  sigmoid(n: number, x: FloatArray): void;

  sumSquares(n: number, x: FloatArray): number;

  /**
   * Adam step on g·gradScale (PyTorch's formulation): m, v moments;
   * p -= stepSize · m / (sqrt(v)·invSqrtBias2 + eps).
   */
  adam(n: number, params: FloatArray, grads: FloatArray, m: FloatArray, v: FloatArray, gradScale: number, beta1: number, beta2: number, stepSize: number, invSqrtBias2: number, eps: number): void;

  /** dst[cols×rows] = src[rows×cols]ᵀ. */
  transpose(rows: number, cols: number, src: FloatArray, dst: FloatArray): void;
}

/** Floats of B[k×n] packed by `packPanels`. */
export function packedSize(k: number, n: number): number {
  return k * Math.ceil(n / 8) * 8;
}

/** Dropout keep threshold on a uint32 hash, shared by both kernels. */
export function dropThreshold(rate: number): number {
  return Math.min(0xffffffff, Math.round(rate * 2 ** 32));
}
