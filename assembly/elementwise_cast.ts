// where and cast kernels. where selects by element size (the bits are copied); cast converts as
// the reference's typed-array stores do: float -> int32 is Math.trunc then ToInt32 (NaN and
// +-Infinity -> 0, out-of-range values wrap modulo 2^32); anything -> bool is `x !== 0` (NaN ->
// 1); bool -> anything copies the byte value; float64 -> float32 rounds to nearest even.
import { partStart } from './common';
import { pack4, pack8, toInt32 } from './elementwise_util';

// ---- where ------------------------------------------------------------------------------------

/** out = cond ? a : b on 4-byte elements (float32, int32). */
export function ew_where_32(c: usize, a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  const s = partStart(n, task, ntasks, 16);
  const e = partStart(n, task + 1, ntasks, 16);
  const zero = i8x16.splat(0);
  let i = s;
  for (; i + 16 <= e; i += 16) {
    const m = i8x16.ne(v128.load(c + <usize>i), zero);
    const h0 = i16x8.extend_low_i8x16_s(m);
    const h1 = i16x8.extend_high_i8x16_s(m);
    const k = <usize>i << 2;
    const pa = a + k, pb = b + k, po = o + k;
    v128.store(po, v128.bitselect(v128.load(pa), v128.load(pb), i32x4.extend_low_i16x8_s(h0)));
    v128.store(po, v128.bitselect(v128.load(pa, 16), v128.load(pb, 16), i32x4.extend_high_i16x8_s(h0)), 16);
    v128.store(po, v128.bitselect(v128.load(pa, 32), v128.load(pb, 32), i32x4.extend_low_i16x8_s(h1)), 32);
    v128.store(po, v128.bitselect(v128.load(pa, 48), v128.load(pb, 48), i32x4.extend_high_i16x8_s(h1)), 48);
  }
  for (; i < e; i++) {
    const k = <usize>i << 2;
    store<u32>(o + k, load<u8>(c + <usize>i) != 0 ? load<u32>(a + k) : load<u32>(b + k));
  }
}

/** out = cond ? a : b on 8-byte elements (float64). */
export function ew_where_64(c: usize, a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  const s = partStart(n, task, ntasks, 16);
  const e = partStart(n, task + 1, ntasks, 16);
  const zero = i8x16.splat(0);
  let i = s;
  for (; i + 8 <= e; i += 8) {
    const m = i16x8.extend_low_i8x16_s(i8x16.ne(v128.load64_zero(c + <usize>i), zero));
    const w0 = i32x4.extend_low_i16x8_s(m);
    const w1 = i32x4.extend_high_i16x8_s(m);
    const k = <usize>i << 3;
    const pa = a + k, pb = b + k, po = o + k;
    v128.store(po, v128.bitselect(v128.load(pa), v128.load(pb), i64x2.extend_low_i32x4_s(w0)));
    v128.store(po, v128.bitselect(v128.load(pa, 16), v128.load(pb, 16), i64x2.extend_high_i32x4_s(w0)), 16);
    v128.store(po, v128.bitselect(v128.load(pa, 32), v128.load(pb, 32), i64x2.extend_low_i32x4_s(w1)), 32);
    v128.store(po, v128.bitselect(v128.load(pa, 48), v128.load(pb, 48), i64x2.extend_high_i32x4_s(w1)), 48);
  }
  for (; i < e; i++) {
    const k = <usize>i << 3;
    store<u64>(o + k, load<u8>(c + <usize>i) != 0 ? load<u64>(a + k) : load<u64>(b + k));
  }
}

/** out = cond ? a : b on 1-byte elements (bool). */
export function ew_where_8(c: usize, a: usize, b: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  const s = partStart(n, task, ntasks, 64);
  const e = partStart(n, task + 1, ntasks, 64);
  const zero = i8x16.splat(0);
  let i = s;
  for (; i + 16 <= e; i += 16) {
    const p = <usize>i;
    v128.store(o + p, v128.bitselect(v128.load(a + p), v128.load(b + p), i8x16.ne(v128.load(c + p), zero)));
  }
  for (; i < e; i++) {
    const p = <usize>i;
    store<u8>(o + p, load<u8>(c + p) != 0 ? load<u8>(a + p) : load<u8>(b + p));
  }
}

// ---- cast -------------------------------------------------------------------------------------

/** Copies n elements of `bytes` bytes each (a cast to the same dtype). */
export function ew_copy(src: usize, dst: usize, n: i32, bytes: i32, task: i32, ntasks: i32): void {
  const s = partStart(n, task, ntasks, 64);
  const e = partStart(n, task + 1, ntasks, 64);
  memory.copy(dst + <usize>s * bytes, src + <usize>s * bytes, <usize>(e - s) * bytes);
}

// @ts-ignore: decorator
@inline function hi64(x: v128): v128 {
  return i8x16.shuffle(x, x, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
}

/** The low halves of a and b as one vector. */
// @ts-ignore: decorator
@inline function lows(a: v128, b: v128): v128 {
  return i8x16.shuffle(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
}

/** float32 -> float64 */
export function ew_cast_f32_f64(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  const s = partStart(n, task, ntasks, 16);
  const e = partStart(n, task + 1, ntasks, 16);
  let i = s;
  for (; i + 4 <= e; i += 4) {
    const x = v128.load(a + (<usize>i << 2));
    const po = o + (<usize>i << 3);
    v128.store(po, f64x2.promote_low_f32x4(x));
    v128.store(po, f64x2.promote_low_f32x4(hi64(x)), 16);
  }
  for (; i < e; i++) store<f64>(o + (<usize>i << 3), <f64>load<f32>(a + (<usize>i << 2)));
}

/** float64 -> float32 (round to nearest even) */
export function ew_cast_f64_f32(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  const s = partStart(n, task, ntasks, 16);
  const e = partStart(n, task + 1, ntasks, 16);
  let i = s;
  for (; i + 4 <= e; i += 4) {
    const pa = a + (<usize>i << 3);
    const lo = f32x4.demote_f64x2_zero(v128.load(pa));
    const hi = f32x4.demote_f64x2_zero(v128.load(pa, 16));
    v128.store(o + (<usize>i << 2), lows(lo, hi));
  }
  for (; i < e; i++) store<f32>(o + (<usize>i << 2), <f32>load<f64>(a + (<usize>i << 3)));
}

/** float32 -> int32 (truncation; NaN/Infinity -> 0; out of range wraps as ToInt32) */
export function ew_cast_f32_i32(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  const s = partStart(n, task, ntasks, 16);
  const e = partStart(n, task + 1, ntasks, 16);
  const lim = f32x4.splat(2147483648.0);
  let i = s;
  for (; i + 4 <= e; i += 4) {
    const k = <usize>i << 2;
    const x = v128.load(a + k);
    let r = i32x4.trunc_sat_f32x4_s(x);
    if (!i32x4.all_true(f32x4.lt(f32x4.abs(x), lim))) {
      r = i32x4(
        toInt32(<f64>f32x4.extract_lane(x, 0)), toInt32(<f64>f32x4.extract_lane(x, 1)),
        toInt32(<f64>f32x4.extract_lane(x, 2)), toInt32(<f64>f32x4.extract_lane(x, 3)),
      );
    }
    v128.store(o + k, r);
  }
  for (; i < e; i++) store<i32>(o + (<usize>i << 2), toInt32(<f64>load<f32>(a + (<usize>i << 2))));
}

/** float64 -> int32 (as ew_cast_f32_i32) */
export function ew_cast_f64_i32(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  const s = partStart(n, task, ntasks, 16);
  const e = partStart(n, task + 1, ntasks, 16);
  const lim = f64x2.splat(2147483648.0);
  let i = s;
  for (; i + 4 <= e; i += 4) {
    const pa = a + (<usize>i << 3);
    const x0 = v128.load(pa);
    const x1 = v128.load(pa, 16);
    let r = lows(i32x4.trunc_sat_f64x2_s_zero(x0), i32x4.trunc_sat_f64x2_s_zero(x1));
    if (!i64x2.all_true(v128.and(f64x2.lt(f64x2.abs(x0), lim), f64x2.lt(f64x2.abs(x1), lim)))) {
      r = i32x4(
        toInt32(f64x2.extract_lane(x0, 0)), toInt32(f64x2.extract_lane(x0, 1)),
        toInt32(f64x2.extract_lane(x1, 0)), toInt32(f64x2.extract_lane(x1, 1)),
      );
    }
    v128.store(o + (<usize>i << 2), r);
  }
  for (; i < e; i++) store<i32>(o + (<usize>i << 2), toInt32(load<f64>(a + (<usize>i << 3))));
}

/** int32 -> float32 (round to nearest even) */
export function ew_cast_i32_f32(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  const s = partStart(n, task, ntasks, 16);
  const e = partStart(n, task + 1, ntasks, 16);
  let i = s;
  for (; i + 4 <= e; i += 4) {
    const k = <usize>i << 2;
    v128.store(o + k, f32x4.convert_i32x4_s(v128.load(a + k)));
  }
  for (; i < e; i++) store<f32>(o + (<usize>i << 2), <f32>load<i32>(a + (<usize>i << 2)));
}

/** int32 -> float64 (exact) */
export function ew_cast_i32_f64(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  const s = partStart(n, task, ntasks, 16);
  const e = partStart(n, task + 1, ntasks, 16);
  let i = s;
  for (; i + 4 <= e; i += 4) {
    const x = v128.load(a + (<usize>i << 2));
    const po = o + (<usize>i << 3);
    v128.store(po, f64x2.convert_low_i32x4_s(x));
    v128.store(po, f64x2.convert_low_i32x4_s(hi64(x)), 16);
  }
  for (; i < e; i++) store<f64>(o + (<usize>i << 3), <f64>load<i32>(a + (<usize>i << 2)));
}

/** bool -> float32 (the byte value) */
export function ew_cast_u8_f32(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  const s = partStart(n, task, ntasks, 16);
  const e = partStart(n, task + 1, ntasks, 16);
  let i = s;
  for (; i + 16 <= e; i += 16) {
    const x = v128.load(a + <usize>i);
    const h0 = i16x8.extend_low_i8x16_u(x);
    const h1 = i16x8.extend_high_i8x16_u(x);
    const po = o + (<usize>i << 2);
    v128.store(po, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(h0)));
    v128.store(po, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(h0)), 16);
    v128.store(po, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(h1)), 32);
    v128.store(po, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(h1)), 48);
  }
  for (; i < e; i++) store<f32>(o + (<usize>i << 2), <f32>load<u8>(a + <usize>i));
}

/** bool -> int32 (the byte value) */
export function ew_cast_u8_i32(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  const s = partStart(n, task, ntasks, 16);
  const e = partStart(n, task + 1, ntasks, 16);
  let i = s;
  for (; i + 16 <= e; i += 16) {
    const x = v128.load(a + <usize>i);
    const h0 = i16x8.extend_low_i8x16_u(x);
    const h1 = i16x8.extend_high_i8x16_u(x);
    const po = o + (<usize>i << 2);
    v128.store(po, i32x4.extend_low_i16x8_u(h0));
    v128.store(po, i32x4.extend_high_i16x8_u(h0), 16);
    v128.store(po, i32x4.extend_low_i16x8_u(h1), 32);
    v128.store(po, i32x4.extend_high_i16x8_u(h1), 48);
  }
  for (; i < e; i++) store<i32>(o + (<usize>i << 2), <i32>load<u8>(a + <usize>i));
}

/** bool -> float64 (the byte value) */
export function ew_cast_u8_f64(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  const s = partStart(n, task, ntasks, 16);
  const e = partStart(n, task + 1, ntasks, 16);
  let i = s;
  for (; i + 4 <= e; i += 4) {
    const w = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(a + <usize>i)));
    const po = o + (<usize>i << 3);
    v128.store(po, f64x2.convert_low_i32x4_s(w));
    v128.store(po, f64x2.convert_low_i32x4_s(hi64(w)), 16);
  }
  for (; i < e; i++) store<f64>(o + (<usize>i << 3), <f64>load<u8>(a + <usize>i));
}

/** float32 -> bool (x !== 0: NaN -> 1) */
export function ew_cast_f32_u8(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  const s = partStart(n, task, ntasks, 16);
  const e = partStart(n, task + 1, ntasks, 16);
  const z = f32x4.splat(0);
  let i = s;
  for (; i + 16 <= e; i += 16) {
    const pa = a + (<usize>i << 2);
    v128.store(o + <usize>i, pack4(
      f32x4.ne(v128.load(pa), z), f32x4.ne(v128.load(pa, 16), z), f32x4.ne(v128.load(pa, 32), z), f32x4.ne(v128.load(pa, 48), z),
    ));
  }
  for (; i < e; i++) store<u8>(o + <usize>i, load<f32>(a + (<usize>i << 2)) != 0 ? 1 : 0);
}

/** float64 -> bool (x !== 0: NaN -> 1) */
export function ew_cast_f64_u8(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  const s = partStart(n, task, ntasks, 16);
  const e = partStart(n, task + 1, ntasks, 16);
  const z = f64x2.splat(0);
  let i = s;
  for (; i + 16 <= e; i += 16) {
    const pa = a + (<usize>i << 3);
    v128.store(o + <usize>i, pack8(
      f64x2.ne(v128.load(pa), z), f64x2.ne(v128.load(pa, 16), z), f64x2.ne(v128.load(pa, 32), z), f64x2.ne(v128.load(pa, 48), z),
      f64x2.ne(v128.load(pa, 64), z), f64x2.ne(v128.load(pa, 80), z), f64x2.ne(v128.load(pa, 96), z), f64x2.ne(v128.load(pa, 112), z),
    ));
  }
  for (; i < e; i++) store<u8>(o + <usize>i, load<f64>(a + (<usize>i << 3)) != 0 ? 1 : 0);
}

/** int32 -> bool (x !== 0) */
export function ew_cast_i32_u8(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  const s = partStart(n, task, ntasks, 16);
  const e = partStart(n, task + 1, ntasks, 16);
  const z = i32x4.splat(0);
  let i = s;
  for (; i + 16 <= e; i += 16) {
    const pa = a + (<usize>i << 2);
    v128.store(o + <usize>i, pack4(
      i32x4.ne(v128.load(pa), z), i32x4.ne(v128.load(pa, 16), z), i32x4.ne(v128.load(pa, 32), z), i32x4.ne(v128.load(pa, 48), z),
    ));
  }
  for (; i < e; i++) store<u8>(o + <usize>i, load<i32>(a + (<usize>i << 2)) != 0 ? 1 : 0);
}

/** bool -> bool (normalizes to 0/1) */
export function ew_cast_u8_u8(a: usize, o: usize, n: i32, task: i32, ntasks: i32): void {
  const s = partStart(n, task, ntasks, 64);
  const e = partStart(n, task + 1, ntasks, 64);
  const z = i8x16.splat(0);
  const one = i8x16.splat(1);
  let i = s;
  for (; i + 16 <= e; i += 16) v128.store(o + <usize>i, v128.and(i8x16.ne(v128.load(a + <usize>i), z), one));
  for (; i < e; i++) store<u8>(o + <usize>i, load<u8>(a + <usize>i) != 0 ? 1 : 0);
}
