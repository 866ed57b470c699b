/**
 * The wasm backend's window kernels (assembly/conv.ts): im2col for 4- and 8-byte elements (threads
 * split the (plane, kernel offset) blocks of the columns) and col2im for float32 / float64
 * (threads split the planes), and the Winograd F(4x4, 3x3) tile transforms for float32
 * (assembly/winograd.ts; threads split the planes). Other dtypes, and layouts whose byte extents do not fit an i32, run
 * the reference kernels (cpu/conv.ts) on the same memory.
 */
import type { Backend, Dense, Im2colSpec, WinogradSpec } from '../backend.js';
import { cpuWindows, type WindowMember } from '../cpu/conv.js';
import { cpuWinograd } from '../cpu/winograd.js';
import { BYTES } from './heap.js';
import { partsFor, ptrOf, type WasmRuntime } from './runtime.js';
import { STREAM_GRAIN } from './elementwise.js';

/** The kernel's arguments after the two pointers. */
const geometry = (s: Im2colSpec): number[] => [s.planes, s.h, s.w, s.oh, s.ow, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw, s.ph, s.pw];

/** Whether the image and the columns span less than 2^31 bytes (the kernels' i32 offsets). */
function fits(s: Im2colSpec, es: number): boolean {
  const cols = s.planes * s.kh * s.kw * s.oh * s.ow * es;
  const img = s.planes * s.h * s.w * es;
  return cols < 2 ** 31 && img < 2 ** 31 && s.h * s.w * es < 2 ** 31;
}

/** The Winograd members of the Backend contract. */
export type WinogradMember = 'winogradInput' | 'winogradInputAdjoint' | 'winogradOutput' | 'winogradOutputAdjoint';

/** Whether a Winograd transform's image and tiles span less than 2^31 bytes. */
function fitsWinograd(s: WinogradSpec): boolean {
  return 36 * s.planeStride * 4 < 2 ** 31 && s.batch * s.channels * s.h * s.w * 4 < 2 ** 31;
}

export function windowKernels(rt: WasmRuntime): Pick<Required<Backend>, WindowMember | WinogradMember> {
  let scratch = 0;
  let scratchBytes = 0;
  /**
   * The Winograd kernels: float32 through assembly/winograd.ts (threads split the planes; each
   * task has its own scratch rows), other dtypes and oversized layouts through the reference.
   */
  const winograd = (kernel: string, member: WinogradMember, src: Dense, dst: Dense, s: WinogradSpec, padded: boolean): void => {
    if (src.storage.dtype !== 'float32' || dst.storage.dtype !== 'float32' || !fitsWinograd(s)) {
      cpuWinograd[member](src, dst, s);
      return;
    }
    const planes = s.batch * s.channels;
    const parts = Math.min(planes, partsFor(rt, planes * s.h * s.w * 4, STREAM_GRAIN));
    // per task: 8 ring rows + 6 rows of 4 * tw4 + 4 floats, and 1 KiB of tiles
    const stride = 14 * (4 * s.tw4 + 4) * 4 + 1024;
    const tasks = Math.max(parts, rt.pool.threads);
    if (scratchBytes < stride * tasks) {
      scratchBytes = Math.max(stride * tasks, 2 * scratchBytes);
      scratch = rt.heap.scratch(scratchBytes);
    }
    const geo = padded ? [s.batch, s.channels, s.h, s.w, s.ph, s.pw, s.th, s.tw4, s.planeStride] : [s.batch, s.channels, s.h, s.w, s.th, s.tw4, s.planeStride];
    rt.run(kernel, [ptrOf(src), ptrOf(dst), scratch, Math.floor(scratchBytes / tasks), ...geo], parts);
  };
  return {
    im2col(img: Dense, out: Dense, s: Im2colSpec) {
      const es = BYTES[img.storage.dtype];
      if ((es !== 4 && es !== 8) || !fits(s, es)) return cpuWindows.im2col(img, out, s);
      const units = s.planes * s.kh * s.kw;
      const parts = Math.min(units, partsFor(rt, units * s.oh * s.ow, STREAM_GRAIN));
      rt.run(es === 4 ? 'im2col_b32' : 'im2col_b64', [ptrOf(img), ptrOf(out), ...geometry(s)], parts);
    },
    col2im(cols: Dense, out: Dense, s: Im2colSpec) {
      const dt = cols.storage.dtype;
      if ((dt !== 'float32' && dt !== 'float64') || !fits(s, BYTES[dt])) return cpuWindows.col2im(cols, out, s);
      const parts = Math.min(s.planes, partsFor(rt, s.planes * s.kh * s.kw * s.oh * s.ow, STREAM_GRAIN));
      rt.run(dt === 'float32' ? 'col2im_f32' : 'col2im_f64', [ptrOf(cols), ptrOf(out), ...geometry(s)], parts);
    },
    winogradInput: (img, tiles, s) => winograd('wino_in_f32', 'winogradInput', img, tiles, s, true),
    winogradInputAdjoint: (tiles, img, s) => winograd('wino_in_adj_f32', 'winogradInputAdjoint', tiles, img, s, true),
    winogradOutput: (tiles, img, s) => winograd('wino_out_f32', 'winogradOutput', tiles, img, s, false),
    winogradOutputAdjoint: (img, tiles, s) => winograd('wino_out_adj_f32', 'winogradOutputAdjoint', img, tiles, s, false),
  };
}
