// Helpers of the elementwise kernels (not re-exported by index.ts: no wasm exports here).

/** JavaScript's ToInt32 of a double (typed-array store): truncation modulo 2^32, NaN/Inf -> 0. */
export function toInt32(x: f64): i32 {
  if (!isFinite<f64>(x)) return 0;
  const t = Math.trunc(x);
  if (Math.abs(t) < 9.0e18) return <i32><i64>t;
  const r = t - Math.floor(t / 4294967296.0) * 4294967296.0;
  return <i32><i64>r;
}

/** Packs four i32x4 masks (lanes 0 / -1) into 16 bytes 0 / 1. */
// @ts-ignore: decorator
@inline export function pack4(m0: v128, m1: v128, m2: v128, m3: v128): v128 {
  const b = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(m0, m1), i16x8.narrow_i32x4_s(m2, m3));
  return v128.and(b, i8x16.splat(1));
}

/** Packs eight i64x2 masks (lanes 0 / -1) into 16 bytes 0 / 1. */
// @ts-ignore: decorator
@inline export function pack8(m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128, m6: v128, m7: v128): v128 {
  // each 64-bit mask is two equal 32-bit halves: narrowing keeps them as byte pairs
  const b0 = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(m0, m1), i16x8.narrow_i32x4_s(m2, m3));
  const b1 = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(m4, m5), i16x8.narrow_i32x4_s(m6, m7));
  const b = i8x16.shuffle(b0, b1, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  return v128.and(b, i8x16.splat(1));
}

