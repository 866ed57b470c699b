/**
 * needle-ts for browsers: the public surface (src/api.ts) with the browser's backends set up at
 * import: `cpu`, and `wasm` (threads in Web Workers when the page is cross-origin isolated, one
 * thread otherwise). No Node.js module is reachable from here (a test checks the bundle).
 */
import { browserPlatform } from './platform/browser.js';
import { setupBackends } from './platform/setup.js';

await setupBackends(browserPlatform);

export * from './api.js';
