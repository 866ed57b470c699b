// Winograd F(4x4, 3x3) tile transforms for float32 convolution (3x3 kernel, stride 1, dilation 1),
// the optional Backend members winograd* (src/ndarray/wasm/conv.ts calls them; src/ops/winograd.ts
// has the algorithm, the weight transforms and the GEMMs between these kernels).
//
// A 6x6 input tile d (padded image rows 4 ti .. 4 ti + 5, columns 4 tj .. 4 tj + 5) gives a 4x4
// output tile y = A^T [ (G g G^T) . (B^T d B) ] A (Lavin & Gray, points 0, +-1, +-2, infinity):
//   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
// Layouts, compact, in elements (the batched GEMM reads the transformed arrays as 36 matrices):
//   image   x[b][c][h][w]                       (batch, channels, h, w)
//   tiles   v[xi][c][b][ti][tj]                 (36, channels, batch, th, tw4), xi = 6 k + l,
//           the 36 planes `xs` elements apart (xs >= channels * batch * th * tw4; the caller pads it
//           so that the 36 streams of a tile do not fall into the same cache sets)
// with th = ceil(oh / 4) tile rows and tw4 tile columns: ceil(ow / 4) rounded up to a multiple of 4,
// so that every kernel works on 4 tiles of a row at a time (one tile per SIMD lane). The tiles past
// the right edge of the output read zeros (transforms) or are dropped (inverses).
//
// wino_in       x -> v      v = B^T d B per tile (zeros outside the image: the padding)
// wino_in_adj   v -> x      its adjoint: B v B^T summed back into the overlapping tiles, padding dropped
// wino_out      m -> y      y = A^T m A per tile, cropped to (oh, ow)
// wino_out_adj  y -> m      its adjoint: A y A^T (zeros for tile entries outside (oh, ow))
// Threads split the planes (b, c); each task has `scratchStride` bytes of scratch at
// scratch + task * scratchStride (8 padded rows of 4 * tw4 + 4 floats and 576 bytes of tiles).
import { madd4, partStart } from './common';

// @ts-ignore: decorator
@inline function row(p: usize, slot: i32, wp: i32): usize {
  return p + <usize>((slot & 7) * wp) * 4;
}

/** Columns a, b, c, d of a 4x4 block given as rows: lane q of column s is row q's lane s. */
// @ts-ignore: decorator
@inline function tcol(a: v128, b: v128, c: v128, d: v128, s: i32): v128 {
  const t0 = i32x4.shuffle(a, b, 0, 4, 1, 5);
  const t1 = i32x4.shuffle(a, b, 2, 6, 3, 7);
  const t2 = i32x4.shuffle(c, d, 0, 4, 1, 5);
  const t3 = i32x4.shuffle(c, d, 2, 6, 3, 7);
  if (s == 0) return i64x2.shuffle(t0, t2, 0, 2);
  if (s == 1) return i64x2.shuffle(t0, t2, 1, 3);
  if (s == 2) return i64x2.shuffle(t1, t3, 0, 2);
  return i64x2.shuffle(t1, t3, 1, 3);
}

/** B^T applied to (d0 .. d5): stores the six results at dst + i * stride. */
// @ts-ignore: decorator
@inline function bt6(d0: v128, d1: v128, d2: v128, d3: v128, d4: v128, d5: v128, dst: usize, stride: usize): void {
  const four = f32x4.splat(4);
  const five = f32x4.splat(-5);
  const two = f32x4.splat(2);
  const a = f32x4.sub(d4, d2);
  const b = f32x4.sub(d3, d1);
  v128.store(dst, madd4(five, d2, madd4(four, d0, d4)));
  v128.store(dst + stride, f32x4.sub(f32x4.add(d3, d4), f32x4.mul(four, f32x4.add(d1, d2))));
  v128.store(dst + 2 * stride, madd4(four, f32x4.sub(d1, d2), f32x4.sub(d4, d3)));
  v128.store(dst + 3 * stride, madd4(two, b, a));
  v128.store(dst + 4 * stride, f32x4.sub(a, f32x4.mul(two, b)));
  v128.store(dst + 5 * stride, madd4(five, d3, madd4(four, d1, d5)));
}

/** B (the transpose of B^T) applied to (e0 .. e5): stores the six results at dst + i * stride. */
// @ts-ignore: decorator
@inline function b6(e0: v128, e1: v128, e2: v128, e3: v128, e4: v128, e5: v128, dst: usize, stride: usize): void {
  const four = f32x4.splat(4);
  const five = f32x4.splat(-5);
  const two = f32x4.splat(2);
  const p = f32x4.sub(e1, e2);
  const q = f32x4.sub(e3, e4);
  const u = f32x4.add(e1, e2);
  const v = f32x4.add(e3, e4);
  v128.store(dst, f32x4.mul(four, e0));
  v128.store(dst + stride, f32x4.sub(f32x4.mul(four, f32x4.sub(e5, p)), f32x4.mul(two, q)));
  v128.store(dst + 2 * stride, f32x4.sub(madd4(five, e0, f32x4.neg(v)), f32x4.mul(four, u)));
  v128.store(dst + 3 * stride, madd4(five, e5, madd4(two, q, p)));
  v128.store(dst + 4 * stride, f32x4.add(e0, f32x4.add(u, v)));
  v128.store(dst + 5 * stride, e5);
}

/** A^T applied to (m0 .. m5): stores the four results at dst + i * stride. */
// @ts-ignore: decorator
@inline function at4(m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128, dst: usize, stride: usize): void {
  const a1 = f32x4.add(m1, m2);
  const s1 = f32x4.sub(m1, m2);
  const a2 = f32x4.add(m3, m4);
  const s2 = f32x4.sub(m3, m4);
  v128.store(dst, f32x4.add(m0, f32x4.add(a1, a2)));
  v128.store(dst + stride, madd4(f32x4.splat(2), s2, s1));
  v128.store(dst + 2 * stride, madd4(f32x4.splat(4), a2, a1));
  v128.store(dst + 3 * stride, f32x4.add(madd4(f32x4.splat(8), s2, s1), m5));
}

/** A (the transpose of A^T) applied to (d0 .. d3): stores the six results at dst + i * stride. */
// @ts-ignore: decorator
@inline function a6(d0: v128, d1: v128, d2: v128, d3: v128, dst: usize, stride: usize): void {
  const e = f32x4.add(d0, d2);
  const o = f32x4.add(d1, d3);
  const e2 = madd4(f32x4.splat(4), d2, d0);
  const o2 = madd4(f32x4.splat(8), d3, f32x4.mul(f32x4.splat(2), d1));
  v128.store(dst, d0);
  v128.store(dst + stride, f32x4.add(e, o));
  v128.store(dst + 2 * stride, f32x4.sub(e, o));
  v128.store(dst + 3 * stride, f32x4.add(e2, o2));
  v128.store(dst + 4 * stride, f32x4.sub(e2, o2));
  v128.store(dst + 5 * stride, d3);
}

// @ts-ignore: decorator
@inline function zero(d: usize, floats: i32): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= floats; i += 4) v128.store(d + <usize>(i << 2), z);
  for (; i < floats; i++) store<f32>(d + <usize>(i << 2), 0);
}

// @ts-ignore: decorator
@inline function copy(d: usize, s: usize, floats: i32): void {
  let i = 0;
  for (; i + 4 <= floats; i += 4) v128.store(d + <usize>(i << 2), v128.load(s + <usize>(i << 2)));
  for (; i < floats; i++) store<f32>(d + <usize>(i << 2), load<f32>(s + <usize>(i << 2)));
}

/** Padded row `r` (image row r - ph, zero outside the image) into ring slot r & 7. */
// @ts-ignore: decorator
@inline function fillRow(ring: usize, r: i32, wp: i32, src: usize, h: i32, w: i32, ph: i32, pw: i32): void {
  const d = row(ring, r, wp);
  const y = r - ph;
  if (y < 0 || y >= h) {
    zero(d, wp);
    return;
  }
  const run = w < wp - pw ? w : wp - pw;
  zero(d, pw);
  copy(d + <usize>(pw << 2), src + <usize>y * <usize>w * 4, run);
  zero(d + <usize>((pw + run) << 2), wp - pw - run);
}

/** v = B^T d B for every tile of the planes (b, c) of this task. */
export function wino_in_f32(
  x: usize, v: usize, scratch: usize, scratchStride: i32,
  n: i32, c: i32, h: i32, w: i32, ph: i32, pw: i32, th: i32, tw4: i32, xs: i32, task: i32, ntasks: i32,
): void {
  const planes = n * c;
  const p0 = partStart(planes, task, ntasks, 1);
  const p1 = partStart(planes, task + 1, ntasks, 1);
  const wp = 4 * tw4 + 4;
  const ring = scratch + <usize>task * <usize>scratchStride;
  const tmp = ring + <usize>(8 * wp) * 4;
  const tpi = th * tw4;
  const xi = <usize>xs * 4;
  const rowBytes = <usize>wp * 4;
  for (let p = p0; p < p1; p++) {
    const b = p / c;
    const ch = p - b * c;
    const src = x + <usize>p * <usize>h * <usize>w * 4;
    const base = v + (<usize>ch * <usize>n * <usize>tpi + <usize>b * <usize>tpi) * 4;
    for (let ti = 0; ti < th; ti++) {
      for (let r = ti == 0 ? 0 : 4 * ti + 2; r < 4 * ti + 6; r++) fillRow(ring, r, wp, src, h, w, ph, pw);
      const r0 = row(ring, 4 * ti, wp);
      const r1 = row(ring, 4 * ti + 1, wp);
      const r2 = row(ring, 4 * ti + 2, wp);
      const r3 = row(ring, 4 * ti + 3, wp);
      const r4 = row(ring, 4 * ti + 4, wp);
      const r5 = row(ring, 4 * ti + 5, wp);
      for (let k = 0; k < wp * 4; k += 16) {
        const o = <usize>k;
        bt6(v128.load(r0 + o), v128.load(r1 + o), v128.load(r2 + o), v128.load(r3 + o), v128.load(r4 + o), v128.load(r5 + o), tmp + o, rowBytes);
      }
      const dst = base + <usize>(ti * tw4) * 4;
      for (let g = 0; g < tw4; g += 4) {
        for (let k = 0; k < 6; k++) {
          const s = tmp + <usize>k * rowBytes + <usize>(g * 16);
          const l0 = v128.load(s);
          const l1 = v128.load(s, 16);
          const l2 = v128.load(s, 32);
          const l3 = v128.load(s, 48);
          const l4 = v128.load(s, 64);
          const s0 = tcol(l0, l1, l2, l3, 0);
          const s1 = tcol(l0, l1, l2, l3, 1);
          bt6(s0, s1, tcol(l0, l1, l2, l3, 2), tcol(l0, l1, l2, l3, 3),
            i32x4.shuffle(s0, l4, 1, 2, 3, 4), i32x4.shuffle(s1, l4, 1, 2, 3, 5),
            dst + <usize>(6 * k) * xi + <usize>(g * 4), xi);
        }
      }
    }
  }
}

/** The adjoint of wino_in: dx = the tiles' B dv B^T summed into place, the padding dropped. */
export function wino_in_adj_f32(
  dv: usize, dx: usize, scratch: usize, scratchStride: i32,
  n: i32, c: i32, h: i32, w: i32, ph: i32, pw: i32, th: i32, tw4: i32, xs: i32, task: i32, ntasks: i32,
): void {
  const planes = n * c;
  const p0 = partStart(planes, task, ntasks, 1);
  const p1 = partStart(planes, task + 1, ntasks, 1);
  const wp = 4 * tw4 + 4;
  const ring = scratch + <usize>task * <usize>scratchStride;
  const tmp = ring + <usize>(8 * wp) * 4;
  const dd = tmp + 576;
  const tpi = th * tw4;
  const xi = <usize>xs * 4;
  const z = f32x4.splat(0);
  for (let p = p0; p < p1; p++) {
    const b = p / c;
    const ch = p - b * c;
    const out = dx + <usize>p * <usize>h * <usize>w * 4;
    const base = dv + (<usize>ch * <usize>n * <usize>tpi + <usize>b * <usize>tpi) * 4;
    zero(ring, 8 * wp);
    for (let ti = 0; ti < th; ti++) {
      const src = base + <usize>(ti * tw4) * 4;
      for (let g = 0; g < tw4; g += 4) {
        const s = src + <usize>(g * 4);
        // columns of the tiles' 6x6 blocks: tmp[r][l] = sum_k B^T[k][r] dv[k][l]
        for (let l = 0; l < 6; l++) {
          const e = s + <usize>l * xi;
          b6(v128.load(e), v128.load(e + 6 * xi), v128.load(e + 12 * xi), v128.load(e + 18 * xi), v128.load(e + 24 * xi), v128.load(e + 30 * xi),
            tmp + <usize>(l * 16), 96);
        }
        for (let r = 0; r < 6; r++) {
          const t = tmp + <usize>(r * 96);
          b6(v128.load(t), v128.load(t, 16), v128.load(t, 32), v128.load(t, 48), v128.load(t, 64), v128.load(t, 80), dd, 16);
          const d0 = v128.load(dd);
          const d1 = v128.load(dd, 16);
          const d2 = v128.load(dd, 32);
          const d3 = v128.load(dd, 48);
          const d4 = v128.load(dd, 64);
          const d5 = v128.load(dd, 80);
          const pq = i32x4.shuffle(d4, d5, 0, 4, 1, 5);
          const qq = i32x4.shuffle(d4, d5, 2, 6, 3, 7);
          const o = row(ring, 4 * ti + r, wp) + <usize>(g * 16);
          v128.store(o, f32x4.add(v128.load(o), tcol(d0, d1, d2, d3, 0)));
          v128.store(o, f32x4.add(v128.load(o, 16), f32x4.add(tcol(d0, d1, d2, d3, 1), i32x4.shuffle(pq, z, 0, 1, 4, 4))), 16);
          v128.store(o, f32x4.add(v128.load(o, 32), f32x4.add(tcol(d0, d1, d2, d3, 2), i32x4.shuffle(pq, z, 2, 3, 4, 4))), 32);
          v128.store(o, f32x4.add(v128.load(o, 48), f32x4.add(tcol(d0, d1, d2, d3, 3), i32x4.shuffle(qq, z, 0, 1, 4, 4))), 48);
          v128.store(o, f32x4.add(v128.load(o, 64), i32x4.shuffle(qq, z, 2, 3, 4, 4)), 64);
        }
      }
      // padded rows 4 ti .. 4 ti + 3 are complete: out, and their slots zeroed for rows + 8
      for (let r = 4 * ti; r < 4 * ti + 4; r++) {
        const d = row(ring, r, wp);
        const y = r - ph;
        if (y >= 0 && y < h) copy(out + <usize>y * <usize>w * 4, d + <usize>(pw << 2), w);
        zero(d, wp);
      }
    }
    for (let r = 4 * th; r < 4 * th + 2; r++) {
      const y = r - ph;
      if (y >= 0 && y < h) copy(out + <usize>y * <usize>w * 4, row(ring, r, wp) + <usize>(pw << 2), w);
    }
  }
}

/** y = A^T m A for every tile, cropped to (oh, ow). */
export function wino_out_f32(
  m: usize, y: usize, scratch: usize, scratchStride: i32,
  n: i32, c: i32, oh: i32, ow: i32, th: i32, tw4: i32, xs: i32, task: i32, ntasks: i32,
): void {
  const planes = n * c;
  const p0 = partStart(planes, task, ntasks, 1);
  const p1 = partStart(planes, task + 1, ntasks, 1);
  const tmp = scratch + <usize>task * <usize>scratchStride;
  const tpi = th * tw4;
  const xi = <usize>xs * 4;
  for (let p = p0; p < p1; p++) {
    const b = p / c;
    const ch = p - b * c;
    const out = y + <usize>p * <usize>oh * <usize>ow * 4;
    const base = m + (<usize>ch * <usize>n * <usize>tpi + <usize>b * <usize>tpi) * 4;
    for (let ti = 0; ti < th; ti++) {
      for (let g = 0; g < tw4; g += 4) {
        const s = base + <usize>((ti * tw4 + g) * 4);
        // tmp[r][l] = sum_k A^T[r][k] m[k][l]
        for (let l = 0; l < 6; l++) {
          const e = s + <usize>l * xi;
          at4(v128.load(e), v128.load(e + 6 * xi), v128.load(e + 12 * xi), v128.load(e + 18 * xi), v128.load(e + 24 * xi), v128.load(e + 30 * xi),
            tmp + <usize>(l * 16), 96);
        }
        const col = g * 4;
        for (let r = 0; r < 4; r++) {
          const yy = 4 * ti + r;
          if (yy >= oh) break;
          const t = tmp + <usize>(r * 96);
          at4(v128.load(t), v128.load(t, 16), v128.load(t, 32), v128.load(t, 48), v128.load(t, 64), v128.load(t, 80), tmp + 384, 16);
          const y0 = v128.load(tmp, 384);
          const y1 = v128.load(tmp, 400);
          const y2 = v128.load(tmp, 416);
          const y3 = v128.load(tmp, 432);
          const o = out + (<usize>yy * <usize>ow + <usize>col) * 4;
          if (col + 16 <= ow) {
            v128.store(o, tcol(y0, y1, y2, y3, 0));
            v128.store(o, tcol(y0, y1, y2, y3, 1), 16);
            v128.store(o, tcol(y0, y1, y2, y3, 2), 32);
            v128.store(o, tcol(y0, y1, y2, y3, 3), 48);
          } else {
            // the right edge: tile q's entry s at column col + 4 q + s when that is < ow
            const t2 = tmp + 448;
            v128.store(t2, tcol(y0, y1, y2, y3, 0));
            v128.store(t2, tcol(y0, y1, y2, y3, 1), 16);
            v128.store(t2, tcol(y0, y1, y2, y3, 2), 32);
            v128.store(t2, tcol(y0, y1, y2, y3, 3), 48);
            copy(o, t2, ow - col);
          }
        }
      }
    }
  }
}

/** The adjoint of wino_out: m = A dy A^T per tile, with zeros for entries outside (oh, ow). */
export function wino_out_adj_f32(
  dy: usize, m: usize, scratch: usize, scratchStride: i32,
  n: i32, c: i32, oh: i32, ow: i32, th: i32, tw4: i32, xs: i32, task: i32, ntasks: i32,
): void {
  const planes = n * c;
  const p0 = partStart(planes, task, ntasks, 1);
  const p1 = partStart(planes, task + 1, ntasks, 1);
  const d = scratch + <usize>task * <usize>scratchStride;
  const tmp = d + 256;
  const edge = tmp + 384;
  const tpi = th * tw4;
  const xi = <usize>xs * 4;
  const z = f32x4.splat(0);
  for (let p = p0; p < p1; p++) {
    const b = p / c;
    const ch = p - b * c;
    const src = dy + <usize>p * <usize>oh * <usize>ow * 4;
    const base = m + (<usize>ch * <usize>n * <usize>tpi + <usize>b * <usize>tpi) * 4;
    for (let ti = 0; ti < th; ti++) {
      for (let g = 0; g < tw4; g += 4) {
        const col = g * 4;
        // d[r][s]: lane q = entry (r, s) of tile q
        for (let r = 0; r < 4; r++) {
          const yy = 4 * ti + r;
          const o = d + <usize>(r * 64);
          if (yy >= oh || col >= ow) {
            v128.store(o, z);
            v128.store(o, z, 16);
            v128.store(o, z, 32);
            v128.store(o, z, 48);
            continue;
          }
          let s = src + (<usize>yy * <usize>ow + <usize>col) * 4;
          if (col + 16 > ow) {
            zero(edge, 16);
            copy(edge, s, ow - col);
            s = edge;
          }
          const l0 = v128.load(s);
          const l1 = v128.load(s, 16);
          const l2 = v128.load(s, 32);
          const l3 = v128.load(s, 48);
          v128.store(o, tcol(l0, l1, l2, l3, 0));
          v128.store(o, tcol(l0, l1, l2, l3, 1), 16);
          v128.store(o, tcol(l0, l1, l2, l3, 2), 32);
          v128.store(o, tcol(l0, l1, l2, l3, 3), 48);
        }
        // tmp[k][s] = sum_r A^T[r][k] d[r][s]
        for (let s = 0; s < 4; s++) {
          const e = d + <usize>(s * 16);
          a6(v128.load(e), v128.load(e, 64), v128.load(e, 128), v128.load(e, 192), tmp + <usize>(s * 16), 64);
        }
        const dst = base + <usize>((ti * tw4 + g) * 4);
        for (let k = 0; k < 6; k++) {
          const t = tmp + <usize>(k * 64);
          a6(v128.load(t), v128.load(t, 16), v128.load(t, 32), v128.load(t, 48), dst + <usize>(6 * k) * xi, xi);
        }
      }
    }
  }
}
