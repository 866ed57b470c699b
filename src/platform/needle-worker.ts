/**
 * The browser's kernel-worker entry, at the path src/platform/browser.ts spawns it from:
 * `new URL('./needle-worker.js', import.meta.url)` resolves next to the importing module, which is
 * dist/platform/ for the tsc build and dist/browser/ for the esbuild bundle (needle.js and
 * needle-worker.js side by side; tools/build_browser.mjs writes both).
 */
import '../ndarray/wasm/worker_browser.js';
