/**
 * `nd.info()`: what this process runs on — the devices, the default one, and for the wasm backend
 * its thread count, whether relaxed SIMD (fused multiply-add) is on, how memory is reclaimed, the
 * memory in use, and which matmul path is taken (a system BLAS through FFI, or WebAssembly).
 */
import { getConvAlgorithm, type ConvAlgorithm } from './ops/winograd.js';
import { getDefaultDevice, listDevices } from './ndarray/backend.js';
import { wasmRuntime, wasmUnavailable } from './platform/setup.js';
import { info as cudaInfo } from './ndarray/cuda/public.js';

/** The wasm backend's state (see {@link info}). */
export interface WasmInfo {
  available: boolean;
  /** Why it is unavailable (only when it is not). */
  reason?: string;
  /** Threads kernels are split over (main thread included). */
  threads: number;
  /** Worker threads that have started (they start asynchronously). */
  workersReady: number;
  /** Whether the kernels use relaxed SIMD (f32x4.relaxed_madd); plain mul + add otherwise. */
  relaxedSimd: boolean;
  /** Whether dead tensors' memory is reclaimed synchronously under pressure (Node). */
  syncReclaim: boolean;
  /** Matmul path: 'blas' (system BLAS through koffi) or 'wasm'. */
  matmul: 'blas' | 'wasm';
  /** The BLAS found, or why there is none. */
  blas: string;
  /** The float32 3x3 convolution setting (`nd.setConvAlgorithm`: 'auto' uses Winograd F(4x4, 3x3)). */
  conv: ConvAlgorithm;
  /** Bytes held by live tensors, bytes the heap spans, bytes of WebAssembly memory. */
  memory: { liveBytes: number; heapBytes: number; memoryBytes: number; collections: number };
}

/** What {@link info} returns. */
export interface Info {
  defaultDevice: string;
  devices: string[];
  wasm: WasmInfo;
  /** 'node', 'browser' or 'other'. */
  platform: 'node' | 'browser' | 'other';
  /** The CUDA backend: available, or why not (see docs/cuda.md). */
  cuda: ReturnType<typeof cudaInfo>;
}

/**
 * Describes the devices and backends of this process.
 *
 * @example
 * const i = nd.info();
 * console.log(i.defaultDevice, i.wasm.threads, i.wasm.relaxedSimd, i.wasm.blas);
 * // wasm 2 true OpenBLAS 0.3.21 ...
 */
export function info(): Info {
  const rt = wasmRuntime;
  const platform = typeof process !== 'undefined' && typeof process.versions?.node === 'string' ? 'node' : typeof window !== 'undefined' ? 'browser' : 'other';
  const wasm: WasmInfo = rt
    ? {
        available: true,
        threads: rt.pool.threads,
        workersReady: rt.pool.ready,
        relaxedSimd: rt.relaxed,
        syncReclaim: rt.heap.syncReclaim,
        matmul: rt.blas ? 'blas' : 'wasm',
        blas: rt.blasNote,
        conv: getConvAlgorithm(),
        memory: rt.heap.stats(),
      }
    : { available: false, reason: wasmUnavailable, threads: 0, workersReady: 0, relaxedSimd: false, syncReclaim: false, matmul: 'wasm', blas: 'no BLAS', conv: getConvAlgorithm(), memory: { liveBytes: 0, heapBytes: 0, memoryBytes: 0, collections: 0 } };
  return { defaultDevice: getDefaultDevice(), devices: listDevices(), wasm, platform, cuda: cudaInfo() };
}
