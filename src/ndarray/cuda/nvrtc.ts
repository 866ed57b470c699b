/**
 * NVRTC through koffi: CUDA C source to a loadable image (a CUBIN for the device's own
 * architecture when this NVRTC knows it, else PTX for the newest architecture it knows, which the
 * driver compiles on load). {@link Compiler} compiles each distinct source once per process.
 */
import { CudaError, type KoffiLike } from './driver.js';
import { sourceHash } from './kernels.js';

type Handle = bigint | null;

/** The raw NVRTC functions (nvrtcResult = number). */
export interface NvrtcApi {
  nvrtcVersion(major: Int32Array, minor: Int32Array): number;
  nvrtcGetErrorString(code: number): string | null;
  nvrtcCreateProgram(out: BigUint64Array, src: string, name: string, numHeaders: number, headers: Handle, includeNames: Handle): number;
  nvrtcCompileProgram(prog: Handle, numOptions: number, options: string[]): number;
  nvrtcGetProgramLogSize(prog: Handle, out: BigUint64Array): number;
  nvrtcGetProgramLog(prog: Handle, buf: Uint8Array): number;
  nvrtcGetPTXSize(prog: Handle, out: BigUint64Array): number;
  nvrtcGetPTX(prog: Handle, buf: Uint8Array): number;
  nvrtcGetCUBINSize?(prog: Handle, out: BigUint64Array): number;
  nvrtcGetCUBIN?(prog: Handle, buf: Uint8Array): number;
  nvrtcDestroyProgram(prog: BigUint64Array): number;
  nvrtcGetNumSupportedArchs?(out: Int32Array): number;
  nvrtcGetSupportedArchs?(out: Int32Array): number;
}

export const NVRTC_DECLS: Record<keyof NvrtcApi, string> = {
  nvrtcVersion: 'int nvrtcVersion(void *major, void *minor)',
  nvrtcGetErrorString: 'const char *nvrtcGetErrorString(int code)',
  nvrtcCreateProgram: 'int nvrtcCreateProgram(void *out, const char *src, const char *name, int numHeaders, void *headers, void *includeNames)',
  nvrtcCompileProgram: 'int nvrtcCompileProgram(void *prog, int numOptions, const char **options)',
  nvrtcGetProgramLogSize: 'int nvrtcGetProgramLogSize(void *prog, void *out)',
  nvrtcGetProgramLog: 'int nvrtcGetProgramLog(void *prog, void *buf)',
  nvrtcGetPTXSize: 'int nvrtcGetPTXSize(void *prog, void *out)',
  nvrtcGetPTX: 'int nvrtcGetPTX(void *prog, void *buf)',
  nvrtcGetCUBINSize: 'int nvrtcGetCUBINSize(void *prog, void *out)',
  nvrtcGetCUBIN: 'int nvrtcGetCUBIN(void *prog, void *buf)',
  nvrtcDestroyProgram: 'int nvrtcDestroyProgram(void *prog)',
  nvrtcGetNumSupportedArchs: 'int nvrtcGetNumSupportedArchs(void *out)',
  nvrtcGetSupportedArchs: 'int nvrtcGetSupportedArchs(void *out)',
};
const OPTIONAL = new Set(['nvrtcGetCUBINSize', 'nvrtcGetCUBIN', 'nvrtcGetNumSupportedArchs', 'nvrtcGetSupportedArchs']);

/** Binds libnvrtc at `path` (throws with the reason). */
export function bindNvrtc(koffi: KoffiLike, path: string): NvrtcApi {
  const lib = koffi.load(path);
  const api: Record<string, unknown> = {};
  for (const [name, decl] of Object.entries(NVRTC_DECLS)) {
    try {
      api[name] = lib.func(decl);
    } catch (e) {
      if (!OPTIONAL.has(name)) throw new Error(`${path} has no ${name}: ${(e as Error).message}`);
    }
  }
  return api as unknown as NvrtcApi;
}

const NVRTC_NAMES: Record<number, string> = {
  0: 'NVRTC_SUCCESS', 1: 'NVRTC_ERROR_OUT_OF_MEMORY', 2: 'NVRTC_ERROR_PROGRAM_CREATION_FAILURE',
  3: 'NVRTC_ERROR_INVALID_INPUT', 4: 'NVRTC_ERROR_INVALID_PROGRAM', 5: 'NVRTC_ERROR_INVALID_OPTION',
  6: 'NVRTC_ERROR_COMPILATION', 7: 'NVRTC_ERROR_BUILTIN_OPERATION_FAILURE', 11: 'NVRTC_ERROR_INTERNAL_ERROR',
};

/** A compiled image and what it was compiled for. */
export interface CompiledImage {
  /** CUBIN bytes, or NUL-terminated PTX text. */
  image: Uint8Array;
  format: 'cubin' | 'ptx';
  /** e.g. 'sm_90' or 'compute_90'. */
  target: string;
  /** Compile time in milliseconds. */
  ms: number;
  /** Read from the persistent cache (not compiled in this process). */
  cached?: boolean;
}

/**
 * A persistent cache of compiled images (platform/cuda.ts keeps one on disk), so that each
 * process, not only each source, does not pay NVRTC again. Keys include the NVRTC version and the
 * target, so a new toolkit or device never gets a stale image.
 */
export interface ImageCache {
  get(key: string): Uint8Array | null;
  set(key: string, image: Uint8Array): void;
}

/** Compiles sources with NVRTC for one device, each distinct source once. */
export class Compiler {
  private readonly cache = new Map<string, CompiledImage>();
  private readonly o64 = new BigUint64Array(1);
  /** Compilations done (cache misses) and the milliseconds they took. */
  compiled = 0;
  compileMs = 0;
  readonly version: string;
  /** The architecture option used (`--gpu-architecture=...`). */
  readonly target: string;
  readonly format: 'cubin' | 'ptx';

  /** Images found in the persistent cache. */
  diskHits = 0;

  constructor(readonly api: NvrtcApi, computeCapability: number, private readonly disk: ImageCache | null = null) {
    const maj = new Int32Array(1), min = new Int32Array(1);
    this.check('nvrtcVersion', api.nvrtcVersion(maj, min));
    this.version = `${maj[0]}.${min[0]}`;
    // the device's own architecture when this NVRTC supports it (a CUBIN: nothing left to JIT);
    // else PTX of the newest architecture it knows, which the driver JIT-compiles on load
    let archs: number[] = [];
    if (api.nvrtcGetNumSupportedArchs && api.nvrtcGetSupportedArchs) {
      const n = new Int32Array(1);
      if (api.nvrtcGetNumSupportedArchs(n) === 0 && n[0]! > 0) {
        const a = new Int32Array(n[0]!);
        if (api.nvrtcGetSupportedArchs(a) === 0) archs = Array.from(a);
      }
    }
    if ((archs.length === 0 || archs.includes(computeCapability)) && api.nvrtcGetCUBIN && api.nvrtcGetCUBINSize) {
      this.target = `sm_${computeCapability}`;
      this.format = 'cubin';
    } else {
      const best = archs.filter((a) => a <= computeCapability).pop() ?? computeCapability;
      this.target = `compute_${best}`;
      this.format = 'ptx';
    }
  }

  private check(call: string, status: number, detail = ''): void {
    if (status === 0) return;
    let text = '';
    try {
      text = this.api.nvrtcGetErrorString(status) ?? '';
    } catch {
      text = '';
    }
    throw new CudaError('nvrtc', call, status, NVRTC_NAMES[status] ?? text ?? `nvrtcResult ${status}`, detail);
  }

  /** The image of `source` (compiled now unless an identical source was compiled before). */
  compile(source: string, name: string, fresh = false): CompiledImage {
    const hit = fresh ? undefined : this.cache.get(source);
    if (hit) return hit;
    const t0 = performance.now();
    const key = `${sourceHash(source)}-${source.length}-nvrtc${this.version}-${this.target}.${this.format}`;
    const stored = fresh ? null : this.disk?.get(key) ?? null;
    if (stored) {
      const out: CompiledImage = { image: stored, format: this.format, target: this.target, ms: performance.now() - t0, cached: true };
      this.cache.set(source, out);
      this.diskHits++;
      return out;
    }
    const api = this.api;
    this.check('nvrtcCreateProgram', api.nvrtcCreateProgram(this.o64, source, `${name}.cu`, 0, null, null));
    const prog = this.o64[0]!;
    try {
      const opts = [`--gpu-architecture=${this.target}`, '--std=c++17'];
      const st = api.nvrtcCompileProgram(prog, opts.length, opts);
      if (st !== 0) this.check('nvrtcCompileProgram', st, `kernel ${name}:\n${this.log(prog)}`);
      const cubin = this.format === 'cubin';
      const sizeFn = cubin ? api.nvrtcGetCUBINSize!.bind(api) : api.nvrtcGetPTXSize.bind(api);
      const getFn = cubin ? api.nvrtcGetCUBIN!.bind(api) : api.nvrtcGetPTX.bind(api);
      this.check(cubin ? 'nvrtcGetCUBINSize' : 'nvrtcGetPTXSize', sizeFn(prog, this.o64));
      const image = new Uint8Array(Number(this.o64[0]!) + (cubin ? 0 : 1));
      this.check(cubin ? 'nvrtcGetCUBIN' : 'nvrtcGetPTX', getFn(prog, image));
      const ms = performance.now() - t0;
      const out: CompiledImage = { image, format: this.format, target: this.target, ms };
      this.cache.set(source, out);
      try {
        this.disk?.set(key, image);
      } catch {
        // a read-only or full cache only costs the next process a compile
      }
      this.compiled++;
      this.compileMs += ms;
      return out;
    } finally {
      const p = new BigUint64Array([prog]);
      api.nvrtcDestroyProgram(p);
    }
  }

  private log(prog: bigint): string {
    try {
      const n = new BigUint64Array(1);
      if (this.api.nvrtcGetProgramLogSize(prog, n) !== 0) return '';
      const buf = new Uint8Array(Number(n[0]!));
      if (this.api.nvrtcGetProgramLog(prog, buf) !== 0) return '';
      const end = buf.indexOf(0);
      return new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end));
    } catch {
      return '';
    }
  }
}
