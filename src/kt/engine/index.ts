/** Kernel selection: the WASM SIMD kernels where the runtime has them, else plain JS. */
import type { Kernels } from './kernels';
import { createJsKernels } from './kernels-js';
import { createWasmKernels, wasmKernelsAvailable } from './kernels-wasm';

export type KernelKind = 'wasm' | 'js';

/** A fresh kernel instance (each owns its memory); default: WASM when available. */
export function createKernels(kind: KernelKind = wasmKernelsAvailable() ? 'wasm' : 'js'): Kernels {
  return kind === 'wasm' ? createWasmKernels() : createJsKernels('f32');
}
