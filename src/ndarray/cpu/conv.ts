/**
 * Reference implementations of the optional window members of the Backend contract, im2col and
 * col2im ({@link Im2colSpec}), in plain TypeScript over host typed arrays. They define what the
 * fast kernels of other backends compute (assembly/conv.ts follows the same loops and summation
 * order, so float results are bitwise equal), and run wherever a dtype has no fast kernel.
 */
import type { Backend, Dense, Im2colSpec, Storage } from '../backend.js';
import type { AnyTypedArray } from '../dtype.js';
import { internal } from '../../errors.js';

function arr(s: Storage): AnyTypedArray {
  const data = (s as { data?: AnyTypedArray }).data;
  if (data === undefined) throw internal(`cpu window kernels got storage of device ${s.device} without host data`);
  return data;
}

/**
 * The window positions [lo, hi) of one offset: the x in [0, n) with 0 <= x * s + off < size
 * (hi = lo when there are none).
 */
export function windowRange(off: number, s: number, size: number, n: number): [number, number] {
  const lo = off >= 0 ? 0 : Math.min(n, Math.floor((s - off - 1) / s));
  const last = size - 1 - off;
  const hi = last < 0 ? lo : Math.max(lo, Math.min(n, Math.floor(last / s) + 1));
  return [lo, hi];
}

/** See Backend.im2col. */
function im2col(img: Dense, out: Dense, sp: Im2colSpec): void {
  const a = arr(img.storage);
  const o = arr(out.storage);
  const { planes, h, w, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw } = sp;
  const P = oh * ow;
  o.fill(0, out.offset, out.offset + planes * kh * kw * P);
  for (let p = 0; p < planes; p++) {
    const src = img.offset + p * h * w;
    for (let i = 0; i < kh; i++) {
      const [ylo, yhi] = windowRange(i * dh - ph, sh, h, oh);
      for (let j = 0; j < kw; j++) {
        const [xlo, xhi] = windowRange(j * dw - pw, sw, w, ow);
        const dst = out.offset + ((p * kh + i) * kw + j) * P;
        for (let y = ylo; y < yhi; y++) {
          const s = src + (y * sh + i * dh - ph) * w + j * dw - pw;
          const d = dst + y * ow;
          for (let x = xlo; x < xhi; x++) o[d + x] = a[s + x * sw]!;
        }
      }
    }
  }
}

/** See Backend.col2im. */
function col2im(cols: Dense, out: Dense, sp: Im2colSpec): void {
  const c = arr(cols.storage);
  const o = arr(out.storage);
  const { planes, h, w, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw } = sp;
  const P = oh * ow;
  o.fill(0, out.offset, out.offset + planes * h * w);
  for (let p = 0; p < planes; p++) {
    const dst = out.offset + p * h * w;
    for (let i = 0; i < kh; i++) {
      const [ylo, yhi] = windowRange(i * dh - ph, sh, h, oh);
      for (let j = 0; j < kw; j++) {
        const [xlo, xhi] = windowRange(j * dw - pw, sw, w, ow);
        const src = cols.offset + ((p * kh + i) * kw + j) * P;
        for (let y = ylo; y < yhi; y++) {
          const d = dst + (y * sh + i * dh - ph) * w + j * dw - pw;
          const s = src + y * ow;
          for (let x = xlo; x < xhi; x++) o[d + x * sw] += c[s + x]!;
        }
      }
    }
  }
}

/** The names of the optional window Backend members. */
export type WindowMember = 'im2col' | 'col2im';
export const WINDOW_MEMBERS: readonly WindowMember[] = ['im2col', 'col2im'];

/** The window members of the cpu backend. */
export const cpuWindows: Pick<Required<Backend>, WindowMember> = { im2col, col2im };
