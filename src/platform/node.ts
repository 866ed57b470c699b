/**
 * Node.js services for the wasm backend (imported dynamically by src/platform/setup.ts only when
 * running in Node, so browser bundles never see it):
 * - V8 flags set at start-up: relaxed SIMD (fused multiply-add in the kernels), a callable `gc`
 *   and FinalizationRegistry#cleanupSome, so dead tensors' WebAssembly memory is reclaimed
 *   synchronously under memory pressure (see ndarray/wasm/heap.ts);
 * - worker_threads for the kernel threads (unref'd: they never keep a process alive);
 * - the system BLAS through koffi (src/platform/blas.ts).
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import type { WasmPlatform } from '../ndarray/wasm/runtime.js';
import type { WorkerInit } from '../ndarray/wasm/threads.js';
import { cores, loadBlas } from './blas.js';

function setFlag(flag: string): void {
  try {
    v8.setFlagsFromString(flag);
  } catch {
    // an engine that refuses late flags: the features stay off and are detected as such
  }
}

/** Threads from NEEDLE_THREADS, else the cores this process may use (at most 8). */
export function threadCount(env: NodeJS.ProcessEnv = process.env): number {
  const v = env['NEEDLE_THREADS'];
  if (v !== undefined && v !== '') {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new RangeError(`NEEDLE_THREADS: expected an integer in [1, 64], got ${JSON.stringify(v)}`);
    return n;
  }
  return Math.min(8, cores());
}

/** The Node platform of the wasm backend. */
export async function nodePlatform(): Promise<WasmPlatform> {
  setFlag('--experimental-wasm-relaxed-simd');
  setFlag('--expose-gc');
  setFlag('--harmony-weak-refs-with-cleanup-some');
  let gc: (() => void) | undefined;
  let FR: typeof FinalizationRegistry | undefined;
  try {
    const g = vm.runInNewContext('typeof gc === "function" ? gc : undefined') as (() => void) | undefined;
    const fr = vm.runInNewContext('FinalizationRegistry') as typeof FinalizationRegistry;
    if (g && typeof (fr.prototype as { cleanupSome?: unknown }).cleanupSome === 'function') {
      gc = g;
      FR = fr;
    }
  } catch {
    // no synchronous reclamation: the registry's callbacks free memory when the engine runs them
  }
  const workerUrl = new URL('../ndarray/wasm/worker.js', import.meta.url);
  const spawn = (init: WorkerInit) => {
    // no execArgv: the workers only run kernels, and flags such as --input-type are refused in workers
    const w = new Worker(workerUrl, { workerData: init, execArgv: [] });
    w.unref();
    return { terminate: () => void w.terminate() };
  };
  const { blas, note } = await loadBlas();
  const scale = Number(process.env['NEEDLE_GRAIN_SCALE'] ?? '1');
  const grainScale = Number.isFinite(scale) && scale > 0 ? scale : 1;
  return { ...(gc ? { gc } : {}), ...(FR ? { FinalizationRegistry: FR } : {}), spawn, threads: threadCount(), blas, blasNote: note, grainScale, cores: cores() };
}
