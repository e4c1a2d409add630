/** The WebAssembly SIMD kernels (src/kt/wasm/kernel.c, prebuilt kernel.wasm): same interface as the JS ones. */
import { readFileSync, existsSync } from 'fs';
import { join } from 'path';
import { Arena, dropThreshold, FloatArray, Kernels } from './kernels';

interface KernelExports {
  memory: WebAssembly.Memory;
  __heap_base: WebAssembly.Global;
  gemm(m: number, n: number, k: number, a: number, lda: number, transA: number, b: number, ldb: number, c: number, ldc: number): void;
  pack_panels(k: number, n: number, b: number, ldb: number, out: number): void;
  gemm_packed(m: number, n: number, k: number, a: number, lda: number, packed: number, c: number, ldc: number): void;
  gather_input(rows: number, width: number, kernel: number, idx: number, bias: number, scaledRowOffset: number, rowScale: number, out: number): void;
  lstm_forward(n: number, hidden: number, gates: number, cPrev: number, c: number, tanhC: number, h: number): void;
  lstm_backward(n: number, hidden: number, gates: number, cPrev: number, tanhC: number, dh: number, dc: number, dGates: number): void;
  dropout_mask(count: number, key: number, threshold: number, keep: number, mask: number): void;
  output_logits(rows: number, hidden: number, h: number, mask: number, outW: number, outB: number, skill: number, logits: number): void;
  output_backward(rows: number, hidden: number, h: number, mask: number, outW: number, skill: number, dLogits: number, dh: number, dOutW: number, dOutB: number): void;
  input_backward(rows: number, width: number, dGates: number, idx: number, scaledRowOffset: number, rowScale: number, dKernel: number, dBias: number): void;
  row_dots(rows: number, width: number, kernel: number, rowOffset: number, idx: number, x: number, out: number): void;
  sigmoid(n: number, x: number): void;
  sum_squares(n: number, x: number): number;
  adam(n: number, params: number, grads: number, m: number, v: number, gradScale: number, beta1: number, beta2: number, stepSize: number, invSqrtBias2: number, eps: number): void;
  transpose(rows: number, cols: number, src: number, dst: number): void;
}

const WASM_PAGE = 65536;
let compiled: WebAssembly.Module | null = null;

/** kernel.wasm next to the sources; from a tsc build (dist/src/kt/engine) fall back to the source tree. */
function kernelModule(): WebAssembly.Module {
  if (!compiled) {
    const candidates = [join(__dirname, '../wasm/kernel.wasm'), join(__dirname, '../../../../src/kt/wasm/kernel.wasm')];
    const file = candidates.find((f) => existsSync(f));
    if (!file) throw new Error(`kernel.wasm not found (looked in ${candidates.join(', ')})`);
    compiled = new WebAssembly.Module(readFileSync(file));
  }
  return compiled;
}

/** True when this runtime can run the SIMD module. */
export function wasmKernelsAvailable(): boolean {
  try {
    kernelModule();
    return true;
  } catch {
    return false;
  }
}

/** A fresh module instance with its own memory (float32 only). */
export function createWasmKernels(): Kernels {
  const x = new WebAssembly.Instance(kernelModule(), {}).exports as unknown as KernelExports;
  const memory = x.memory;
  const ptr = (a: FloatArray | Int32Array | null): number => {
    if (a === null) return 0;
    if (a.buffer !== memory.buffer) throw new Error('array is not in this WASM kernel memory (allocate it with the same kernel instance)');
    if (a instanceof Float64Array) throw new Error('the WASM kernels are float32 only');
    return a.byteOffset;
  };
  let allocated = false;
  return {
    name: 'wasm',
    precision: 'f32',

    allocate<F extends string, I extends string>(floats: Record<F, number>, ints: Record<I, number>): Arena<F, I> {
      if (allocated) throw new Error('kernel memory is allocated once per kernel instance');
      allocated = true;
      // 16-byte alignment for vector loads; memory grows once, so the views stay valid.
      const align = (n: number): number => (n + 15) & ~15;
      const base = align(x.__heap_base.value as number);
      const sizes = [...Object.values<number>(floats), ...Object.values<number>(ints)];
      const end = sizes.reduce((at, n) => at + align(4 * n), base);
      const pages = Math.ceil(end / WASM_PAGE) - memory.buffer.byteLength / WASM_PAGE;
      if (pages > 0) memory.grow(pages);
      let at = base;
      const f = {} as Record<F, FloatArray>;
      const i = {} as Record<I, Int32Array>;
      for (const key of Object.keys(floats) as F[]) {
        f[key] = new Float32Array(memory.buffer, at, floats[key]);
        at += align(4 * floats[key]);
      }
      for (const key of Object.keys(ints) as I[]) {
        i[key] = new Int32Array(memory.buffer, at, ints[key]);
        at += align(4 * ints[key]);
      }
      return { f, i };
    },

    gemm: (m, n, k, a, lda, transA, b, ldb, c, ldc) => x.gemm(m, n, k, ptr(a), lda, transA ? 1 : 0, ptr(b), ldb, ptr(c), ldc),
    packPanels: (k, n, b, ldb, out) => x.pack_panels(k, n, ptr(b), ldb, ptr(out)),
    gemmPacked: (m, n, k, a, lda, packed, c, ldc) => x.gemm_packed(m, n, k, ptr(a), lda, ptr(packed), ptr(c), ldc),
    gatherInput: (rows, width, kernel, idx, bias, scaledRowOffset, rowScale, out) =>
      x.gather_input(rows, width, ptr(kernel), ptr(idx), ptr(bias), scaledRowOffset, ptr(rowScale), ptr(out)),
    lstmGatesForward: (n, hidden, gates, cPrev, c, tanhC, h) => x.lstm_forward(n, hidden, ptr(gates), ptr(cPrev), ptr(c), ptr(tanhC), ptr(h)),
    dropoutMask: (count, key, rate, mask) => x.dropout_mask(count, key >>> 0, dropThreshold(rate) >>> 0, 1 / (1 - rate), ptr(mask)),
    outputLogits: (rows, hidden, h, mask, outW, outB, skill, logits) =>
      x.output_logits(rows, hidden, ptr(h), ptr(mask), ptr(outW), ptr(outB), ptr(skill), ptr(logits)),
    outputBackward: (rows, hidden, h, mask, outW, skill, dLogits, dh, dOutW, dOutB) =>
      x.output_backward(rows, hidden, ptr(h), ptr(mask), ptr(outW), ptr(skill), ptr(dLogits), ptr(dh), ptr(dOutW), ptr(dOutB)),
    lstmGatesBackward: (n, hidden, gates, cPrev, tanhC, dh, dc, dGates) =>
      x.lstm_backward(n, hidden, ptr(gates), ptr(cPrev), ptr(tanhC), ptr(dh), ptr(dc), ptr(dGates)),
    inputBackward: (rows, width, dGates, idx, scaledRowOffset, rowScale, dKernel, dBias) =>
      x.input_backward(rows, width, ptr(dGates), ptr(idx), scaledRowOffset, ptr(rowScale), ptr(dKernel), ptr(dBias)),
    rowDots: (rows, width, kernel, rowOffset, idx, xs, out) => x.row_dots(rows, width, ptr(kernel), rowOffset, ptr(idx), ptr(xs), ptr(out)),
    sigmoid: (n, xs) => x.sigmoid(n, ptr(xs)),
    sumSquares: (n, xs) => x.sum_squares(n, ptr(xs)),
    adam: (n, params, grads, m, v, gradScale, beta1, beta2, stepSize, invSqrtBias2, eps) =>
      x.adam(n, ptr(params), ptr(grads), ptr(m), ptr(v), gradScale, beta1, beta2, stepSize, invSqrtBias2, eps),
    transpose: (rows, cols, src, dst) => x.transpose(rows, cols, ptr(src), ptr(dst)),
  };
}
