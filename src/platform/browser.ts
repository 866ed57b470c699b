/**
 * Browser services for the wasm backend: kernel threads in module Web Workers when the page is
 * cross-origin isolated (COOP/COEP headers: SharedArrayBuffer and shared WebAssembly memory are
 * then allowed), one thread on a non-shared memory otherwise. No forced collection exists in
 * browsers: dead tensors' memory comes back when the engine runs the FinalizationRegistry.
 */
import type { WasmPlatform } from '../ndarray/wasm/runtime.js';
import type { WorkerInit } from '../ndarray/wasm/threads.js';

/** Whether this page may share memory between threads. */
export function crossOriginIsolated(): boolean {
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true && typeof SharedArrayBuffer !== 'undefined';
}

/** The browser platform of the wasm backend. */
export function browserPlatform(): WasmPlatform {
  if (!crossOriginIsolated() || typeof Worker === 'undefined') {
    return { sharedMemory: false, threads: 1, blasNote: 'no BLAS in browsers', heap: { maxPages: 16384 } };
  }
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  const spawn = (init: WorkerInit) => {
    // needle-worker.js sits next to this module: src/platform/needle-worker.ts in the tsc build,
    // the worker bundle next to needle.js in the esbuild one (tools/build_browser.mjs). Written
    // inline as `new Worker(new URL(..., import.meta.url), { type: 'module' })`, the pattern that
    // Vite and webpack recognise to bundle the worker of an app that imports needle-ts.
    const w = new Worker(new URL('./needle-worker.js', import.meta.url), { type: 'module' });
    w.postMessage(init);
    return { terminate: () => w.terminate() };
  };
  return { spawn, threads: Math.max(1, Math.min(8, cores)), cores, blasNote: 'no BLAS in browsers', heap: { maxPages: 16384 } };
}
