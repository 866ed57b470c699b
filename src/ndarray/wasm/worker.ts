/**
 * Entry point of a wasm-kernel worker (Node worker_threads or a browser module Worker): receives
 * the module, the shared memory and the control block, then serves jobs (see threads.ts).
 */
import { serveJobs, type WorkerInit } from './threads.js';

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
if (isNode) {
  const { workerData } = await import('node:worker_threads');
  serveJobs(workerData as WorkerInit);
} else {
  (globalThis as unknown as { onmessage: (e: MessageEvent<WorkerInit>) => void }).onmessage = (e) => serveJobs(e.data);
}
