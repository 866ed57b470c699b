/**
 * The whole cuda backend on a host emulation of the GPU (runs where g++ exists; NEEDLE_CUDA_EMU=0
 * skips it). test/cuda_emu/fake.cpp stands in for libcuda, libnvrtc and libcublas with the same C
 * signatures, so the real discovery, the koffi bindings, the argument packing, the launches, the
 * generated kernels (compiled by g++ against test/cuda_emu/emu.h, one fiber per CUDA thread) and
 * the row-major-to-cuBLAS mapping (against a column-major GEMM written from the BLAS definition)
 * all run here. What this cannot check: NVRTC itself (test/cuda.test.ts compiles every kernel with
 * nvcc instead), real GPU scheduling and memory ordering, and speed.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nd from '../src/index.js';
import type { Backend } from '../src/ndarray/backend.js';
import { registerBackend } from '../src/ndarray/backend.js';
import { allKernelSpecs, combinedSource, kernelDef, kernelName, sourceHash } from '../src/ndarray/cuda/kernels.js';
import { CudaStorage, type CudaRuntime } from '../src/ndarray/cuda/index.js';
import { loadCuda } from '../src/platform/cuda.js';
import * as cuda from '../src/ndarray/cuda/public.js';
import { DeviceError } from '../src/errors.js';
import { close, parityCases, scopedTrainingRun } from './cuda_parity.js';

const EMU_DIR = fileURLToPath(new URL('../../test/cuda_emu/', import.meta.url));

function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** The emulation source: every generated kernel, and a table mapping names to trampolines. */
function emulationSource(): string {
  const specs = allKernelSpecs();
  const src = combinedSource(specs);
  const seen = new Map<string, boolean>();
  for (const s of specs) {
    const name = kernelName(s);
    if (!seen.has(name)) seen.set(name, /__syncthreads|ndl_warp_all|ndl_block_all|ndl_arg_warp|ndl_arg_block|__shfl/.test(kernelDef(s).body));
  }
  const rows = [...seen].map(([n, sync]) => `  {"${n}", [](void **p) { emu_call(&${n}, p); }, ${sync ? 1 : 0}},`).join('\n');
  return `#include "emu.h"
${src}
#include <utility>
template <class... A, size_t... I> static void emu_call(void (*f)(A...), void **p, std::index_sequence<I...>) { f(*static_cast<typename std::remove_reference<A>::type *>(p[I])...); }
template <class... A> static void emu_call(void (*f)(A...), void **p) { emu_call(f, p, std::index_sequence_for<A...>{}); }
extern "C" {
struct EmuKernel { const char *name; void (*tramp)(void **); int sync; };
extern const EmuKernel emu_kernels[] = {
${rows}
};
extern const int emu_kernel_count = ${seen.size};
const char *emu_source = R"NDLSRC(${src})NDLSRC";
}
`;
}

/** Builds (or reuses) the fake CUDA library; returns its path, or a reason it cannot. */
function buildEmulation(): { lib: string } | { skip: string } {
  if (process.env['NEEDLE_CUDA_EMU'] === '0') return { skip: 'NEEDLE_CUDA_EMU=0' };
  // independent of the default device: once per npm test (tools/test_all.mjs sets NEEDLE_DEVICE or
  // NEEDLE_THREADS in its other configurations)
  if (process.env['NEEDLE_DEVICE'] !== undefined || process.env['NEEDLE_THREADS'] !== undefined) {
    return { skip: 'runs once, in the default configuration of npm test' };
  }
  if (process.platform !== 'linux') return { skip: 'the emulation uses Linux ucontext' };
  const gxx = which('g++');
  if (!gxx) return { skip: 'g++ not found' };
  const fake = readFileSync(path.join(EMU_DIR, 'fake.cpp'), 'utf8');
  const header = readFileSync(path.join(EMU_DIR, 'emu.h'), 'utf8');
  const kernels = emulationSource();
  const dir = path.join(os.tmpdir(), 'needle-cuda-emu', sourceHash(fake + header + kernels));
  const lib = path.join(dir, 'libfakecuda.so');
  if (existsSync(lib)) return { lib };
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'kernels_emu.cpp'), kernels);
  const flags = ['-std=c++17', '-O1', '-fPIC', '-w', '-U_FORTIFY_SOURCE', `-I${EMU_DIR}`];
  for (const [src, obj] of [[path.join(EMU_DIR, 'fake.cpp'), 'fake.o'], [path.join(dir, 'kernels_emu.cpp'), 'kernels.o']] as const) {
    const r = spawnSync(gxx, [...flags, '-c', src, '-o', path.join(dir, obj)], { encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0) throw new Error(`g++ failed on ${src}:\n${r.stderr}`);
  }
  const tmp = `${lib}.${process.pid}.tmp`;
  const r = spawnSync(gxx, ['-shared', '-o', tmp, path.join(dir, 'fake.o'), path.join(dir, 'kernels.o')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`linking the emulation failed:\n${r.stderr}`);
  renameSync(tmp, lib);
  return { lib };
}

const built = buildEmulation();
const skip = 'skip' in built ? built.skip : false;

describe('cuda backend on the host emulation', { skip }, () => {
  let backend: Backend;
  let runtime: CudaRuntime;

  before(async () => {
    const lib = (built as { lib: string }).lib;
    process.env['EMU_SMS'] = '2'; // two "multiprocessors": rows of fewer than 4 take the split path
    const r = await loadCuda({
      env: { ...process.env, NEEDLE_LIBCUDA: lib, NEEDLE_NVRTC: lib, NEEDLE_CUBLAS: lib, NEEDLE_CUDA_CACHE: '0' },
      register: false,
    });
    assert.equal(r.reason, '', r.reason);
    backend = r.backend!;
    runtime = r.runtime!;
    registerBackend(backend);
  });

  test('set-up found the three libraries and the device', () => {
    const info = runtime.describe();
    assert.equal(info.name, 'needle-ts host emulation');
    assert.equal(info.computeCapability, '9.0');
    assert.equal(info.nvrtcTarget, 'sm_90');
    assert.match(info.cublas, /^cuBLAS 130000$/);
  });

  for (const c of parityCases()) test(c.name, async () => c.run(backend));

  test('tensors move with .to("cuda") and back; the op layer runs on the device', () => {
    const x = nd.tensor([[1, 2, 3], [4, 5, 6]]);
    const y = x.to('cuda');
    assert.equal(y.device, 'cuda');
    const z = nd.matmul(y, y.transpose(0, 1)).relu().sum(1);
    assert.deepEqual(z.to('cpu').toArray(), [46, 109]);
    const g = nd.randn([4, 5], { device: 'cuda' }).requiresGrad_();
    const loss = nd.logSoftmax(g, 1).sum();
    loss.backward();
    assert.equal(g.grad!.device, 'cuda');
  });

  test('dropout masks are drawn on the device (philoxBernoulli) and equal the cpu stream', () => {
    for (const [shape, p, dtype] of [[[7], 0.5, 'float32'], [[33, 31], 0.1, 'float64'], [[1023], 0.9, 'float32']] as const) {
      const run = (device: string) => {
        const g = new nd.Generator(77).skip(3); // an odd word phase
        const x = nd.ones(shape, { dtype, device });
        const y = nd.nn.functional.dropout(x, p, { generator: g });
        return { values: Array.from(y.to('cpu').dataSync(), Number), next: g.nextUint32() };
      };
      const want = run('cpu');
      const member = backend.philoxBernoulli!;
      let calls = 0;
      backend.philoxBernoulli = (...args) => {
        calls++;
        member.apply(backend, args);
      };
      try {
        assert.deepEqual(run('cuda'), want, `dropout ${JSON.stringify(shape)} p=${p} ${dtype}`);
      } finally {
        backend.philoxBernoulli = member;
      }
      assert.equal(calls, 1, 'the mask came from the device kernel');
    }
  });

  test('reductions over leading and middle axes run reduceAxis in place (no transposed copy) and match cpu', () => {
    const member = backend.reduceAxis!;
    let calls = 0;
    backend.reduceAxis = (...args) => {
      calls++;
      member.apply(backend, args);
    };
    try {
      const x = nd.randn([6, 50, 9]);
      const xc = x.to('cuda');
      const pairs: [nd.Tensor, nd.Tensor, string][] = [
        [x.sum(0), xc.sum(0), 'sum(0)'], [x.max(1), xc.max(1), 'max(1)'], [x.argmin(1), xc.argmin(1), 'argmin(1)'],
        [x.mean([0, 1]), xc.mean([0, 1]), 'mean([0, 1])'],
      ];
      for (const [want, got, what] of pairs) {
        const w = Array.from(want.dataSync(), Number), g = Array.from(got.to('cpu').dataSync(), Number);
        for (let i = 0; i < w.length; i++) assert.ok(Math.abs(g[i]! - w[i]!) <= 1e-6 * Math.abs(w[i]!) + 1e-6, `${what} element ${i}: ${g[i]} vs ${w[i]}`);
      }
    } finally {
      backend.reduceAxis = member;
    }
    assert.equal(calls, 4);
  });

  test('broadcast and strided binary ops run binaryStrided without compact copies and match cpu', () => {
    const member = backend.binaryStrided!;
    let handled = 0;
    backend.binaryStrided = (...args) => {
      const r = member.apply(backend, args);
      if (r) handled++;
      return r;
    };
    try {
      const x = nd.randn([100, 37]), bias = nd.randn([37]), col = nd.randn([100, 1]);
      const xc = x.to('cuda'), bc = bias.to('cuda'), cc = col.to('cuda');
      const pairs: [nd.Tensor, nd.Tensor, string][] = [
        [x.add(bias), xc.add(bc), 'x + bias'], [x.mul(col), xc.mul(cc), 'x * col'],
        [x.transpose(0, 1).sub(col.transpose(0, 1)), xc.transpose(0, 1).sub(cc.transpose(0, 1)), 'transposed - broadcast row'],
        [x.gt(bias), xc.gt(bc), 'x > bias'],
      ];
      for (const [want, got, what] of pairs) assert.deepEqual(Array.from(got.to('cpu').dataSync(), Number), Array.from(want.dataSync(), Number), what);
    } finally {
      backend.binaryStrided = member;
    }
    assert.equal(handled, 4);
  });

  test('BatchNorm2d training runs the batchNorm members on the device and matches cpu', () => {
    const fwd = backend.batchNorm!, bwd = backend.batchNormBackward!;
    let calls = 0;
    backend.batchNorm = (...args) => {
      calls++;
      fwd.apply(backend, args);
    };
    backend.batchNormBackward = (...args) => {
      calls++;
      bwd.apply(backend, args);
    };
    try {
      const run = (device: string) => {
        nd.manualSeed(9);
        const bn = new nd.nn.BatchNorm2d(3);
        bn.to(device);
        const x = nd.randn([4, 3, 5, 7]).to(device).requiresGrad_();
        const y = bn.forward(x) as nd.Tensor;
        y.mul(nd.randn([4, 3, 5, 7]).to(device)).sum().backward();
        return [y, x.grad!, bn.weight!.grad!, bn.bias!.grad!, ...bn.buffers()].map((t) => Array.from(t.to('cpu').dataSync(), Number));
      };
      const want = run('cpu');
      const got = run('cuda');
      got.forEach((g, k) => close(`BatchNorm2d output ${k}`, 1e-4, 1e-5)(g, want[k]!));
    } finally {
      backend.batchNorm = fwd;
      backend.batchNormBackward = bwd;
    }
    assert.equal(calls, 2);
  });

  test('conv2d forward and backward run the im2col / col2im members on the device and match cpu', () => {
    const fwd = backend.im2col!, adj = backend.col2im!;
    const calls = { im2col: 0, col2im: 0 };
    backend.im2col = (...args) => {
      calls.im2col++;
      fwd.apply(backend, args);
    };
    backend.col2im = (...args) => {
      calls.col2im++;
      adj.apply(backend, args);
    };
    try {
      const run = (device: string) => {
        nd.manualSeed(4);
        const x = nd.randn([2, 3, 9, 8]).to(device).requiresGrad_();
        const w = nd.randn([5, 3, 3, 3]).to(device).requiresGrad_();
        const y = nd.nn.functional.conv2d(x, w, null, { stride: 2, padding: 1, dilation: [1, 2] });
        y.mul(nd.randn(y.shape).to(device)).sum().backward();
        return [y, x.grad!, w.grad!].map((t) => Array.from(t.to('cpu').dataSync(), Number));
      };
      const want = run('cpu');
      const got = run('cuda');
      got.forEach((g, k) => close(`conv2d output ${k}`, 1e-4, 1e-4)(g, want[k]!));
    } finally {
      backend.im2col = fwd;
      backend.col2im = adj;
    }
    assert.ok(calls.im2col >= 1 && calls.col2im >= 1, JSON.stringify(calls));
  });

  test('dispose frees at once; a disposed tensor throws a DeviceError', () => {
    const before = runtime.allocator.stats().allocatedBytes;
    const x = nd.ones([1000], { device: 'cuda' });
    assert.ok(runtime.allocator.stats().allocatedBytes > before);
    cuda.dispose(x);
    assert.equal(runtime.allocator.stats().allocatedBytes, before);
    assert.ok(x.array.storage instanceof CudaStorage && x.array.storage.disposed);
    assert.throws(() => x.dataSync(), (e: unknown) => e instanceof DeviceError && /freed by dispose\(\)/.test((e as Error).message));
    cuda.dispose(x); // twice is harmless
  });

  test('memory stays flat over training epochs (the allocator reuses every step\'s blocks)', () => {
    const model = new nd.nn.Sequential(new nd.nn.Linear(20, 32), new nd.nn.ReLU(), new nd.nn.Linear(32, 4));
    model.to('cuda');
    const opt = new nd.optim.SGD(model.parameters(), { lr: 0.05 });
    const x = nd.randn([16, 20]).to('cuda');
    const y = nd.randint(0, 4, [16], { dtype: 'int32' }).to('cuda');
    const epoch = () => {
      for (let i = 0; i < 15; i++) {
        opt.zeroGrad();
        const loss = nd.nn.functional.crossEntropy(model.forward(x), y);
        loss.backward();
        opt.step();
      }
      runtime.allocator.collect();
    };
    epoch();
    const s1 = runtime.allocator.stats();
    epoch();
    epoch();
    const s3 = runtime.allocator.stats();
    assert.ok(runtime.allocator.syncReclaim, 'Node offers a forced collection with cleanupSome');
    // after a collection only the model, the optimizer state and the data are live: no leak
    assert.equal(s3.allocatedBytes, s1.allocatedBytes, `live bytes after each epoch ${s1.allocatedBytes} -> ${s3.allocatedBytes}`);
    assert.equal(s3.liveBlocks, s1.liveBlocks, `live blocks ${s1.liveBlocks} -> ${s3.liveBlocks}`);
    // what the driver holds stays bounded (V8's collection timing may call for one more block of a class)
    assert.ok(s3.reservedBytes <= s1.reservedBytes * 1.05 + 2 ** 20, `reserved ${s1.reservedBytes} -> ${s3.reservedBytes}`);
  });

  test('nd.scope: training steps match unscoped ones bit for bit and free everything at once, no collection', () => {
    let tmp: nd.Tensor | null = null;
    const size = { features: 20, hidden: 32, classes: 4, batch: 16, lr: 0.01, steps: 8 };
    const run = (scoped: boolean) => scopedTrainingRun(runtime.allocator, scoped, size, (t) => (tmp = t));
    const plain = run(false);
    const scoped = run(true);
    assert.deepEqual(scoped.values, plain.values);
    assert.ok(scoped.bytes.every((b) => b === scoped.bytes[2]), `allocated bytes per step: ${scoped.bytes.join(' ')}`);
    assert.throws(() => tmp!.dataSync(), (e: unknown) => e instanceof DeviceError && /freed by dispose\(\)/.test((e as Error).message));
  });

  test('out of device memory: the cache is returned, then a DeviceError', () => {
    process.env['EMU_MEM_LIMIT'] = String(64 * 2 ** 20);
    try {
      const t = nd.zeros([4 * 2 ** 20], { device: 'cuda' }); // 16 MiB fits
      cuda.dispose(t);
      assert.throws(() => nd.zeros([32 * 2 ** 20], { device: 'cuda' }), (e: unknown) => e instanceof DeviceError && /cuda: expected an allocation that fits in device memory/.test((e as Error).message));
    } finally {
      delete process.env['EMU_MEM_LIMIT'];
    }
  });

  test('every kernel launched here is one the nvcc test compiles', () => {
    assert.ok(runtime.kernelCount > 100, `${runtime.kernelCount} kernels loaded`);
  });
});
