// gemm: batched C[b] = op(A[b]) @ op(B[b]) for f32 and f64 (BLIS loop order).
//
// Operands are addressed through element strides: A(i, p) = a[i*ars + p*acs], B(p, j) =
// b[p*brs + j*bcs], so transposes cost nothing here (packing absorbs them); C is compact m x n per
// batch and overwritten. Batches start sa / sb elements apart (0 broadcasts an operand).
//
// Loops: for each NC-wide column block of C, for each KC-deep slice of k, B's kc x nc block is
// packed into NR-wide panels (p-major: panel[p*NR + j]); then for each MC-tall row block A's
// mc x kc block is packed into MR-tall panels (panel[p*MR + i]) and the microkernel multiplies
// one A panel by one B panel into an MR x NR register tile, which it stores into C (first k slice)
// or adds to it (later slices). Packed panels are zero-padded to whole tiles; tiles that stick
// out of C go through a small tile buffer and only their inside is copied.
//
// Register tiles: f32 4 x 8 (8 f32x4 accumulators), f64 4 x 4 (8 f64x2 accumulators). V8 gives
// wasm 15 allocatable xmm registers on x64 and its scheduler issues all loads of a loop step
// before the multiply-adds, so the 4 broadcast A values and 2 B vectors are live at once next to
// the accumulators: 14 registers. A 6 x 8 tile (12 accumulators + 8) spills and ran at a third of
// the speed; 4 x 8 reaches ~60 GFLOP/s per thread from L1 on a Zen 5 core.
//
// Threads: the work is cut into (batch, chunk) units, each batch's C into ntasks / gcd(batch,
// ntasks) blocks (row ranges of multiples of MR by column ranges of multiples of NR: the split
// whose largest block costs least, packing included; see rowChunks), so that every task gets the
// same number of equal units: whole batches when ntasks divides the batch count, else parts of
// batches. Each task packs what its units need. A block's elements are summed in the same order
// whatever the split, so results do not depend on ntasks. Each task gets its own packing buffers:
// `scratch + task * scratchStride` (see gemm_scratch_bytes).
import { madd2, madd4, partStart } from './common';

const MR: i32 = 4;
/** Bytes of one B panel row (NR elements): 8 f32 or 4 f64. */
const NRB: i32 = 32;
// Block sizes (elements): KC deep slices, MC x KC blocks of A, KC x NC blocks of B. On a Zen 5
// core (48 KiB L1, 1 MiB L2) every KC in 128..512, MC in 48..192 and NC in 256..2048 measured
// within 3% of the others; these keep the per-task buffers at about 1.2 MiB.
const KC: i32 = 256;
const MC: i32 = 96;
const NC: i32 = 512;
/** Bytes of the tile buffer (MR x NRB). */
const TILEB: i32 = MR * NRB;

/** Bytes of packing buffers that one task needs (A block, B block, tile buffer; 64-aligned). */
export function gemm_scratch_bytes(): i32 {
  return ((MC * KC * 8 + 63) & ~63) + ((KC * NC * 8 + 63) & ~63) + ((TILEB + 63) & ~63);
}

// ---------------------------------------------------------------------------------------------
// microkernels: kc steps of the rank-1 update of an MR x NR tile; the tile is stored to c (row
// stride ldc bytes), or added to what c holds when `add` is set.

function micro_f32(kc: i32, ap: usize, bp: usize, c: usize, ldc: usize, add: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = madd4(a, b0, c00); c01 = madd4(a, b1, c01);
    a = v128.load32_splat(ap, 4);
    c10 = madd4(a, b0, c10); c11 = madd4(a, b1, c11);
    a = v128.load32_splat(ap, 8);
    c20 = madd4(a, b0, c20); c21 = madd4(a, b1, c21);
    a = v128.load32_splat(ap, 12);
    c30 = madd4(a, b0, c30); c31 = madd4(a, b1, c31);
    ap += 16;
    bp += 32;
  }
  if (add) {
    c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16));
    v128.store(c, c00); v128.store(c, c01, 16); c += ldc;
    c10 = f32x4.add(c10, v128.load(c)); c11 = f32x4.add(c11, v128.load(c, 16));
    v128.store(c, c10); v128.store(c, c11, 16); c += ldc;
    c20 = f32x4.add(c20, v128.load(c)); c21 = f32x4.add(c21, v128.load(c, 16));
    v128.store(c, c20); v128.store(c, c21, 16); c += ldc;
    c30 = f32x4.add(c30, v128.load(c)); c31 = f32x4.add(c31, v128.load(c, 16));
    v128.store(c, c30); v128.store(c, c31, 16);
  } else {
    v128.store(c, c00); v128.store(c, c01, 16); c += ldc;
    v128.store(c, c10); v128.store(c, c11, 16); c += ldc;
    v128.store(c, c20); v128.store(c, c21, 16); c += ldc;
    v128.store(c, c30); v128.store(c, c31, 16);
  }
}

function micro_f64(kc: i32, ap: usize, bp: usize, c: usize, ldc: usize, add: i32): void {
  let c00 = f64x2.splat(0), c01 = f64x2.splat(0);
  let c10 = f64x2.splat(0), c11 = f64x2.splat(0);
  let c20 = f64x2.splat(0), c21 = f64x2.splat(0);
  let c30 = f64x2.splat(0), c31 = f64x2.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load64_splat(ap);
    c00 = madd2(a, b0, c00); c01 = madd2(a, b1, c01);
    a = v128.load64_splat(ap, 8);
    c10 = madd2(a, b0, c10); c11 = madd2(a, b1, c11);
    a = v128.load64_splat(ap, 16);
    c20 = madd2(a, b0, c20); c21 = madd2(a, b1, c21);
    a = v128.load64_splat(ap, 24);
    c30 = madd2(a, b0, c30); c31 = madd2(a, b1, c31);
    ap += 32;
    bp += 32;
  }
  if (add) {
    c00 = f64x2.add(c00, v128.load(c)); c01 = f64x2.add(c01, v128.load(c, 16));
    v128.store(c, c00); v128.store(c, c01, 16); c += ldc;
    c10 = f64x2.add(c10, v128.load(c)); c11 = f64x2.add(c11, v128.load(c, 16));
    v128.store(c, c10); v128.store(c, c11, 16); c += ldc;
    c20 = f64x2.add(c20, v128.load(c)); c21 = f64x2.add(c21, v128.load(c, 16));
    v128.store(c, c20); v128.store(c, c21, 16); c += ldc;
    c30 = f64x2.add(c30, v128.load(c)); c31 = f64x2.add(c31, v128.load(c, 16));
    v128.store(c, c30); v128.store(c, c31, 16);
  } else {
    v128.store(c, c00); v128.store(c, c01, 16); c += ldc;
    v128.store(c, c10); v128.store(c, c11, 16); c += ldc;
    v128.store(c, c20); v128.store(c, c21, 16); c += ldc;
    v128.store(c, c30); v128.store(c, c31, 16);
  }
}

// ---------------------------------------------------------------------------------------------
// packing (T: f32 or f64; strides in elements)

/** Packs A's mc x kc block at `a` into MR-row panels at `dst` (zero-padded to whole panels). */
function packA<T>(a: usize, ars: i32, acs: i32, mc: i32, kc: i32, dst: usize): void {
  const sz = <usize>sizeof<T>();
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const mr = min(MR, mc - i0);
    const src = a + <usize>(i0 * ars) * sz;
    if (mr == MR && ars == 1) {
      // transposed A: the MR values of one p are contiguous
      const step = <usize>acs * sz;
      let s = src;
      if (sz == 4) {
        for (let p = 0; p < kc; p++) {
          v128.store(dst, v128.load(s));
          s += step;
          dst += 16;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          v128.store(dst, v128.load(s));
          v128.store(dst, v128.load(s, 16), 16);
          s += step;
          dst += 32;
        }
      }
    } else if (mr == MR && acs == 1) {
      // rows contiguous: transpose 4 x 4 (f32) or 4 x 2 (f64) blocks
      const rs = <usize>ars * sz;
      const r0 = src, r1 = src + rs, r2 = src + 2 * rs, r3 = src + 3 * rs;
      let p = 0;
      let o: usize = 0;
      if (sz == 4) {
        for (; p + 4 <= kc; p += 4) {
          const pb = <usize>p << 2;
          const x0 = v128.load(r0 + pb), x1 = v128.load(r1 + pb), x2 = v128.load(r2 + pb), x3 = v128.load(r3 + pb);
          const t0 = i32x4.shuffle(x0, x1, 0, 4, 1, 5); // a0 b0 a1 b1
          const t1 = i32x4.shuffle(x2, x3, 0, 4, 1, 5); // c0 d0 c1 d1
          const t2 = i32x4.shuffle(x0, x1, 2, 6, 3, 7); // a2 b2 a3 b3
          const t3 = i32x4.shuffle(x2, x3, 2, 6, 3, 7); // c2 d2 c3 d3
          const d = dst + o;
          v128.store(d, i64x2.shuffle(t0, t1, 0, 2));
          v128.store(d, i64x2.shuffle(t0, t1, 1, 3), 16);
          v128.store(d, i64x2.shuffle(t2, t3, 0, 2), 32);
          v128.store(d, i64x2.shuffle(t2, t3, 1, 3), 48);
          o += 64;
        }
      } else {
        for (; p + 2 <= kc; p += 2) {
          const pb = <usize>p << 3;
          const x0 = v128.load(r0 + pb), x1 = v128.load(r1 + pb), x2 = v128.load(r2 + pb), x3 = v128.load(r3 + pb);
          const d = dst + o;
          v128.store(d, i64x2.shuffle(x0, x1, 0, 2));
          v128.store(d, i64x2.shuffle(x2, x3, 0, 2), 16);
          v128.store(d, i64x2.shuffle(x0, x1, 1, 3), 32);
          v128.store(d, i64x2.shuffle(x2, x3, 1, 3), 48);
          o += 64;
        }
      }
      for (; p < kc; p++) {
        const pb = <usize>p * sz;
        const d = dst + o;
        store<T>(d, load<T>(r0 + pb));
        store<T>(d + sz, load<T>(r1 + pb));
        store<T>(d + 2 * sz, load<T>(r2 + pb));
        store<T>(d + 3 * sz, load<T>(r3 + pb));
        o += 4 * sz;
      }
      dst += o;
    } else {
      const rs = <usize>ars * sz;
      for (let p = 0; p < kc; p++) {
        let s = src + <usize>(p * acs) * sz;
        let i = 0;
        for (; i < mr; i++) {
          store<T>(dst, load<T>(s));
          s += rs;
          dst += sz;
        }
        for (; i < MR; i++) {
          store<T>(dst, <T>0);
          dst += sz;
        }
      }
    }
  }
}

/** Packs B's kc x nc block at `b` into NR-column panels at `dst` (zero-padded to whole panels). */
function packB<T>(b: usize, brs: i32, bcs: i32, kc: i32, nc: i32, dst: usize): void {
  const sz = <usize>sizeof<T>();
  const nr = NRB / <i32>sz;
  for (let j0 = 0; j0 < nc; j0 += nr) {
    const w = min(nr, nc - j0);
    const src = b + <usize>(j0 * bcs) * sz;
    if (w == nr && bcs == 1) {
      const step = <usize>brs * sz;
      let s = src;
      for (let p = 0; p < kc; p++) {
        v128.store(dst, v128.load(s));
        v128.store(dst, v128.load(s, 16), 16);
        s += step;
        dst += 32;
      }
    } else if (w == nr && brs == 1 && sz == 4) {
      // transposed B (f32): columns contiguous; 4 x 4 transposes of columns 0..3 and 4..7
      const cs = <usize>bcs << 2;
      let p = 0;
      let o: usize = 0;
      for (; p + 4 <= kc; p += 4) {
        const pb = <usize>p << 2;
        const d = dst + o;
        let s = src + pb;
        let x0 = v128.load(s), x1 = v128.load(s + cs), x2 = v128.load(s + 2 * cs), x3 = v128.load(s + 3 * cs);
        let t0 = i32x4.shuffle(x0, x1, 0, 4, 1, 5);
        let t1 = i32x4.shuffle(x2, x3, 0, 4, 1, 5);
        let t2 = i32x4.shuffle(x0, x1, 2, 6, 3, 7);
        let t3 = i32x4.shuffle(x2, x3, 2, 6, 3, 7);
        v128.store(d, i64x2.shuffle(t0, t1, 0, 2));
        v128.store(d, i64x2.shuffle(t0, t1, 1, 3), 32);
        v128.store(d, i64x2.shuffle(t2, t3, 0, 2), 64);
        v128.store(d, i64x2.shuffle(t2, t3, 1, 3), 96);
        s += 4 * cs;
        x0 = v128.load(s); x1 = v128.load(s + cs); x2 = v128.load(s + 2 * cs); x3 = v128.load(s + 3 * cs);
        t0 = i32x4.shuffle(x0, x1, 0, 4, 1, 5);
        t1 = i32x4.shuffle(x2, x3, 0, 4, 1, 5);
        t2 = i32x4.shuffle(x0, x1, 2, 6, 3, 7);
        t3 = i32x4.shuffle(x2, x3, 2, 6, 3, 7);
        v128.store(d, i64x2.shuffle(t0, t1, 0, 2), 16);
        v128.store(d, i64x2.shuffle(t0, t1, 1, 3), 48);
        v128.store(d, i64x2.shuffle(t2, t3, 0, 2), 80);
        v128.store(d, i64x2.shuffle(t2, t3, 1, 3), 112);
        o += 128;
      }
      for (; p < kc; p++) {
        let s = src + (<usize>p << 2);
        const d = dst + o;
        for (let j = 0; j < 8; j++) {
          store<f32>(d + (<usize>j << 2), load<f32>(s));
          s += cs;
        }
        o += 32;
      }
      dst += o;
    } else {
      const cs = <usize>bcs * sz;
      for (let p = 0; p < kc; p++) {
        let s = src + <usize>(p * brs) * sz;
        let j = 0;
        for (; j < w; j++) {
          store<T>(dst, load<T>(s));
          s += cs;
          dst += sz;
        }
        for (; j < nr; j++) {
          store<T>(dst, <T>0);
          dst += sz;
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// one product: rows [i0, i1) and columns [j0, j1) of C = op(A) @ op(B)

function gemmBlock<T>(
  a: usize, ars: i32, acs: i32, b: usize, brs: i32, bcs: i32, c: usize,
  n: i32, k: i32, i0: i32, i1: i32, j0: i32, j1: i32, scratch: usize,
): void {
  const sz = <usize>sizeof<T>();
  const nr = NRB / <i32>sz;
  const abuf = scratch;
  const bbuf = abuf + <usize>((MC * KC * 8 + 63) & ~63);
  const tile = bbuf + <usize>((KC * NC * 8 + 63) & ~63);
  const ldc = <usize>n * sz;
  if (k == 0) {
    for (let i = i0; i < i1; i++) memory.fill(c + <usize>i * ldc + <usize>j0 * sz, 0, <usize>(j1 - j0) * sz);
    return;
  }
  for (let jc = j0; jc < j1; jc += NC) {
    const nc = min(NC, j1 - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      packB<T>(b + <usize>(pc * brs + jc * bcs) * sz, brs, bcs, kc, nc, bbuf);
      const add = pc > 0 ? 1 : 0;
      for (let ic = i0; ic < i1; ic += MC) {
        const mc = min(MC, i1 - ic);
        packA<T>(a + <usize>(ic * ars + pc * acs) * sz, ars, acs, mc, kc, abuf);
        for (let jr = 0; jr < nc; jr += nr) {
          const w = min(nr, nc - jr);
          const bp = bbuf + <usize>(jr * kc) * sz;
          for (let ir = 0; ir < mc; ir += MR) {
            const h = min(MR, mc - ir);
            const ap = abuf + <usize>(ir * kc) * sz;
            const cp = c + <usize>(ic + ir) * ldc + <usize>(jc + jr) * sz;
            if (h == MR && w == nr) {
              if (sz == 4) micro_f32(kc, ap, bp, cp, ldc, add);
              else micro_f64(kc, ap, bp, cp, ldc, add);
            } else {
              if (sz == 4) micro_f32(kc, ap, bp, tile, NRB, 0);
              else micro_f64(kc, ap, bp, tile, NRB, 0);
              for (let i = 0; i < h; i++) edgeCopy<T>(tile + <usize>(i * NRB), cp + <usize>i * ldc, w, add);
            }
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// products with at most 3 rows (m <= 3, and n == 1 by swapping the operands): one row of C at a
// time, A read in place, B in place when its rows are contiguous (else packed). Every element is
// summed in the same order, with the same operations, as in the blocked path (a multiply-add
// chain over each KC slice from 0, slices added in order), so a row of C does not depend on how
// many rows the product has.

/** One row of C, 24 f32 / 12 f64 columns: 3 B panels `rstride` bytes apart, rows `pstride` apart. */
function row3<T>(kc: i32, ap: usize, astep: usize, bp: usize, rstride: usize, pstride: usize, c: usize, add: i32): void {
  let x0 = v128.splat<i32>(0), x1 = v128.splat<i32>(0);
  let y0 = v128.splat<i32>(0), y1 = v128.splat<i32>(0);
  let z0 = v128.splat<i32>(0), z1 = v128.splat<i32>(0);
  const b1 = bp + rstride, b2 = bp + 2 * rstride;
  let o: usize = 0;
  for (let p = 0; p < kc; p++) {
    const u0 = v128.load(bp + o), u1 = v128.load(bp + o, 16);
    const v0 = v128.load(b1 + o), v1 = v128.load(b1 + o, 16);
    const w0 = v128.load(b2 + o), w1 = v128.load(b2 + o, 16);
    if (sizeof<T>() == 4) {
      const a = v128.load32_splat(ap);
      x0 = madd4(a, u0, x0); x1 = madd4(a, u1, x1);
      y0 = madd4(a, v0, y0); y1 = madd4(a, v1, y1);
      z0 = madd4(a, w0, z0); z1 = madd4(a, w1, z1);
    } else {
      const a = v128.load64_splat(ap);
      x0 = madd2(a, u0, x0); x1 = madd2(a, u1, x1);
      y0 = madd2(a, v0, y0); y1 = madd2(a, v1, y1);
      z0 = madd2(a, w0, z0); z1 = madd2(a, w1, z1);
    }
    ap += astep;
    o += pstride;
  }
  if (add) {
    if (sizeof<T>() == 4) {
      x0 = f32x4.add(x0, v128.load(c)); x1 = f32x4.add(x1, v128.load(c, 16));
      y0 = f32x4.add(y0, v128.load(c, 32)); y1 = f32x4.add(y1, v128.load(c, 48));
      z0 = f32x4.add(z0, v128.load(c, 64)); z1 = f32x4.add(z1, v128.load(c, 80));
    } else {
      x0 = f64x2.add(x0, v128.load(c)); x1 = f64x2.add(x1, v128.load(c, 16));
      y0 = f64x2.add(y0, v128.load(c, 32)); y1 = f64x2.add(y1, v128.load(c, 48));
      z0 = f64x2.add(z0, v128.load(c, 64)); z1 = f64x2.add(z1, v128.load(c, 80));
    }
  }
  v128.store(c, x0); v128.store(c, x1, 16);
  v128.store(c, y0, 32); v128.store(c, y1, 48);
  v128.store(c, z0, 64); v128.store(c, z1, 80);
}

/** One row of C, 8 f32 / 4 f64 columns (one B panel). */
function row1<T>(kc: i32, ap: usize, astep: usize, bp: usize, pstride: usize, c: usize, add: i32): void {
  let x0 = v128.splat<i32>(0), x1 = v128.splat<i32>(0);
  for (let p = 0; p < kc; p++) {
    const u0 = v128.load(bp), u1 = v128.load(bp, 16);
    if (sizeof<T>() == 4) {
      const a = v128.load32_splat(ap);
      x0 = madd4(a, u0, x0); x1 = madd4(a, u1, x1);
    } else {
      const a = v128.load64_splat(ap);
      x0 = madd2(a, u0, x0); x1 = madd2(a, u1, x1);
    }
    ap += astep;
    bp += pstride;
  }
  if (add) {
    if (sizeof<T>() == 4) {
      x0 = f32x4.add(x0, v128.load(c)); x1 = f32x4.add(x1, v128.load(c, 16));
    } else {
      x0 = f64x2.add(x0, v128.load(c)); x1 = f64x2.add(x1, v128.load(c, 16));
    }
  }
  v128.store(c, x0); v128.store(c, x1, 16);
}

/** Rows [i0, i1) (at most 3) and columns [j0, j1) of C = op(A) @ op(B). */
function gemmRows<T>(
  a: usize, ars: i32, acs: i32, b: usize, brs: i32, bcs: i32, c: usize,
  n: i32, k: i32, i0: i32, i1: i32, j0: i32, j1: i32, scratch: usize,
): void {
  const sz = <usize>sizeof<T>();
  const nr = NRB / <i32>sz;
  const bbuf = scratch + <usize>((MC * KC * 8 + 63) & ~63);
  const tile = bbuf + <usize>((KC * NC * 8 + 63) & ~63);
  const ldc = <usize>n * sz;
  const astep = <usize>acs * sz;
  for (let pc = 0; pc < k; pc += KC) {
    const kc = min(KC, k - pc);
    const add = pc > 0 ? 1 : 0;
    if (bcs == 1) {
      // B's rows are contiguous: whole panels straight from B, the last partial one packed
      const pstride = <usize>brs * sz;
      const jfull = j0 + ((j1 - j0) / nr) * nr;
      for (let i = i0; i < i1; i++) {
        const ap = a + <usize>(i * ars + pc * acs) * sz;
        const crow = c + <usize>i * ldc;
        let j = j0;
        for (; j + 3 * nr <= jfull; j += 3 * nr) {
          row3<T>(kc, ap, astep, b + <usize>(pc * brs + j) * sz, NRB, pstride, crow + <usize>j * sz, add);
        }
        for (; j < jfull; j += nr) {
          row1<T>(kc, ap, astep, b + <usize>(pc * brs + j) * sz, pstride, crow + <usize>j * sz, add);
        }
      }
      if (jfull < j1) {
        packB<T>(b + <usize>(pc * brs + jfull) * sz, brs, bcs, kc, j1 - jfull, bbuf);
        for (let i = i0; i < i1; i++) {
          row1<T>(kc, a + <usize>(i * ars + pc * acs) * sz, astep, bbuf, NRB, tile, 0);
          edgeCopy<T>(tile, c + <usize>i * ldc + <usize>jfull * sz, j1 - jfull, add);
        }
      }
    } else {
      // B transposed: pack it (NC columns at a time)
      const pstride = <usize>NRB;
      const rstride = <usize>(kc * NRB);
      for (let jc = j0; jc < j1; jc += NC) {
        const nc = min(NC, j1 - jc);
        packB<T>(b + <usize>(pc * brs + jc * bcs) * sz, brs, bcs, kc, nc, bbuf);
        const full = (nc / nr) * nr;
        for (let i = i0; i < i1; i++) {
          const ap = a + <usize>(i * ars + pc * acs) * sz;
          const crow = c + <usize>i * ldc + <usize>jc * sz;
          let j = 0;
          for (; j + 3 * nr <= full; j += 3 * nr) {
            row3<T>(kc, ap, astep, bbuf + <usize>(j * kc) * sz, rstride, pstride, crow + <usize>j * sz, add);
          }
          for (; j < full; j += nr) {
            row1<T>(kc, ap, astep, bbuf + <usize>(j * kc) * sz, pstride, crow + <usize>j * sz, add);
          }
          if (full < nc) {
            row1<T>(kc, ap, astep, bbuf + <usize>(full * kc) * sz, pstride, tile, 0);
            edgeCopy<T>(tile, crow + <usize>full * sz, nc - full, add);
          }
        }
      }
    }
  }
}

/** c[0, w) = t[0, w), or c += t when `add`. */
// @ts-ignore: decorator
@inline function edgeCopy<T>(t: usize, c: usize, w: i32, add: i32): void {
  const sz = <usize>sizeof<T>();
  if (add) {
    for (let j = 0; j < w; j++) {
      const o = <usize>j * sz;
      store<T>(c + o, load<T>(c + o) + load<T>(t + o));
    }
  } else {
    for (let j = 0; j < w; j++) {
      const o = <usize>j * sz;
      store<T>(c + o, load<T>(t + o));
    }
  }
}

/** The batched product, part `task` of `ntasks` (see the file comment). */
function gemm<T>(
  a: usize, b: usize, c: usize, batch: i32, m: i32, n: i32, k: i32,
  ars: i32, acs: i32, brs: i32, bcs: i32, sa: i32, sb: i32,
  scratch: usize, scratchStride: i32, task: i32, ntasks: i32,
): void {
  const sz = <usize>sizeof<T>();
  const nr = NRB / <i32>sz;
  const buf = scratch + <usize>task * <usize>scratchStride;
  const csz = <usize>m * <usize>n * sz;
  // work units: (batch, chunk) pairs, chunks = ntasks / gcd(batch, ntasks) blocks of C per
  // batch, so every task gets batch / gcd units of equal size (whole batches when ntasks divides
  // batch)
  let g = batch, h = ntasks;
  while (h != 0) {
    const r = g % h;
    g = h;
    h = r;
  }
  const chunks = ntasks / g;
  // at most 3 rows: row kernels; one column: the same with the operands' roles swapped (C is then
  // the same memory as its transpose)
  let rowsPath = m <= 3;
  if (!rowsPath && n == 1) {
    rowsPath = true;
    const ta = a, tars = ars, tacs = acs, tsa = sa;
    a = b; ars = bcs; acs = brs; sa = sb;
    b = ta; brs = tacs; bcs = tars; sb = tsa;
    n = m;
    m = 1;
  }
  // each batch's C is cut into rc x cc blocks: rc row ranges (multiples of MR) by cc column ranges
  // (multiples of NR), the factorization of `chunks` whose largest block costs least
  let rc = 1;
  if (!rowsPath) rc = rowChunks(m, n, k, chunks, nr);
  const cc = chunks / rc;
  const u0 = partStart(batch * chunks, task, ntasks, 1);
  const u1 = partStart(batch * chunks, task + 1, ntasks, 1);
  for (let u = u0; u < u1; u++) {
    const t = u / chunks;
    const q = u - t * chunks;
    const qr = q / cc;
    const qc = q - qr * cc;
    const i0 = partStart(m, qr, rc, MR);
    const i1 = partStart(m, qr + 1, rc, MR);
    const j0 = partStart(n, qc, cc, rowsPath ? 3 * nr : nr);
    const j1 = partStart(n, qc + 1, cc, rowsPath ? 3 * nr : nr);
    if (i0 >= i1 || j0 >= j1) continue;
    const at = a + <usize>t * <usize>sa * sz;
    const bt = b + <usize>t * <usize>sb * sz;
    const ct = c + <usize>t * csz;
    if (k == 0) {
      for (let i = i0; i < i1; i++) memory.fill(ct + (<usize>i * <usize>n + <usize>j0) * sz, 0, <usize>(j1 - j0) * sz);
    } else if (rowsPath) {
      gemmRows<T>(at, ars, acs, bt, brs, bcs, ct, n, k, 0, m, j0, j1, buf);
    } else {
      gemmBlock<T>(at, ars, acs, bt, brs, bcs, ct, n, k, i0, i1, j0, j1, buf);
    }
  }
}

/**
 * Row ranges to cut an m x n x k product into when it is split into `chunks` blocks (the column
 * ranges are chunks / that): the divisor whose largest block costs least, counting its
 * multiply-adds on whole tiles plus ~10 per element it packs (its rows of A once per NC-wide column
 * block, its columns of B once). A 1024^3 product on 2 tasks is split by columns: each task packs
 * half of B instead of all of it, ~2% faster on the 2-core VM (measured with outputs the heap
 * reuses and with fresh ones; an earlier row-only rule for m >= 32 rows per task is gone).
 */
function rowChunks(m: i32, n: i32, k: i32, chunks: i32, nr: i32): i32 {
  let best = chunks;
  let bestCost = Infinity;
  for (let r = chunks; r >= 1; r--) {
    if (chunks % r != 0) continue;
    const rows = <f64>partStart(m, 1, r, MR);
    const cols = <f64>partStart(n, 1, chunks / r, nr);
    const tiles = Math.ceil(rows / MR) * MR * Math.ceil(cols / nr) * nr;
    const cost = tiles * k + 10 * (rows * k * Math.ceil(cols / NC) + k * cols);
    if (cost < bestCost) {
      best = r;
      bestCost = cost;
    }
  }
  return best;
}

/** f32 batched matmul (pointers are byte addresses; strides in elements). */
export function gemm_f32(
  a: usize, b: usize, c: usize, batch: i32, m: i32, n: i32, k: i32,
  ars: i32, acs: i32, brs: i32, bcs: i32, sa: i32, sb: i32,
  scratch: usize, scratchStride: i32, task: i32, ntasks: i32,
): void {
  gemm<f32>(a, b, c, batch, m, n, k, ars, acs, brs, bcs, sa, sb, scratch, scratchStride, task, ntasks);
}

/** f64 batched matmul (pointers are byte addresses; strides in elements). */
export function gemm_f64(
  a: usize, b: usize, c: usize, batch: i32, m: i32, n: i32, k: i32,
  ars: i32, acs: i32, brs: i32, bcs: i32, sa: i32, sb: i32,
  scratch: usize, scratchStride: i32, task: i32, ntasks: i32,
): void {
  gemm<f64>(a, b, c, batch, m, n, k, ars, acs, brs, bcs, sa, sb, scratch, scratchStride, task, ntasks);
}
