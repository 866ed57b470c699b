/**
 * Entry point of a wasm-kernel Web Worker (bundled as needle-worker.js): the first message
 * carries the module, the shared memory and the control block; then it serves jobs.
 */
import { serveJobs, type WorkerInit } from './threads.js';

const scope = globalThis as unknown as { onmessage: ((e: MessageEvent<WorkerInit>) => void) | null };
scope.onmessage = (e) => {
  scope.onmessage = null;
  serveJobs(e.data);
};
