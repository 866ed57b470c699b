// Row reductions of float32 / float64: sum max min prod argmax argmin over `outer` rows of `size`
// elements (compact). Semantics are the reference backend's (src/ndarray/cpu/index.ts REDUCE):
// - sum and prod accumulate in float64 whatever the input (float32 inputs are promoted, the
//   result is rounded once on store), as the reference does; the order differs from its single
//   sequential chain (SIMD lanes, several accumulators), so results agree to float64 rounding;
// - max/min: NaN if the row has one, otherwise the FIRST element attaining the extreme (so the sign
//   of a zero result is the first zero's, as in the reference's `v > m` scan);
// - argmax/argmin: the first NaN's index if there is one, otherwise the first extreme index.
// Rows shorter than SMALL run the reference's scalar loops exactly (float32: four rows at a time,
// one per SIMD lane, in the same order). Rows longer than CHUNK are
// reduced in CHUNK-element pieces (`reduce_chunks_*`, any thread), whose partial results
// `reduce_combine` folds in order: a row's result depends only on its data and size, never on
// the thread count.
import { partStart } from './common';

const SUM = 0;
const MAX = 1;
const MIN = 2;
const PROD = 3;
const ARGMAX = 4;
const ARGMIN = 5;

/** Rows shorter than this use the scalar reference loops. */
const SMALL = 16;
/** Elements per piece of a long row (a multiple of 16). */
const CHUNK = 16384;

/** CHUNK, for the host. */
export function reduce_chunk(): i32 {
  return CHUNK;
}

/** Index result of the last arg* row (per thread: each worker has its own instance). */
let gIdx: i32 = 0;

// ---- sums and products (float64 accumulation) ----------------------------------------------

// @ts-ignore: decorator
@inline function sumF32(p: usize, n: i32, prod: bool): f64 {
  const z = f64x2.splat(prod ? 1.0 : 0.0);
  let a0 = z, a1 = z, a2 = z, a3 = z;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const q = p + (<usize>i << 2);
    const x0 = f64x2.promote_low_f32x4(v128.load64_zero(q));
    const x1 = f64x2.promote_low_f32x4(v128.load64_zero(q, 8));
    const x2 = f64x2.promote_low_f32x4(v128.load64_zero(q, 16));
    const x3 = f64x2.promote_low_f32x4(v128.load64_zero(q, 24));
    if (prod) {
      a0 = f64x2.mul(a0, x0);
      a1 = f64x2.mul(a1, x1);
      a2 = f64x2.mul(a2, x2);
      a3 = f64x2.mul(a3, x3);
    } else {
      a0 = f64x2.add(a0, x0);
      a1 = f64x2.add(a1, x1);
      a2 = f64x2.add(a2, x2);
      a3 = f64x2.add(a3, x3);
    }
  }
  let r: f64;
  if (prod) {
    const s = f64x2.mul(f64x2.mul(a0, a1), f64x2.mul(a2, a3));
    r = f64x2.extract_lane(s, 0) * f64x2.extract_lane(s, 1);
    for (; i < n; i++) r *= <f64>load<f32>(p + (<usize>i << 2));
  } else {
    const s = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
    r = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
    for (; i < n; i++) r += <f64>load<f32>(p + (<usize>i << 2));
  }
  return r;
}

// @ts-ignore: decorator
@inline function sumF64(p: usize, n: i32, prod: bool): f64 {
  const z = f64x2.splat(prod ? 1.0 : 0.0);
  let a0 = z, a1 = z, a2 = z, a3 = z;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const q = p + (<usize>i << 3);
    if (prod) {
      a0 = f64x2.mul(a0, v128.load(q));
      a1 = f64x2.mul(a1, v128.load(q, 16));
      a2 = f64x2.mul(a2, v128.load(q, 32));
      a3 = f64x2.mul(a3, v128.load(q, 48));
    } else {
      a0 = f64x2.add(a0, v128.load(q));
      a1 = f64x2.add(a1, v128.load(q, 16));
      a2 = f64x2.add(a2, v128.load(q, 32));
      a3 = f64x2.add(a3, v128.load(q, 48));
    }
  }
  let r: f64;
  if (prod) {
    const s = f64x2.mul(f64x2.mul(a0, a1), f64x2.mul(a2, a3));
    r = f64x2.extract_lane(s, 0) * f64x2.extract_lane(s, 1);
    for (; i < n; i++) r *= load<f64>(p + (<usize>i << 3));
  } else {
    const s = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
    r = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
    for (; i < n; i++) r += load<f64>(p + (<usize>i << 3));
  }
  return r;
}

// ---- the reference's scalar loops (short rows, tails) ----------------------------------------

// @ts-ignore: decorator
@inline function ld<T>(p: usize, i: i32): f64 {
  return <f64>load<T>(p + (<usize>i << alignof<T>()));
}

// @ts-ignore: decorator
@inline function scalarRow<T>(op: i32, p: usize, n: i32): f64 {
  if (op == SUM) {
    let s: f64 = 0;
    for (let i = 0; i < n; i++) s += ld<T>(p, i);
    return s;
  }
  if (op == PROD) {
    let s: f64 = 1;
    for (let i = 0; i < n; i++) s *= ld<T>(p, i);
    return s;
  }
  if (op == MAX || op == MIN) {
    let m = ld<T>(p, 0);
    for (let i = 1; i < n; i++) {
      const v = ld<T>(p, i);
      m = (op == MAX ? v > m : v < m) || v != v ? v : m;
      if (m != m) break;
    }
    return m;
  }
  let m = ld<T>(p, 0);
  let best = 0;
  if (m == m) {
    for (let i = 1; i < n; i++) {
      const v = ld<T>(p, i);
      if (v != v) {
        best = i;
        m = v;
        break;
      }
      const better = op == ARGMAX ? v > m : v < m;
      m = better ? v : m;
      best = better ? i : best;
    }
  }
  gIdx = best;
  return m;
}

/** The first NaN of a row known to hold one; its index in gIdx. */
// @ts-ignore: decorator
@inline function firstNaN<T>(p: usize, n: i32): f64 {
  for (let i = 0; i < n; i++) {
    const v = ld<T>(p, i);
    if (v != v) {
      gIdx = i;
      return v;
    }
  }
  gIdx = 0;
  return NaN;
}

// ---- max / min: four vector accumulators, NaN flagged on the side -----------------------------

// @ts-ignore: decorator
@inline function extremeRow<T>(p: usize, n: i32, isMax: bool): f64 {
  const V = 64 / <i32>sizeof<T>(); // elements in four vectors
  if (n < V) return scalarRow<T>(isMax ? MAX : MIN, p, n);
  let m0 = v128.load(p);
  let m1 = v128.load(p, 16);
  let m2 = v128.load(p, 32);
  let m3 = v128.load(p, 48);
  let nan = v128.or(v128.or(v128.ne<T>(m0, m0), v128.ne<T>(m1, m1)), v128.or(v128.ne<T>(m2, m2), v128.ne<T>(m3, m3)));
  let i = V;
  while (i < n) {
    // the last block may overlap the one before: max and min are idempotent
    const q = p + (<usize>(i + V <= n ? i : n - V) << alignof<T>());
    const v0 = v128.load(q);
    const v1 = v128.load(q, 16);
    const v2 = v128.load(q, 32);
    const v3 = v128.load(q, 48);
    nan = v128.or(nan, v128.or(v128.or(v128.ne<T>(v0, v0), v128.ne<T>(v1, v1)), v128.or(v128.ne<T>(v2, v2), v128.ne<T>(v3, v3))));
    if (isMax) {
      m0 = v128.pmax<T>(m0, v0);
      m1 = v128.pmax<T>(m1, v1);
      m2 = v128.pmax<T>(m2, v2);
      m3 = v128.pmax<T>(m3, v3);
    } else {
      m0 = v128.pmin<T>(m0, v0);
      m1 = v128.pmin<T>(m1, v1);
      m2 = v128.pmin<T>(m2, v2);
      m3 = v128.pmin<T>(m3, v3);
    }
    i += V;
  }
  if (v128.any_true(nan)) return firstNaN<T>(p, n);
  let m: v128;
  if (isMax) m = v128.pmax<T>(v128.pmax<T>(m0, m1), v128.pmax<T>(m2, m3));
  else m = v128.pmin<T>(v128.pmin<T>(m0, m1), v128.pmin<T>(m2, m3));
  let r: f64;
  if (sizeof<T>() == 4) {
    const a = <f64>f32x4.extract_lane(m, 0);
    const b = <f64>f32x4.extract_lane(m, 1);
    const c = <f64>f32x4.extract_lane(m, 2);
    const d = <f64>f32x4.extract_lane(m, 3);
    const ab = isMax ? (b > a ? b : a) : (b < a ? b : a);
    const cd = isMax ? (d > c ? d : c) : (d < c ? d : c);
    r = isMax ? (cd > ab ? cd : ab) : (cd < ab ? cd : ab);
  } else {
    const a = f64x2.extract_lane(m, 0);
    const b = f64x2.extract_lane(m, 1);
    r = isMax ? (b > a ? b : a) : (b < a ? b : a);
  }
  if (r == 0) {
    // the reference keeps the first element equal to the extreme: find the first zero's sign
    for (let k = 0; k < n; k++) {
      const v = ld<T>(p, k);
      if (v == 0) return v;
    }
  }
  return r;
}

// ---- argmax / argmin: two (value, index) vector accumulators ---------------------------------

// @ts-ignore: decorator
@inline function argRow<T>(p: usize, n: i32, isMax: bool): f64 {
  const W = 16 / <i32>sizeof<T>(); // lanes
  const S = 2 * W; // elements per step
  if (n < 2 * S) return scalarRow<T>(isMax ? ARGMAX : ARGMIN, p, n);
  let b0 = v128.load(p);
  let b1 = v128.load(p, 16);
  let nan = v128.or(v128.ne<T>(b0, b0), v128.ne<T>(b1, b1));
  let i0: v128, i1: v128, step: v128, idx: v128;
  if (sizeof<T>() == 4) {
    i0 = i32x4(0, 1, 2, 3);
    step = i32x4.splat(S);
    i1 = i32x4.add(i0, i32x4.splat(W));
  } else {
    i0 = i64x2(0, 1);
    step = i64x2.splat(S);
    i1 = i64x2.add(i0, i64x2.splat(W));
  }
  idx = i0;
  let i = S;
  for (; i + S <= n; i += S) {
    const q = p + (<usize>i << alignof<T>());
    const v0 = v128.load(q);
    const v1 = v128.load(q, 16);
    let j0: v128, j1: v128;
    if (sizeof<T>() == 4) {
      idx = i32x4.add(idx, step);
      j0 = idx;
      j1 = i32x4.add(idx, i32x4.splat(W));
    } else {
      idx = i64x2.add(idx, step);
      j0 = idx;
      j1 = i64x2.add(idx, i64x2.splat(W));
    }
    const g0 = isMax ? v128.gt<T>(v0, b0) : v128.lt<T>(v0, b0);
    const g1 = isMax ? v128.gt<T>(v1, b1) : v128.lt<T>(v1, b1);
    b0 = v128.bitselect(v0, b0, g0);
    i0 = v128.bitselect(j0, i0, g0);
    b1 = v128.bitselect(v1, b1, g1);
    i1 = v128.bitselect(j1, i1, g1);
    nan = v128.or(nan, v128.or(v128.ne<T>(v0, v0), v128.ne<T>(v1, v1)));
  }
  if (v128.any_true(nan)) return firstNaN<T>(p, n);
  // lane-wise: the better value, the lower index on ties
  let lower: v128;
  if (sizeof<T>() == 4) lower = i32x4.lt_s(i1, i0);
  else lower = i64x2.lt_s(i1, i0);
  const sel = v128.or(isMax ? v128.gt<T>(b1, b0) : v128.lt<T>(b1, b0), v128.and(v128.eq<T>(b1, b0), lower));
  const b = v128.bitselect(b1, b0, sel);
  const ix = v128.bitselect(i1, i0, sel);
  let best: f64;
  let bi: i32;
  if (sizeof<T>() == 4) {
    best = <f64>f32x4.extract_lane(b, 0);
    bi = i32x4.extract_lane(ix, 0);
    for (let k = 1; k < 4; k++) {
      let v: f64, j: i32;
      if (k == 1) { v = <f64>f32x4.extract_lane(b, 1); j = i32x4.extract_lane(ix, 1); }
      else if (k == 2) { v = <f64>f32x4.extract_lane(b, 2); j = i32x4.extract_lane(ix, 2); }
      else { v = <f64>f32x4.extract_lane(b, 3); j = i32x4.extract_lane(ix, 3); }
      if ((isMax ? v > best : v < best) || (v == best && j < bi)) {
        best = v;
        bi = j;
      }
    }
  } else {
    best = f64x2.extract_lane(b, 0);
    bi = <i32>i64x2.extract_lane(ix, 0);
    const v = f64x2.extract_lane(b, 1);
    const j = <i32>i64x2.extract_lane(ix, 1);
    if ((isMax ? v > best : v < best) || (v == best && j < bi)) {
      best = v;
      bi = j;
    }
  }
  for (; i < n; i++) {
    const v = ld<T>(p, i);
    if (v != v) {
      gIdx = i;
      return v;
    }
    if (isMax ? v > best : v < best) {
      best = v;
      bi = i;
    }
  }
  gIdx = bi;
  return best;
}

/** Reduces one row (or piece of a row) of `n` >= 1 elements; arg* leave the index in gIdx. */
// @ts-ignore: decorator
@inline function reduceRow<T>(op: i32, p: usize, n: i32): f64 {
  if (n < SMALL) return scalarRow<T>(op, p, n);
  if (op == SUM || op == PROD) return sizeof<T>() == 4 ? sumF32(p, n, op == PROD) : sumF64(p, n, op == PROD);
  if (op == MAX || op == MIN) return extremeRow<T>(p, n, op == MAX);
  return argRow<T>(p, n, op == ARGMAX);
}

// @ts-ignore: decorator
@inline function storeResult<T>(op: i32, out: usize, r: i32, v: f64): void {
  if (op >= ARGMAX) store<i32>(out + (<usize>r << 2), gIdx);
  else if (sizeof<T>() == 4) store<f32>(out + (<usize>r << 2), <f32>v);
  else store<f64>(out + (<usize>r << 3), v);
}

/**
 * Four short float32 rows at once, one per lane, in the reference's sequential order (so results
 * are the reference's exactly): rows r..r+3 of `size` < SMALL elements.
 */
// @ts-ignore: decorator
@inline function fourRowsF32(op: i32, a: usize, out: usize, r: i32, size: i32): void {
  const rb = <usize>size << 2;
  const p0 = a + <usize>r * rb;
  const p1 = p0 + rb;
  const p2 = p1 + rb;
  const p3 = p2 + rb;
  let v = v128.load32_splat(p0);
  v = v128.load32_lane(p1, v, 1);
  v = v128.load32_lane(p2, v, 2);
  v = v128.load32_lane(p3, v, 3);
  const o = out + (<usize>r << 2);
  if (op == SUM || op == PROD) {
    const one = f64x2.splat(op == SUM ? 0.0 : 1.0);
    let lo = one, hi = one;
    for (let i = 0; i < size; i++) {
      if (i > 0) {
        const q = <usize>i << 2;
        v = v128.load32_splat(p0 + q);
        v = v128.load32_lane(p1 + q, v, 1);
        v = v128.load32_lane(p2 + q, v, 2);
        v = v128.load32_lane(p3 + q, v, 3);
      }
      const vl = f64x2.promote_low_f32x4(v);
      const vh = f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 2, 3));
      if (op == SUM) {
        lo = f64x2.add(lo, vl);
        hi = f64x2.add(hi, vh);
      } else {
        lo = f64x2.mul(lo, vl);
        hi = f64x2.mul(hi, vh);
      }
    }
    v128.store(o, i64x2.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 2));
    return;
  }
  let m = v;
  if (op == MAX || op == MIN) {
    for (let i = 1; i < size; i++) {
      const q = <usize>i << 2;
      v = v128.load32_splat(p0 + q);
      v = v128.load32_lane(p1 + q, v, 1);
      v = v128.load32_lane(p2 + q, v, 2);
      v = v128.load32_lane(p3 + q, v, 3);
      // the reference's `if (v > m || v !== v) m = v`: NaN sticks, the first extreme stays
      const take = v128.or(op == MAX ? f32x4.gt(v, m) : f32x4.lt(v, m), f32x4.ne(v, v));
      m = v128.bitselect(v, m, take);
    }
    v128.store(o, m);
    return;
  }
  let done = f32x4.ne(m, m);
  let best = i32x4.splat(0);
  for (let i = 1; i < size; i++) {
    const q = <usize>i << 2;
    v = v128.load32_splat(p0 + q);
    v = v128.load32_lane(p1 + q, v, 1);
    v = v128.load32_lane(p2 + q, v, 2);
    v = v128.load32_lane(p3 + q, v, 3);
    // a NaN is taken and then freezes its lane (the reference's break)
    const take = v128.andnot(v128.or(op == ARGMAX ? f32x4.gt(v, m) : f32x4.lt(v, m), f32x4.ne(v, v)), done);
    m = v128.bitselect(v, m, take);
    best = v128.bitselect(i32x4.splat(i), best, take);
    done = v128.or(done, f32x4.ne(m, m));
  }
  v128.store(o, best);
}

// @ts-ignore: decorator
@inline function reduceRows<T>(op: i32, a: usize, out: usize, outer: i32, size: i32, task: i32, ntasks: i32): void {
  const align = size < SMALL ? 4 : 1; // whole groups of four short rows per task
  const r0 = partStart(outer, task, ntasks, align);
  const r1 = partStart(outer, task + 1, ntasks, align);
  const rowBytes = <usize>size << alignof<T>();
  let r = r0;
  if (sizeof<T>() == 4 && size < SMALL) {
    for (; r + 4 <= r1; r += 4) fourRowsF32(op, a, out, r, size);
  }
  for (; r < r1; r++) {
    const v = reduceRow<T>(op, a + <usize>r * rowBytes, size);
    storeResult<T>(op, out, r, v);
  }
}

/** Reduces rows of size <= CHUNK of float32 into `out` (float32, or int32 for arg*); rows split over tasks. */
export function reduce_f32(op: i32, a: usize, out: usize, outer: i32, size: i32, task: i32, ntasks: i32): void {
  reduceRows<f32>(op, a, out, outer, size, task, ntasks);
}

/** reduce_f32 for float64 (float64 out, or int32 for arg*). */
export function reduce_f64(op: i32, a: usize, out: usize, outer: i32, size: i32, task: i32, ntasks: i32): void {
  reduceRows<f64>(op, a, out, outer, size, task, ntasks);
}

// @ts-ignore: decorator
@inline function reducePieces<T>(op: i32, a: usize, part: usize, outer: i32, size: i32, task: i32, ntasks: i32): void {
  const pieces = (size + CHUNK - 1) / CHUNK;
  const units = outer * pieces;
  const u0 = partStart(units, task, ntasks, 1);
  const u1 = partStart(units, task + 1, ntasks, 1);
  for (let u = u0; u < u1; u++) {
    const r = u / pieces;
    const start = (u - r * pieces) * CHUNK;
    const n = min(CHUNK, size - start);
    const v = reduceRow<T>(op, a + ((<usize>r * <usize>size + <usize>start) << alignof<T>()), n);
    const q = part + (<usize>u << 4);
    store<f64>(q, v);
    store<i32>(q, gIdx + start, 8);
  }
}

/**
 * Partial results of rows longer than CHUNK: piece u = (row, k) of every row's ceil(size / CHUNK)
 * pieces writes (value f64, index i32) at part + 16 u. Pieces split over tasks.
 */
export function reduce_chunks_f32(op: i32, a: usize, part: usize, outer: i32, size: i32, task: i32, ntasks: i32): void {
  reducePieces<f32>(op, a, part, outer, size, task, ntasks);
}

export function reduce_chunks_f64(op: i32, a: usize, part: usize, outer: i32, size: i32, task: i32, ntasks: i32): void {
  reducePieces<f64>(op, a, part, outer, size, task, ntasks);
}

/** Folds each row's `pieces` partial results in order into `out` (f32 when outF32, else f64; int32 for arg*). */
export function reduce_combine(op: i32, part: usize, out: usize, outer: i32, pieces: i32, outF32: i32, task: i32, ntasks: i32): void {
  const r0 = partStart(outer, task, ntasks, 1);
  const r1 = partStart(outer, task + 1, ntasks, 1);
  for (let r = r0; r < r1; r++) {
    const base = part + ((<usize>r * <usize>pieces) << 4);
    let m = load<f64>(base);
    let bi = load<i32>(base, 8);
    if (op == SUM || op == PROD) {
      let s: f64 = op == SUM ? 0 : 1;
      for (let k = 0; k < pieces; k++) {
        const v = load<f64>(base + (<usize>k << 4));
        s = op == SUM ? s + v : s * v;
      }
      m = s;
    } else if (op == MAX || op == MIN) {
      for (let k = 1; k < pieces && m == m; k++) {
        const v = load<f64>(base + (<usize>k << 4));
        if ((op == MAX ? v > m : v < m) || v != v) m = v;
      }
    } else if (m == m) {
      for (let k = 1; k < pieces; k++) {
        const q = base + (<usize>k << 4);
        const v = load<f64>(q);
        if (v != v) {
          bi = load<i32>(q, 8);
          break;
        }
        if (op == ARGMAX ? v > m : v < m) {
          m = v;
          bi = load<i32>(q, 8);
        }
      }
    }
    if (op >= ARGMAX) store<i32>(out + (<usize>r << 2), bi);
    else if (outF32) store<f32>(out + (<usize>r << 2), <f32>m);
    else store<f64>(out + (<usize>r << 3), m);
  }
}

// ---- reductions over the middle axis of (outer, size, inner) -------------------------------
// out[q, i] = op over r of a[q, r, i] (sum max min prod; argmax argmin below), the reference's per-element rules in
// its order r = 0, 1, ... (sums and products accumulate in float64 from 0 or 1; max/min start
// from the first element), so results equal the reference's bit for bit (NaN payloads aside).
// SIMD runs across the columns i; tasks split (q, block of 8 columns) units.

// @ts-ignore: decorator
@inline function axisAccF64(op: i32, acc: v128, x: v128): v128 {
  if (op == SUM) return f64x2.add(acc, x);
  if (op == PROD) return f64x2.mul(acc, x);
  if (op == MAX) return v128.bitselect(x, acc, v128.or(f64x2.gt(x, acc), f64x2.ne(x, x)));
  return v128.bitselect(x, acc, v128.or(f64x2.lt(x, acc), f64x2.ne(x, x)));
}

// @ts-ignore: decorator
@inline function axisAccScalar(op: i32, acc: f64, x: f64): f64 {
  if (op == SUM) return acc + x;
  if (op == PROD) return acc * x;
  if (acc != acc) return acc;
  if (op == MAX) return x > acc || x != x ? x : acc;
  return x < acc || x != x ? x : acc;
}

/** Loads two elements of T at p as f64x2. */
// @ts-ignore: decorator
@inline function load2<T>(p: usize): v128 {
  if (sizeof<T>() == 4) return f64x2.promote_low_f32x4(v128.load64_zero(p));
  return v128.load(p);
}

/** Stores an f64x2 as two elements of T at p. */
// @ts-ignore: decorator
@inline function store2<T>(p: usize, v: v128): void {
  if (sizeof<T>() == 4) v128.store64_lane(p, f32x4.demote_f64x2_zero(v), 0);
  else v128.store(p, v);
}

// @ts-ignore: decorator
@inline function reduceAxisT<T>(op: i32, a: usize, out: usize, outer: i32, size: i32, inner: i32, task: i32, ntasks: i32): void {
  const nb = (inner + 7) >> 3;
  const units = outer * nb;
  const u0 = partStart(units, task, ntasks, 1);
  const u1 = partStart(units, task + 1, ntasks, 1);
  const es = <usize>sizeof<T>();
  const rowBytes = <usize>inner * es;
  // max/min start from the first row; sums and products from their identities
  const first = op == MAX || op == MIN ? 1 : 0;
  const id: f64 = op == PROD ? 1 : 0;
  for (let u = u0; u < u1; u++) {
    const q = u / nb;
    const j0 = (u - q * nb) << 3;
    const j1 = min(j0 + 8, inner);
    const base = a + (<usize>q * <usize>size * <usize>inner + <usize>j0) * es;
    const ob = out + (<usize>q * <usize>inner + <usize>j0) * es;
    if (j1 - j0 == 8) {
      let a0 = f64x2.splat(id), a1 = a0, a2 = a0, a3 = a0;
      if (first) {
        a0 = load2<T>(base);
        a1 = load2<T>(base + 2 * es);
        a2 = load2<T>(base + 4 * es);
        a3 = load2<T>(base + 6 * es);
      }
      let p = base + <usize>first * rowBytes;
      for (let r = first; r < size; r++, p += rowBytes) {
        a0 = axisAccF64(op, a0, load2<T>(p));
        a1 = axisAccF64(op, a1, load2<T>(p + 2 * es));
        a2 = axisAccF64(op, a2, load2<T>(p + 4 * es));
        a3 = axisAccF64(op, a3, load2<T>(p + 6 * es));
      }
      store2<T>(ob, a0);
      store2<T>(ob + 2 * es, a1);
      store2<T>(ob + 4 * es, a2);
      store2<T>(ob + 6 * es, a3);
      continue;
    }
    for (let j = j0; j < j1; j++) {
      const col = base + <usize>(j - j0) * es;
      let acc: f64 = first ? <f64>load<T>(col) : id;
      let p = col + <usize>first * rowBytes;
      for (let r = first; r < size; r++, p += rowBytes) acc = axisAccScalar(op, acc, <f64>load<T>(p));
      store<T>(ob + <usize>(j - j0) * es, <T>acc);
    }
  }
}

// argmax / argmin over the middle axis, the reference's per-column rule in the order r = 0, 1, ...:
// start from row 0; a column whose value is NaN keeps it (the first NaN wins); otherwise row r
// replaces it when its value is NaN or strictly greater (argmax) / less (argmin), so ties and
// -0 / +0 keep the lower index. Indices are written as int32 into a compact (outer, inner) output.

/** One step of the rule on a vector of columns: the lanes of `acc` (and `idx`) row r replaces. */
// @ts-ignore: decorator
@inline function argTake<T>(isMax: bool, acc: v128, v: v128): v128 {
  const better = isMax ? v128.gt<T>(v, acc) : v128.lt<T>(v, acc);
  return v128.and(v128.eq<T>(acc, acc), v128.or(better, v128.ne<T>(v, v)));
}

// @ts-ignore: decorator
@inline function argAxisT<T>(isMax: bool, a: usize, out: usize, outer: i32, size: i32, inner: i32, task: i32, ntasks: i32): void {
  const nb = (inner + 7) >> 3;
  const units = outer * nb;
  const u0 = partStart(units, task, ntasks, 1);
  const u1 = partStart(units, task + 1, ntasks, 1);
  const es = <usize>sizeof<T>();
  const rowBytes = <usize>inner * es;
  for (let u = u0; u < u1; u++) {
    const q = u / nb;
    const j0 = (u - q * nb) << 3;
    const j1 = min(j0 + 8, inner);
    const base = a + (<usize>q * <usize>size * <usize>inner + <usize>j0) * es;
    const ob = out + ((<usize>q * <usize>inner + <usize>j0) << 2);
    if (j1 - j0 == 8) {
      if (sizeof<T>() == 4) {
        // 8 columns: two f32x4 value vectors, two i32x4 index vectors
        let a0 = v128.load(base), a1 = v128.load(base, 16);
        let i0 = i32x4.splat(0), i1 = i0;
        let p = base + rowBytes;
        for (let r = 1; r < size; r++, p += rowBytes) {
          const rs = i32x4.splat(r);
          const v0 = v128.load(p), v1 = v128.load(p, 16);
          const t0 = argTake<T>(isMax, a0, v0);
          const t1 = argTake<T>(isMax, a1, v1);
          a0 = v128.bitselect(v0, a0, t0);
          a1 = v128.bitselect(v1, a1, t1);
          i0 = v128.bitselect(rs, i0, t0);
          i1 = v128.bitselect(rs, i1, t1);
        }
        v128.store(ob, i0);
        v128.store(ob, i1, 16);
      } else {
        // 8 columns: four f64x2 value vectors, four i64x2 index vectors (the masks are 64-bit)
        let a0 = v128.load(base), a1 = v128.load(base, 16), a2 = v128.load(base, 32), a3 = v128.load(base, 48);
        let i0 = i64x2.splat(0), i1 = i0, i2 = i0, i3 = i0;
        let p = base + rowBytes;
        for (let r = 1; r < size; r++, p += rowBytes) {
          const rs = i64x2.splat(<i64>r);
          const v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32), v3 = v128.load(p, 48);
          const t0 = argTake<T>(isMax, a0, v0);
          const t1 = argTake<T>(isMax, a1, v1);
          const t2 = argTake<T>(isMax, a2, v2);
          const t3 = argTake<T>(isMax, a3, v3);
          a0 = v128.bitselect(v0, a0, t0);
          a1 = v128.bitselect(v1, a1, t1);
          a2 = v128.bitselect(v2, a2, t2);
          a3 = v128.bitselect(v3, a3, t3);
          i0 = v128.bitselect(rs, i0, t0);
          i1 = v128.bitselect(rs, i1, t1);
          i2 = v128.bitselect(rs, i2, t2);
          i3 = v128.bitselect(rs, i3, t3);
        }
        // the low 32 bits of each 64-bit index
        v128.store(ob, i8x16.shuffle(i0, i1, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27));
        v128.store(ob, i8x16.shuffle(i2, i3, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27), 16);
      }
      continue;
    }
    for (let j = j0; j < j1; j++) {
      const col = base + <usize>(j - j0) * es;
      let m: T = load<T>(col);
      let bi = 0;
      let p = col + rowBytes;
      for (let r = 1; r < size; r++, p += rowBytes) {
        if (m != m) break; // the first NaN wins
        const v = load<T>(p);
        if (v != v || (isMax ? v > m : v < m)) {
          m = v;
          bi = r;
        }
      }
      store<i32>(ob + (<usize>(j - j0) << 2), bi);
    }
  }
}

/**
 * reduce over the middle axis of a compact (outer, size, inner) float32 array: sum max min prod
 * into float32, argmax argmin into int32.
 */
export function reduce_axis_f32(op: i32, a: usize, out: usize, outer: i32, size: i32, inner: i32, task: i32, ntasks: i32): void {
  if (op == ARGMAX) argAxisT<f32>(true, a, out, outer, size, inner, task, ntasks);
  else if (op == ARGMIN) argAxisT<f32>(false, a, out, outer, size, inner, task, ntasks);
  else if (op == SUM) reduceAxisT<f32>(SUM, a, out, outer, size, inner, task, ntasks);
  else if (op == MAX) reduceAxisT<f32>(MAX, a, out, outer, size, inner, task, ntasks);
  else if (op == MIN) reduceAxisT<f32>(MIN, a, out, outer, size, inner, task, ntasks);
  else reduceAxisT<f32>(PROD, a, out, outer, size, inner, task, ntasks);
}

/** reduce_axis_f32 for float64 (float64 out, int32 for argmax argmin). */
export function reduce_axis_f64(op: i32, a: usize, out: usize, outer: i32, size: i32, inner: i32, task: i32, ntasks: i32): void {
  if (op == ARGMAX) argAxisT<f64>(true, a, out, outer, size, inner, task, ntasks);
  else if (op == ARGMIN) argAxisT<f64>(false, a, out, outer, size, inner, task, ntasks);
  else if (op == SUM) reduceAxisT<f64>(SUM, a, out, outer, size, inner, task, ntasks);
  else if (op == MAX) reduceAxisT<f64>(MAX, a, out, outer, size, inner, task, ntasks);
  else if (op == MIN) reduceAxisT<f64>(MIN, a, out, outer, size, inner, task, ntasks);
  else reduceAxisT<f64>(PROD, a, out, outer, size, inner, task, ntasks);
}
