/**
 * The cuda backend without a GPU: (a) every generated kernel compiles with `nvcc --ptx
 * -arch=sm_90` (one translation unit; skipped where nvcc is missing); (b) discovery and
 * `loadCuda()` report a missing driver, NVRTC or koffi cleanly, naming what is missing; (c) with
 * injected fakes of the C APIs: the caching allocator, the status-to-error mapping, the NVRTC
 * compile cache, the kernel-argument layout, and the row-major-to-cuBLAS mapping. The kernels'
 * results are checked by test/cuda_emu.test.ts (host emulation) and, on a GPU, by
 * test/cuda_device.test.ts.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BINARY_OPS, REDUCE_OPS, UNARY_OPS } from '../src/ndarray/backend.js';
import { CachingAllocator, sizeClass } from '../src/ndarray/cuda/allocator.js';
import { gemmArgs } from '../src/ndarray/cuda/cublas.js';
import { companions, cudaCandidates, type DiscoveryFs } from '../src/ndarray/cuda/discovery.js';
import { CudaError, Driver, type DriverApi } from '../src/ndarray/cuda/driver.js';
import { coalesce } from '../src/ndarray/cuda/index.js';
import {
  allKernelSpecs, combinedSource, kernelDef, kernelName, kernelSource, PARAM_LAYOUT, PRELUDE,
} from '../src/ndarray/cuda/kernels.js';
import { Compiler, type NvrtcApi } from '../src/ndarray/cuda/nvrtc.js';
import { layout } from '../src/ndarray/cuda/runtime.js';
import * as cuda from '../src/ndarray/cuda/public.js';
import { loadCuda } from '../src/platform/cuda.js';
import { DeviceError } from '../src/errors.js';

function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

// ------------------------------------------------------------------ (a) the kernels

describe('generated kernels', () => {
  const specs = allKernelSpecs();

  test('one kernel per spec, unique names, every op and dtype covered', () => {
    const names = specs.map(kernelName);
    assert.equal(new Set(names).size, names.length, 'kernel names are unique');
    for (const op of UNARY_OPS) for (const d of ['f32', 'f64', 'i32', 'b8']) assert.ok(names.some((n) => n.startsWith(`ndl_unary_${op}_${d}_`)), `unary ${op} ${d}`);
    for (const op of BINARY_OPS) for (const d of ['f32', 'f64', 'i32', 'b8']) {
      assert.ok(names.some((n) => n.startsWith(`ndl_binary_${op}_${d}_${d}_`)), `binary ${op} ${d}`);
      assert.ok(names.some((n) => n.startsWith(`ndl_scalar_${op}_${d}_`)), `scalar ${op} ${d}`);
    }
    for (const op of REDUCE_OPS) for (const d of ['f32', 'f64', 'i32', 'b8']) assert.ok(names.some((n) => n.startsWith(`ndl_reduce_${op}_${d}_`)), `reduce ${op} ${d}`);
    for (const k of ['fill', 'compact', 'setitem', 'gather', 'scatterAdd', 'matmul', 'where', 'cast', 'softmax', 'softmaxBackward', 'layerNorm', 'layerNormBackward', 'layerNormParamGrad', 'adam', 'philoxBernoulli', 'reduceAxis', 'binaryStrided', 'batchNorm', 'batchNormBackward', 'im2col', 'col2im']) {
      assert.ok(names.some((n) => n.startsWith(`ndl_${k}_`)), k);
    }
  });

  test('each C signature is generated from the parameter list the host packs', () => {
    for (const s of specs) {
      const def = kernelDef(s);
      const m = new RegExp(`extern "C" __global__ void ${def.name}\\(([^)]*)\\)`).exec(def.body);
      assert.ok(m, `${def.name}: signature`);
      const cParams = m[1]!.split(',').map((p) => p.trim());
      assert.equal(cParams.length, def.params.length, `${def.name}: parameter count`);
      def.params.forEach((p, i) => assert.ok(cParams[i]!.endsWith(` ${p.name}`), `${def.name}: parameter ${i} is ${p.name}`));
      assert.ok(kernelSource(s).startsWith(PRELUDE));
    }
  });

  test('kernel arguments are laid out at their C alignment after the pointer table', () => {
    const def = kernelDef({ kind: 'compact', dtype: 'float32', wide: false });
    const offs = layout(def.params);
    // src, out (8-byte pointers), dims32 (4-aligned, 68 bytes), off (int), n (i64)
    const table = def.params.length * 8;
    assert.deepEqual(offs, [table, table + 8, table + 16, table + 16 + PARAM_LAYOUT.dims32.size, table + 16 + PARAM_LAYOUT.dims32.size + 4]);
    const adam = layout(kernelDef({ kind: 'adam', dtype: 'float64' }).params);
    for (const o of adam) assert.equal(o % 8, 0);
  });

  // device-independent and ~12 s of CPU: once per npm test (tools/test_all.mjs sets NEEDLE_DEVICE or
  // NEEDLE_THREADS in its other configurations), and never with NEEDLE_CUDA_NVCC=0
  const nvcc = which('nvcc');
  const nvccSkip = !nvcc ? 'nvcc not found'
    : process.env['NEEDLE_CUDA_NVCC'] === '0' ? 'NEEDLE_CUDA_NVCC=0'
      : process.env['NEEDLE_DEVICE'] !== undefined || process.env['NEEDLE_THREADS'] !== undefined ? 'runs once, in the default configuration of npm test' : false;
  test('all kernels compile to PTX with nvcc -arch=sm_90 in one translation unit', { skip: nvccSkip }, () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'needle-cuda-'));
    try {
      const cu = path.join(dir, 'kernels.cu');
      const ptx = path.join(dir, 'kernels.ptx');
      writeFileSync(cu, combinedSource(specs));
      const r = spawnSync(nvcc!, ['--ptx', '-arch=sm_90', '-std=c++17', cu, '-o', ptx], { encoding: 'utf8', timeout: 180_000 });
      assert.equal(r.status, 0, `nvcc failed:\n${r.stderr}${r.stdout}`);
      const text = readFileSync(ptx, 'utf8');
      const entries = new Set([...text.matchAll(/\.entry\s+(\w+)/g)].map((x) => x[1]));
      for (const s of specs) assert.ok(entries.has(kernelName(s)), `${kernelName(s)} is in the PTX`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ------------------------------------------------------------------ (b) discovery

function fakeFs(files: string[]): DiscoveryFs {
  const set = new Set(files);
  return {
    exists: (p) => set.has(p) || files.some((f) => f.startsWith(`${p}/`)),
    readdir: (p) => [...new Set(files.filter((f) => f.startsWith(`${p}/`)).map((f) => f.slice(p.length + 1).split('/')[0]!))],
  };
}

describe('discovery', () => {
  test('explicit variables come first, then toolkits, then pip wheels, then the loader', () => {
    const site = '/venv/lib/python3.12/site-packages';
    const fs = fakeFs([
      '/usr/local/nvidia/lib64/libcuda.so.1',
      '/usr/local/cuda/lib64/libnvrtc.so.12',
      `${site}/nvidia/cu13/lib/libnvrtc.so.13`,
      `${site}/nvidia/cu13/lib/libcublas.so.13`,
      `${site}/nvidia/cu13/lib/libcublasLt.so.13`,
      `${site}/nvidia/cu13/lib/libnvrtc-builtins.so.13.0`,
    ]);
    const c = cudaCandidates({ VIRTUAL_ENV: '/venv', NEEDLE_NVRTC: '/x/libnvrtc.so' }, fs);
    assert.deepEqual(c.driver, ['libcuda.so.1', '/usr/local/nvidia/lib64/libcuda.so.1']);
    assert.equal(c.nvrtc[0], '/x/libnvrtc.so');
    // newest soname first: the wheel's 13 before the toolkit's 12
    assert.ok(c.nvrtc.indexOf(`${site}/nvidia/cu13/lib/libnvrtc.so.13`) < c.nvrtc.indexOf('/usr/local/cuda/lib64/libnvrtc.so.12'));
    assert.equal(c.cublas[0], `${site}/nvidia/cu13/lib/libcublas.so.13`);
    assert.ok(c.cublas.includes('libcublas.so.12'), 'bare sonames last, for the loader');
    assert.deepEqual(companions(`${site}/nvidia/cu13/lib/libcublas.so.13`, fs), [`${site}/nvidia/cu13/lib/libcublasLt.so.13`]);
    assert.deepEqual(companions(`${site}/nvidia/cu13/lib/libnvrtc.so.13`, fs), [`${site}/nvidia/cu13/lib/libnvrtc-builtins.so.13.0`]);
    const d = cudaCandidates({ NEEDLE_LIBCUDA: '/drv/libcuda.so.1', NEEDLE_CUDA_PATH: '/opt/tk' }, fakeFs(['/opt/tk/lib64/libnvrtc.so.13']));
    assert.equal(d.driver[0], '/drv/libcuda.so.1');
    assert.equal(d.nvrtc[0], '/opt/tk/lib64/libnvrtc.so.13');
  });

  test('loadCuda reports what is missing and never throws', async () => {
    const none = fakeFs([]);
    const off = await loadCuda({ env: { NEEDLE_CUDA: '0' }, register: false });
    assert.equal(off.backend, null);
    assert.match(off.reason, /disabled by NEEDLE_CUDA=0/);
    const noKoffi = await loadCuda({ env: {}, koffi: null, register: false });
    assert.match(noKoffi.reason, /koffi is not installed/);
    // a koffi whose every load fails: the driver library is named, with what was tried
    const failing = { load: (p: string) => { throw new Error(`Failed to load shared library: ${p}: cannot open shared object file`); }, alloc: () => 0n, view: () => new ArrayBuffer(0), free: () => {} };
    const r = await loadCuda({ env: { NEEDLE_LIBCUDA: '/nowhere/libcuda.so.1' }, koffi: failing, fs: none, register: false });
    assert.equal(r.backend, null);
    assert.match(r.reason, /libcuda\.so\.1 was not found \(tried \/nowhere\/libcuda\.so\.1, libcuda\.so\.1\)/);
    assert.match(r.reason, /NEEDLE_LIBCUDA=/);
    // a driver whose cuInit fails: the call and the CUDA error are named
    const drv = fakeDriver({ cuInit: () => 100 });
    const koffiWithDriver = { ...failing, load: (p: string) => { if (p === 'libcuda.so.1') return fakeLib(drv); return failing.load(p); } };
    const r2 = await loadCuda({ env: {}, koffi: koffiWithDriver, fs: none, register: false });
    assert.equal(r2.reason, 'cuda: cuInit failed with CUDA_ERROR_NO_DEVICE (100)');
    // a working driver but no NVRTC anywhere
    const r3 = await loadCuda({ env: {}, koffi: { ...failing, load: (p: string) => (p === 'libcuda.so.1' ? fakeLib(fakeDriver({})) : failing.load(p)) }, fs: none, register: false });
    assert.match(r3.reason, /NVRTC \(libnvrtc\.so\.13, \.12 or \.11\.2\) was not found/);
    assert.match(r3.reason, /NEEDLE_NVRTC=/);
  });

  test('on this machine: available with a GPU, else a reason naming the missing library', async () => {
    const r = await loadCuda({ register: false });
    if (r.backend) {
      assert.equal(r.reason, '');
      assert.equal(r.backend.name, 'cuda');
    } else {
      assert.match(r.reason, /^cuda: /);
      assert.match(r.reason, /libcuda\.so\.1|NVRTC|koffi|cuInit|device/);
    }
  });

  test('nd.cuda helpers are inert without a backend', () => {
    if (cuda.isAvailable()) return;
    assert.equal(cuda.deviceInfo(), null);
    assert.equal(cuda.memoryStats().allocatedBytes, 0);
    cuda.emptyCache();
    cuda.synchronize();
    cuda.dispose(null, undefined, [null]);
    assert.match(cuda.unavailableReason(), /cuda/);
  });
});

// ------------------------------------------------------------------ (c) with fakes

/** A fake driver API: every call succeeds unless overridden. */
function fakeDriver(over: Partial<Record<keyof DriverApi, (...a: never[]) => number>>): DriverApi {
  const ok = () => 0;
  const base: Record<string, unknown> = {};
  const names = ['cuInit', 'cuDriverGetVersion', 'cuDeviceGetCount', 'cuDeviceGet', 'cuDeviceGetName', 'cuDeviceGetAttribute', 'cuDeviceTotalMem_v2',
    'cuDevicePrimaryCtxRetain', 'cuCtxSetCurrent', 'cuCtxSynchronize', 'cuMemAlloc_v2', 'cuMemFree_v2', 'cuMemGetInfo_v2', 'cuMemAllocHost_v2',
    'cuMemFreeHost', 'cuMemcpyHtoD_v2', 'cuMemcpyDtoH_v2', 'cuMemcpyDtoHAsync_v2', 'cuMemcpyDtoDAsync_v2', 'cuModuleLoadData',
    'cuModuleGetFunction', 'cuLaunchKernel', 'cuStreamSynchronize', 'cuEventCreate', 'cuEventRecord', 'cuEventQuery', 'cuEventDestroy_v2'];
  for (const n of names) base[n] = ok;
  base['cuDeviceGetCount'] = (o: Int32Array) => { o[0] = 1; return 0; };
  return { ...base, ...over } as unknown as DriverApi;
}

/** A koffi library object whose functions are the fake's. */
function fakeLib(api: DriverApi): { func(decl: string): (...a: unknown[]) => unknown } {
  return {
    func: (decl: string) => {
      const name = /\s\*?(\w+)\(/.exec(decl)![1]!;
      const f = (api as unknown as Record<string, unknown>)[name];
      if (typeof f !== 'function') throw new Error(`no ${name}`);
      return f as (...a: unknown[]) => unknown;
    },
  };
}

describe('driver status mapping', () => {
  test('a failed call becomes a CudaError naming the call and the error', () => {
    const d = new Driver(fakeDriver({
      cuMemFree_v2: () => 1,
      cuGetErrorName: ((code: number, out: (string | null)[]) => { out[0] = code === 1 ? 'CUDA_ERROR_INVALID_VALUE' : null; return 0; }) as never,
      cuGetErrorString: ((_c: number, out: (string | null)[]) => { out[0] = 'invalid argument'; return 0; }) as never,
    }));
    assert.throws(() => d.memFree(123), (e: unknown) => {
      assert.ok(e instanceof CudaError && e instanceof DeviceError);
      assert.equal(e.message, 'cuda: cuMemFree_v2 failed with CUDA_ERROR_INVALID_VALUE (1): invalid argument');
      assert.equal(e.call, 'cuMemFree_v2');
      assert.equal(e.code, 1);
      return true;
    });
  });

  test('without cuGetErrorName the built-in table names the error; asynchronous faults say so', () => {
    const d = new Driver(fakeDriver({ cuCtxSynchronize: () => 700, cuInit: () => 12345 }));
    assert.throws(() => d.synchronize(), /cuda: cuCtxSynchronize failed with CUDA_ERROR_ILLEGAL_ADDRESS \(700\).*earlier asynchronous kernel.*NEEDLE_CUDA_SYNC=1/);
    assert.throws(() => d.init(), /cuInit failed with CUresult 12345 \(12345\)/);
  });

  test('out of memory is a value for the allocator, not an exception; launches name the kernel', () => {
    const d = new Driver(fakeDriver({
      cuMemAlloc_v2: ((o: BigUint64Array, bytes: number) => { if (bytes > 1000) return 2; o[0] = 4096n; return 0; }) as never,
      cuLaunchKernel: () => 701,
    }));
    assert.equal(d.memAlloc(2000), null);
    assert.equal(d.memAlloc(10), 4096);
    assert.throws(() => d.launch(1n, [3, 1, 1], [256, 1, 1], 0, null, 0n, 'ndl_unary_exp_f32_f32'),
      /cuLaunchKernel failed with CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES \(701\).*kernel ndl_unary_exp_f32_f32, grid \[3,1,1\], block \[256,1,1\]/);
  });

  test('the event poll distinguishes pending from failed', () => {
    let n = 0;
    const d = new Driver(fakeDriver({ cuEventQuery: () => (n++ === 0 ? 600 : n === 2 ? 0 : 999) }));
    assert.equal(d.eventDone(1n), false);
    assert.equal(d.eventDone(1n), true);
    assert.throws(() => d.eventDone(1n), /cuEventQuery failed with CUDA_ERROR_UNKNOWN/);
  });
});

describe('caching allocator', () => {
  function fakeMem(limit = Infinity) {
    let next = 1 << 20;
    let used = 0;
    const live = new Map<number, number>();
    const calls = { alloc: 0, free: 0 };
    return {
      calls,
      live,
      mem: {
        alloc: (bytes: number) => {
          if (used + bytes > limit) return null;
          calls.alloc++;
          used += bytes;
          const p = next;
          next += bytes;
          live.set(p, bytes);
          return p;
        },
        free: (p: number) => {
          calls.free++;
          used -= live.get(p)!;
          live.delete(p);
        },
      },
    };
  }

  test('size classes: 512-byte multiples to 1 MiB, then quarter powers of two', () => {
    assert.equal(sizeClass(1), 512);
    assert.equal(sizeClass(513), 1024);
    assert.equal(sizeClass(1 << 20), 1 << 20);
    assert.equal(sizeClass((1 << 20) + 1), (1 << 20) + (1 << 18));
    assert.equal(sizeClass(3_000_000), 3_145_728);
    for (const b of [1, 700, 5000, 1 << 20, 12_345_678, 2 ** 33 + 5]) {
      const c = sizeClass(b);
      assert.ok(c >= b && c % 512 === 0 && c <= Math.max(512, b * 1.25 + 512), `${b} -> ${c}`);
    }
  });

  test('freed blocks are reused by the same class; emptyCache returns them to the driver', () => {
    const f = fakeMem();
    const a = new CachingAllocator(f.mem, { FinalizationRegistry: undefined });
    const b1 = a.allocate(1000);
    const b2 = a.allocate(1000);
    assert.notEqual(b1.ptr, b2.ptr);
    a.release(b1);
    const b3 = a.allocate(900);
    assert.equal(b3.ptr, b1.ptr, 'same class: the cached block');
    const s = a.stats();
    assert.equal(s.deviceAllocs, 2);
    assert.equal(s.cacheHits, 1);
    assert.equal(s.allocatedBytes, 2048);
    a.release(b2);
    a.release(b3);
    assert.equal(a.stats().cachedBytes, 2048);
    a.emptyCache();
    assert.equal(f.calls.free, 2);
    const e = a.stats();
    assert.deepEqual([e.allocatedBytes, e.cachedBytes, e.reservedBytes, e.peakAllocatedBytes, e.deviceFrees], [0, 0, 0, 2048, 2]);
  });

  test('out of memory: collect, then return the cache to the driver, then a DeviceError', () => {
    const f = fakeMem(4096);
    let collected = 0;
    // a registry that never fires, with cleanupSome, and a gc hook that counts
    class FR<T> {
      constructor(_cb: (held: T) => void) {}
      register() {}
      unregister() { return true; }
      cleanupSome() {}
    }
    const a = new CachingAllocator(f.mem, { gc: () => collected++, FinalizationRegistry: FR as unknown as typeof FinalizationRegistry });
    const x = a.allocate(2048);
    a.allocate(1024);
    a.release(x); // 2048 cached, 1024 live: 3072 of 4096 reserved
    const y = a.allocate(3000); // class 3072: the driver has 1024 left, so the cache goes back
    assert.equal(collected, 1);
    assert.equal(f.calls.free, 1, 'the cached 2048-byte block was freed to make room');
    assert.equal(y.cls, 3072);
    assert.throws(() => a.allocate(8192), (e: unknown) => e instanceof DeviceError && /cuda: expected an allocation that fits in device memory, got a request for 8192 bytes/.test((e as Error).message));
  });

  test('dispose releases once; the registry releases the rest', () => {
    const f = fakeMem();
    let fire: ((held: { ptr: number; cls: number }) => void) | null = null;
    const registered = new Map<object, { ptr: number; cls: number }>();
    class FR<T> {
      constructor(cb: (held: T) => void) { fire = cb as never; }
      register(o: object, held: T) { registered.set(o, held as never); }
      unregister(o: object) { return registered.delete(o); }
    }
    const a = new CachingAllocator(f.mem, { FinalizationRegistry: FR as unknown as typeof FinalizationRegistry });
    const o1 = {}, o2 = {};
    const b1 = a.allocate(100), b2 = a.allocate(100);
    a.track(o1, b1);
    a.track(o2, b2);
    assert.equal(a.dispose(o1, b1), true);
    assert.equal(a.dispose(o1, b1), false, 'a second dispose is a no-op');
    fire!(registered.get(o2)!); // o2 "garbage collected"
    assert.equal(a.stats().allocatedBytes, 0);
    assert.equal(a.stats().liveBlocks, 0);
    assert.equal(a.stats().cachedBytes, 1024);
  });

  test('a forced collection runs after gcEveryBytes of allocations', () => {
    const f = fakeMem();
    let gcs = 0;
    class FR<T> {
      constructor(_cb: (held: T) => void) {}
      register() {}
      unregister() { return true; }
      cleanupSome() {}
    }
    const a = new CachingAllocator(f.mem, { gc: () => gcs++, FinalizationRegistry: FR as unknown as typeof FinalizationRegistry }, { gcEveryBytes: 10_000 });
    for (let i = 0; i < 40; i++) a.release(a.allocate(1000));
    assert.equal(gcs, 4, '40 x 1024 bytes with a collection every 10,000');
    assert.equal(a.stats().collections, 4);
  });
});

describe('NVRTC compiler (fake library)', () => {
  function fakeNvrtc(opts: { archs?: number[]; fail?: boolean } = {}) {
    const calls: string[][] = [];
    const api: NvrtcApi = {
      nvrtcVersion: (a, b) => { a[0] = 13; b[0] = 0; return 0; },
      nvrtcGetErrorString: () => 'NVRTC_ERROR_COMPILATION',
      nvrtcCreateProgram: (o) => { o[0] = 7n; return 0; },
      nvrtcCompileProgram: (_p, _n, o) => { calls.push(o); return opts.fail ? 6 : 0; },
      nvrtcGetProgramLogSize: (_p, o) => { o[0] = 20n; return 0; },
      nvrtcGetProgramLog: (_p, buf) => { buf.set(new TextEncoder().encode('error: bad thing\0')); return 0; },
      nvrtcGetPTXSize: (_p, o) => { o[0] = 4n; return 0; },
      nvrtcGetPTX: (_p, buf) => { buf.set([80, 84, 88, 0]); return 0; },
      nvrtcGetCUBINSize: (_p, o) => { o[0] = 3n; return 0; },
      nvrtcGetCUBIN: (_p, buf) => { buf.set([1, 2, 3]); return 0; },
      nvrtcDestroyProgram: () => 0,
      nvrtcGetNumSupportedArchs: (o) => { o[0] = (opts.archs ?? [80, 90]).length; return 0; },
      nvrtcGetSupportedArchs: (o) => { o.set(opts.archs ?? [80, 90]); return 0; },
    };
    return { api, calls };
  }

  test('a CUBIN for the device when NVRTC knows it, else PTX for the newest it knows', () => {
    const c = new Compiler(fakeNvrtc().api, 90);
    assert.equal(c.target, 'sm_90');
    assert.equal(c.format, 'cubin');
    const old = new Compiler(fakeNvrtc({ archs: [75, 80, 86] }).api, 90);
    assert.equal(old.target, 'compute_86');
    assert.equal(old.format, 'ptx');
    const img = old.compile('x', 'k').image;
    assert.deepEqual([...img], [80, 84, 88, 0, 0], 'PTX is NUL-terminated');
  });

  test('each distinct source compiles once (memory and disk caches)', () => {
    const { api, calls } = fakeNvrtc();
    const disk = new Map<string, Uint8Array>();
    const cache = { get: (k: string) => disk.get(k) ?? null, set: (k: string, v: Uint8Array) => void disk.set(k, v) };
    const c = new Compiler(api, 90, cache);
    c.compile('a', 'ka');
    c.compile('a', 'ka');
    c.compile('b', 'kb');
    assert.equal(calls.length, 2);
    assert.deepEqual(calls[0], ['--gpu-architecture=sm_90', '--std=c++17']);
    assert.equal(disk.size, 2);
    assert.ok([...disk.keys()].every((k) => k.includes('nvrtc13.0-sm_90.cubin')));
    const c2 = new Compiler(api, 90, cache);
    const again = c2.compile('a', 'ka');
    assert.equal(calls.length, 2, 'a new process reads the disk cache');
    assert.equal(again.cached, true);
    assert.equal(c2.diskHits, 1);
  });

  test('a compile error carries the program log', () => {
    const c = new Compiler(fakeNvrtc({ fail: true }).api, 90);
    assert.throws(() => c.compile('bad', 'ndl_bad'), (e: unknown) => {
      assert.ok(e instanceof CudaError);
      assert.match(e.message, /^nvrtc: nvrtcCompileProgram failed with NVRTC_ERROR_COMPILATION \(6\): kernel ndl_bad:\nerror: bad thing$/);
      return true;
    });
  });
});

describe('host-side helpers', () => {
  test('coalesce merges contiguous dims and drops size-1 dims', () => {
    assert.deepEqual(coalesce([2, 3, 4], [12, 4, 1]), { shape: [24], strides: [1] });
    assert.deepEqual(coalesce([2, 1, 3], [3, 99, 1]), { shape: [6], strides: [1] });
    assert.deepEqual(coalesce([3, 2], [1, 3]), { shape: [3, 2], strides: [1, 3] });
    assert.deepEqual(coalesce([4, 5], [-5, 1]), { shape: [4, 5], strides: [-5, 1] });
    assert.deepEqual(coalesce([], []), { shape: [1], strides: [1] });
    assert.deepEqual(coalesce([2, 3, 4], [0, 4, 1]), { shape: [2, 12], strides: [0, 1] });
  });

  test('row-major products map onto column-major cuBLAS (checked against the BLAS definition)', () => {
    // naive column-major GEMM, exactly as BLAS defines it
    const colGemm = (ta: number, tb: number, m: number, n: number, k: number, A: number[], lda: number, B: number[], ldb: number, C: number[], ldc: number) => {
      for (let j = 0; j < n; j++) for (let i = 0; i < m; i++) {
        let s = 0;
        for (let l = 0; l < k; l++) s += (ta === 0 ? A[i + l * lda]! : A[l + i * lda]!) * (tb === 0 ? B[l + j * ldb]! : B[j + l * ldb]!);
        C[i + j * ldc] = s;
      }
    };
    const rnd = (n: number) => Array.from({ length: n }, (_, i) => ((i * 7919) % 13) - 6);
    for (const [m, n, k] of [[3, 4, 5], [1, 7, 2], [6, 1, 3], [4, 4, 1]] as const) {
      for (const tA of [false, true]) for (const tB of [false, true]) {
        const A = rnd(m * k), B = rnd(k * n);
        const a = (i: number, l: number) => (tA ? A[l * m + i]! : A[i * k + l]!);
        const b = (l: number, j: number) => (tB ? B[j * k + l]! : B[l * n + j]!);
        const want: number[] = [];
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
          let s = 0;
          for (let l = 0; l < k; l++) s += a(i, l) * b(l, j);
          want.push(s);
        }
        const g = gemmArgs(m, n, k, tA, tB);
        const C = new Array<number>(m * n).fill(NaN);
        colGemm(g.transa, g.transb, g.m, g.n, g.k, B, g.lda, A, g.ldb, C, g.ldc);
        assert.deepEqual(C, want, `m=${m} n=${n} k=${k} transA=${tA} transB=${tB}`);
        assert.ok(g.lda >= Math.max(1, g.transa === 0 ? g.m : g.k) && g.ldb >= Math.max(1, g.transb === 0 ? g.k : g.n) && g.ldc >= Math.max(1, g.m));
      }
    }
  });
});
