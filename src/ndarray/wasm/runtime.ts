/**
 * The wasm backend's runtime: the compiled kernel module (relaxed-SIMD build when the engine
 * validates it, plain SIMD otherwise), its instance on the main thread, the shared heap and the
 * thread pool. Kernel files (elementwise.ts, matmul.ts, ...) receive it and call kernels with
 * byte addresses from {@link ptrOf}.
 */
import { PLAIN_WASM, RELAXED_WASM } from './generated/kernels.js';
import { BYTES, WasmHeap, WasmStorage, type HeapOptions, type HeapPlatform } from './heap.js';
import { CONTROL_BYTES, ThreadPool, type SpawnWorker } from './threads.js';
import type { Dense } from '../backend.js';
import { disposedError, internal } from '../../errors.js';

/** A BLAS reached through FFI (Node): sgemm/dgemm on host typed arrays (views of the heap). */
export interface Blas {
  /** Library path it was loaded from. */
  readonly path: string;
  /** Row-major C = alpha * op(A) @ op(B) + beta * C (cblas_?gemm with CblasRowMajor). */
  gemm(
    dtype: 'float32' | 'float64',
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Float32Array | Float64Array, lda: number,
    b: Float32Array | Float64Array, ldb: number,
    beta: number, c: Float32Array | Float64Array, ldc: number,
  ): void;
  /** Threads the BLAS uses. */
  readonly threads: number;
}

/** What a host platform offers the wasm backend (Node: src/platform/node.ts). */
export interface WasmPlatform extends HeapPlatform {
  /** Starts a kernel worker; absent: one thread. */
  spawn?: SpawnWorker;
  /** Threads to use (main thread included). */
  threads?: number;
  /** Cores available (threads beyond them do not spin while waiting). */
  cores?: number;
  /**
   * Multiplies every kernel's per-thread grain (the work below which it runs on one thread);
   * default 1. Tests use a tiny scale to send small inputs through the threaded paths.
   */
  grainScale?: number;
  /** A system BLAS for matmul. */
  blas?: Blas | null;
  /** Why there is no BLAS (for nd.info()). */
  blasNote?: string;
  heap?: HeapOptions;
  /**
   * Whether the memory is shared (default true). A page that is not cross-origin isolated cannot
   * share memory: the module is then instantiated on a plain memory, with one thread.
   */
  sharedMemory?: boolean;
}

/**
 * The module with its memory import changed from shared to unshared (limits flag 0x03 -> 0x01),
 * for engines or pages where shared memory is not allowed. The kernels use no atomics, so
 * nothing else depends on the memory being shared.
 */
export function unshareMemoryImport(bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const out = bytes.slice();
  let p = 8;
  const leb = (): number => {
    let r = 0;
    let shift = 0;
    for (;;) {
      const b = out[p++]!;
      r |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return r >>> 0;
      shift += 7;
    }
  };
  while (p < out.length) {
    const id = out[p++]!;
    const size = leb();
    const end = p + size;
    if (id === 2) {
      const count = leb();
      for (let i = 0; i < count; i++) {
        const moduleName = leb(); // (read first: `p += leb()` would add to the old p)
        p += moduleName;
        const fieldName = leb();
        p += fieldName;
        const kind = out[p++]!;
        if (kind === 0) leb();
        else if (kind === 1) { p++; const f = out[p++]!; leb(); if (f & 1) leb(); }
        else if (kind === 2) {
          const flag = out[p]!;
          if (flag === 0x03) out[p] = 0x01;
          else if (flag === 0x02) out[p] = 0x00;
          return out;
        } else { p++; p++; }
      }
    }
    p = end;
  }
  throw internal('the kernel module has no memory import');
}

function decode(b64: string): Uint8Array<ArrayBuffer> {
  if (typeof atob === 'function') {
    const s = atob(b64);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  throw internal('no base64 decoder (atob) on this platform');
}

/** Kernel function as exported by the module. */
export type Kernel = (...args: number[]) => number;

/** The runtime: memory, kernels, threads. */
export class WasmRuntime {
  readonly heap: WasmHeap;
  readonly module: WebAssembly.Module;
  readonly exports: Record<string, Kernel>;
  readonly pool: ThreadPool;
  readonly relaxed: boolean;
  readonly blas: Blas | null;
  readonly blasNote: string;
  /** See {@link WasmPlatform.grainScale}. */
  readonly grainScale: number;

  constructor(platform: WasmPlatform = {}) {
    const shared = platform.sharedMemory !== false;
    const prep = (b: Uint8Array<ArrayBuffer>) => (shared ? b : unshareMemoryImport(b));
    const relaxedBytes = prep(decode(RELAXED_WASM));
    this.relaxed = WebAssembly.validate(relaxedBytes);
    this.module = new WebAssembly.Module(this.relaxed ? relaxedBytes : prep(decode(PLAIN_WASM)));
    this.heap = new WasmHeap(platform, { ...(platform.heap ?? {}), shared });
    const instance = new WebAssembly.Instance(this.module, {
      env: { memory: this.heap.memory, abort: () => { throw internal('wasm kernel aborted'); } },
    });
    this.exports = instance.exports as unknown as Record<string, Kernel>;
    const control = this.heap.scratch(CONTROL_BYTES);
    this.pool = new ThreadPool(this.exports, this.heap.memory, control, shared ? platform.threads ?? 1 : 1, this.module, shared ? platform.spawn : undefined, platform.cores);
    this.blas = platform.blas ?? null;
    this.grainScale = platform.grainScale ?? 1;
    this.blasNote = platform.blasNote ?? (this.blas ? `BLAS ${this.blas.path}` : 'no BLAS');
  }

  /** A kernel by name (an internal error if the module lacks it). */
  kernel(name: string): Kernel {
    const k = this.exports[name];
    if (typeof k !== 'function') throw internal(`wasm kernel ${name} is missing`);
    return k;
  }

  /** Runs a thread-split kernel: `args` then (task, ntasks); `parts` caps the split (1: this thread only). */
  run(name: string, args: readonly number[], parts?: number): void {
    this.pool.run(name, args, parts);
  }
}

/** Byte address of a compact operand's first element. */
export function ptrOf(d: Dense): number {
  const s = d.storage as WasmStorage;
  if (!(s instanceof WasmStorage)) throw internal(`wasm kernels got storage of device ${d.storage.device}`);
  if (s.freed) throw disposedError('wasm', s.length, s.dtype);
  return s.ptr + d.offset * BYTES[s.dtype];
}

/** Splits work of `elements` items over threads only when each part gets at least `grain`. */
export function partsFor(rt: WasmRuntime, elements: number, grain: number): number {
  return Math.max(1, Math.min(rt.pool.threads, Math.floor(elements / Math.max(1, grain * rt.grainScale))));
}
