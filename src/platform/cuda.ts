/**
 * Node.js set-up of the cuda backend: finds the NVIDIA driver, NVRTC and cuBLAS (see
 * src/ndarray/cuda/discovery.ts), binds them with koffi, makes the device's primary context
 * current, compiles and runs one kernel as a smoke test, and returns the backend.
 *
 * `loadCuda()` never throws: without a usable GPU it returns `backend: null` and a reason that
 * names what is missing (the library, or the call that failed and its CUDA error), which
 * `nd.cuda.unavailableReason()` reports. Environment:
 * - NEEDLE_CUDA=0 turns the backend off; NEEDLE_CUDA_DEVICE=<n> picks the device (default 0);
 * - NEEDLE_LIBCUDA, NEEDLE_NVRTC, NEEDLE_CUBLAS name exact library files; NEEDLE_CUDA_PATH a
 *   toolkit root or library folder searched first;
 * - NEEDLE_CUDA_TF32=1 lets float32 matmul use TF32 tensor cores;
 * - NEEDLE_CUDA_SYNC=1 waits after every launch (errors then name the kernel that failed);
 * - NEEDLE_CUDA_GC_BYTES=<n> forces a garbage collection after n bytes of allocations (default: a
 *   16th of the device memory, at least 1 GiB);
 * - NEEDLE_CUDA_CACHE=<folder> keeps compiled kernels there (default ~/.cache/needle-ts/cuda; 0: off).
 */
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Backend } from '../ndarray/backend.js';
import type { ReclaimPlatform } from '../ndarray/cuda/allocator.js';
import { bindCublas, Cublas } from '../ndarray/cuda/cublas.js';
import { companions, cudaCandidates, type DiscoveryFs } from '../ndarray/cuda/discovery.js';
import { bindDriver, Driver, type DriverApi, type KoffiLike } from '../ndarray/cuda/driver.js';
import { createCudaBackend, CudaRuntime } from '../ndarray/cuda/index.js';
import { bindNvrtc, Compiler, type ImageCache, type NvrtcApi } from '../ndarray/cuda/nvrtc.js';
import { setCudaState } from '../ndarray/cuda/state.js';

/** Options of {@link loadCuda} (for tests; the defaults are what start-up uses). */
export interface LoadCudaOptions {
  env?: NodeJS.ProcessEnv;
  /** koffi, or null to act as if it were not installed (default: require('koffi')). */
  koffi?: KoffiLike | null;
  fs?: DiscoveryFs;
  /** How dead storages are reclaimed (default: a forced gc with cleanupSome where V8 allows). */
  reclaim?: ReclaimPlatform;
  /** Record the outcome for nd.cuda.* (default true). */
  register?: boolean;
}

export interface LoadCudaResult {
  backend: Backend | null;
  runtime: CudaRuntime | null;
  /** Why the backend is unavailable ('' when it is available). */
  reason: string;
  /** The library files loaded ('' where none). */
  libraries: { driver: string; nvrtc: string; cublas: string };
}

const realFs: DiscoveryFs = {
  exists: (p) => existsSync(p),
  readdir: (p) => {
    try {
      return readdirSync(p);
    } catch {
      return [];
    }
  },
};

function loadKoffi(): KoffiLike | null {
  try {
    return createRequire(import.meta.url)('koffi') as KoffiLike;
  } catch {
    return null;
  }
}

/** A forced collection and a FinalizationRegistry with cleanupSome, where V8 allows them. */
function nodeReclaim(): ReclaimPlatform {
  for (const flag of ['--expose-gc', '--harmony-weak-refs-with-cleanup-some']) {
    try {
      v8.setFlagsFromString(flag);
    } catch {
      // an engine refusing late flags: dead tensors come back when the registry's callbacks run
    }
  }
  try {
    const gc = vm.runInNewContext('typeof gc === "function" ? gc : undefined') as (() => void) | undefined;
    const FR = vm.runInNewContext('FinalizationRegistry') as typeof FinalizationRegistry;
    if (gc && typeof (FR.prototype as { cleanupSome?: unknown }).cleanupSome === 'function') return { gc, FinalizationRegistry: FR };
  } catch {
    // fall through
  }
  return {};
}

/**
 * The on-disk cache of compiled kernels: NEEDLE_CUDA_CACHE (a folder; 0 turns it off), else
 * $XDG_CACHE_HOME/needle-ts/cuda, else ~/.cache/needle-ts/cuda. Writes go through a temporary
 * file and a rename, so concurrent processes (the test runner's) never read half a file.
 */
function diskCache(env: NodeJS.ProcessEnv): ImageCache | null {
  const set = (env['NEEDLE_CUDA_CACHE'] ?? '').trim();
  if (['0', 'off', 'none', 'false', 'no'].includes(set.toLowerCase())) return null;
  let dir = set;
  if (dir === '') {
    const base = env['XDG_CACHE_HOME'] || path.join(os.homedir(), '.cache');
    dir = path.join(base, 'needle-ts', 'cuda');
  }
  return {
    get: (key) => {
      try {
        return new Uint8Array(readFileSync(path.join(dir, key)));
      } catch {
        return null;
      }
    },
    set: (key, image) => {
      mkdirSync(dir, { recursive: true });
      const tmp = path.join(dir, `${key}.${process.pid}.tmp`);
      writeFileSync(tmp, image);
      renameSync(tmp, path.join(dir, key));
    },
  };
}

/** Tries `names` in order; returns the first that binds, or the reasons of those that exist but failed. */
function firstLoadable<T>(
  names: readonly string[], bind: (name: string) => T, fs: DiscoveryFs,
): { api: T; path: string } | { failures: string[] } {
  const failures: string[] = [];
  for (const name of names) {
    try {
      return { api: bind(name), path: name };
    } catch (e) {
      const msg = (e as Error).message.replace(/^Failed to load shared library:\s*/, '');
      // a file that exists but does not load is worth reporting; a bare name not found is not
      if (name.includes('/') && fs.exists(name)) failures.push(`${name}: ${msg}`);
    }
  }
  return { failures };
}

/** Loads the cuda backend (see the file comment). Never throws. */
export async function loadCuda(options: LoadCudaOptions = {}): Promise<LoadCudaResult> {
  const env = options.env ?? process.env;
  const fs = options.fs ?? realFs;
  const register = options.register !== false;
  const libraries = { driver: '', nvrtc: '', cublas: '' };
  const fail = (reason: string): LoadCudaResult => {
    if (register) setCudaState(null, reason);
    return { backend: null, runtime: null, reason, libraries };
  };
  try {
    const setting = (env['NEEDLE_CUDA'] ?? '').trim().toLowerCase();
    if (['0', 'off', 'none', 'false', 'no'].includes(setting)) return fail(`cuda: disabled by NEEDLE_CUDA=${env['NEEDLE_CUDA']}`);
    if (process.platform !== 'linux') return fail(`cuda: expected Linux, got ${process.platform} (the cuda backend binds libcuda.so)`);
    const koffi = options.koffi === undefined ? loadKoffi() : options.koffi;
    if (!koffi) return fail('cuda: koffi is not installed (npm install koffi); it binds the CUDA libraries');
    const cands = cudaCandidates(env, fs, process.arch === 'arm64' ? 'aarch64' : 'x86_64');
    const preload = (lib: string) => {
      for (const c of companions(lib, fs)) {
        try {
          koffi.load(c);
          return;
        } catch {
          // try the next name
        }
      }
    };

    // the driver
    const drv = firstLoadable<DriverApi>(cands.driver, (p) => bindDriver(koffi, p), fs);
    if ('failures' in drv) {
      const tried = cands.driver.join(', ');
      const bad = drv.failures.length > 0 ? `; unusable: ${drv.failures.join('; ')}` : '';
      return fail(`cuda: the NVIDIA driver library libcuda.so.1 was not found (tried ${tried})${bad}; install the NVIDIA driver or set NEEDLE_LIBCUDA=/path/to/libcuda.so.1`);
    }
    libraries.driver = drv.path;
    const driver = new Driver(drv.api);
    driver.init();
    const count = driver.deviceCount();
    const ordinal = Number(env['NEEDLE_CUDA_DEVICE'] ?? '0');
    if (!Number.isInteger(ordinal) || ordinal < 0 || ordinal >= count) {
      return fail(`cuda: NEEDLE_CUDA_DEVICE expected an integer in [0, ${count - 1}], got ${JSON.stringify(env['NEEDLE_CUDA_DEVICE'] ?? '0')} (${count} device${count === 1 ? '' : 's'})`);
    }
    const dev = driver.device(ordinal);
    driver.primaryContext(dev);

    // NVRTC
    const nv = firstLoadable<NvrtcApi>(cands.nvrtc, (p) => {
      preload(p);
      return bindNvrtc(koffi, p);
    }, fs);
    if ('failures' in nv) {
      const bad = nv.failures.length > 0 ? `; unusable: ${nv.failures.join('; ')}` : '';
      return fail(`cuda: NVRTC (libnvrtc.so.13, .12 or .11.2) was not found (searched ${cands.folders.filter((d) => fs.exists(d)).join(', ') || 'no CUDA folders'} and the loader path)${bad}; set NEEDLE_NVRTC=/path/to/libnvrtc.so or NEEDLE_CUDA_PATH=/path/to/cuda, or pip install nvidia-cuda-nvrtc`);
    }
    libraries.nvrtc = nv.path;
    const cc = driver.attribute(dev, 75) * 10 + driver.attribute(dev, 76);
    const compiler = new Compiler(nv.api, cc, diskCache(env));

    // cuBLAS (optional: matmul falls back to the built-in kernel)
    let cublas: Cublas | null = null;
    let cublasNote = '';
    const cb = firstLoadable(cands.cublas, (p) => {
      preload(p);
      return bindCublas(koffi, p);
    }, fs);
    if ('failures' in cb) {
      cublasNote = `cuBLAS not found${cb.failures.length > 0 ? ` (unusable: ${cb.failures.join('; ')})` : ''}; set NEEDLE_CUBLAS=/path/to/libcublas.so`;
    } else {
      try {
        cublas = new Cublas(cb.api, null);
        libraries.cublas = cb.path;
      } catch (e) {
        cublasNote = `${cb.path}: ${(e as Error).message}`;
      }
    }

    const gcBytes = Number(env['NEEDLE_CUDA_GC_BYTES'] ?? '');
    const runtime = new CudaRuntime({
      koffi, driver, compiler, cublas, cublasNote, device: ordinal,
      reclaim: options.reclaim ?? nodeReclaim(),
      allocator: Number.isFinite(gcBytes) && gcBytes > 0 ? { gcEveryBytes: gcBytes } : {},
      syncEveryLaunch: ['1', 'true', 'yes', 'on'].includes((env['NEEDLE_CUDA_SYNC'] ?? '').toLowerCase()),
    });
    if (cublas && ['1', 'true', 'yes', 'on'].includes((env['NEEDLE_CUDA_TF32'] ?? '').toLowerCase())) cublas.setAllowTF32(true);
    const backend = createCudaBackend(runtime);

    // smoke test: one compiled kernel and a round trip
    const s = backend.allocate('float32', 4);
    backend.fill({ storage: s, offset: 0 }, 4, 2.5);
    const back = backend.readSync(s, 0, 4);
    backend.free(s);
    if (back[3] !== 2.5) return fail(`cuda: the start-up check read ${Array.from(back).join(',')} instead of 2.5,2.5,2.5,2.5`);

    if (register) {
      setCudaState({
        backend,
        describe: () => runtime.describe(),
        stats: () => runtime.allocator.stats(),
        emptyCache: () => {
          runtime.synchronize();
          runtime.allocator.emptyCache();
        },
        synchronize: () => runtime.synchronize(),
        collect: () => runtime.allocator.collect(),
        setAllowTF32: (on) => runtime.cublas?.setAllowTF32(on),
        counters: () => ({ launches: runtime.launches, kernels: runtime.kernelCount, compiled: compiler.compiled, compileMs: compiler.compileMs }),
      }, '');
    }
    return { backend, runtime, reason: '', libraries };
  } catch (e) {
    return fail(`cuda: ${(e as Error).message.replace(/^cuda: /, '')}`);
  }
}
