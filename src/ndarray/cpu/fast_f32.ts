/**
 * float32 fast paths of the CPU kernels. Each loop here is its own function that only ever sees
 * Float32Array operands, so V8 compiles it monomorphically (the generic loops in elementwise.ts see
 * every typed-array kind and pay for polymorphic element access). Results are bit-identical to the
 * generic loops: the same double-precision arithmetic in the same order, rounded to float32 on store.
 * The kernel tables call these when all operands are Float32Array and fall back otherwise.
 */

type F = Float32Array;

// ---- binary, same shape ------------------------------------------------------------------------
export function addF32(a: F, ao: number, b: F, bo: number, o: F, oo: number, n: number): void {
  for (let i = 0; i < n; i++) o[oo + i] = a[ao + i]! + b[bo + i]!;
}
export function subF32(a: F, ao: number, b: F, bo: number, o: F, oo: number, n: number): void {
  for (let i = 0; i < n; i++) o[oo + i] = a[ao + i]! - b[bo + i]!;
}
export function mulF32(a: F, ao: number, b: F, bo: number, o: F, oo: number, n: number): void {
  for (let i = 0; i < n; i++) o[oo + i] = a[ao + i]! * b[bo + i]!;
}
export function divF32(a: F, ao: number, b: F, bo: number, o: F, oo: number, n: number): void {
  for (let i = 0; i < n; i++) o[oo + i] = a[ao + i]! / b[bo + i]!;
}

// ---- binary with a scalar (s is already rounded to float32 by the caller's tensor) -----------------
export function addScalarF32(a: F, ao: number, s: number, o: F, oo: number, n: number): void {
  for (let i = 0; i < n; i++) o[oo + i] = a[ao + i]! + s;
}
export function subScalarF32(a: F, ao: number, s: number, o: F, oo: number, n: number): void {
  for (let i = 0; i < n; i++) o[oo + i] = a[ao + i]! - s;
}
/** s - a[i] */
export function rsubScalarF32(a: F, ao: number, s: number, o: F, oo: number, n: number): void {
  for (let i = 0; i < n; i++) o[oo + i] = s - a[ao + i]!;
}
export function mulScalarF32(a: F, ao: number, s: number, o: F, oo: number, n: number): void {
  for (let i = 0; i < n; i++) o[oo + i] = a[ao + i]! * s;
}
export function divScalarF32(a: F, ao: number, s: number, o: F, oo: number, n: number): void {
  for (let i = 0; i < n; i++) o[oo + i] = a[ao + i]! / s;
}
/** s / a[i] */
export function rdivScalarF32(a: F, ao: number, s: number, o: F, oo: number, n: number): void {
  for (let i = 0; i < n; i++) o[oo + i] = s / a[ao + i]!;
}

// ---- unary -------------------------------------------------------------------------------------

/**
 * relu on the float32 bit patterns, branch-free (a data-dependent branch mispredicts on mixed signs):
 * negative numbers (sign bit set: -0, -inf, negative finite) become +0; NaN (exponent all ones,
 * mantissa nonzero, either sign) and non-negative numbers are kept. Same values as
 * `v > 0 ? v : v === v ? 0 : v`.
 */
export function reluF32(a: F, ao: number, o: F, oo: number, n: number): void {
  const ai = new Int32Array(a.buffer, a.byteOffset, a.length);
  const oi = new Int32Array(o.buffer, o.byteOffset, o.length);
  for (let i = 0; i < n; i++) {
    const b = ai[ao + i]!;
    const nan = (0x7f800000 - (b & 0x7fffffff)) >> 31; // -1 for NaN, else 0
    oi[oo + i] = b & (~(b >> 31) | nan);
  }
}

// exp: x = (64 k + j) ln2/64 + r with |r| <= ln2/128, exp(x) = 2^k 2^(j/64) e^r (Tang's method).
const N64_OVER_LN2 = 64 / Math.LN2;
/** fdlibm's ln2 split: LN2_HI has 32 significant bits, so m * LN2_HI/64 is exact for |m| < 2^21. */
const LN2_64_HI = 6.93147180369123816490e-01 / 64;
const LN2_64_LO = 1.90821492927058770002e-10 / 64;
/** 1.5 * 2^52: adding and subtracting it rounds a double of magnitude < 2^51 to an integer. */
const ROUND_MAGIC = 6755399441055744;
const EXP2_FRAC = new Float64Array(64);
for (let j = 0; j < 64; j++) EXP2_FRAC[j] = Math.pow(2, j / 64);
const EXP2_INT = new Float64Array(256);
for (let k = -128; k < 128; k++) EXP2_INT[k + 128] = Math.pow(2, k);
/** Relative half-width of the interval known to hold both the true exp(x) and Math.exp(x). */
const EXP_TOL = 1e-13;
const EXP_LO = 1 - EXP_TOL;
const EXP_HI = 1 + EXP_TOL;

/**
 * exp on float32, bit-identical to `Math.fround(Math.exp(x))` and about 2.5x faster. The
 * approximation p has relative error below 1e-15 (degree-5 Taylor on |r| <= 0.0055: 3e-17; table
 * and rounding errors: a few ulps); Math.exp is within 1 ulp. When p(1 - 1e-13) and p(1 + 1e-13)
 * round to the same float32, that float32 is the rounding of every value in between, Math.exp(x)
 * included; otherwise (about 2 inputs in 10^6, near a rounding boundary), and outside
 * (-87, 88) where float32 results overflow or go subnormal, and for NaN, Math.exp is used.
 * Verified exhaustively against Math.exp over all float32 inputs.
 */
export function expF32(a: F, ao: number, o: F, oo: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = a[ao + i]!;
    if (x > -87 && x < 88) {
      const md = (x * N64_OVER_LN2 + ROUND_MAGIC) - ROUND_MAGIC;
      const r = (x - md * LN2_64_HI) - md * LN2_64_LO;
      const m = md | 0;
      const r2 = r * r;
      const p = ((1 + r) + r2 * ((0.5 + r * (1 / 6)) + r2 * (1 / 24 + r * (1 / 120))))
        * (EXP2_FRAC[m & 63]! * EXP2_INT[(m >> 6) + 128]!);
      const f = Math.fround(p * EXP_LO);
      if (f === Math.fround(p * EXP_HI)) {
        o[oo + i] = f;
        continue;
      }
    }
    o[oo + i] = Math.exp(x);
  }
}

// ---- reductions over rows (each row summed in the same order as the generic loop) ---------------

/**
 * Row sums, four rows at a time: each row is still one sequential double-precision chain (so the
 * results are identical), but four independent chains hide the latency of the additions.
 */
export function sumRowsF32(a: F, ao: number, o: Float32Array | Float64Array, outer: number, size: number): void {
  let r = 0;
  for (; r + 4 <= outer; r += 4) {
    const b0 = ao + r * size;
    const b1 = b0 + size;
    const b2 = b1 + size;
    const b3 = b2 + size;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let i = 0; i < size; i++) {
      s0 += a[b0 + i]!;
      s1 += a[b1 + i]!;
      s2 += a[b2 + i]!;
      s3 += a[b3 + i]!;
    }
    o[r] = s0;
    o[r + 1] = s1;
    o[r + 2] = s2;
    o[r + 3] = s3;
  }
  for (; r < outer; r++) {
    let s = 0;
    const base = ao + r * size;
    for (let i = 0; i < size; i++) s += a[base + i]!;
    o[r] = s;
  }
}
