// Sliding windows over 2-D images: im2col (the gather) and col2im (its adjoint, the scatter-add),
// the optional Backend members im2col / col2im (src/ndarray/wasm/conv.ts calls them; 1-D windows
// run as 2-D windows over images of one row). Layouts, compact, in elements:
//   image  img[p][r][c]          (planes, h, w)
//   cols   cols[p][i][j][y][x]   (planes, kh, kw, oh, ow)
// with cols[p][i][j][y][x] = img[p][y * sh + i * dh - ph][x * sw + j * dw - pw], or 0 where that
// position lies in the zero padding (outside the image).
//
// im2col moves bits (u32 / u64 lanes), so one kernel serves float32 and int32, another float64;
// threads split the (p, i, j) blocks of the output. col2im adds (f32 / f64): threads split the
// planes, each plane of the output is zeroed and then receives the kernel offsets (i, j) in
// ascending order, so every element is 0 + c_0 + c_1 + ... in the order of the reference
// (src/ndarray/cpu/conv.ts) and the results are bitwise equal.
import { copyBytes, partStart } from './common';

/** The first window position x >= 0 with x * s + off >= 0, at most n. */
// @ts-ignore: decorator
@inline function lowPos(off: i32, s: i32, n: i32): i32 {
  if (off >= 0) return 0;
  const v = (s - off - 1) / s;
  return v < n ? v : n;
}

/** One past the last window position x < n with x * s + off < size, at least lo. */
// @ts-ignore: decorator
@inline function highPos(off: i32, s: i32, size: i32, n: i32, lo: i32): i32 {
  const last = size - 1 - off;
  if (last < 0) return lo;
  const v = last / s + 1;
  return v < lo ? lo : v > n ? n : v;
}

/** `bytes` (a multiple of 4) zero bytes at d. */
// @ts-ignore: decorator
@inline function zeroBytes(d: usize, bytes: i32): void {
  const z = i32x4.splat(0);
  let b = 0;
  for (; b + 16 <= bytes; b += 16) v128.store(d + <usize>b, z);
  for (; b < bytes; b += 4) store<u32>(d + <usize>b, 0);
}

// @ts-ignore: decorator
@inline function im2colImpl<T>(
  img: usize, cols: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, dh: i32, dw: i32, ph: i32, pw: i32, task: i32, ntasks: i32,
): void {
  const es = <i32>sizeof<T>();
  const kk = kh * kw;
  const units = planes * kk;
  const u0 = partStart(units, task, ntasks, 1);
  const u1 = partStart(units, task + 1, ntasks, 1);
  const rowBytes = ow * es;
  const blockBytes = <usize>oh * <usize>rowBytes;
  const planeBytes = <usize>h * <usize>w * <usize>es;
  for (let u = u0; u < u1; u++) {
    const p = u / kk;
    const r = u - p * kk;
    const i = r / kw;
    const j = r - i * kw;
    const src = img + <usize>p * planeBytes;
    const dst = cols + <usize>u * blockBytes;
    const offY = i * dh - ph;
    const offX = j * dw - pw;
    const ylo = lowPos(offY, sh, oh);
    const yhi = highPos(offY, sh, h, oh, ylo);
    const xlo = lowPos(offX, sw, ow);
    const xhi = highPos(offX, sw, w, ow, xlo);
    const run = xhi - xlo;
    zeroBytes(dst, ylo * rowBytes);
    for (let y = ylo; y < yhi; y++) {
      const row = dst + <usize>y * <usize>rowBytes;
      const iy = y * sh + offY;
      if (xlo > 0) zeroBytes(row, xlo * es);
      if (xhi < ow) zeroBytes(row + <usize>(xhi * es), (ow - xhi) * es);
      const s = src + (<usize>iy * <usize>w + <usize>(xlo * sw + offX)) * <usize>es;
      const d = row + <usize>(xlo * es);
      if (sw == 1) {
        copyBytes(d, s, run * es);
      } else {
        const step = <usize>(sw * es);
        for (let x = 0; x < run; x++) store<T>(d + <usize>(x * es), load<T>(s + <usize>x * step));
      }
    }
    zeroBytes(dst + <usize>yhi * <usize>rowBytes, (oh - yhi) * rowBytes);
  }
}

/** im2col of 4-byte elements (float32, int32). */
export function im2col_b32(
  img: usize, cols: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, dh: i32, dw: i32, ph: i32, pw: i32, task: i32, ntasks: i32,
): void {
  im2colImpl<u32>(img, cols, planes, h, w, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw, task, ntasks);
}

/** im2col of 8-byte elements (float64). */
export function im2col_b64(
  img: usize, cols: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, dh: i32, dw: i32, ph: i32, pw: i32, task: i32, ntasks: i32,
): void {
  im2colImpl<u64>(img, cols, planes, h, w, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw, task, ntasks);
}

/** d[k] += s[k] for `n` contiguous elements of T (f32 or f64). */
// @ts-ignore: decorator
@inline function addRun<T>(d: usize, s: usize, n: i32): void {
  const es = <i32>sizeof<T>();
  const bytes = n * es;
  let b = 0;
  if (es == 4) {
    for (; b + 32 <= bytes; b += 32) {
      const a0 = f32x4.add(v128.load(d + <usize>b), v128.load(s + <usize>b));
      const a1 = f32x4.add(v128.load(d + <usize>b, 16), v128.load(s + <usize>b, 16));
      v128.store(d + <usize>b, a0);
      v128.store(d + <usize>b, a1, 16);
    }
    if (b + 16 <= bytes) {
      v128.store(d + <usize>b, f32x4.add(v128.load(d + <usize>b), v128.load(s + <usize>b)));
      b += 16;
    }
  } else {
    for (; b + 32 <= bytes; b += 32) {
      const a0 = f64x2.add(v128.load(d + <usize>b), v128.load(s + <usize>b));
      const a1 = f64x2.add(v128.load(d + <usize>b, 16), v128.load(s + <usize>b, 16));
      v128.store(d + <usize>b, a0);
      v128.store(d + <usize>b, a1, 16);
    }
    if (b + 16 <= bytes) {
      v128.store(d + <usize>b, f64x2.add(v128.load(d + <usize>b), v128.load(s + <usize>b)));
      b += 16;
    }
  }
  for (; b < bytes; b += es) store<T>(d + <usize>b, load<T>(d + <usize>b) + load<T>(s + <usize>b));
}

// @ts-ignore: decorator
@inline function col2imImpl<T>(
  cols: usize, img: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, dh: i32, dw: i32, ph: i32, pw: i32, task: i32, ntasks: i32,
): void {
  const es = <i32>sizeof<T>();
  const p0 = partStart(planes, task, ntasks, 1);
  const p1 = partStart(planes, task + 1, ntasks, 1);
  const kk = kh * kw;
  const blockBytes = <usize>oh * <usize>ow * <usize>es;
  const planeBytes = <usize>h * <usize>w * <usize>es;
  for (let p = p0; p < p1; p++) {
    const dst = img + <usize>p * planeBytes;
    zeroBytes(dst, <i32>planeBytes);
    for (let r = 0; r < kk; r++) {
      const i = r / kw;
      const j = r - i * kw;
      const src = cols + (<usize>p * <usize>kk + <usize>r) * blockBytes;
      const offY = i * dh - ph;
      const offX = j * dw - pw;
      const ylo = lowPos(offY, sh, oh);
      const yhi = highPos(offY, sh, h, oh, ylo);
      const xlo = lowPos(offX, sw, ow);
      const xhi = highPos(offX, sw, w, ow, xlo);
      const run = xhi - xlo;
      if (run <= 0) continue;
      for (let y = ylo; y < yhi; y++) {
        const iy = y * sh + offY;
        const s = src + (<usize>y * <usize>ow + <usize>xlo) * <usize>es;
        const d = dst + (<usize>iy * <usize>w + <usize>(xlo * sw + offX)) * <usize>es;
        if (sw == 1) {
          addRun<T>(d, s, run);
        } else {
          const step = <usize>(sw * es);
          for (let x = 0; x < run; x++) {
            const q = d + <usize>x * step;
            store<T>(q, load<T>(q) + load<T>(s + <usize>(x * es)));
          }
        }
      }
    }
  }
}

/** col2im of float32. */
export function col2im_f32(
  cols: usize, img: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, dh: i32, dw: i32, ph: i32, pw: i32, task: i32, ntasks: i32,
): void {
  col2imImpl<f32>(cols, img, planes, h, w, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw, task, ntasks);
}

/** col2im of float64. */
export function col2im_f64(
  cols: usize, img: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, dh: i32, dw: i32, ph: i32, pw: i32, task: i32, ntasks: i32,
): void {
  col2imImpl<f64>(cols, img, planes, h, w, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw, task, ntasks);
}
