/**
 * needle-ts for Node.js: the public surface (src/api.ts) with Node's backends set up at import:
 * `cpu`, and `wasm` with worker_threads, relaxed SIMD, synchronous memory reclamation and the
 * system BLAS through koffi (src/platform/node.ts). Import as `import * as nd from 'needle-ts'`;
 * bundlers targeting browsers get src/browser.ts instead (package.json "exports").
 */
import { nodePlatform } from './platform/node.js';
import { setupBackends } from './platform/setup.js';
import { loadCuda } from './platform/cuda.js';

await setupBackends(nodePlatform, process.env['NEEDLE_DEVICE'], async () => (await loadCuda()).backend);

export * from './api.js';
