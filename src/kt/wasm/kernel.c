/*
 * Jejak DKT engine: the hot loops in WebAssembly SIMD (wasm32, 128-bit vectors).
 * Same contract as the plain JS kernels in ../engine/kernels-js.ts (see ../engine/kernels.ts);
 * row-major float32 matrices, gate blocks [i | f | c | o]. Pointers are byte offsets into the
 * module's exported memory; a null pointer (0) means "absent".
 * Built by build.sh; the committed kernel.wasm must match a rebuild (check.sh).
 */
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

typedef v128_t f4;

static inline f4 splat(float x) { return wasm_f32x4_splat(x); }
static inline f4 load(const float *p) { return wasm_v128_load(p); }
static inline void store(float *p, f4 v) { wasm_v128_store(p, v); }
static inline f4 add(f4 a, f4 b) { return wasm_f32x4_add(a, b); }
static inline f4 sub(f4 a, f4 b) { return wasm_f32x4_sub(a, b); }
static inline f4 mul(f4 a, f4 b) { return wasm_f32x4_mul(a, b); }
static inline f4 madd(f4 acc, f4 a, f4 b) { return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b)); }

/*
 * e^x, Cephes-style: x = n·ln2 + r, polynomial in r, times 2^n built in the exponent bits.
 * Written with the operations V8 lowers to one or two x64 instructions: pmin/pmax rather than
 * min/max (NaN-exact, several instructions each), and n rounded by adding 1.5·2^23, which also
 * leaves n as an integer in the low mantissa bits, rather than nearest + trunc_sat (a long
 * saturating sequence). Same results as those for the finite inputs the LSTM gives it.
 */
#define ROUNDING_MAGIC 12582912.0f /* 1.5·2^23 */
static inline f4 vexp(f4 x) {
  x = wasm_f32x4_pmin(wasm_f32x4_pmax(x, splat(-87.0f)), splat(88.0f));
  f4 shifted = add(mul(x, splat(1.44269504088896341f)), splat(ROUNDING_MAGIC));
  f4 n = sub(shifted, splat(ROUNDING_MAGIC));
  f4 r = sub(sub(x, mul(n, splat(0.693359375f))), mul(n, splat(-2.12194440e-4f)));
  f4 p = splat(1.9875691500e-4f);
  p = madd(splat(1.3981999507e-3f), p, r);
  p = madd(splat(8.3334519073e-3f), p, r);
  p = madd(splat(4.1665795894e-2f), p, r);
  p = madd(splat(1.6666665459e-1f), p, r);
  p = madd(splat(5.0000001201e-1f), p, r);
  p = add(add(mul(mul(p, r), r), r), splat(1.0f));
  /* bits(shifted) = bits(magic) + n: adding 127 − bits(magic) gives the biased exponent n + 127. */
  f4 scale = wasm_i32x4_shl(wasm_i32x4_add(shifted, wasm_i32x4_splat(127 - 0x4B400000)), 23);
  return mul(p, scale);
}

static inline f4 vsigmoid(f4 x) {
  return wasm_f32x4_div(splat(1.0f), add(splat(1.0f), vexp(wasm_f32x4_neg(x))));
}

/* tanh: (1 - e^{-2|x|}) / (1 + e^{-2|x|}) with the sign, and a Taylor series near 0 where that loses digits. */
static inline f4 vtanh(f4 x) {
  f4 ax = wasm_f32x4_abs(x);
  f4 t = vexp(mul(ax, splat(-2.0f)));
  f4 big = wasm_f32x4_div(sub(splat(1.0f), t), add(splat(1.0f), t));
  big = wasm_v128_or(big, wasm_v128_and(x, wasm_i32x4_splat((int32_t)0x80000000)));
  f4 x2 = mul(x, x);
  f4 poly = madd(splat(2.0f / 15.0f), x2, splat(-17.0f / 315.0f));
  poly = madd(splat(-1.0f / 3.0f), x2, poly);
  f4 small = madd(x, mul(x, x2), poly);
  return wasm_v128_bitselect(small, big, wasm_f32x4_lt(ax, splat(0.125f)));
}

static inline float hsum(f4 v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
         (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

/* Partial vectors at the tail of a row: load/store only `count` (< 4) lanes. */
static inline f4 load_part(const float *p, int count) {
  float tmp[4] = {0, 0, 0, 0};
  for (int j = 0; j < count; j++) tmp[j] = p[j];
  return wasm_v128_load(tmp);
}
static inline void store_part(float *p, f4 v, int count) {
  float tmp[4];
  wasm_v128_store(tmp, v);
  for (int j = 0; j < count; j++) p[j] = tmp[j];
}

/* ---------------------------------------------------------------- matrix product */

#define KC 256 /* depth of a block: a packed 8-column panel of B (KC rows, 8 KB) stays in L1 */

/*
 * The 8-column panel of B being multiplied, copied contiguous: reading it with a stride of a whole
 * B row touched a new cache line (and often a new page) per element row. Packing pays off once the
 * panel serves a few row blocks; below PACK_MIN_ROWS rows B is read in place.
 */
#define PACK_MIN_ROWS 8
static float packed[KC * 8] __attribute__((aligned(16)));

/* C[4×8] += A[4×k]·B[k×8]; A element (r, p) at a[r·ars + p·aps]. */
static void micro4x8(int k, const float *a, int ars, int aps, const float *b, int ldb, float *c, int ldc) {
  f4 c00 = load(c), c01 = load(c + 4);
  f4 c10 = load(c + ldc), c11 = load(c + ldc + 4);
  f4 c20 = load(c + 2 * ldc), c21 = load(c + 2 * ldc + 4);
  f4 c30 = load(c + 3 * ldc), c31 = load(c + 3 * ldc + 4);
  for (int p = 0; p < k; p++) {
    const float *ap = a + p * aps;
    f4 b0 = load(b), b1 = load(b + 4);
    f4 a0 = splat(ap[0]);
    c00 = madd(c00, a0, b0);
    c01 = madd(c01, a0, b1);
    f4 a1 = splat(ap[ars]);
    c10 = madd(c10, a1, b0);
    c11 = madd(c11, a1, b1);
    f4 a2 = splat(ap[2 * ars]);
    c20 = madd(c20, a2, b0);
    c21 = madd(c21, a2, b1);
    f4 a3 = splat(ap[3 * ars]);
    c30 = madd(c30, a3, b0);
    c31 = madd(c31, a3, b1);
    b += ldb;
  }
  store(c, c00), store(c + 4, c01);
  store(c + ldc, c10), store(c + ldc + 4, c11);
  store(c + 2 * ldc, c20), store(c + 2 * ldc + 4, c21);
  store(c + 3 * ldc, c30), store(c + 3 * ldc + 4, c31);
}

/* C[1×8] += A[1×k]·B[k×8]. */
static void micro1x8(int k, const float *a, int aps, const float *b, int ldb, float *c) {
  f4 c0 = load(c), c1 = load(c + 4);
  for (int p = 0; p < k; p++) {
    f4 a0 = splat(a[p * aps]);
    c0 = madd(c0, a0, load(b));
    c1 = madd(c1, a0, load(b + 4));
    b += ldb;
  }
  store(c, c0), store(c + 4, c1);
}

/* C[1×w] += A[1×k]·B[k×w] for the last w < 8 columns. */
static void micro1xw(int k, int w, const float *a, int aps, const float *b, int ldb, float *c) {
  f4 c0 = load_part(c, w < 4 ? w : 4), c1 = w > 4 ? load_part(c + 4, w - 4) : splat(0);
  for (int p = 0; p < k; p++) {
    f4 a0 = splat(a[p * aps]);
    c0 = madd(c0, a0, load_part(b, w < 4 ? w : 4));
    if (w > 4) c1 = madd(c1, a0, load_part(b + 4, w - 4));
    b += ldb;
  }
  store_part(c, c0, w < 4 ? w : 4);
  if (w > 4) store_part(c + 4, c1, w - 4);
}

/*
 * 4×8 blocks: 8 accumulators + 2 B vectors + the broadcast A value + a product fit V8's 15 usable
 * vector registers; a 6×8 block (12 accumulators) made it spill 4 of them on every step of k and
 * ran at 16 GFLOP/s against about 28 for 4×8 on packed panels.
 * Each C element sums its k products in the same order whatever the block shape, so a row's
 * result does not depend on how many rows are multiplied with it.
 */
EXPORT(gemm)
void gemm(int m, int n, int k, const float *a, int lda, int transA, const float *b, int ldb, float *c, int ldc) {
  int ars = transA ? 1 : lda, aps = transA ? lda : 1;
  int n8 = n & ~7;
  int pack = m >= PACK_MIN_ROWS;
  for (int p0 = 0; p0 < k; p0 += KC) {
    int kc = k - p0 < KC ? k - p0 : KC;
    const float *ab = a + p0 * aps;
    const float *bb = b + p0 * ldb;
    for (int j = 0; j < n8; j += 8) {
      const float *panel = bb + j;
      int ldp = ldb;
      if (pack) {
        for (int p = 0; p < kc; p++) {
          store(packed + 8 * p, load(bb + p * ldb + j));
          store(packed + 8 * p + 4, load(bb + p * ldb + j + 4));
        }
        panel = packed, ldp = 8;
      }
      int i = 0;
      for (; i + 4 <= m; i += 4) micro4x8(kc, ab + i * ars, ars, aps, panel, ldp, c + i * ldc + j, ldc);
      for (; i < m; i++) micro1x8(kc, ab + i * ars, aps, panel, ldp, c + i * ldc + j);
    }
    if (n8 < n)
      for (int i = 0; i < m; i++) micro1xw(kc, n - n8, ab + i * ars, aps, bb + n8, ldb, c + i * ldc + n8);
  }
}

/*
 * A matrix multiplied again and again (a served model's weights) packed once into its 8-column
 * panels, each k rows of 8 floats, the last zero-padded: out[(q·k + p)·8 + j] = B[p][8q + j].
 * gemm_packed then reads every panel in place, where gemm copies it on every call; for the small
 * row counts of a split serving call that copy was a large share of the work.
 */
EXPORT(pack_panels)
void pack_panels(int k, int n, const float *b, int ldb, float *out) {
  for (int q = 0; 8 * q < n; q++) {
    int w = n - 8 * q < 8 ? n - 8 * q : 8;
    float *o = out + q * k * 8;
    for (int p = 0; p < k; p++)
      for (int j = 0; j < 8; j++) o[p * 8 + j] = j < w ? b[p * ldb + 8 * q + j] : 0.0f;
  }
}

/* C[m×n] += A[m×k]·B with B packed by pack_panels(k, n, …); the same sums, in the same order, as gemm. */
EXPORT(gemm_packed)
void gemm_packed(int m, int n, int k, const float *a, int lda, const float *bp, float *c, int ldc) {
  int n8 = n & ~7;
  for (int p0 = 0; p0 < k; p0 += KC) {
    int kc = k - p0 < KC ? k - p0 : KC;
    const float *ab = a + p0;
    const float *bb = bp + p0 * 8;
    for (int j = 0; j < n8; j += 8) {
      const float *panel = bb + (j / 8) * k * 8;
      int i = 0;
      for (; i + 4 <= m; i += 4) micro4x8(kc, ab + i * lda, lda, 1, panel, 8, c + i * ldc + j, ldc);
      for (; i < m; i++) micro1x8(kc, ab + i * lda, 1, panel, 8, c + i * ldc + j);
    }
    if (n8 < n)
      for (int i = 0; i < m; i++) micro1xw(kc, n - n8, ab + i * lda, 1, bb + (n8 / 8) * k * 8, 8, c + i * ldc + n8);
  }
}

/* ---------------------------------------------------------------- LSTM input and gates */

EXPORT(gather_input)
void gather_input(int rows, int width, const float *kernel, const int32_t *idx, const float *bias, int scaledRowOffset,
                  const float *rowScale, float *out) {
  int w4 = width & ~3;
  for (int r = 0; r < rows; r++) {
    const float *k = kernel + idx[r] * width;
    float *o = out + r * width;
    int j = 0;
    if (rowScale) {
      const float *ks = kernel + (scaledRowOffset + idx[r]) * width;
      f4 s = splat(rowScale[r]);
      for (; j < w4; j += 4) store(o + j, madd(add(load(bias + j), load(k + j)), s, load(ks + j)));
      for (; j < width; j++) o[j] = bias[j] + k[j] + rowScale[r] * ks[j];
    } else {
      for (; j < w4; j += 4) store(o + j, add(load(bias + j), load(k + j)));
      for (; j < width; j++) o[j] = bias[j] + k[j];
    }
  }
}

/* One group of 4 (or `count` < 4) hidden units of one row. */
static inline void gates_forward4(float *g, int hidden, const float *cPrev, float *c, float *tanhC, float *h, int count) {
  f4 ig, fg, cg, og, cp = splat(0);
  if (count == 4) {
    ig = load(g), fg = load(g + hidden), cg = load(g + 2 * hidden), og = load(g + 3 * hidden);
    if (cPrev) cp = load(cPrev);
  } else {
    ig = load_part(g, count), fg = load_part(g + hidden, count);
    cg = load_part(g + 2 * hidden, count), og = load_part(g + 3 * hidden, count);
    if (cPrev) cp = load_part(cPrev, count);
  }
  ig = vsigmoid(ig), fg = vsigmoid(fg), cg = vtanh(cg), og = vsigmoid(og);
  f4 cell = madd(mul(fg, cp), ig, cg);
  f4 t = vtanh(cell);
  f4 hv = mul(og, t);
  if (count == 4) {
    store(g, ig), store(g + hidden, fg), store(g + 2 * hidden, cg), store(g + 3 * hidden, og);
    store(c, cell), store(tanhC, t), store(h, hv);
  } else {
    store_part(g, ig, count), store_part(g + hidden, fg, count);
    store_part(g + 2 * hidden, cg, count), store_part(g + 3 * hidden, og, count);
    store_part(c, cell, count), store_part(tanhC, t, count), store_part(h, hv, count);
  }
}

EXPORT(lstm_forward)
void lstm_forward(int n, int hidden, float *gates, const float *cPrev, float *c, float *tanhC, float *h) {
  for (int r = 0; r < n; r++) {
    float *g = gates + r * 4 * hidden;
    int o = r * hidden;
    for (int j = 0; j < hidden; j += 4) {
      int count = hidden - j < 4 ? hidden - j : 4;
      gates_forward4(g + j, hidden, cPrev ? cPrev + o + j : 0, c + o + j, tanhC + o + j, h + o + j, count);
    }
  }
}

static inline void gates_backward4(float *g, int hidden, const float *cPrev, const float *tanhC, const float *dh, float *dc,
                                   int count) {
  f4 ig, fg, cg, og, cp = splat(0), t, dhv, dcv;
  if (count == 4) {
    ig = load(g), fg = load(g + hidden), cg = load(g + 2 * hidden), og = load(g + 3 * hidden);
    if (cPrev) cp = load(cPrev);
    t = load(tanhC), dhv = load(dh), dcv = load(dc);
  } else {
    ig = load_part(g, count), fg = load_part(g + hidden, count);
    cg = load_part(g + 2 * hidden, count), og = load_part(g + 3 * hidden, count);
    if (cPrev) cp = load_part(cPrev, count);
    t = load_part(tanhC, count), dhv = load_part(dh, count), dcv = load_part(dc, count);
  }
  f4 one = splat(1.0f);
  f4 dcell = madd(dcv, mul(dhv, og), sub(one, mul(t, t)));
  f4 di = mul(mul(dcell, cg), mul(ig, sub(one, ig)));
  f4 df = mul(mul(dcell, cp), mul(fg, sub(one, fg)));
  f4 dg = mul(mul(dcell, ig), sub(one, mul(cg, cg)));
  f4 dO = mul(mul(dhv, t), mul(og, sub(one, og)));
  f4 dcPrev = mul(dcell, fg);
  if (count == 4) {
    store(g, di), store(g + hidden, df), store(g + 2 * hidden, dg), store(g + 3 * hidden, dO);
    store(dc, dcPrev);
  } else {
    store_part(g, di, count), store_part(g + hidden, df, count);
    store_part(g + 2 * hidden, dg, count), store_part(g + 3 * hidden, dO, count);
    store_part(dc, dcPrev, count);
  }
}

/* dGates may alias gates (each unit reads its four gates before writing their gradients). */
EXPORT(lstm_backward)
void lstm_backward(int n, int hidden, float *gates, const float *cPrev, const float *tanhC, const float *dh, float *dc,
                   float *dGates) {
  for (int r = 0; r < n; r++) {
    float *g = gates + r * 4 * hidden;
    float *dg = dGates + r * 4 * hidden;
    int o = r * hidden;
    if (dg != g)
      for (int j = 0; j < 4 * hidden; j++) dg[j] = g[j];
    for (int j = 0; j < hidden; j += 4) {
      int count = hidden - j < 4 ? hidden - j : 4;
      gates_backward4(dg + j, hidden, cPrev ? cPrev + o + j : 0, tanhC + o + j, dh + o + j, dc + o + j, count);
    }
  }
}

/* ---------------------------------------------------------------- dropout and output layer */

static inline v128_t vmix32(v128_t x) {
  x = wasm_v128_xor(x, wasm_u32x4_shr(x, 16));
  x = wasm_i32x4_mul(x, wasm_i32x4_splat(0x7feb352d));
  x = wasm_v128_xor(x, wasm_u32x4_shr(x, 15));
  x = wasm_i32x4_mul(x, wasm_i32x4_splat((int32_t)0x846ca68bu));
  return wasm_v128_xor(x, wasm_u32x4_shr(x, 16));
}

EXPORT(dropout_mask)
void dropout_mask(int count, uint32_t key, uint32_t threshold, float keep, float *mask) {
  v128_t j4 = wasm_i32x4_make(0, 1, 2, 3);
  v128_t k4 = wasm_i32x4_splat((int32_t)key), t4 = wasm_i32x4_splat((int32_t)threshold);
  f4 keep4 = splat(keep), zero = splat(0);
  int c4 = count & ~3, j = 0;
  for (; j < c4; j += 4) {
    v128_t kept = wasm_u32x4_ge(vmix32(wasm_v128_xor(j4, k4)), t4);
    store(mask + j, wasm_v128_bitselect(keep4, zero, kept));
    j4 = wasm_i32x4_add(j4, wasm_i32x4_splat(4));
  }
  if (j < count) {
    v128_t kept = wasm_u32x4_ge(vmix32(wasm_v128_xor(j4, k4)), t4);
    store_part(mask + j, wasm_v128_bitselect(keep4, zero, kept), count - j);
  }
}

static inline float dot_masked(int n, const float *h, const float *mask, const float *w) {
  f4 acc = splat(0);
  int n4 = n & ~3, j = 0;
  if (mask)
    for (; j < n4; j += 4) acc = madd(acc, mul(load(h + j), load(mask + j)), load(w + j));
  else
    for (; j < n4; j += 4) acc = madd(acc, load(h + j), load(w + j));
  float s = hsum(acc);
  for (; j < n; j++) s += h[j] * (mask ? mask[j] : 1.0f) * w[j];
  return s;
}

EXPORT(output_logits)
void output_logits(int rows, int hidden, const float *h, const float *mask, const float *outW, const float *outB,
                   const int32_t *skill, float *logits) {
  for (int r = 0; r < rows; r++) {
    int s = skill[r];
    logits[r] = outB[s] + dot_masked(hidden, h + r * hidden, mask ? mask + r * hidden : 0, outW + s * hidden);
  }
}

EXPORT(output_backward)
void output_backward(int rows, int hidden, const float *h, const float *mask, const float *outW, const int32_t *skill,
                     const float *dLogits, float *dh, float *dOutW, float *dOutB) {
  int h4 = hidden & ~3;
  for (int r = 0; r < rows; r++) {
    int s = skill[r];
    float dz = dLogits[r];
    f4 dz4 = splat(dz);
    const float *hr = h + r * hidden, *mr = mask ? mask + r * hidden : 0, *w = outW + s * hidden;
    float *dhr = dh + r * hidden, *dw = dOutW + s * hidden;
    int j = 0;
    for (; j < h4; j += 4) {
      f4 m = mr ? load(mr + j) : splat(1.0f);
      store(dhr + j, mul(mul(dz4, load(w + j)), m));
      store(dw + j, madd(load(dw + j), dz4, mul(load(hr + j), m)));
    }
    for (; j < hidden; j++) {
      float m = mr ? mr[j] : 1.0f;
      dhr[j] = dz * w[j] * m;
      dw[j] += dz * hr[j] * m;
    }
    dOutB[s] += dz;
  }
}

/* ---------------------------------------------------------------- input gradients */

EXPORT(input_backward)
void input_backward(int rows, int width, const float *dGates, const int32_t *idx, int scaledRowOffset, const float *rowScale,
                    float *dKernel, float *dBias) {
  int w4 = width & ~3;
  for (int r = 0; r < rows; r++) {
    const float *g = dGates + r * width;
    float *dk = dKernel + idx[r] * width;
    int j = 0;
    for (; j < w4; j += 4) {
      f4 gv = load(g + j);
      store(dk + j, add(load(dk + j), gv));
      store(dBias + j, add(load(dBias + j), gv));
    }
    for (; j < width; j++) dk[j] += g[j], dBias[j] += g[j];
    if (rowScale) {
      float *dks = dKernel + (scaledRowOffset + idx[r]) * width;
      f4 s = splat(rowScale[r]);
      for (j = 0; j < w4; j += 4) store(dks + j, madd(load(dks + j), s, load(g + j)));
      for (; j < width; j++) dks[j] += rowScale[r] * g[j];
    }
  }
}

EXPORT(row_dots)
void row_dots(int rows, int width, const float *kernel, int rowOffset, const int32_t *idx, const float *x, float *out) {
  for (int r = 0; r < rows; r++) out[r] = dot_masked(width, kernel + (rowOffset + idx[r]) * width, 0, x + r * width);
}

EXPORT(sigmoid)
void sigmoid(int n, float *x) {
  int n4 = n & ~3, j = 0;
  for (; j < n4; j += 4) store(x + j, vsigmoid(load(x + j)));
  if (j < n) store_part(x + j, vsigmoid(load_part(x + j, n - j)), n - j);
}

/* ---------------------------------------------------------------- optimiser */

EXPORT(sum_squares)
double sum_squares(int n, const float *x) {
  v128_t acc0 = wasm_f64x2_splat(0), acc1 = wasm_f64x2_splat(0);
  int n4 = n & ~3, j = 0;
  for (; j < n4; j += 4) {
    f4 v = load(x + j);
    f4 sq = mul(v, v);
    acc0 = wasm_f64x2_add(acc0, wasm_f64x2_promote_low_f32x4(sq));
    acc1 = wasm_f64x2_add(acc1, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(sq, sq, 2, 3, 0, 1)));
  }
  v128_t acc = wasm_f64x2_add(acc0, acc1);
  double s = wasm_f64x2_extract_lane(acc, 0) + wasm_f64x2_extract_lane(acc, 1);
  for (; j < n; j++) s += (double)x[j] * x[j];
  return s;
}

EXPORT(adam)
void adam(int n, float *params, const float *grads, float *m, float *v, float gradScale, float beta1, float beta2,
          float stepSize, float invSqrtBias2, float eps) {
  f4 gs = splat(gradScale), b1 = splat(beta1), b2 = splat(beta2), c1 = splat(1 - beta1), c2 = splat(1 - beta2);
  f4 step = splat(stepSize), ib2 = splat(invSqrtBias2), e = splat(eps);
  int n4 = n & ~3, j = 0;
  for (; j < n4; j += 4) {
    f4 g = mul(load(grads + j), gs);
    f4 mj = add(mul(b1, load(m + j)), mul(c1, g));
    f4 vj = add(mul(b2, load(v + j)), mul(mul(c2, g), g));
    store(m + j, mj), store(v + j, vj);
    f4 denom = madd(e, wasm_f32x4_sqrt(vj), ib2);
    store(params + j, sub(load(params + j), wasm_f32x4_div(mul(step, mj), denom)));
  }
  for (; j < n; j++) {
    float g = grads[j] * gradScale;
    m[j] = beta1 * m[j] + (1 - beta1) * g;
    v[j] = beta2 * v[j] + (1 - beta2) * g * g;
    params[j] -= stepSize * m[j] / (__builtin_sqrtf(v[j]) * invSqrtBias2 + eps);
  }
}

EXPORT(transpose)
void transpose(int rows, int cols, const float *src, float *dst) {
  /* 16×16 tiles keep both sides' cache lines live. */
  for (int r0 = 0; r0 < rows; r0 += 16)
    for (int j0 = 0; j0 < cols; j0 += 16) {
      int r1 = r0 + 16 < rows ? r0 + 16 : rows, j1 = j0 + 16 < cols ? j0 + 16 : cols;
      for (int r = r0; r < r1; r++)
        for (int j = j0; j < j1; j++) dst[j * rows + r] = src[r * cols + j];
    }
}
