/**
 * Reduction kernels of the wasm backend (assembly/reduce.ts): sum, max, min, prod, argmax, argmin
 * over the rows of a compact (outer, size) float32 or float64 array (`reduce`), and the same ops
 * over the middle axis of a compact (outer, size, inner) one (`reduceAxis`; argmax/argmin with
 * inner = 1 take the row kernels). int32 and bool inputs, an empty axis, and output dtypes the op
 * layer never makes (other than the input's, or int32 for arg*) use the reference kernels.
 *
 * Precision: like the reference, sums and products accumulate in float64 (float32 inputs promoted,
 * the result rounded to float32 once), but over SIMD lanes and several accumulators rather than
 * one sequential chain; rows shorter than 16 use the reference's sequential loops exactly. max/min
 * and the arg reductions are exact, NaN and tie rules included (arg*: the first NaN's index, else
 * the first extreme's; -0 and +0 tie). reduceAxis follows the reference's order r = 0, 1, ... per
 * column, so all of its results, sums included, are the reference's bit for bit.
 *
 * Threads: rows are split over threads; rows longer than the kernel's piece size (16384) are cut
 * into pieces reduced on any thread and folded in order, so a row's result never depends on the
 * thread count (a single huge row, `sum()` of everything, uses every thread). reduceAxis splits
 * units of (outer index, block of 8 columns) over threads, each column reduced by one thread.
 */
import type { Backend, Dense, ReduceOp } from '../backend.js';
import { cpuBackend } from '../cpu/index.js';
import { cpuStrided } from '../cpu/strided.js';
import type { WasmStorage } from './heap.js';
import { partsFor, ptrOf, type WasmRuntime } from './runtime.js';

/** Op codes of assembly/reduce.ts. */
const OP_CODE: { [K in ReduceOp]: number } = { sum: 0, max: 1, min: 2, prod: 3, argmax: 4, argmin: 5 };
/** Elements per thread below which a reduction runs on one thread. */
const REDUCE_GRAIN = 1 << 17;

/** The reduction kernels; cases they do not cover run the reference kernels on the same memory. */
export function reduceKernels(rt: WasmRuntime): Partial<Backend> {
  const chunk = rt.kernel('reduce_chunk')();
  /** Partial results of long rows: 16 bytes per piece, grown on demand. */
  let part: WasmStorage | null = null;

  function partials(pieces: number): number {
    if (part === null || part.length < pieces * 2) part = rt.heap.allocate('float64', Math.max(pieces * 2, 256));
    return part.ptr;
  }

  return {
    reduceAxis(op: ReduceOp, a: Dense, out: Dense, outer: number, size: number, inner: number) {
      const dt = a.storage.dtype;
      const isArg = op === 'argmax' || op === 'argmin';
      if ((dt !== 'float32' && dt !== 'float64') || out.storage.dtype !== (isArg ? 'int32' : dt) || size < 1) {
        cpuStrided.reduceAxis(op, a, out, outer, size, inner);
        return;
      }
      if (outer < 1 || inner < 1) return;
      // one column per row: the row kernels (same first-NaN / first-extreme rule, SIMD along rows)
      if (isArg && inner === 1) return reduce(op, a, out, outer, size);
      const parts = Math.min(partsFor(rt, outer * size * inner, REDUCE_GRAIN), outer * Math.ceil(inner / 8));
      rt.run(dt === 'float32' ? 'reduce_axis_f32' : 'reduce_axis_f64', [OP_CODE[op], ptrOf(a), ptrOf(out), outer, size, inner], parts);
    },

    reduce,
  };

  function reduce(op: ReduceOp, a: Dense, out: Dense, outer: number, size: number): void {
    const dt = a.storage.dtype;
    const isArg = op === 'argmax' || op === 'argmin';
    const od = out.storage.dtype;
    if ((dt !== 'float32' && dt !== 'float64') || od !== (isArg ? 'int32' : dt) || size < 1 || outer < 1) {
      cpuBackend.reduce(op, a, out, outer, size);
      return;
    }
    const code = OP_CODE[op];
    const f32 = dt === 'float32';
    const total = outer * size;
    if (size <= chunk) {
      const parts = Math.min(partsFor(rt, total, REDUCE_GRAIN), size < 16 ? Math.ceil(outer / 4) : outer);
      rt.run(f32 ? 'reduce_f32' : 'reduce_f64', [code, ptrOf(a), ptrOf(out), outer, size], parts);
      return;
    }
    const pieces = Math.ceil(size / chunk);
    const p = partials(outer * pieces);
    rt.run(f32 ? 'reduce_chunks_f32' : 'reduce_chunks_f64', [code, ptrOf(a), p, outer, size],
      Math.min(partsFor(rt, total, REDUCE_GRAIN), outer * pieces));
    rt.run('reduce_combine', [code, p, ptrOf(out), outer, pieces, f32 ? 1 : 0], partsFor(rt, outer * pieces, 1 << 16));
  }
}
