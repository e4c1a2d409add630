/** Plain JS kernels: the reference the WASM kernels are tested against, and the float64 path for gradient checks. */
import { Arena, dropThreshold, FloatArray, Kernels } from './kernels';
import { mix32 } from './random';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export function createJsKernels(precision: 'f32' | 'f64' = 'f32'): Kernels {
  const Float = precision === 'f64' ? Float64Array : Float32Array;
  let allocated = false;
  return {
    name: 'js',
    precision,

    allocate<F extends string, I extends string>(floats: Record<F, number>, ints: Record<I, number>): Arena<F, I> {
      if (allocated) throw new Error('kernel memory is allocated once per kernel instance');
      allocated = true;
      const f = {} as Record<F, FloatArray>;
      const i = {} as Record<I, Int32Array>;
      for (const key of Object.keys(floats) as F[]) f[key] = new Float(floats[key]);
      for (const key of Object.keys(ints) as I[]) i[key] = new Int32Array(ints[key]);
      return { f, i };
    },

    gemm(m, n, k, a, lda, transA, b, ldb, c, ldc) {
      for (let r = 0; r < m; r++) {
        const cRow = r * ldc;
        for (let p = 0; p < k; p++) {
          const x = transA ? a[p * lda + r] : a[r * lda + p];
          if (x === 0) continue;
          const bRow = p * ldb;
          for (let j = 0; j < n; j++) c[cRow + j] += x * b[bRow + j];
        }
      }
    },

    packPanels(k, n, b, ldb, out) {
      for (let q = 0; 8 * q < n; q++) {
        for (let p = 0; p < k; p++) {
          for (let j = 0; j < 8; j++) out[(q * k + p) * 8 + j] = 8 * q + j < n ? b[p * ldb + 8 * q + j] : 0;
        }
      }
    },

    gemmPacked(m, n, k, a, lda, packed, c, ldc) {
      for (let r = 0; r < m; r++) {
        for (let p = 0; p < k; p++) {
          const x = a[r * lda + p];
          if (x === 0) continue;
          for (let j = 0; j < n; j++) c[r * ldc + j] += x * packed[((j >> 3) * k + p) * 8 + (j & 7)];
        }
      }
    },

    gatherInput(rows, width, kernel, idx, bias, scaledRowOffset, rowScale, out) {
      for (let r = 0; r < rows; r++) {
        const o = r * width;
        const k = idx[r] * width;
        for (let j = 0; j < width; j++) out[o + j] = bias[j] + kernel[k + j];
        if (rowScale) {
          const s = rowScale[r];
          const ks = (scaledRowOffset + idx[r]) * width;
          for (let j = 0; j < width; j++) out[o + j] += s * kernel[ks + j];
        }
      }
    },

    lstmGatesForward(n, hidden, gates, cPrev, c, tanhC, h) {
      const w = 4 * hidden;
      for (let r = 0; r < n; r++) {
        const g = r * w;
        const o = r * hidden;
        for (let j = 0; j < hidden; j++) {
          const ig = sigmoid(gates[g + j]);
          const fg = sigmoid(gates[g + hidden + j]);
          const cg = Math.tanh(gates[g + 2 * hidden + j]);
          const og = sigmoid(gates[g + 3 * hidden + j]);
          gates[g + j] = ig;
          gates[g + hidden + j] = fg;
          gates[g + 2 * hidden + j] = cg;
          gates[g + 3 * hidden + j] = og;
          const cell = (cPrev ? fg * cPrev[o + j] : 0) + ig * cg;
          c[o + j] = cell;
          const t = Math.tanh(cell);
          tanhC[o + j] = t;
          h[o + j] = og * t;
        }
      }
    },

    dropoutMask(count, key, rate, mask) {
      const threshold = dropThreshold(rate);
      const keep = 1 / (1 - rate);
      for (let j = 0; j < count; j++) mask[j] = mix32((j ^ key) >>> 0) >= threshold ? keep : 0;
    },

    outputLogits(rows, hidden, h, mask, outW, outB, skill, logits) {
      for (let r = 0; r < rows; r++) {
        const s = skill[r];
        const o = r * hidden;
        const w = s * hidden;
        let z = 0;
        if (mask) for (let j = 0; j < hidden; j++) z += h[o + j] * mask[o + j] * outW[w + j];
        else for (let j = 0; j < hidden; j++) z += h[o + j] * outW[w + j];
        logits[r] = outB[s] + z;
      }
    },

    outputBackward(rows, hidden, h, mask, outW, skill, dLogits, dh, dOutW, dOutB) {
      for (let r = 0; r < rows; r++) {
        const s = skill[r];
        const dz = dLogits[r];
        const o = r * hidden;
        const w = s * hidden;
        for (let j = 0; j < hidden; j++) {
          const mj = mask ? mask[o + j] : 1;
          dh[o + j] = dz * outW[w + j] * mj;
          dOutW[w + j] += dz * h[o + j] * mj;
        }
        dOutB[s] += dz;
      }
    },

    lstmGatesBackward(n, hidden, gates, cPrev, tanhC, dh, dc, dGates) {
      const w = 4 * hidden;
      for (let r = 0; r < n; r++) {
        const g = r * w;
        const o = r * hidden;
        for (let j = 0; j < hidden; j++) {
          const ig = gates[g + j];
          const fg = gates[g + hidden + j];
          const cg = gates[g + 2 * hidden + j];
          const og = gates[g + 3 * hidden + j];
          const t = tanhC[o + j];
          const dhj = dh[o + j];
          const dcell = dc[o + j] + dhj * og * (1 - t * t);
          dGates[g + j] = dcell * cg * ig * (1 - ig);
          dGates[g + hidden + j] = cPrev ? dcell * cPrev[o + j] * fg * (1 - fg) : 0;
          dGates[g + 2 * hidden + j] = dcell * ig * (1 - cg * cg);
          dGates[g + 3 * hidden + j] = dhj * t * og * (1 - og);
          dc[o + j] = dcell * fg;
        }
      }
    },

    inputBackward(rows, width, dGates, idx, scaledRowOffset, rowScale, dKernel, dBias) {
      for (let r = 0; r < rows; r++) {
        const o = r * width;
        const k = idx[r] * width;
        for (let j = 0; j < width; j++) {
          dKernel[k + j] += dGates[o + j];
          dBias[j] += dGates[o + j];
        }
        if (rowScale) {
          const s = rowScale[r];
          const ks = (scaledRowOffset + idx[r]) * width;
          for (let j = 0; j < width; j++) dKernel[ks + j] += s * dGates[o + j];
        }
      }
    },

    rowDots(rows, width, kernel, rowOffset, idx, x, out) {
      for (let r = 0; r < rows; r++) {
        const k = (rowOffset + idx[r]) * width;
        const o = r * width;
        let sum = 0;
        for (let j = 0; j < width; j++) sum += kernel[k + j] * x[o + j];
        out[r] = sum;
      }
    },

    sigmoid(n, x) {
      for (let j = 0; j < n; j++) x[j] = 1 / (1 + Math.exp(-x[j]));
    },

    sumSquares(n, x) {
      let sum = 0;
      for (let j = 0; j < n; j++) sum += x[j] * x[j];
      return sum;
    },

    adam(n, params, grads, m, v, gradScale, beta1, beta2, stepSize, invSqrtBias2, eps) {
      for (let j = 0; j < n; j++) {
        const g = grads[j] * gradScale;
        const mj = beta1 * m[j] + (1 - beta1) * g;
        const vj = beta2 * v[j] + (1 - beta2) * g * g;
        m[j] = mj;
        v[j] = vj;
        params[j] -= (stepSize * mj) / (Math.sqrt(vj) * invSqrtBias2 + eps);
      }
    },

    transpose(rows, cols, src, dst) {
      for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) dst[j * rows + r] = src[r * cols + j];
    },
  };
}
