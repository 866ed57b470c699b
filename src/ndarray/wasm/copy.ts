/**
 * Copy kernels of the wasm backend: `compact` (the strided gather), `setitem` / `setitemScalar`
 * (the strided scatter), `gather` and `scatterAdd` along one axis.
 *
 * The strided copies share one plan: the layout is reduced to the fewest dims that describe it
 * (size-1 dims dropped, adjacent dims merged where both the source and the destination step
 * through them as one), then handed to a WebAssembly kernel that works on element bytes (1, 4 or
 * 8), not dtypes:
 * - `copy_strided`: row by row over the last dim; contiguous rows are block copies, stride-0
 *   (broadcast) rows splat one element, stride-2 rows of 4-byte elements shuffle, others loop;
 * - `copy_transpose`: when the source is contiguous along one dim and the destination along
 *   another (transposes, channel-last <-> channel-first permutes), square tiles of one cache line
 *   each way, transposed by SIMD 4x4 / 2x2 blocks through a staging block so that every source
 *   and destination line is read or written whole.
 * Layouts of more than 8 dims (after merging) or byte extents beyond 2^31 use the reference kernel.
 */
import type { AxisSpec, Backend, Dense, Strided } from '../backend.js';
import { cpuBackend } from '../cpu/index.js';
import { BYTES, WasmStorage } from './heap.js';
import { partsFor, ptrOf, type WasmRuntime } from './runtime.js';
import { STREAM_GRAIN } from './elementwise.js';

/** Most dims a strided copy kernel takes (after merging). */
export const MAX_COPY_RANK = 8;
/** Elements per thread below which a copy runs on one thread. */
const COPY_GRAIN = STREAM_GRAIN;
/** Index rows (gather) or element updates (scatterAdd) per thread below which one thread runs. */
const INDEX_GRAIN = 1 << 17;

/** A strided copy reduced to `rank` dims (element strides), in the loop order the kernel uses. */
export interface CopyPlan {
  shape: number[];
  src: number[];
  dst: number[];
  /** The last two dims transpose (source contiguous along rank-2, destination along rank-1). */
  transpose: boolean;
}

/**
 * Reduces a strided copy `dst[idx] = src[idx]` over `shape` to its simplest equivalent loop nest:
 * drops size-1 dims, merges dims that both sides step through as one, and moves a transposing
 * pair of dims (source contiguous along one, destination along the other) last. Returns null when there is nothing to copy.
 */
export function planCopy(shape: readonly number[], src: readonly number[], dst: readonly number[], es: number): CopyPlan | null {
  const n: number[] = [];
  const s: number[] = [];
  const d: number[] = [];
  for (let i = shape.length - 1; i >= 0; i--) {
    const len = shape[i]!;
    if (len === 0) return null;
    if (len === 1) continue;
    const k = n.length - 1;
    if (k >= 0 && src[i] === s[k]! * n[k]! && dst[i] === d[k]! * n[k]!) {
      n[k] = n[k]! * len;
    } else {
      n.push(len);
      s.push(src[i]!);
      d.push(dst[i]!);
    }
  }
  if (n.length === 0) return { shape: [1], src: [0], dst: [0], transpose: false };
  n.reverse();
  s.reverse();
  d.reverse();
  const L = n.length - 1;
  if (L >= 1 && !(s[L] === 1 && d[L] === 1)) {
    let q = -1;
    for (let i = L; i >= 0; i--) if (d[i] === 1) { q = i; break; }
    let p = -1;
    for (let i = L; i >= 0; i--) if (i !== q && s[i] === 1) { p = i; break; }
    const edge = es === 4 ? 4 : es === 8 ? 2 : 8;
    if (q >= 0 && p >= 0 && n[p]! >= edge && n[q]! >= 2) {
      const order: number[] = [];
      for (let i = 0; i <= L; i++) if (i !== p && i !== q) order.push(i);
      order.push(p, q);
      return { shape: order.map((i) => n[i]!), src: order.map((i) => s[i]!), dst: order.map((i) => d[i]!), transpose: true };
    }
  }
  return { shape: n, src: s, dst: d, transpose: false };
}

/** Whether every byte offset the kernel forms fits in an i32. */
function fitsI32(p: CopyPlan, es: number): boolean {
  let sx = 0;
  let dx = 0;
  for (let i = 0; i < p.shape.length; i++) {
    sx += Math.abs(p.src[i]!) * (p.shape[i]! - 1) * es + Math.abs(p.src[i]!) * es;
    dx += Math.abs(p.dst[i]!) * (p.shape[i]! - 1) * es + Math.abs(p.dst[i]!) * es;
  }
  return sx < 2 ** 31 && dx < 2 ** 31;
}

/** Row-major element strides of `shape`. */
function compactStridesOf(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = acc;
    acc *= shape[i]!;
  }
  return st;
}

/** The copy kernels; cases they do not cover run the reference kernels on the same memory. */
export function copyKernels(rt: WasmRuntime): Partial<Backend> {
  // layout block: shape[8], source strides[8], destination strides[8] (bytes), then a value cell
  const meta = rt.heap.scratch(128);
  // views through WasmStorage, which remakes them if a plain (unshared) memory grows
  const metaView = new WasmStorage('int32', 24, meta, rt.heap.memory);
  const cell = meta + 96;
  const cells = {
    float32: new WasmStorage('float32', 1, cell, rt.heap.memory),
    float64: new WasmStorage('float64', 1, cell, rt.heap.memory),
    int32: new WasmStorage('int32', 1, cell, rt.heap.memory),
    bool: new WasmStorage('bool', 1, cell, rt.heap.memory),
  };

  /** Runs the strided copy; false when the layout needs the reference kernel. */
  function run(shape: readonly number[], src: readonly number[], dst: readonly number[], sp: number, dp: number, es: number): boolean {
    const p = planCopy(shape, src, dst, es);
    if (p === null) return true;
    const rank = p.shape.length;
    if (rank > MAX_COPY_RANK || !fitsI32(p, es)) return false;
    let total = 1;
    const m32 = metaView.data;
    for (let i = 0; i < rank; i++) {
      m32[i] = p.shape[i]!;
      m32[8 + i] = p.src[i]! * es;
      m32[16 + i] = p.dst[i]! * es;
      total *= p.shape[i]!;
    }
    rt.run(p.transpose ? 'copy_transpose' : 'copy_strided', [meta, rank, sp, dp, es], partsFor(rt, total, COPY_GRAIN));
    return true;
  }

  return {
    compact(src: Strided, out: Dense) {
      const es = BYTES[src.storage.dtype];
      if (!run(src.shape, src.strides, compactStridesOf(src.shape), ptrOf(src), ptrOf(out), es)) cpuBackend.compact(src, out);
    },
    setitem(dst: Strided, src: Dense) {
      const es = BYTES[dst.storage.dtype];
      if (!run(dst.shape, compactStridesOf(dst.shape), dst.strides, ptrOf(src), ptrOf(dst), es)) cpuBackend.setitem(dst, src);
    },
    setitemScalar(dst: Strided, value: number) {
      const dt = dst.storage.dtype;
      // the conversion a typed-array store makes, as the reference's
      cells[dt].data[0] = value;
      const zeros = dst.shape.map(() => 0);
      if (!run(dst.shape, zeros, dst.strides, cell, ptrOf(dst), BYTES[dt])) cpuBackend.setitemScalar(dst, value);
    },
    gather(src: Dense, index: Dense, out: Dense, sp: AxisSpec) {
      const es = BYTES[src.storage.dtype];
      const rows = sp.outer * sp.idxDim;
      rt.run('gather_axis', [ptrOf(src), ptrOf(index), ptrOf(out), sp.outer, sp.inner, sp.dim, sp.idxDim, es],
        partsFor(rt, rows * sp.inner, INDEX_GRAIN));
    },
    scatterAdd(out: Dense, index: Dense, src: Dense, sp: AxisSpec) {
      const dt = out.storage.dtype;
      if (dt === 'bool') {
        cpuBackend.scatterAdd(out, index, src, sp);
        return;
      }
      const k = dt === 'float32' ? 'scatter_add_f32' : dt === 'float64' ? 'scatter_add_f64' : 'scatter_add_i32';
      const n = sp.outer * sp.idxDim * sp.inner;
      // threads over slabs (outer) or columns (inner); one slab of one column stays sequential
      const split = sp.outer >= 2 ? sp.outer : Math.floor(sp.inner / 16);
      const parts = Math.min(partsFor(rt, n, INDEX_GRAIN), Math.max(1, split));
      rt.run(k, [ptrOf(out), ptrOf(index), ptrOf(src), sp.outer, sp.inner, sp.dim, sp.idxDim], parts);
    },
  };
}
