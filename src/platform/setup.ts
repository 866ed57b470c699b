/**
 * Backend set-up at import: the reference `cpu` backend always; the `wasm` backend wherever
 * WebAssembly SIMD with shared memory works, and then it becomes the default device
 * (NEEDLE_DEVICE=cpu in Node keeps the reference backend as the default).
 */
import { registerBackend, setDefaultDevice } from '../ndarray/backend.js';
import { cpuBackend } from '../ndarray/cpu/index.js';
import { createWasmBackend, type WasmPlatform, type WasmRuntime } from '../ndarray/wasm/index.js';

/** The wasm runtime once set up (null where WebAssembly SIMD or shared memory is missing). */
export let wasmRuntime: WasmRuntime | null = null;
/** Why the wasm backend is unavailable (empty when it is available). */
export let wasmUnavailable = '';

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

async function platform(): Promise<WasmPlatform> {
  if (isNode) {
    const { nodePlatform } = await import('./node.js');
    return nodePlatform();
  }
  return {};
}

/** Registers the backends and picks the default device. */
export async function setupBackends(): Promise<void> {
  registerBackend(cpuBackend);
  try {
    if (typeof SharedArrayBuffer === 'undefined') throw new Error('SharedArrayBuffer is unavailable (a page must be cross-origin isolated)');
    const { backend, runtime } = createWasmBackend(await platform());
    registerBackend(backend);
    wasmRuntime = runtime;
  } catch (e) {
    wasmUnavailable = (e as Error).message;
    return;
  }
  const env = isNode ? process.env['NEEDLE_DEVICE'] : undefined;
  setDefaultDevice(env !== undefined && env !== '' ? env : 'wasm');
}
