/**
 * Whether this process has a cuda backend, set once by src/platform/cuda.ts (Node only). Kept free
 * of imports beyond types so that the public helpers (public.ts) stay browser-safe.
 */
import type { Backend } from '../backend.js';
import type { CudaMemoryStats } from './allocator.js';
import type { CudaDeviceInfo } from './runtime.js';

/** What the public helpers need from a live runtime. */
export interface CudaHandle {
  readonly backend: Backend;
  describe(): CudaDeviceInfo;
  stats(): CudaMemoryStats;
  emptyCache(): void;
  synchronize(): void;
  collect(): void;
  setAllowTF32(on: boolean): void;
  /** Launches issued and kernels compiled so far. */
  counters(): { launches: number; kernels: number; compiled: number; compileMs: number };
}

let handle: CudaHandle | null = null;
let reason = 'cuda: not set up (the cuda backend exists only in Node.js, set up at import when an NVIDIA driver is found)';

/** Records the outcome of setting up cuda (called by src/platform/cuda.ts). */
export function setCudaState(h: CudaHandle | null, why: string): void {
  handle = h;
  reason = h ? '' : why;
}

export function cudaHandle(): CudaHandle | null {
  return handle;
}

export function cudaReason(): string {
  return reason;
}
