/**
 * Entry point of a wasm-kernel worker in Node (worker_threads): receives the module, the shared
 * memory and the control block as workerData, then serves jobs (see threads.ts). The browser's
 * worker entry is worker_browser.ts.
 */
import { workerData } from 'node:worker_threads';
import { serveJobs, type WorkerInit } from './threads.js';

serveJobs(workerData as WorkerInit);
