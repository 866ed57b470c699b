/**
 * `nd.cuda`: the cuda backend's public helpers. Browser-safe (imports no Node module and not
 * koffi): where there is no cuda backend they report it unavailable and do nothing.
 *
 * @example
 * if (nd.cuda.isAvailable()) {
 *   const x = nd.randn([1024, 1024]).to('cuda');
 *   const y = x.matmul(x);
 *   console.log(nd.cuda.memoryStats().allocatedBytes);
 *   nd.cuda.dispose(x, y); // frees the device memory now; using x or y afterwards throws
 * } else {
 *   console.log(nd.cuda.unavailableReason());
 * }
 */
import type { Storage } from '../backend.js';
import type { CudaMemoryStats } from './allocator.js';
import type { CudaDeviceInfo } from './runtime.js';
import { cudaHandle, cudaReason } from './state.js';

export type { CudaMemoryStats } from './allocator.js';
export type { CudaDeviceInfo } from './runtime.js';

/** True when the `cuda` device is registered and usable. */
export function isAvailable(): boolean {
  return cudaHandle() !== null;
}

/** Why cuda is unavailable ('' when it is available): names the missing library or the failing call. */
export function unavailableReason(): string {
  return cudaReason();
}

/** The device, driver, NVRTC and cuBLAS in use (null when unavailable). */
export function deviceInfo(): CudaDeviceInfo | null {
  return cudaHandle()?.describe() ?? null;
}

const ZERO: CudaMemoryStats = {
  allocatedBytes: 0, peakAllocatedBytes: 0, cachedBytes: 0, reservedBytes: 0,
  deviceAllocs: 0, deviceFrees: 0, cacheHits: 0, collections: 0, liveBlocks: 0,
};

/** The caching allocator's statistics (zeros when unavailable). */
export function memoryStats(): CudaMemoryStats {
  return cudaHandle()?.stats() ?? { ...ZERO };
}

/** Returns the allocator's cached free blocks to the driver (torch.cuda.empty_cache). */
export function emptyCache(): void {
  cudaHandle()?.emptyCache();
}

/** Waits until every queued kernel and copy has finished (torch.cuda.synchronize). */
export function synchronize(): void {
  cudaHandle()?.synchronize();
}

/**
 * Runs a garbage collection now and returns the device memory of every unreachable tensor to the
 * cache (Node, where a forced collection is available; elsewhere memory comes back when the
 * engine runs its finalizers).
 */
export function collect(): void {
  cudaHandle()?.collect();
}

/** Lets float32 matmul use TF32 tensor cores (torch.backends.cuda.matmul.allow_tf32; default false). */
export function setAllowTF32(on: boolean): void {
  cudaHandle()?.setAllowTF32(on);
}

/** Launch and compile counters (for benchmarks and tests). */
export function counters(): { launches: number; kernels: number; compiled: number; compileMs: number } {
  return cudaHandle()?.counters() ?? { launches: 0, kernels: 0, compiled: 0, compileMs: 0 };
}

interface HasStorage {
  storage: Storage;
  backend: { free(s: Storage): void };
}
type Disposable = { array: HasStorage } | HasStorage | null | undefined | Iterable<unknown>;

function storageOf(x: unknown): HasStorage | null {
  if (x === null || typeof x !== 'object') return null;
  const o = x as Partial<HasStorage> & { array?: unknown };
  if (o.storage && o.backend && typeof o.backend.free === 'function') return o as HasStorage;
  if (o.array) return storageOf(o.array);
  return null;
}

/**
 * Frees the device memory of tensors (or NDArrays) now, instead of when they are garbage
 * collected. Views share their base's memory: disposing any of them frees it for all, and using
 * a disposed tensor throws a DeviceError. Tensors of other devices, null and undefined are
 * ignored; arrays and other iterables are walked.
 */
export function dispose(...xs: Disposable[]): void {
  const walk = (x: unknown): void => {
    const s = storageOf(x);
    if (s) {
      if (s.storage.device === 'cuda') s.backend.free(s.storage);
      return;
    }
    if (x !== null && typeof x === 'object' && Symbol.iterator in x && typeof x !== 'string') {
      for (const y of x as Iterable<unknown>) walk(y);
    }
  };
  for (const x of xs) walk(x);
}

/** A summary for nd.info(). */
export function info(): { available: boolean; reason: string; device: CudaDeviceInfo | null; memory: CudaMemoryStats } {
  return { available: isAvailable(), reason: unavailableReason(), device: deviceInfo(), memory: memoryStats() };
}
