// Strided copies: the one gather (compact), the one scatter (setitem, setitemScalar), and the
// index gather/scatter-add along one axis (gather, scatterAdd).
//
// Strided copies are element-size generic: they move bits (u8 / u32 / u64 lanes), never values,
// so one kernel serves bool, float32/int32 and float64 (NaN payloads are preserved).
//
// Layout block `meta` (written by src/ndarray/wasm/copy.ts, i32 each):
//   meta[0..8)   shape (dims already collapsed and reordered by the host; `rank` of them used)
//   meta[8..16)  source strides in BYTES (0: broadcast; negative: flip)
//   meta[16..24) destination strides in BYTES
// Byte pointers are usize (u32): adding a negative stride wraps, as two's complement wants.
import { copyBytes, partStart } from './common';

const SHAPE: usize = 0;
const SSTR: usize = 32;
const DSTR: usize = 64;

// @ts-ignore: decorator
@inline function dimAt(meta: usize, base: usize, d: i32): i32 {
  return load<i32>(meta + base + (<usize>d << 2));
}

/** One row of `len` elements of type T: source stride `ss`, destination stride `ds` (bytes). */
// @ts-ignore: decorator
@inline function copyRow<T>(s: usize, d: usize, len: i32, ss: i32, ds: i32): void {
  const es = <i32>sizeof<T>();
  if (ds == es) {
    if (ss == es) {
      copyBytes(d, s, len * es);
      return;
    }
    if (ss == 0) {
      // broadcast: splat one element over the row
      let v: v128;
      if (es == 1) v = i8x16.splat(<i8>load<u8>(s));
      else if (es == 4) v = i32x4.splat(load<i32>(s));
      else v = i64x2.splat(load<i64>(s));
      const bytes = len * es;
      let b = 0;
      for (; b + 16 <= bytes; b += 16) v128.store(d + <usize>b, v);
      const x = load<T>(s);
      for (; b < bytes; b += es) store<T>(d + <usize>b, x);
      return;
    }
    if (es == 4 && ss == 8) {
      // every other element (stride-2 slices and convolutions); the blocks read 4 bytes past
      // their last element, so they stop while a further element exists
      let i = 0;
      for (; i + 8 < len; i += 8) {
        const a = v128.load(s);
        const b = v128.load(s, 16);
        const c = v128.load(s, 32);
        const e = v128.load(s, 48);
        v128.store(d, i32x4.shuffle(a, b, 0, 2, 4, 6));
        v128.store(d, i32x4.shuffle(c, e, 0, 2, 4, 6), 16);
        s += 64;
        d += 32;
      }
      for (; i < len; i++) {
        store<u32>(d, load<u32>(s));
        s += 8;
        d += 4;
      }
      return;
    }
  }
  const ss4 = <usize>(ss << 2);
  const ds4 = <usize>(ds << 2);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const v0 = load<T>(s);
    const v1 = load<T>(s + <usize>ss);
    const v2 = load<T>(s + <usize>(ss << 1));
    const v3 = load<T>(s + <usize>(ss * 3));
    store<T>(d, v0);
    store<T>(d + <usize>ds, v1);
    store<T>(d + <usize>(ds << 1), v2);
    store<T>(d + <usize>(ds * 3), v3);
    s += ss4;
    d += ds4;
  }
  for (; i < len; i++) {
    store<T>(d, load<T>(s));
    s += <usize>ss;
    d += <usize>ds;
  }
}

/** Destination offset of the last `outerOffsets` (globals are per instance, so per thread). */
let gDst: usize = 0;

/** Byte offsets of outer index `o` over dims [0, nd): the source's returned, the destination's in gDst. */
// @ts-ignore: decorator
@inline function outerOffsets(meta: usize, nd: i32, o: i32): usize {
  let so: usize = 0;
  let dO: usize = 0;
  for (let d = nd - 1; d >= 0; d--) {
    const n = dimAt(meta, SHAPE, d);
    const q = o / n;
    const k = o - q * n;
    o = q;
    so += <usize>(k * dimAt(meta, SSTR, d));
    dO += <usize>(k * dimAt(meta, DSTR, d));
  }
  gDst = dO;
  return so;
}

/** Rows (all dims but the last) of the strided copy, this task's share. */
// @ts-ignore: decorator
@inline function copyRows<T>(meta: usize, rank: i32, src: usize, dst: usize, task: i32, ntasks: i32): void {
  const len = dimAt(meta, SHAPE, rank - 1);
  const ss = dimAt(meta, SSTR, rank - 1);
  const ds = dimAt(meta, DSTR, rank - 1);
  if (rank == 1) {
    // one row: split its elements
    const a = partStart(len, task, ntasks, 16);
    const e = partStart(len, task + 1, ntasks, 16);
    if (e > a) copyRow<T>(src + <usize>(a * ss), dst + <usize>(a * ds), e - a, ss, ds);
    return;
  }
  // rows = prod(shape[0..rank-1)); the second-to-last dim steps in locals, the rest by division
  const n1 = dimAt(meta, SHAPE, rank - 2);
  const s1 = dimAt(meta, SSTR, rank - 2);
  const d1 = dimAt(meta, DSTR, rank - 2);
  let rows = n1;
  for (let d = 0; d < rank - 2; d++) rows *= dimAt(meta, SHAPE, d);
  const r0 = partStart(rows, task, ntasks, 1);
  const r1 = partStart(rows, task + 1, ntasks, 1);
  let r = r0;
  while (r < r1) {
    const o = r / n1;
    let k = r - o * n1;
    const so = outerOffsets(meta, rank - 2, o);
    let s = src + so + <usize>(k * s1);
    let d = dst + gDst + <usize>(k * d1);
    for (; k < n1 && r < r1; k++, r++) {
      copyRow<T>(s, d, len, ss, ds);
      s += <usize>s1;
      d += <usize>d1;
    }
  }
}

/**
 * Strided copy of elements of `es` bytes (1, 4 or 8): dst[idx] = src[idx] over the `rank`-d index
 * space of `meta`; rows (the last dim) are split over tasks.
 */
export function copy_strided(meta: usize, rank: i32, src: usize, dst: usize, es: i32, task: i32, ntasks: i32): void {
  if (es == 4) copyRows<u32>(meta, rank, src, dst, task, ntasks);
  else if (es == 8) copyRows<u64>(meta, rank, src, dst, task, ntasks);
  else copyRows<u8>(meta, rank, src, dst, task, ntasks);
}

/** 4x4 transpose of 4-byte elements: rows at s + k * ss (k < 4) to rows at d + k * ds. */
// @ts-ignore: decorator
@inline function tile4x4(s: usize, ss: usize, d: usize, ds: usize): void {
  const a0 = v128.load(s);
  const a1 = v128.load(s + ss);
  const a2 = v128.load(s + (ss << 1));
  const a3 = v128.load(s + ss * 3);
  const t0 = i32x4.shuffle(a0, a1, 0, 4, 1, 5);
  const t1 = i32x4.shuffle(a0, a1, 2, 6, 3, 7);
  const t2 = i32x4.shuffle(a2, a3, 0, 4, 1, 5);
  const t3 = i32x4.shuffle(a2, a3, 2, 6, 3, 7);
  v128.store(d, i64x2.shuffle(t0, t2, 0, 2));
  v128.store(d + ds, i64x2.shuffle(t0, t2, 1, 3));
  v128.store(d + (ds << 1), i64x2.shuffle(t1, t3, 0, 2));
  v128.store(d + ds * 3, i64x2.shuffle(t1, t3, 1, 3));
}

/** 2x2 transpose of 8-byte elements. */
// @ts-ignore: decorator
@inline function tile2x2(s: usize, ss: usize, d: usize, ds: usize): void {
  const a0 = v128.load(s);
  const a1 = v128.load(s + ss);
  v128.store(d, i64x2.shuffle(a0, a1, 0, 2));
  v128.store(d + ds, i64x2.shuffle(a0, a1, 1, 3));
}

/** Per-task staging blocks of the transposes (one square tile of 64-byte lines each: 4 KiB). */
const STAGE: usize = memory.data(64 * 4096, 64);

/**
 * Transposes the last two dims: p (source-contiguous) and q (destination-contiguous). Square
 * tiles of B = 64 / es elements (a cache line each way) go through a staging block: B source lines
 * are read whole, transposed into the stage by SIMD 4x4 / 2x2 blocks, and written out as B whole
 * destination lines. Whole lines keep power-of-two strides (a 1024-wide matrix) from evicting
 * half-used lines that share a cache set. 1-byte elements are staged element by element, and
 * partial tiles at the edges go by 4x4 / 2x2 blocks or element by element.
 */
// @ts-ignore: decorator
@inline function transposeTiles<T>(meta: usize, rank: i32, src: usize, dst: usize, task: i32, ntasks: i32): void {
  const es = <i32>sizeof<T>();
  const L = es == 4 ? 4 : 2; // SIMD block edge
  const B = 64 / es; // tile edge: one cache line
  const stage = STAGE + (<usize>(task & 63) << 12);
  const P = dimAt(meta, SHAPE, rank - 2);
  const Q = dimAt(meta, SHAPE, rank - 1);
  const sq = dimAt(meta, SSTR, rank - 1); // source stride along q (p is contiguous in the source)
  const dp = dimAt(meta, DSTR, rank - 2); // destination stride along p (q is contiguous there)
  const pblocks = (P + B - 1) / B;
  let outer = 1;
  for (let d = 0; d < rank - 2; d++) outer *= dimAt(meta, SHAPE, d);
  const units = outer * pblocks;
  const u0 = partStart(units, task, ntasks, 1);
  const u1 = partStart(units, task + 1, ntasks, 1);
  for (let u = u0; u < u1; u++) {
    const o = u / pblocks;
    const p0 = (u - o * pblocks) * B;
    const pb = min(B, P - p0);
    const so = outerOffsets(meta, rank - 2, o);
    const s = src + so + <usize>(p0 * es);
    const d = dst + gDst + <usize>(p0 * dp);
    let q = 0;
    if (pb == B) {
      for (; q + B <= Q; q += B) {
        const sq0 = s + <usize>(q * sq);
        if (es == 1) {
          for (let qq = 0; qq < B; qq++) {
            const line = sq0 + <usize>(qq * sq);
            for (let pp = 0; pp < B; pp += 4) {
              const w = load<u32>(line + <usize>pp);
              const t = stage + <usize>((pp << 6) + qq);
              store<u8>(t, <u8>w);
              store<u8>(t, <u8>(w >> 8), 64);
              store<u8>(t, <u8>(w >> 16), 128);
              store<u8>(t, <u8>(w >> 24), 192);
            }
          }
        } else for (let qq = 0; qq < B; qq += L) {
          const sqq = sq0 + <usize>(qq * sq);
          for (let pp = 0; pp < B; pp += L) {
            if (es == 4) tile4x4(sqq + <usize>(pp * es), <usize>sq, stage + <usize>(pp * 64 + qq * es), 64);
            else tile2x2(sqq + <usize>(pp * es), <usize>sq, stage + <usize>(pp * 64 + qq * es), 64);
          }
        }
        const dq = d + <usize>(q * es);
        for (let pp = 0; pp < B; pp++) {
          const t = stage + <usize>(pp << 6);
          const w = dq + <usize>(pp * dp);
          const v0 = v128.load(t);
          const v1 = v128.load(t, 16);
          const v2 = v128.load(t, 32);
          const v3 = v128.load(t, 48);
          v128.store(w, v0);
          v128.store(w, v1, 16);
          v128.store(w, v2, 32);
          v128.store(w, v3, 48);
        }
      }
    }
    if (es > 1) {
      for (; q + L <= Q; q += L) {
        const sqq = s + <usize>(q * sq);
        const dqq = d + <usize>(q * es);
        let pp = 0;
        for (; pp + L <= pb; pp += L) {
          if (es == 4) tile4x4(sqq + <usize>(pp * es), <usize>sq, dqq + <usize>(pp * dp), <usize>dp);
          else tile2x2(sqq + <usize>(pp * es), <usize>sq, dqq + <usize>(pp * dp), <usize>dp);
        }
        for (; pp < pb; pp++) {
          for (let k = 0; k < L; k++) {
            store<T>(dqq + <usize>(pp * dp + k * es), load<T>(sqq + <usize>(pp * es + k * sq)));
          }
        }
      }
    }
    for (; q < Q; q++) {
      const sqq = s + <usize>(q * sq);
      const dqq = d + <usize>(q * es);
      for (let pp = 0; pp < pb; pp++) store<T>(dqq + <usize>(pp * dp), load<T>(sqq + <usize>(pp * es)));
    }
  }
}

/**
 * Strided copy whose last two dims transpose: the source is contiguous along dim rank-2 and the
 * destination along dim rank-1 (transposes, channel-first <-> channel-last permutes). Elements of
 * `es` = 1, 4 or 8 bytes; tiles are split over tasks (at most 64).
 */
export function copy_transpose(meta: usize, rank: i32, src: usize, dst: usize, es: i32, task: i32, ntasks: i32): void {
  if (es == 4) transposeTiles<u32>(meta, rank, src, dst, task, ntasks);
  else if (es == 8) transposeTiles<u64>(meta, rank, src, dst, task, ntasks);
  else transposeTiles<u8>(meta, rank, src, dst, task, ntasks);
}

// ---- gather / scatterAdd along one axis: arrays viewed as (outer, dim, inner) -------------------

/** out[o, j, i] = src[o, index[o, j, i], i] for elements of T; (o, j) rows split over tasks. */
// @ts-ignore: decorator
@inline function gatherT<T>(src: usize, index: usize, out: usize, outer: i32, inner: i32, dim: i32, idxDim: i32, task: i32, ntasks: i32): void {
  const es = <usize>sizeof<T>();
  const rows = outer * idxDim;
  const r0 = partStart(rows, task, ntasks, 1);
  const r1 = partStart(rows, task + 1, ntasks, 1);
  const rowBytes = <usize>inner * es; // one step of the indexed axis in the source
  for (let r = r0; r < r1; r++) {
    const o = r / idxDim;
    const base = src + <usize>o * <usize>dim * rowBytes;
    const w = <usize>r * <usize>inner;
    const ip = index + (w << 2);
    const op = out + w * es;
    if (inner == 1) {
      store<T>(op, load<T>(base + <usize>load<i32>(ip) * es));
      continue;
    }
    for (let i = 0; i < inner; i++) {
      const k = <usize>load<i32>(ip + (<usize>i << 2));
      store<T>(op + <usize>i * es, load<T>(base + k * rowBytes + <usize>i * es));
    }
  }
}

/** gather for 1-, 4- and 8-byte elements (`es`); index values must lie in [0, dim). */
export function gather_axis(src: usize, index: usize, out: usize, outer: i32, inner: i32, dim: i32, idxDim: i32, es: i32, task: i32, ntasks: i32): void {
  if (es == 4) gatherT<u32>(src, index, out, outer, inner, dim, idxDim, task, ntasks);
  else if (es == 8) gatherT<u64>(src, index, out, outer, inner, dim, idxDim, task, ntasks);
  else gatherT<u8>(src, index, out, outer, inner, dim, idxDim, task, ntasks);
}

/**
 * out[o, index[o, j, i], i] += src[o, j, i], every output element receiving its additions in
 * increasing j (the reference order), whatever the split: tasks take whole `o` slabs when
 * outer >= ntasks, else disjoint ranges of `i` (columns) of every slab.
 */
// @ts-ignore: decorator
@inline function scatterAddT<T>(out: usize, index: usize, src: usize, outer: i32, inner: i32, dim: i32, idxDim: i32, task: i32, ntasks: i32): void {
  const es = <usize>sizeof<T>();
  let o0 = 0, o1 = outer, i0 = 0, i1 = inner;
  if (outer >= ntasks) {
    o0 = partStart(outer, task, ntasks, 1);
    o1 = partStart(outer, task + 1, ntasks, 1);
  } else {
    i0 = partStart(inner, task, ntasks, 16);
    i1 = partStart(inner, task + 1, ntasks, 16);
  }
  const rowBytes = <usize>inner * es;
  for (let o = o0; o < o1; o++) {
    const base = out + <usize>o * <usize>dim * rowBytes;
    for (let j = 0; j < idxDim; j++) {
      const w = (<usize>o * <usize>idxDim + <usize>j) * <usize>inner;
      const ip = index + (w << 2);
      const sp = src + w * es;
      for (let i = i0; i < i1; i++) {
        const k = <usize>load<i32>(ip + (<usize>i << 2));
        const p = base + k * rowBytes + <usize>i * es;
        store<T>(p, load<T>(p) + load<T>(sp + <usize>i * es));
      }
    }
  }
}

export function scatter_add_f32(out: usize, index: usize, src: usize, outer: i32, inner: i32, dim: i32, idxDim: i32, task: i32, ntasks: i32): void {
  scatterAddT<f32>(out, index, src, outer, inner, dim, idxDim, task, ntasks);
}

export function scatter_add_f64(out: usize, index: usize, src: usize, outer: i32, inner: i32, dim: i32, idxDim: i32, task: i32, ntasks: i32): void {
  scatterAddT<f64>(out, index, src, outer, inner, dim, idxDim, task, ntasks);
}

export function scatter_add_i32(out: usize, index: usize, src: usize, outer: i32, inner: i32, dim: i32, idxDim: i32, task: i32, ntasks: i32): void {
  scatterAddT<i32>(out, index, src, outer, inner, dim, idxDim, task, ntasks);
}
