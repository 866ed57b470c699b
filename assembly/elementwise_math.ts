// Vectorized float32 transcendental functions (four lanes) for the elementwise kernels. Cephes-style
// range reduction and minimax polynomials; measured against Math.* (float64, rounded to float32)
// over dense sweeps: exp, log, sigmoid within 1 ulp and tanh within 2 ulp in the tests. Special
// values follow Math.*: NaN propagates, exp overflows to Infinity and underflows through the
// subnormals to 0, log(0) = -Infinity, log(x < 0) = NaN, tanh and sigmoid saturate.
// Not re-exported by index.ts (helpers only).
import { madd4 } from './common';

// @ts-ignore: decorator
@inline function splat(v: f32): v128 {
  return f32x4.splat(v);
}

/** e^x on four lanes. */
// @ts-ignore: decorator
@inline export function expf4(x0: v128): v128 {
  // clamp: below -104 the result rounds to 0, above 89 it overflows; pmax/pmin return their
  // first operand when a comparison is false, so NaN stays NaN (and each is one x64 instruction)
  const x = f32x4.pmin(f32x4.pmax(x0, splat(-104.0)), splat(89.0));
  // n = round(x / ln2): adding 1.5 * 2^23 leaves n in the low mantissa bits (|n| <= 150)
  const t = madd4(x, splat(1.44269504088896341), splat(12582912.0));
  const n = f32x4.sub(t, splat(12582912.0));
  // r = x - n ln2 in two steps (0.693359375 has few bits, so n * it is exact)
  let r = madd4(n, splat(-0.693359375), x);
  r = madd4(n, splat(2.12194440e-4), r);
  let p = splat(1.9875691500e-4);
  p = madd4(p, r, splat(1.3981999507e-3));
  p = madd4(p, r, splat(8.3334519073e-3));
  p = madd4(p, r, splat(4.1665795894e-2));
  p = madd4(p, r, splat(1.6666665459e-1));
  p = madd4(p, r, splat(5.0000001201e-1));
  p = f32x4.add(madd4(p, f32x4.mul(r, r), r), splat(1.0));
  // 2^n as 2^n1 * 2^n2 so that both factors are normal numbers for n in [-150, 128]
  const ni = i32x4.sub(t, i32x4.splat(0x4b400000));
  const n1 = i32x4.shr_s(ni, 1);
  const n2 = i32x4.sub(ni, n1);
  const s1 = i32x4.shl(i32x4.add(n1, i32x4.splat(127)), 23);
  const s2 = i32x4.shl(i32x4.add(n2, i32x4.splat(127)), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

/** Natural logarithm on four lanes. */
// @ts-ignore: decorator
@inline export function logf4(x: v128): v128 {
  const one = splat(1.0);
  // subnormal inputs: scale by 2^23 and correct the exponent
  const sub = f32x4.lt(x, splat(1.17549435e-38));
  const xs = v128.bitselect(f32x4.mul(x, splat(8388608.0)), x, sub);
  const bias = v128.bitselect(i32x4.splat(126 + 23), i32x4.splat(126), sub);
  let e = i32x4.sub(i32x4.shr_u(xs, 23), bias);
  // mantissa in [0.5, 1); below sqrt(1/2) use 2m - 1 and e - 1, else m - 1 (both exact)
  let m = v128.or(v128.and(xs, i32x4.splat(0x007fffff)), i32x4.splat(0x3f000000));
  const lo = f32x4.lt(m, splat(0.707106781186547524));
  e = i32x4.add(e, lo);
  m = f32x4.sub(f32x4.add(m, v128.and(m, lo)), one);
  const ef = f32x4.convert_i32x4_s(e);
  const z = f32x4.mul(m, m);
  let y = splat(7.0376836292e-2);
  y = madd4(y, m, splat(-1.1514610310e-1));
  y = madd4(y, m, splat(1.1676998740e-1));
  y = madd4(y, m, splat(-1.2420140846e-1));
  y = madd4(y, m, splat(1.4249322787e-1));
  y = madd4(y, m, splat(-1.6668057665e-1));
  y = madd4(y, m, splat(2.0000714765e-1));
  y = madd4(y, m, splat(-2.4999993993e-1));
  y = madd4(y, m, splat(3.3333331174e-1));
  y = f32x4.mul(f32x4.mul(y, m), z);
  y = madd4(ef, splat(-2.12194440e-4), y);
  y = madd4(z, splat(-0.5), y);
  let r = f32x4.add(m, y);
  r = madd4(ef, splat(0.693359375), r);
  // special values
  const zero = splat(0);
  r = v128.bitselect(splat(-Infinity), r, f32x4.eq(x, zero));
  r = v128.bitselect(splat(NaN), r, v128.or(f32x4.lt(x, zero), f32x4.ne(x, x)));
  return v128.bitselect(x, r, f32x4.eq(x, splat(Infinity)));
}

/** tanh on four lanes. */
// @ts-ignore: decorator
@inline export function tanhf4(x: v128): v128 {
  const one = splat(1.0);
  const ax = f32x4.abs(x);
  // |x| < 0.625: x + x^3 P(x^2)
  const z = f32x4.mul(x, x);
  let p = splat(-5.70498872745e-3);
  p = madd4(p, z, splat(2.06390887954e-2));
  p = madd4(p, z, splat(-5.37397155531e-2));
  p = madd4(p, z, splat(1.33314422036e-1));
  p = madd4(p, z, splat(-3.33332819422e-1));
  const small = madd4(f32x4.mul(p, z), ax, ax);
  // otherwise (1 - e^{-2|x|}) / (1 + e^{-2|x|}) (NaN falls through here)
  const e = expf4(f32x4.mul(ax, splat(-2.0)));
  const big = f32x4.div(f32x4.sub(one, e), f32x4.add(one, e));
  // tanh(|x|) with the sign of x (so tanh(-0) = -0)
  const t = v128.bitselect(small, big, f32x4.lt(ax, splat(0.625)));
  return v128.or(t, v128.and(x, i32x4.splat(0x80000000)));
}

/** The logistic function 1 / (1 + e^-x) on four lanes, stable for both signs. */
// @ts-ignore: decorator
@inline export function sigmoidf4(x: v128): v128 {
  const one = splat(1.0);
  const e = expf4(f32x4.neg(f32x4.abs(x)));
  const num = v128.bitselect(one, e, f32x4.ge(x, splat(0)));
  return f32x4.div(num, f32x4.add(one, e));
}
