/**
 * matmul of the wasm backend: float32 and float64 products run the blocked WebAssembly SIMD GEMM
 * of assembly/gemm.ts (packing absorbs transposes and batch strides; tasks split batches, or
 * blocks of C), or the system BLAS when the platform found one; int32 and bool run the reference
 * kernel.
 */
import type { Backend, Dense, MatmulSpec } from '../backend.js';
import { cpuBackend } from '../cpu/index.js';
import { ptrOf, type WasmRuntime } from './runtime.js';
import type { WasmStorage } from './heap.js';

/** Which implementation float matmuls use: the BLAS when present (`auto`), or always one of them. */
export type MatmulPath = 'auto' | 'wasm' | 'blas';

let path: MatmulPath = 'auto';

/**
 * Forces the implementation of float matmuls (tests, benchmarks). `blas` uses the system BLAS
 * where the runtime has one and the WebAssembly kernel otherwise, like `auto`. Returns the
 * previous setting. The environment variable NEEDLE_MATMUL (auto | wasm | blas) sets the initial
 * value in Node.
 */
export function setMatmulPath(p: MatmulPath): MatmulPath {
  if (p !== 'auto' && p !== 'wasm' && p !== 'blas') throw new RangeError(`setMatmulPath: expected 'auto', 'wasm' or 'blas', got ${JSON.stringify(p)}`);
  const prev = path;
  path = p;
  return prev;
}

let forcedTasks = 0;

/**
 * Forces the number of tasks the WebAssembly GEMM is split into (tests, benchmarks; at most 8, and
 * 1 while no worker is ready); 0 restores the automatic choice. Returns the previous setting.
 */
export function setMatmulTasks(tasks: number): number {
  if (!Number.isInteger(tasks) || tasks < 0) throw new RangeError(`setMatmulTasks: expected an integer >= 0, got ${tasks}`);
  const prev = forcedTasks;
  forcedTasks = tasks;
  return prev;
}

/** The current {@link MatmulPath}. */
export function getMatmulPath(): MatmulPath {
  return path;
}

{
  const env = typeof process !== 'undefined' ? process.env?.['NEEDLE_MATMUL'] : undefined;
  if (env === 'wasm' || env === 'blas' || env === 'auto') path = env;
}

/**
 * Multiply-adds (m * n * k summed over the batch) per task below which a product runs on one
 * thread: a split costs a dispatch (~1-2 us) and each task packs its own copy of the shared
 * operand. Measured with bench/gemm.ts.
 */
export const GEMM_GRAIN = 1 << 20;

/** Most tasks a product is split into (each needs its own packing buffers). */
const MAX_TASKS = 8;

/**
 * The wasm backend's `matmul`: float32 / float64 through the system BLAS when the runtime has one
 * (unless {@link setMatmulPath} forces `wasm`), else the WebAssembly GEMM split over up to
 * `rt.pool.threads` tasks ({@link GEMM_GRAIN} multiply-adds per task at least); int32 and bool
 * through the reference kernel.
 *
 * One task per thread, not two: threads take tasks as they come (see threads.ts), so a second
 * task per thread would let the others take over from a thread that starts late or shares its
 * core with another process, but each task packs the parts of A and B it needs. Measured with
 * bench/gemm.ts on the 2-core VM (interleaved runs, 2026-11-26), two tasks beat four: 1024^3
 * 115.5 against 113.6 GFLOP/s (and 113.9 against 110.1 in a slower phase of the machine), the
 * MLP's 100 x 784 x 100 ~158 against ~164 us. The two tasks of a 1024^3 product take a column
 * half each (each packs half of B; rowChunks in assembly/gemm.ts).
 */
export function matmulKernels(rt: WasmRuntime): Partial<Backend> {
  let scratch = 0;
  let stride = 0;
  let tasks = 0;
  /** Per-task packing buffers for `parts` tasks (allocated once, for all the pool's threads). */
  const buffers = (parts: number): number => {
    if (tasks < parts) {
      stride = rt.exports['gemm_scratch_bytes']!();
      tasks = Math.min(MAX_TASKS, Math.max(parts, rt.pool.threads));
      scratch = rt.heap.scratch(stride * tasks);
    }
    return scratch;
  };

  const blasGemm = (a: Dense, b: Dense, out: Dense, s: MatmulSpec, dtype: 'float32' | 'float64'): void => {
    const blas = rt.blas!;
    rt.pool.park();
    const A = (a.storage as WasmStorage).data as Float32Array | Float64Array;
    const B = (b.storage as WasmStorage).data as Float32Array | Float64Array;
    const C = (out.storage as WasmStorage).data as Float32Array | Float64Array;
    const { m, n, k } = s;
    const lda = s.transA ? m : k;
    const ldb = s.transB ? k : n;
    const aLen = m * k;
    const bLen = k * n;
    for (let t = 0; t < s.batch; t++) {
      const ao = a.offset + t * s.strideA;
      const bo = b.offset + t * s.strideB;
      const co = out.offset + t * m * n;
      const cv = C.subarray(co, co + m * n);
      if (k === 0) {
        cv.fill(0);
        continue;
      }
      blas.gemm(dtype, s.transA, s.transB, m, n, k, 1, A.subarray(ao, ao + aLen), lda, B.subarray(bo, bo + bLen), ldb, 0, cv, n);
    }
  };

  return {
    matmul(a: Dense, b: Dense, out: Dense, s: MatmulSpec): void {
      const dtype = out.storage.dtype;
      if (dtype !== 'float32' && dtype !== 'float64') {
        cpuBackend.matmul(a, b, out, s);
        return;
      }
      const { batch, m, n, k } = s;
      if (batch === 0 || m === 0 || n === 0) return;
      if (rt.blas && path !== 'wasm') {
        blasGemm(a, b, out, s, dtype);
        return;
      }
      const ars = s.transA ? 1 : k;
      const acs = s.transA ? m : 1;
      const brs = s.transB ? 1 : n;
      const bcs = s.transB ? k : 1;
      const work = batch * m * n * Math.max(k, 1);
      const threads = rt.pool.threads;
      let parts = Math.max(1, Math.min(threads, MAX_TASKS, Math.floor(work / Math.max(1, GEMM_GRAIN * rt.grainScale))));
      if (forcedTasks > 0) parts = Math.min(forcedTasks, MAX_TASKS);
      const buf = buffers(parts);
      rt.pool.run(dtype === 'float32' ? 'gemm_f32' : 'gemm_f64',
        [ptrOf(a), ptrOf(b), ptrOf(out), batch, m, n, k, ars, acs, brs, bcs, s.strideA, s.strideB, buf, stride], parts, MAX_TASKS);
    },
  };
}
