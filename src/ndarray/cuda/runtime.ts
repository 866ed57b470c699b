/**
 * The cuda runtime: one device, its primary context, one stream (the legacy default stream, which
 * orders every launch, copy and cuBLAS call), the NVRTC module cache, the caching allocator and
 * kernel launches with their arguments packed into a pinned parameter block.
 *
 * Launch arguments are packed by each kernel's {@link Param} list (the same list the kernel's C
 * signature was generated from): the `void *kernelParams[]` table at the start of a koffi-allocated
 * block, each argument after it at its C alignment. The driver copies the arguments at launch,
 * so one block serves every launch.
 */
import { CachingAllocator, type AllocatorOptions, type Block, type ReclaimPlatform } from './allocator.js';
import type { Cublas } from './cublas.js';
import { ATTR, type Driver, type KoffiLike } from './driver.js';
import { kernelDef, kernelName, kernelSource, MAX_DIMS, PARAM_LAYOUT, type KernelSpec, type Param } from './kernels.js';
import type { Compiler } from './nvrtc.js';

/** A strided layout argument (kind dims32/dims64). */
export interface DimsArg {
  shape: readonly number[];
  strides: readonly number[];
}
/** One kernel argument: a number (pointers, integers, floats) or dims. */
export type LaunchArg = number | DimsArg;

/** What a runtime is made of (platform/cuda.ts builds it from the real libraries; tests from fakes). */
export interface CudaRuntimeParts {
  koffi: Pick<KoffiLike, 'alloc' | 'view'>;
  driver: Driver;
  compiler: Compiler;
  cublas: Cublas | null;
  /** The device ordinal. */
  device: number;
  /** A reason cuBLAS is missing (for info). */
  cublasNote?: string;
  reclaim?: ReclaimPlatform;
  allocator?: AllocatorOptions;
  /** Synchronize after every launch so that errors name the kernel that caused them (NEEDLE_CUDA_SYNC=1). */
  syncEveryLaunch?: boolean;
}

interface LoadedKernel {
  fn: bigint;
  params: readonly Param[];
  offsets: number[];
}

const SCRATCH = 4096;

/** Describes the device (nd.cuda.deviceInfo()). */
export interface CudaDeviceInfo {
  name: string;
  ordinal: number;
  computeCapability: string;
  multiprocessors: number;
  totalMemoryBytes: number;
  driverVersion: string;
  nvrtcVersion: string;
  /** The NVRTC target: sm_XX (CUBIN) or compute_XX (PTX). */
  nvrtcTarget: string;
  /** cuBLAS version, or why matmul uses the built-in kernel. */
  cublas: string;
  allowTF32: boolean;
}

export class CudaRuntime {
  readonly driver: Driver;
  readonly compiler: Compiler;
  readonly cublas: Cublas | null;
  readonly allocator: CachingAllocator;
  readonly device: number;
  readonly name: string;
  readonly computeCapability: number;
  readonly sms: number;
  readonly totalMem: number;
  readonly driverVersion: number;
  /** The stream every operation is issued on (null: the legacy default stream). */
  readonly stream: bigint | null = null;
  readonly syncEveryLaunch: boolean;
  /** Launches issued. */
  launches = 0;
  private readonly kernels = new Map<string, LoadedKernel>();
  private readonly koffi: Pick<KoffiLike, 'alloc' | 'view'>;
  private readonly scratch: bigint;
  private readonly scratchBase: number;
  private readonly dv: DataView;
  private readonly cublasNote: string;

  constructor(parts: CudaRuntimeParts) {
    this.driver = parts.driver;
    this.compiler = parts.compiler;
    this.cublas = parts.cublas;
    this.koffi = parts.koffi;
    this.device = parts.device;
    const d = this.driver;
    const dev = d.device(parts.device);
    this.name = d.deviceName(dev);
    this.computeCapability = d.attribute(dev, ATTR.COMPUTE_CAPABILITY_MAJOR) * 10 + d.attribute(dev, ATTR.COMPUTE_CAPABILITY_MINOR);
    this.sms = Math.max(1, d.attribute(dev, ATTR.MULTIPROCESSOR_COUNT));
    this.totalMem = d.totalMem(dev);
    this.driverVersion = d.driverVersion();
    this.syncEveryLaunch = parts.syncEveryLaunch ?? false;
    this.cublasNote = parts.cublasNote ?? '';
    // a forced collection after a 16th of the device's memory (at least 1 GiB) was allocated
    const gcEveryBytes = parts.allocator?.gcEveryBytes ?? Math.max(2 ** 30, Math.floor(this.totalMem / 16));
    this.allocator = new CachingAllocator({ alloc: (b) => d.memAlloc(b), free: (p) => d.memFree(p) }, parts.reclaim ?? {}, { gcEveryBytes });
    this.scratch = this.koffi.alloc('uint8_t', SCRATCH);
    this.scratchBase = Number(this.scratch);
    this.dv = new DataView(this.koffi.view(this.scratch, SCRATCH));
  }

  /** Most blocks a 1-D grid-stride launch uses (enough to fill every SM several times). */
  get maxBlocks(): number {
    return this.sms * 32;
  }

  /** The compiled, loaded kernel of `spec` (compiled on first use). */
  kernel(spec: KernelSpec): LoadedKernel {
    const name = kernelName(spec);
    let k = this.kernels.get(name);
    if (k) return k;
    const def = kernelDef(spec);
    const source = kernelSource(spec);
    const compiled = this.compiler.compile(source, name);
    let mod: bigint;
    try {
      mod = this.driver.moduleLoad(compiled.image);
    } catch (e) {
      // a damaged image in the persistent cache: compile it again
      if (!compiled.cached) throw e;
      mod = this.driver.moduleLoad(this.compiler.compile(source, name, true).image);
    }
    const fn = this.driver.moduleFunction(mod, name);
    k = { fn, params: def.params, offsets: layout(def.params) };
    this.kernels.set(name, k);
    return k;
  }

  /** Kernels loaded so far. */
  get kernelCount(): number {
    return this.kernels.size;
  }

  /** Launches `spec` with `args` (one per parameter, in order). */
  launch(spec: KernelSpec, grid: readonly [number, number, number], block: readonly [number, number, number], args: readonly LaunchArg[]): void {
    const k = this.kernel(spec);
    const n = k.params.length;
    if (args.length !== n) throw new Error(`internal: kernel ${kernelName(spec)} takes ${n} arguments, got ${args.length}`);
    const dv = this.dv;
    for (let i = 0; i < n; i++) {
      const off = k.offsets[i]!;
      put64(dv, i * 8, this.scratchBase + off);
      const a = args[i]!;
      const p = k.params[i]!;
      switch (p.kind) {
        case 'ptr': case 'i64': put64(dv, off, a as number); break;
        case 'i32': dv.setInt32(off, a as number, true); break;
        case 'f32': dv.setFloat32(off, a as number, true); break;
        case 'f64': dv.setFloat64(off, a as number, true); break;
        case 'u8': dv.setUint8(off, a as number); break;
        case 'dims32': case 'dims64': putDims(dv, off, a as DimsArg, p.kind === 'dims64'); break;
      }
    }
    this.driver.launch(k.fn, grid, block, 0, this.stream, this.scratch, kernelName(spec));
    this.launches++;
    if (this.syncEveryLaunch) this.synchronize();
  }

  /** Waits for every issued operation. */
  synchronize(): void {
    this.driver.synchronize();
  }

  /** A raw device block (temporaries), returned with {@link releaseBlock}. */
  allocBlock(bytes: number): Block {
    return this.allocator.allocate(bytes);
  }
  releaseBlock(b: Block): void {
    this.allocator.release(b);
  }

  /** Copies `bytes` from device address `src` into a new host buffer without blocking the thread. */
  async readAsync(src: number, bytes: number): Promise<Uint8Array> {
    if (bytes === 0) return new Uint8Array(0);
    const d = this.driver;
    const host = d.hostAlloc(bytes);
    let ev: bigint | null = null;
    try {
      d.dtohAsync(host, src, bytes, this.stream);
      ev = d.eventCreate();
      d.eventRecord(ev, this.stream);
      let wait = 0;
      while (!d.eventDone(ev)) {
        await new Promise<void>((r) => (wait++ < 64 && typeof setImmediate === 'function' ? setImmediate(r) : setTimeout(r, 1)));
      }
      return new Uint8Array(this.koffi.view(host, bytes)).slice();
    } finally {
      if (ev !== null) d.eventDestroy(ev);
      d.hostFree(host);
    }
  }

  describe(): CudaDeviceInfo {
    const v = this.driverVersion;
    return {
      name: this.name,
      ordinal: this.device,
      computeCapability: `${Math.floor(this.computeCapability / 10)}.${this.computeCapability % 10}`,
      multiprocessors: this.sms,
      totalMemoryBytes: this.totalMem,
      driverVersion: `${Math.floor(v / 1000)}.${(v % 1000) / 10}`,
      nvrtcVersion: this.compiler.version,
      nvrtcTarget: this.compiler.target,
      cublas: this.cublas ? `cuBLAS ${this.cublas.version}` : `none (${this.cublasNote || 'not loaded'}): matmul uses the built-in kernel`,
      allowTF32: this.cublas?.allowTF32 ?? false,
    };
  }
}

/** Byte offsets of each argument in the parameter block (after the pointer table). */
export function layout(params: readonly Param[]): number[] {
  let off = params.length * 8;
  return params.map((p) => {
    const { size, align } = PARAM_LAYOUT[p.kind];
    off = Math.ceil(off / align) * align;
    const at = off;
    off += size;
    if (off > SCRATCH) throw new Error('internal: kernel parameters exceed the parameter block');
    return at;
  });
}

/** Writes a non-negative integer below 2^53, or any negative one, as a little-endian int64. */
function put64(dv: DataView, off: number, v: number): void {
  if (v >= 0) {
    dv.setUint32(off, v >>> 0, true);
    dv.setUint32(off + 4, Math.floor(v / 4294967296), true);
  } else {
    dv.setBigInt64(off, BigInt(v), true);
  }
}

function putDims(dv: DataView, off: number, d: DimsArg, wide: boolean): void {
  const nd = d.shape.length;
  if (nd > MAX_DIMS) throw new Error(`internal: ${nd} dims passed to a strided kernel (at most ${MAX_DIMS})`);
  if (wide) {
    put64(dv, off, nd);
    for (let i = 0; i < MAX_DIMS; i++) {
      put64(dv, off + 8 + 8 * i, i < nd ? d.shape[i]! : 1);
      put64(dv, off + 8 + 8 * MAX_DIMS + 8 * i, i < nd ? d.strides[i]! : 0);
    }
  } else {
    dv.setInt32(off, nd, true);
    for (let i = 0; i < MAX_DIMS; i++) {
      dv.setInt32(off + 4 + 4 * i, i < nd ? d.shape[i]! : 1, true);
      dv.setInt32(off + 4 + 4 * MAX_DIMS + 4 * i, i < nd ? d.strides[i]! : 0, true);
    }
  }
}
