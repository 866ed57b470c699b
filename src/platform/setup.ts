/**
 * Backend set-up at import (called by the entry points src/index.ts and src/browser.ts): the
 * reference `cpu` backend always; the `wasm` backend wherever WebAssembly SIMD works, and then it
 * becomes the default device (NEEDLE_DEVICE=cpu in Node keeps the reference as the default).
 */
import { registerBackend, setDefaultDevice, type Backend } from '../ndarray/backend.js';
import { cpuBackend } from '../ndarray/cpu/index.js';
import { createWasmBackend, type WasmPlatform, type WasmRuntime } from '../ndarray/wasm/index.js';

/** The wasm runtime once set up (null where WebAssembly SIMD or shared memory is missing). */
export let wasmRuntime: WasmRuntime | null = null;
/** Why the wasm backend is unavailable (empty when it is available). */
export let wasmUnavailable = '';

/**
 * Registers the backends and picks the default device: `device` when given (NEEDLE_DEVICE in
 * Node), else wasm when it is available, else cpu. `platform` says what the host offers the wasm
 * backend (src/platform/node.ts, src/platform/browser.ts).
 */
export async function setupBackends(
  platform: () => WasmPlatform | Promise<WasmPlatform>,
  device?: string,
  /** Further backends (Node: cuda when a GPU and its libraries are found). */
  extra?: () => Promise<Backend | null>,
): Promise<void> {
  registerBackend(cpuBackend);
  try {
    if (typeof WebAssembly === 'undefined') throw new Error('WebAssembly is unavailable');
    const { backend, runtime } = createWasmBackend(await platform());
    registerBackend(backend);
    wasmRuntime = runtime;
  } catch (e) {
    wasmUnavailable = (e as Error).message;
  }
  if (extra) {
    const b = await extra();
    if (b) registerBackend(b);
  }
  if (device !== undefined && device !== '') setDefaultDevice(device);
  else if (wasmRuntime) setDefaultDevice('wasm');
}
