/**
 * The `wasm` backend: tensors live in one shared WebAssembly memory; kernels are WebAssembly SIMD
 * (compiled from assembly/*.ts by AssemblyScript) and split over worker threads. Every member of
 * the Backend contract is implemented: the kernel files below override the reference (cpu)
 * kernels, which run on the same memory through typed-array views wherever a dtype or case has no
 * WebAssembly kernel, so results always follow the reference semantics.
 */
import type { Backend } from '../backend.js';
import { cpuBackend } from '../cpu/index.js';
import { WasmStorage } from './heap.js';
import { WasmRuntime, type WasmPlatform } from './runtime.js';
import { elementwiseKernels } from './elementwise.js';
import { copyKernels } from './copy.js';
import { reduceKernels } from './reduce.js';
import { matmulKernels } from './matmul.js';
import { fusedKernels } from './fused.js';
import { windowKernels } from './conv.js';

export { WasmRuntime, type WasmPlatform, type Blas } from './runtime.js';
export { WasmStorage } from './heap.js';

/** Creates the wasm backend and its runtime. */
export function createWasmBackend(platform: WasmPlatform = {}): { backend: Backend; runtime: WasmRuntime } {
  const rt = new WasmRuntime(platform);
  const backend: Backend = {
    ...cpuBackend,
    ...elementwiseKernels(rt),
    ...copyKernels(rt),
    ...reduceKernels(rt),
    ...matmulKernels(rt),
    ...fusedKernels(rt),
    ...windowKernels(rt),
    name: 'wasm',
    allocate: (dtype, length) => rt.heap.allocate(dtype, length),
    free: (s) => {
      if (s instanceof WasmStorage) rt.heap.free(s);
    },
  };
  return { backend, runtime: rt };
}
