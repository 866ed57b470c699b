/**
 * Elementwise kernels of the wasm backend: fill, cast, unary, binary, binaryScalar, where.
 * Cases without a WebAssembly kernel fall back to the reference kernels on the same memory.
 */
import type { Backend } from '../backend.js';
import { cpuBackend } from '../cpu/index.js';
import { partsFor, ptrOf, type WasmRuntime } from './runtime.js';

/** Elements per thread below which splitting a streaming kernel costs more than it saves. */
export const STREAM_GRAIN = 1 << 16;

export function elementwiseKernels(rt: WasmRuntime): Partial<Backend> {
  return {
    fill(out, size, value) {
      const dt = out.storage.dtype;
      const k = dt === 'float32' ? 'fill_f32' : dt === 'float64' ? 'fill_f64' : dt === 'int32' ? 'fill_i32' : 'fill_u8';
      rt.run(k, [ptrOf(out), size, dt === 'bool' ? (value !== 0 ? 1 : 0) : value], partsFor(rt, size, STREAM_GRAIN));
    },
  };
}

export { cpuBackend as reference };
