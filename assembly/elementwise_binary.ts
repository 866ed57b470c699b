// Loop templates of the elementwise binary kernels (binary and binaryScalar) for f32, f64, i32 and
// u8 (bool); the exports that instantiate them are in elementwise.ts.
// Semantics follow the reference backend (src/ndarray/cpu/elementwise.ts):
// - maximum/minimum: x > y ? x : y (ties, including +0/-0, give y), NaN if either is NaN;
// - comparisons write u8 0/1; logicalAnd/Or treat 0 and NaN as false;
// - int32 arithmetic is JavaScript's: the double result wrapped to 32 bits (ToInt32);
// - u8 arithmetic wraps modulo 256 (Uint8Array stores).
// The op is a compile-time constant of each inlined template, so every (op, dtype) pair gets its
// own specialized loop. Not re-exported by index.ts.
import { pack4, pack8, toInt32 } from './elementwise_util';

export const ADD = 0;
export const SUB = 1;
export const MUL = 2;
export const DIV = 3;
export const POW = 4;
export const MAX = 5;
export const MIN = 6;
export const EQ = 7;
export const NE = 8;
export const LT = 9;
export const LE = 10;
export const GT = 11;
export const GE = 12;
export const AND = 13;
export const OR = 14;

// @ts-ignore: decorator
@inline function isMaskOp(op: i32): bool {
  return op >= EQ;
}

// ---- float32 ----------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function truthyF32(x: v128): v128 {
  return f32x4.gt(f32x4.abs(x), f32x4.splat(0)); // false for 0, -0 and NaN
}

/** op on four f32 lanes: values for arithmetic ops, lane masks for comparisons. */
// @ts-ignore: decorator
@inline function opF32(op: i32, x: v128, y: v128): v128 {
  if (op == ADD) return f32x4.add(x, y);
  if (op == SUB) return f32x4.sub(x, y);
  if (op == MUL) return f32x4.mul(x, y);
  if (op == DIV) return f32x4.div(x, y);
  if (op == POW) {
    return f32x4(
      <f32>Math.pow(<f64>f32x4.extract_lane(x, 0), <f64>f32x4.extract_lane(y, 0)),
      <f32>Math.pow(<f64>f32x4.extract_lane(x, 1), <f64>f32x4.extract_lane(y, 1)),
      <f32>Math.pow(<f64>f32x4.extract_lane(x, 2), <f64>f32x4.extract_lane(y, 2)),
      <f32>Math.pow(<f64>f32x4.extract_lane(x, 3), <f64>f32x4.extract_lane(y, 3)),
    );
  }
  if (op == MAX) return v128.bitselect(x, y, v128.or(f32x4.gt(x, y), f32x4.ne(x, x)));
  if (op == MIN) return v128.bitselect(x, y, v128.or(f32x4.lt(x, y), f32x4.ne(x, x)));
  if (op == EQ) return f32x4.eq(x, y);
  if (op == NE) return f32x4.ne(x, y);
  if (op == LT) return f32x4.lt(x, y);
  if (op == LE) return f32x4.le(x, y);
  if (op == GT) return f32x4.gt(x, y);
  if (op == GE) return f32x4.ge(x, y);
  if (op == AND) return v128.and(truthyF32(x), truthyF32(y));
  return v128.or(truthyF32(x), truthyF32(y));
}

/**
 * out[i] = op(a[i], b[i]) (or op(s, a[i]) / op(a[i], s) when `scalar`, with `sv` the splatted
 * scalar and `rev` choosing the order) over [s, e); 32-bit lanes.
 */
// @ts-ignore: decorator
@inline export function loopF32(op: i32, scalar: bool, rev: bool, a: usize, b: usize, sv: v128, o: usize, s: i32, e: i32): void {
  let i = s;
  if (isMaskOp(op)) {
    for (; i + 16 <= e; i += 16) {
      const pa = a + (<usize>i << 2);
      const pb = b + (<usize>i << 2);
      const x0 = v128.load(pa), x1 = v128.load(pa, 16), x2 = v128.load(pa, 32), x3 = v128.load(pa, 48);
      const y0 = scalar ? sv : v128.load(pb);
      const y1 = scalar ? sv : v128.load(pb, 16);
      const y2 = scalar ? sv : v128.load(pb, 32);
      const y3 = scalar ? sv : v128.load(pb, 48);
      const m0 = rev ? opF32(op, y0, x0) : opF32(op, x0, y0);
      const m1 = rev ? opF32(op, y1, x1) : opF32(op, x1, y1);
      const m2 = rev ? opF32(op, y2, x2) : opF32(op, x2, y2);
      const m3 = rev ? opF32(op, y3, x3) : opF32(op, x3, y3);
      v128.store(o + <usize>i, pack4(m0, m1, m2, m3));
    }
    for (; i < e; i++) {
      const x = v128.load32_splat(a + (<usize>i << 2));
      const y = scalar ? sv : v128.load32_splat(b + (<usize>i << 2));
      const m = rev ? opF32(op, y, x) : opF32(op, x, y);
      store<u8>(o + <usize>i, <u8>(i32x4.extract_lane(m, 0) & 1));
    }
    return;
  }
  for (; op != POW && i + 16 <= e; i += 16) {
    const k = <usize>i << 2;
    const pa = a + k;
    const pb = b + k;
    const po = o + k;
    const x0 = v128.load(pa), x1 = v128.load(pa, 16), x2 = v128.load(pa, 32), x3 = v128.load(pa, 48);
    const y0 = scalar ? sv : v128.load(pb);
    const y1 = scalar ? sv : v128.load(pb, 16);
    const y2 = scalar ? sv : v128.load(pb, 32);
    const y3 = scalar ? sv : v128.load(pb, 48);
    v128.store(po, rev ? opF32(op, y0, x0) : opF32(op, x0, y0));
    v128.store(po, rev ? opF32(op, y1, x1) : opF32(op, x1, y1), 16);
    v128.store(po, rev ? opF32(op, y2, x2) : opF32(op, x2, y2), 32);
    v128.store(po, rev ? opF32(op, y3, x3) : opF32(op, x3, y3), 48);
  }
  for (; i + 4 <= e; i += 4) {
    const k = <usize>i << 2;
    const x = v128.load(a + k);
    const y = scalar ? sv : v128.load(b + k);
    v128.store(o + k, rev ? opF32(op, y, x) : opF32(op, x, y));
  }
  for (; i < e; i++) {
    const k = <usize>i << 2;
    const x = v128.load32_splat(a + k);
    const y = scalar ? sv : v128.load32_splat(b + k);
    store<f32>(o + k, f32x4.extract_lane(rev ? opF32(op, y, x) : opF32(op, x, y), 0));
  }
}



// ---- float64 ----------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function truthyF64(x: v128): v128 {
  return f64x2.gt(f64x2.abs(x), f64x2.splat(0));
}

// @ts-ignore: decorator
@inline function opF64(op: i32, x: v128, y: v128): v128 {
  if (op == ADD) return f64x2.add(x, y);
  if (op == SUB) return f64x2.sub(x, y);
  if (op == MUL) return f64x2.mul(x, y);
  if (op == DIV) return f64x2.div(x, y);
  if (op == POW) {
    return f64x2(
      Math.pow(f64x2.extract_lane(x, 0), f64x2.extract_lane(y, 0)),
      Math.pow(f64x2.extract_lane(x, 1), f64x2.extract_lane(y, 1)),
    );
  }
  if (op == MAX) return v128.bitselect(x, y, v128.or(f64x2.gt(x, y), f64x2.ne(x, x)));
  if (op == MIN) return v128.bitselect(x, y, v128.or(f64x2.lt(x, y), f64x2.ne(x, x)));
  if (op == EQ) return f64x2.eq(x, y);
  if (op == NE) return f64x2.ne(x, y);
  if (op == LT) return f64x2.lt(x, y);
  if (op == LE) return f64x2.le(x, y);
  if (op == GT) return f64x2.gt(x, y);
  if (op == GE) return f64x2.ge(x, y);
  if (op == AND) return v128.and(truthyF64(x), truthyF64(y));
  return v128.or(truthyF64(x), truthyF64(y));
}

// @ts-ignore: decorator
@inline export function loopF64(op: i32, scalar: bool, rev: bool, a: usize, b: usize, sv: v128, o: usize, s: i32, e: i32): void {
  let i = s;
  if (isMaskOp(op)) {
    for (; i + 16 <= e; i += 16) {
      const pa = a + (<usize>i << 3);
      const pb = b + (<usize>i << 3);
      const x0 = v128.load(pa), x1 = v128.load(pa, 16), x2 = v128.load(pa, 32), x3 = v128.load(pa, 48);
      const x4 = v128.load(pa, 64), x5 = v128.load(pa, 80), x6 = v128.load(pa, 96), x7 = v128.load(pa, 112);
      const y0 = scalar ? sv : v128.load(pb);
      const y1 = scalar ? sv : v128.load(pb, 16);
      const y2 = scalar ? sv : v128.load(pb, 32);
      const y3 = scalar ? sv : v128.load(pb, 48);
      const y4 = scalar ? sv : v128.load(pb, 64);
      const y5 = scalar ? sv : v128.load(pb, 80);
      const y6 = scalar ? sv : v128.load(pb, 96);
      const y7 = scalar ? sv : v128.load(pb, 112);
      v128.store(o + <usize>i, pack8(
        rev ? opF64(op, y0, x0) : opF64(op, x0, y0), rev ? opF64(op, y1, x1) : opF64(op, x1, y1),
        rev ? opF64(op, y2, x2) : opF64(op, x2, y2), rev ? opF64(op, y3, x3) : opF64(op, x3, y3),
        rev ? opF64(op, y4, x4) : opF64(op, x4, y4), rev ? opF64(op, y5, x5) : opF64(op, x5, y5),
        rev ? opF64(op, y6, x6) : opF64(op, x6, y6), rev ? opF64(op, y7, x7) : opF64(op, x7, y7),
      ));
    }
    for (; i < e; i++) {
      const x = v128.load64_splat(a + (<usize>i << 3));
      const y = scalar ? sv : v128.load64_splat(b + (<usize>i << 3));
      const m = rev ? opF64(op, y, x) : opF64(op, x, y);
      store<u8>(o + <usize>i, <u8>(i32x4.extract_lane(m, 0) & 1));
    }
    return;
  }
  for (; op != POW && i + 8 <= e; i += 8) {
    const k = <usize>i << 3;
    const pa = a + k;
    const pb = b + k;
    const po = o + k;
    const x0 = v128.load(pa), x1 = v128.load(pa, 16), x2 = v128.load(pa, 32), x3 = v128.load(pa, 48);
    const y0 = scalar ? sv : v128.load(pb);
    const y1 = scalar ? sv : v128.load(pb, 16);
    const y2 = scalar ? sv : v128.load(pb, 32);
    const y3 = scalar ? sv : v128.load(pb, 48);
    v128.store(po, rev ? opF64(op, y0, x0) : opF64(op, x0, y0));
    v128.store(po, rev ? opF64(op, y1, x1) : opF64(op, x1, y1), 16);
    v128.store(po, rev ? opF64(op, y2, x2) : opF64(op, x2, y2), 32);
    v128.store(po, rev ? opF64(op, y3, x3) : opF64(op, x3, y3), 48);
  }
  for (; i < e; i++) {
    const k = <usize>i << 3;
    const x = v128.load64_splat(a + k);
    const y = scalar ? sv : v128.load64_splat(b + k);
    store<f64>(o + k, f64x2.extract_lane(rev ? opF64(op, y, x) : opF64(op, x, y), 0));
  }
}



// ---- int32 ------------------------------------------------------------------------------------

/**
 * a * b as JavaScript computes it on Int32Array elements: the double product wrapped to 32 bits.
 * Equal to the exact low 32 bits unless |a * b| >= 2^53, where the double rounds first.
 */
// @ts-ignore: decorator
@inline function mulI32(x: v128, y: v128): v128 {
  const lim = i64x2.splat(<i64>1 << 53);
  const big = v128.or(
    i64x2.ge_s(i64x2.abs(i64x2.extmul_low_i32x4_s(x, y)), lim),
    i64x2.ge_s(i64x2.abs(i64x2.extmul_high_i32x4_s(x, y)), lim),
  );
  if (!v128.any_true(big)) return i32x4.mul(x, y);
  return i32x4(
    toInt32(<f64>i32x4.extract_lane(x, 0) * <f64>i32x4.extract_lane(y, 0)),
    toInt32(<f64>i32x4.extract_lane(x, 1) * <f64>i32x4.extract_lane(y, 1)),
    toInt32(<f64>i32x4.extract_lane(x, 2) * <f64>i32x4.extract_lane(y, 2)),
    toInt32(<f64>i32x4.extract_lane(x, 3) * <f64>i32x4.extract_lane(y, 3)),
  );
}

// @ts-ignore: decorator
@inline function opI32(op: i32, x: v128, y: v128): v128 {
  const z = i32x4.splat(0);
  if (op == ADD) return i32x4.add(x, y);
  if (op == SUB) return i32x4.sub(x, y);
  if (op == MUL) return mulI32(x, y);
  if (op == MAX) return i32x4.max_s(x, y);
  if (op == MIN) return i32x4.min_s(x, y);
  if (op == EQ) return i32x4.eq(x, y);
  if (op == NE) return i32x4.ne(x, y);
  if (op == LT) return i32x4.lt_s(x, y);
  if (op == LE) return i32x4.le_s(x, y);
  if (op == GT) return i32x4.gt_s(x, y);
  if (op == GE) return i32x4.ge_s(x, y);
  if (op == AND) return v128.and(i32x4.ne(x, z), i32x4.ne(y, z));
  return v128.or(i32x4.ne(x, z), i32x4.ne(y, z)); // OR (DIV and POW stay on the reference)
}

// @ts-ignore: decorator
@inline export function loopI32(op: i32, scalar: bool, rev: bool, a: usize, b: usize, sv: v128, o: usize, s: i32, e: i32): void {
  let i = s;
  if (isMaskOp(op)) {
    for (; i + 16 <= e; i += 16) {
      const pa = a + (<usize>i << 2);
      const pb = b + (<usize>i << 2);
      const x0 = v128.load(pa), x1 = v128.load(pa, 16), x2 = v128.load(pa, 32), x3 = v128.load(pa, 48);
      const y0 = scalar ? sv : v128.load(pb);
      const y1 = scalar ? sv : v128.load(pb, 16);
      const y2 = scalar ? sv : v128.load(pb, 32);
      const y3 = scalar ? sv : v128.load(pb, 48);
      const m0 = rev ? opI32(op, y0, x0) : opI32(op, x0, y0);
      const m1 = rev ? opI32(op, y1, x1) : opI32(op, x1, y1);
      const m2 = rev ? opI32(op, y2, x2) : opI32(op, x2, y2);
      const m3 = rev ? opI32(op, y3, x3) : opI32(op, x3, y3);
      v128.store(o + <usize>i, pack4(m0, m1, m2, m3));
    }
    for (; i < e; i++) {
      const x = v128.load32_splat(a + (<usize>i << 2));
      const y = scalar ? sv : v128.load32_splat(b + (<usize>i << 2));
      const m = rev ? opI32(op, y, x) : opI32(op, x, y);
      store<u8>(o + <usize>i, <u8>(i32x4.extract_lane(m, 0) & 1));
    }
    return;
  }
  for (; i + 4 <= e; i += 4) {
    const k = <usize>i << 2;
    const x = v128.load(a + k);
    const y = scalar ? sv : v128.load(b + k);
    v128.store(o + k, rev ? opI32(op, y, x) : opI32(op, x, y));
  }
  for (; i < e; i++) {
    const k = <usize>i << 2;
    const x = v128.load32_splat(a + k);
    const y = scalar ? sv : v128.load32_splat(b + k);
    store<i32>(o + k, i32x4.extract_lane(rev ? opI32(op, y, x) : opI32(op, x, y), 0));
  }
}



// ---- bool (u8) --------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function opU8(op: i32, x: v128, y: v128): v128 {
  const z = i8x16.splat(0);
  if (op == ADD) return i8x16.add(x, y);
  if (op == SUB) return i8x16.sub(x, y);
  if (op == MUL) {
    const lo = v128.and(i16x8.extmul_low_i8x16_u(x, y), i16x8.splat(255));
    const hi = v128.and(i16x8.extmul_high_i8x16_u(x, y), i16x8.splat(255));
    return i8x16.narrow_i16x8_u(lo, hi);
  }
  if (op == MAX) return i8x16.max_u(x, y);
  if (op == MIN) return i8x16.min_u(x, y);
  if (op == EQ) return i8x16.eq(x, y);
  if (op == NE) return i8x16.ne(x, y);
  if (op == LT) return i8x16.lt_u(x, y);
  if (op == LE) return i8x16.le_u(x, y);
  if (op == GT) return i8x16.gt_u(x, y);
  if (op == GE) return i8x16.ge_u(x, y);
  if (op == AND) return v128.and(i8x16.ne(x, z), i8x16.ne(y, z));
  return v128.or(i8x16.ne(x, z), i8x16.ne(y, z));
}

// @ts-ignore: decorator
@inline export function loopU8(op: i32, scalar: bool, rev: bool, a: usize, b: usize, sv: v128, o: usize, s: i32, e: i32): void {
  let i = s;
  const one = i8x16.splat(1);
  for (; i + 16 <= e; i += 16) {
    const x = v128.load(a + <usize>i);
    const y = scalar ? sv : v128.load(b + <usize>i);
    const r = rev ? opU8(op, y, x) : opU8(op, x, y);
    v128.store(o + <usize>i, isMaskOp(op) ? v128.and(r, one) : r);
  }
  for (; i < e; i++) {
    const x = v128.load8_splat(a + <usize>i);
    const y = scalar ? sv : v128.load8_splat(b + <usize>i);
    const r = rev ? opU8(op, y, x) : opU8(op, x, y);
    store<u8>(o + <usize>i, <u8>(i8x16.extract_lane_u(isMaskOp(op) ? v128.and(r, one) : r, 0)));
  }
}
