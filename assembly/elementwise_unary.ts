// Elementwise unary kernels for f32, f64, i32 and u8 (bool). Semantics follow the reference
// backend (src/ndarray/cpu/elementwise.ts): sign(+-0) = +0 and sign(NaN) = NaN; relu keeps NaN
// and maps -0 to +0; round is half-to-even; logicalNot treats 0 and NaN as false; isnan and
// logicalNot write u8 0/1. The op codes are compile-time constants of the inlined loop templates.
// float32: SIMD for everything but log1p/expm1/sin/cos/erf (float64 functions per lane, rounded
// once). float64: SIMD for the exact ops; exp/log/log1p/sin/cos/sigmoid use the scalar float64
// Math.* of AssemblyScript (musl: within 1-2 ulp of V8's fdlibm), expm1 and tanh are ports of
// fdlibm's (V8's own); erf ports the reference's series / continued fraction operation for
// operation (its only difference: Math.exp is musl's, not V8's).
import { partStart } from './common';
import { pack4, pack8 } from './elementwise_util';
import { expf4, logf4, sigmoidf4, tanhf4 } from './elementwise_math';

const NEG = 0;
const ABS = 1;
const SIGN = 2;
const EXP = 3;
const LOG = 4;
const LOG1P = 5;
const EXPM1 = 6;
const SQRT = 7;
const RSQRT = 8;
const RECIPROCAL = 9;
const SIN = 10;
const COS = 11;
const TANH = 12;
const SIGMOID = 13;
const RELU = 14;
const ERF = 15;
const FLOOR = 16;
const CEIL = 17;
const ROUND = 18;
const NOT = 19;
const ISNAN = 20;

// @ts-ignore: decorator
@inline function isMaskOp(op: i32): bool {
  return op == NOT || op == ISNAN;
}

/**
 * expm1 as fdlibm's s_expm1.c (V8's Math.expm1, bit for bit on the inputs tested); musl's
 * (AssemblyScript's Math.expm1) evaluates the polynomial in another order and rounds differently.
 */
function expm1Fdlibm(x: f64): f64 {
  const ln2Hi = 6.93147180369123816490e-01;
  const ln2Lo = 1.90821492927058770002e-10;
  const invLn2 = 1.44269504088896338700e+00;
  let hx = <u32>(reinterpret<u64>(x) >> 32);
  const xsb = hx & 0x80000000;
  hx &= 0x7fffffff;
  if (hx >= 0x4043687a) { // |x| >= 56 ln2
    if (hx >= 0x40862e42) { // |x| >= 709.78
      if (hx >= 0x7ff00000) {
        if (x != x) return x + x;
        return xsb == 0 ? x : -1.0;
      }
      if (x > 7.09782712893383973096e+02) return Infinity;
    }
    if (xsb != 0) return -1.0;
  }
  let k: i32;
  let c = 0.0;
  if (hx > 0x3fd62e42) { // |x| > ln2 / 2
    let hi: f64, lo: f64;
    if (hx < 0x3ff0a2b2) { // and |x| < 1.5 ln2
      if (xsb == 0) { hi = x - ln2Hi; lo = ln2Lo; k = 1; } else { hi = x + ln2Hi; lo = -ln2Lo; k = -1; }
    } else {
      k = <i32>(invLn2 * x + (xsb == 0 ? 0.5 : -0.5));
      const t = <f64>k;
      hi = x - t * ln2Hi;
      lo = t * ln2Lo;
    }
    x = hi - lo;
    c = (hi - x) - lo;
  } else if (hx < 0x3c900000) { // |x| < 2^-54
    return x;
  } else {
    k = 0;
  }
  const hfx = 0.5 * x;
  const hxs = x * hfx;
  const r1 = 1.0 + hxs * (-3.33333333333331316428e-02 + hxs * (1.58730158725481460165e-03 +
    hxs * (-7.93650757867487942473e-05 + hxs * (4.00821782732936239552e-06 + hxs * -2.01099218183624371326e-07))));
  let t = 3.0 - r1 * hfx;
  let e = hxs * ((r1 - t) / (6.0 - x * t));
  if (k == 0) return x - (x * e - hxs);
  const twopk = reinterpret<f64>(<u64>(0x3ff00000 + (k << 20)) << 32);
  e = x * (e - c) - c;
  e -= hxs;
  if (k == -1) return 0.5 * (x - e) - 0.5;
  if (k == 1) {
    if (x < -0.25) return -2.0 * (e - (x + 0.5));
    return 1.0 + 2.0 * (x - e);
  }
  let y: f64;
  if (k <= -2 || k > 56) {
    y = 1.0 - (e - x);
    if (k == 1024) y = y * 2.0 * 8.98846567431157953865e+307;
    else y = y * twopk;
    return y - 1.0;
  }
  if (k < 20) {
    t = reinterpret<f64>(<u64>(0x3ff00000 - (0x200000 >> k)) << 32); // 1 - 2^-k
    y = t - (e - x);
  } else {
    t = reinterpret<f64>(<u64>((0x3ff - k) << 20) << 32); // 2^-k
    y = x - (e + t);
    y += 1.0;
  }
  return y * twopk;
}

/** tanh as fdlibm's s_tanh.c (V8's Math.tanh); musl's differs from it by up to 3 ulp. */
function tanhFdlibm(x: f64): f64 {
  const jx = <i32>(reinterpret<u64>(x) >> 32);
  const ix = jx & 0x7fffffff;
  if (ix >= 0x7ff00000) return jx >= 0 ? 1 / x + 1 : 1 / x - 1; // +-Infinity, NaN
  let z: f64;
  if (ix < 0x40360000) { // |x| < 22
    if (ix < 0x3e300000) return x; // |x| < 2^-28 (and +-0)
    if (ix >= 0x3ff00000) { // |x| >= 1
      const t = expm1Fdlibm(2 * Math.abs(x));
      z = 1 - 2 / (t + 2);
    } else {
      const t = expm1Fdlibm(-2 * Math.abs(x));
      z = -t / (t + 2);
    }
  } else {
    z = 1;
  }
  return jx >= 0 ? z : -z;
}

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const ONE_OVER_SQRT_PI = 0.5641895835477563;

/**
 * The reference's erf (src/ndarray/cpu/math.ts), operation for operation in the same order:
 * |x| < 3 its series, |x| >= 3 erfc by its continued fraction, |x| >= 6 +-1. The one difference is
 * Math.exp (AssemblyScript's musl exp; V8's is fdlibm's): they differ by 1 ulp on about 10% of
 * arguments, which moves the result by at most about 6 ulp (4 seen; about 95% of inputs exact).
 * Rounded to float32 the results equal the reference's on every float32 input.
 */
function erfRef(x: f64): f64 {
  if (x != x) return NaN;
  const ax = Math.abs(x);
  if (ax >= 6) return x > 0 ? 1.0 : -1.0;
  if (ax < 3) {
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let n = 0; n < 200; n++) {
      term *= (2 * x2) / <f64>(2 * n + 3);
      sum += term;
      if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
    }
    return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
  }
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + <f64>k / 2 / f;
  const erfc = (Math.exp(-ax * ax) * ONE_OVER_SQRT_PI) / f;
  return x > 0 ? 1 - erfc : erfc - 1;
}

/** Scalar float64 functions applied per lane. */
// @ts-ignore: decorator
@inline function scalarF64(op: i32, x: f64): f64 {
  if (op == EXP) return Math.exp(x);
  if (op == LOG) return Math.log(x);
  if (op == LOG1P) return Math.log1p(x);
  if (op == EXPM1) return expm1Fdlibm(x);
  if (op == SIN) return Math.sin(x);
  if (op == COS) return Math.cos(x);
  if (op == TANH) return tanhFdlibm(x);
  if (op == ERF) return erfRef(x);
  // SIGMOID, as the reference: stable for both signs
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

// ---- float32 ----------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function perLaneF32(op: i32, x: v128): v128 {
  return f32x4(
    <f32>scalarF64(op, <f64>f32x4.extract_lane(x, 0)),
    <f32>scalarF64(op, <f64>f32x4.extract_lane(x, 1)),
    <f32>scalarF64(op, <f64>f32x4.extract_lane(x, 2)),
    <f32>scalarF64(op, <f64>f32x4.extract_lane(x, 3)),
  );
}

// @ts-ignore: decorator
@inline function unF32(op: i32, x: v128): v128 {
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  if (op == NEG) return f32x4.neg(x);
  if (op == ABS) return f32x4.abs(x);
  if (op == SIGN) {
    const s = v128.or(v128.and(f32x4.gt(x, zero), one), v128.and(f32x4.lt(x, zero), f32x4.splat(-1)));
    return v128.bitselect(x, s, f32x4.ne(x, x));
  }
  if (op == EXP) return expf4(x);
  if (op == LOG) return logf4(x);
  if (op == SQRT) return f32x4.sqrt(x);
  if (op == RSQRT) {
    // 1 / sqrt in float64, rounded once, as the reference
    const one64 = f64x2.splat(1);
    const lo = f64x2.div(one64, f64x2.sqrt(f64x2.promote_low_f32x4(x)));
    const hi = f64x2.div(one64, f64x2.sqrt(f64x2.promote_low_f32x4(i8x16.shuffle(x, x, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15))));
    return i8x16.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
  }
  if (op == RECIPROCAL) return f32x4.div(one, x);
  if (op == TANH) return tanhf4(x);
  if (op == SIGMOID) return sigmoidf4(x);
  if (op == RELU) return v128.bitselect(x, zero, v128.or(f32x4.gt(x, zero), f32x4.ne(x, x)));
  if (op == FLOOR) return f32x4.floor(x);
  if (op == CEIL) return f32x4.ceil(x);
  if (op == ROUND) return f32x4.nearest(x);
  if (op == NOT) return v128.or(f32x4.eq(x, zero), f32x4.ne(x, x));
  if (op == ISNAN) return f32x4.ne(x, x);
  return perLaneF32(op, x); // LOG1P, EXPM1, SIN, COS, ERF
}

/** Ops computed per lane by scalar functions (or divisions): unrolling only costs code size. */
// @ts-ignore: decorator
@inline function isHeavy(op: i32): bool {
  return op == LOG1P || op == EXPM1 || op == SIN || op == COS || op == RSQRT || op == ERF;
}

// @ts-ignore: decorator
@inline function loopF32(op: i32, a: usize, o: usize, s: i32, e: i32): void {
  let i = s;
  if (isMaskOp(op)) {
    for (; i + 16 <= e; i += 16) {
      const pa = a + (<usize>i << 2);
      v128.store(o + <usize>i, pack4(
        unF32(op, v128.load(pa)), unF32(op, v128.load(pa, 16)), unF32(op, v128.load(pa, 32)), unF32(op, v128.load(pa, 48)),
      ));
    }
    for (; i < e; i++) {
      store<u8>(o + <usize>i, <u8>(i32x4.extract_lane(unF32(op, v128.load32_splat(a + (<usize>i << 2))), 0) & 1));
    }
    return;
  }
  if (!isHeavy(op)) {
    for (; i + 16 <= e; i += 16) {
      const k = <usize>i << 2;
      const pa = a + k;
      const po = o + k;
      const x0 = v128.load(pa), x1 = v128.load(pa, 16), x2 = v128.load(pa, 32), x3 = v128.load(pa, 48);
      v128.store(po, unF32(op, x0));
      v128.store(po, unF32(op, x1), 16);
      v128.store(po, unF32(op, x2), 32);
      v128.store(po, unF32(op, x3), 48);
    }
  }
  for (; i + 4 <= e; i += 4) {
    const k = <usize>i << 2;
    v128.store(o + k, unF32(op, v128.load(a + k)));
  }
  // the last 1-3 elements as lanes of one vector
  const rem = e - i;
  if (rem > 0) {
    const pa = a + (<usize>i << 2);
    const po = o + (<usize>i << 2);
    let x = v128.load32_splat(pa);
    if (rem > 1) x = v128.load32_lane(pa, x, 1, 4);
    if (rem > 2) x = v128.load32_lane(pa, x, 2, 8);
    const r = unF32(op, x);
    v128.store32_lane(po, r, 0);
    if (rem > 1) v128.store32_lane(po, r, 1, 4);
    if (rem > 2) v128.store32_lane(po, r, 2, 8);
  }
}

// ---- float64 ----------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function unF64(op: i32, x: v128): v128 {
  const zero = f64x2.splat(0);
  const one = f64x2.splat(1);
  if (op == NEG) return f64x2.neg(x);
  if (op == ABS) return f64x2.abs(x);
  if (op == SIGN) {
    const s = v128.or(v128.and(f64x2.gt(x, zero), one), v128.and(f64x2.lt(x, zero), f64x2.splat(-1)));
    return v128.bitselect(x, s, f64x2.ne(x, x));
  }
  if (op == SQRT) return f64x2.sqrt(x);
  if (op == RSQRT) return f64x2.div(one, f64x2.sqrt(x));
  if (op == RECIPROCAL) return f64x2.div(one, x);
  if (op == RELU) return v128.bitselect(x, zero, v128.or(f64x2.gt(x, zero), f64x2.ne(x, x)));
  if (op == FLOOR) return f64x2.floor(x);
  if (op == CEIL) return f64x2.ceil(x);
  if (op == ROUND) return f64x2.nearest(x);
  if (op == NOT) return v128.or(f64x2.eq(x, zero), f64x2.ne(x, x));
  if (op == ISNAN) return f64x2.ne(x, x);
  return f64x2(scalarF64(op, f64x2.extract_lane(x, 0)), scalarF64(op, f64x2.extract_lane(x, 1)));
}

// @ts-ignore: decorator
@inline function loopF64(op: i32, a: usize, o: usize, s: i32, e: i32): void {
  let i = s;
  if (isMaskOp(op)) {
    for (; i + 16 <= e; i += 16) {
      const pa = a + (<usize>i << 3);
      v128.store(o + <usize>i, pack8(
        unF64(op, v128.load(pa)), unF64(op, v128.load(pa, 16)), unF64(op, v128.load(pa, 32)), unF64(op, v128.load(pa, 48)),
        unF64(op, v128.load(pa, 64)), unF64(op, v128.load(pa, 80)), unF64(op, v128.load(pa, 96)), unF64(op, v128.load(pa, 112)),
      ));
    }
    for (; i < e; i++) {
      store<u8>(o + <usize>i, <u8>(i32x4.extract_lane(unF64(op, v128.load64_splat(a + (<usize>i << 3))), 0) & 1));
    }
    return;
  }
  if (!isHeavy(op)) {
    for (; i + 8 <= e; i += 8) {
      const k = <usize>i << 3;
      const pa = a + k;
      const po = o + k;
      const x0 = v128.load(pa), x1 = v128.load(pa, 16), x2 = v128.load(pa, 32), x3 = v128.load(pa, 48);
      v128.store(po, unF64(op, x0));
      v128.store(po, unF64(op, x1), 16);
      v128.store(po, unF64(op, x2), 32);
      v128.store(po, unF64(op, x3), 48);
    }
  }
  for (; i + 2 <= e; i += 2) {
    const k = <usize>i << 3;
    v128.store(o + k, unF64(op, v128.load(a + k)));
  }
  if (i < e) {
    const k = <usize>i << 3;
    store<f64>(o + k, f64x2.extract_lane(unF64(op, v128.load64_splat(a + k)), 0));
  }
}

// ---- int32 and bool ---------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function unI32(op: i32, x: v128): v128 {
  const zero = i32x4.splat(0);
  if (op == NEG) return i32x4.neg(x);
  if (op == ABS) return i32x4.abs(x);
  if (op == SIGN) return v128.or(v128.and(i32x4.gt_s(x, zero), i32x4.splat(1)), i32x4.lt_s(x, zero));
  if (op == RELU) return i32x4.max_s(x, zero);
  if (op == NOT) return i32x4.eq(x, zero);
  if (op == ISNAN) return zero;
  return x; // FLOOR, CEIL, ROUND
}

// @ts-ignore: decorator
@inline function loopI32(op: i32, a: usize, o: usize, s: i32, e: i32): void {
  let i = s;
  if (isMaskOp(op)) {
    for (; i + 16 <= e; i += 16) {
      const pa = a + (<usize>i << 2);
      v128.store(o + <usize>i, pack4(
        unI32(op, v128.load(pa)), unI32(op, v128.load(pa, 16)), unI32(op, v128.load(pa, 32)), unI32(op, v128.load(pa, 48)),
      ));
    }
    for (; i < e; i++) {
      store<u8>(o + <usize>i, <u8>(i32x4.extract_lane(unI32(op, v128.load32_splat(a + (<usize>i << 2))), 0) & 1));
    }
    return;
  }
  for (; i + 4 <= e; i += 4) {
    const k = <usize>i << 2;
    v128.store(o + k, unI32(op, v128.load(a + k)));
  }
  for (; i < e; i++) {
    const k = <usize>i << 2;
    store<i32>(o + k, i32x4.extract_lane(unI32(op, v128.load32_splat(a + k)), 0));
  }
}


/** Final bytes of op on u8 lanes. */
// @ts-ignore: decorator
@inline function unU8(op: i32, x: v128): v128 {
  const zero = i8x16.splat(0);
  const one = i8x16.splat(1);
  if (op == NEG) return i8x16.neg(x);
  if (op == SIGN) return v128.and(i8x16.ne(x, zero), one);
  if (op == NOT) return v128.and(i8x16.eq(x, zero), one);
  if (op == ISNAN) return zero;
  return x; // ABS, RELU, FLOOR, CEIL, ROUND
}

// @ts-ignore: decorator
@inline function loopU8(op: i32, a: usize, o: usize, s: i32, e: i32): void {
  let i = s;
  for (; i + 16 <= e; i += 16) v128.store(o + <usize>i, unU8(op, v128.load(a + <usize>i)));
  for (; i < e; i++) store<u8>(o + <usize>i, <u8>i8x16.extract_lane_u(unU8(op, v128.load8_splat(a + <usize>i)), 0));
}

// ---- exports: ew_unary_<dtype>_<op>(a, out, n, task, ntasks) ------------------------------------
// (int32 floor/ceil/round and bool abs/relu/floor/ceil/round are copies: ew_copy)

// @ts-ignore: decorator
@inline function start(n: i32, task: i32, ntasks: i32, align: i32): i32 {
  return partStart(n, task, ntasks, align);
}

// f32

export function ew_unary_f32_neg(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(NEG, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f32_abs(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(ABS, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f32_sign(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(SIGN, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f32_exp(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(EXP, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f32_log(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(LOG, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f32_log1p(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(LOG1P, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f32_expm1(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(EXPM1, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f32_sqrt(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(SQRT, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f32_rsqrt(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(RSQRT, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f32_reciprocal(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(RECIPROCAL, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f32_sin(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(SIN, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f32_cos(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(COS, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f32_tanh(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(TANH, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f32_sigmoid(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(SIGMOID, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f32_erf(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(ERF, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f32_relu(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(RELU, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f32_floor(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(FLOOR, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f32_ceil(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(CEIL, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f32_round(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(ROUND, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f32_logicalNot(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(NOT, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f32_isnan(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF32(ISNAN, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}

// f64

export function ew_unary_f64_neg(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(NEG, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f64_abs(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(ABS, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f64_sign(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(SIGN, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f64_exp(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(EXP, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f64_log(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(LOG, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f64_log1p(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(LOG1P, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f64_expm1(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(EXPM1, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f64_sqrt(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(SQRT, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f64_rsqrt(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(RSQRT, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f64_reciprocal(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(RECIPROCAL, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f64_sin(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(SIN, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f64_cos(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(COS, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f64_tanh(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(TANH, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f64_sigmoid(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(SIGMOID, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f64_erf(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(ERF, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f64_relu(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(RELU, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f64_floor(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(FLOOR, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f64_ceil(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(CEIL, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f64_round(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(ROUND, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f64_logicalNot(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(NOT, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_f64_isnan(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopF64(ISNAN, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}

// i32

export function ew_unary_i32_neg(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(NEG, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_i32_abs(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(ABS, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_i32_sign(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(SIGN, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_i32_relu(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(RELU, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_i32_logicalNot(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(NOT, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}
export function ew_unary_i32_isnan(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopI32(ISNAN, a, o, start(n, task, ntasks, 16), start(n, task + 1, ntasks, 16));
}

// u8

export function ew_unary_u8_neg(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(NEG, a, o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_unary_u8_sign(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(SIGN, a, o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_unary_u8_logicalNot(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(NOT, a, o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
export function ew_unary_u8_isnan(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  loopU8(ISNAN, a, o, start(n, task, ntasks, 64), start(n, task + 1, ntasks, 64));
}
