/**
 * The wasm backend's window kernels (assembly/conv.ts): im2col for 4- and 8-byte elements (threads
 * split the (plane, kernel offset) blocks of the columns) and col2im for float32 / float64
 * (threads split the planes; one thread while the system BLAS does the matmuls, see below). Other dtypes, and layouts whose byte extents do not fit an i32, run
 * the reference kernels (cpu/conv.ts) on the same memory.
 */
import type { Backend, Dense, Im2colSpec } from '../backend.js';
import { cpuWindows, type WindowMember } from '../cpu/conv.js';
import { BYTES } from './heap.js';
import { partsFor, ptrOf, type WasmRuntime } from './runtime.js';
import { STREAM_GRAIN } from './elementwise.js';
import { getMatmulPath } from './matmul.js';

/** The kernel's arguments after the two pointers. */
const geometry = (s: Im2colSpec): number[] => [s.planes, s.h, s.w, s.oh, s.ow, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw, s.ph, s.pw];

/** Whether the image and the columns span less than 2^31 bytes (the kernels' i32 offsets). */
function fits(s: Im2colSpec, es: number): boolean {
  const cols = s.planes * s.kh * s.kw * s.oh * s.ow * es;
  const img = s.planes * s.h * s.w * es;
  return cols < 2 ** 31 && img < 2 ** 31 && s.h * s.w * es < 2 ** 31;
}

export function windowKernels(rt: WasmRuntime): Pick<Required<Backend>, WindowMember> {
  /**
   * One thread while the system BLAS runs the matmuls: convolution interleaves these kernels with
   * GEMM calls, between which the BLAS's own threads keep spinning, and a second kernel thread
   * would fight them for the cores (measured on 2 cores: the issue-#5 conv2d took 87 ms with two
   * kernel threads, 48 ms with one).
   */
  const serial = (): boolean => rt.blas !== null && getMatmulPath() !== 'wasm';
  return {
    im2col(img: Dense, out: Dense, s: Im2colSpec) {
      const es = BYTES[img.storage.dtype];
      if ((es !== 4 && es !== 8) || !fits(s, es)) return cpuWindows.im2col(img, out, s);
      const units = s.planes * s.kh * s.kw;
      const parts = serial() ? 1 : Math.min(units, partsFor(rt, units * s.oh * s.ow, STREAM_GRAIN));
      rt.run(es === 4 ? 'im2col_b32' : 'im2col_b64', [ptrOf(img), ptrOf(out), ...geometry(s)], parts);
    },
    col2im(cols: Dense, out: Dense, s: Im2colSpec) {
      const dt = cols.storage.dtype;
      if ((dt !== 'float32' && dt !== 'float64') || !fits(s, BYTES[dt])) return cpuWindows.col2im(cols, out, s);
      const parts = serial() ? 1 : Math.min(s.planes, partsFor(rt, s.planes * s.kh * s.kw * s.oh * s.ow, STREAM_GRAIN));
      rt.run(dt === 'float32' ? 'col2im_f32' : 'col2im_f64', [ptrOf(cols), ptrOf(out), ...geometry(s)], parts);
    },
  };
}
