/**
 * The cuda backend on a real GPU (skipped where `loadCuda()` finds none): the kernel-level parity
 * cases of test/cuda_parity.ts, large sizes that take many blocks and the split reductions, the
 * asynchronous read, memory that stays flat over training epochs (with and without nd.scope),
 * dispose, and TF32 opt-in.
 * scripts/gpu-check.sh runs it on the GPU machine; here it reports why it skipped.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import * as nd from '../src/index.js';
import type { Backend } from '../src/ndarray/backend.js';
import { registerBackend } from '../src/ndarray/backend.js';
import type { CudaRuntime } from '../src/ndarray/cuda/index.js';
import * as cuda from '../src/ndarray/cuda/public.js';
import { loadCuda, type LoadCudaResult } from '../src/platform/cuda.js';
import { DeviceError } from '../src/errors.js';
import { close, exact, parityCases, rng, scopedTrainingRun } from './cuda_parity.js';
import { bernoulliInto } from '../src/ndarray/cpu/philox.js';

const loaded: LoadCudaResult = await loadCuda({ register: false });
const skip = loaded.backend ? false : `no GPU: ${loaded.reason}`;

describe('cuda backend on the GPU', { skip }, () => {
  let backend: Backend;
  let runtime: CudaRuntime;

  before(() => {
    backend = loaded.backend!;
    runtime = loaded.runtime!;
    registerBackend(backend);
    console.log(`# ${JSON.stringify(runtime.describe())}`);
  });

  for (const c of parityCases()) test(c.name, async () => c.run(backend));

  test('large arrays: many blocks, vector paths, split reductions, async reads', async () => {
    // the host emulation (scripts/gpu-check.sh tried here) is thousands of times slower than a GPU
    const n = runtime.name.includes('emulation') ? (1 << 17) + 3 : (1 << 24) + 3;
    const r = rng(1);
    const host = Float32Array.from({ length: n }, () => r() * 2 - 1);
    const x = nd.tensor(host).to('cuda');
    const y = x.mul(2.5).add(1.5);
    const ys = y.dataSync() as Float32Array;
    for (const i of [0, 1, 12345, n >> 1, n - 1]) assert.equal(ys[i], Math.fround(Math.fround(host[i]! * 2.5) + 1.5));
    const s = x.sum().item();
    let want = 0;
    for (let i = 0; i < n; i++) want += host[i]!;
    assert.ok(Math.abs(s - want) < 0.1, `sum ${s} vs ${want}`);
    const am = x.argmax().item();
    let best = 0;
    for (let i = 1; i < n; i++) if (host[i]! > host[best]!) best = i;
    assert.equal(am, best);
    const tail = await y.data();
    assert.equal(tail.length, n);
    assert.equal(tail[n - 1], ys[n - 1]);
    const a = nd.randn([96, 64]).to('cuda'), b = nd.randn([64, 80]).to('cuda');
    const c = nd.matmul(a, b).to('cpu');
    close('matmul 96x64x80', 1e-4, 1e-3)(Array.from(c.dataSync(), Number), Array.from(nd.matmul(a.to('cpu'), b.to('cpu')).dataSync(), Number));
    exact('transpose round trip')(Array.from(a.transpose(0, 1).contiguous().transpose(0, 1).contiguous().dataSync(), Number), Array.from(a.dataSync(), Number));
  });

  test('the members added after the first GPU run at sizes that take many blocks', () => {
    // philoxBernoulli, reduceAxis (both paths), binaryStrided, batchNorm(+Backward), im2col/col2im
    const emu = runtime.name.includes('emulation');
    const cpu = (t: nd.Tensor) => Array.from(t.to('cpu').dataSync(), Number);
    const n = emu ? (1 << 14) + 3 : (1 << 22) + 3;
    for (const phase of [0, 1, 2, 3]) {
      const spec = { key0: 123, key1: 456, counter: 2 ** 32 - 1000, phase };
      const out = backend.allocate('float32', n);
      backend.philoxBernoulli!({ storage: out, offset: 0 }, n, spec, 0.7, 1 / 0.7);
      const host = new Float32Array(n);
      bernoulliInto(host, 0, n, spec.key0, spec.key1, spec.counter, spec.phase, 0.7, 1 / 0.7);
      exact(`philoxBernoulli n=${n} phase ${phase}`)(Array.from(backend.readSync(out, 0, n), Number), Array.from(host));
      backend.free(out);
    }
    const r = rng(7);
    const rand = (shape: number[]) => nd.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1)).reshape(shape);
    for (const shape of emu ? [[2, 3000, 3], [16, 40, 300]] : [[3, 200000, 5], [64, 300, 1024]]) {
      const x = rand(shape);
      const xc = x.to('cuda');
      close(`sum(1) of ${shape}`, 1e-5, 1e-4)(cpu(xc.sum(1)), cpu(x.sum(1)));
      exact(`max(1) of ${shape}`)(cpu(xc.max(1)), cpu(x.max(1)));
      exact(`argmin(1) of ${shape}`)(cpu(xc.argmin(1)), cpu(x.argmin(1)));
    }
    const big = emu ? [64, 96] : [4096, 4096];
    const a = rand(big), bias = rand([big[1]!]), col = rand([big[0]!, 1]);
    exact('a + bias')(cpu(a.to('cuda').add(bias.to('cuda'))), cpu(a.add(bias)));
    exact('a^T * col^T')(cpu(a.to('cuda').transpose(0, 1).mul(col.to('cuda').transpose(0, 1))), cpu(a.transpose(0, 1).mul(col.transpose(0, 1))));
    const bnShape = emu ? [4, 3, 8, 8] : [32, 64, 32, 32];
    const xb = rand(bnShape);
    const run = (device: string) => {
      nd.manualSeed(5);
      const bn = new nd.nn.BatchNorm2d(bnShape[1]!);
      bn.to(device);
      const x = xb.to(device).requiresGrad_();
      const conv = new nd.nn.Conv2d(bnShape[1]!, 8, 3, { padding: 1 });
      conv.to(device);
      const y = conv.forward(bn.forward(x) as nd.Tensor) as nd.Tensor;
      y.sum().backward();
      return [y, x.grad!, ...bn.buffers()].map(cpu);
    };
    const want = run('cpu');
    run('cuda').forEach((g, k) => close(`BatchNorm2d + Conv2d output ${k}`, 1e-3, 1e-3)(g, want[k]!));
  });

  test('memory stays flat over training epochs', () => {
    const model = new nd.nn.Sequential(new nd.nn.Linear(64, 48), new nd.nn.ReLU(), new nd.nn.Linear(48, 10));
    model.to('cuda');
    const opt = new nd.optim.Adam(model.parameters(), { lr: 1e-3 });
    const x = nd.randn([128, 64]).to('cuda');
    const y = nd.randint(0, 10, [128], { dtype: 'int32' }).to('cuda');
    const epoch = () => {
      for (let i = 0; i < 50; i++) {
        opt.zeroGrad();
        const loss = nd.nn.functional.crossEntropy(model.forward(x), y);
        loss.backward();
        opt.step();
      }
      runtime.allocator.collect();
      runtime.synchronize();
    };
    epoch();
    const s1 = runtime.allocator.stats();
    for (let e = 0; e < 4; e++) epoch();
    const s5 = runtime.allocator.stats();
    // after a collection only the model, the optimizer state and the data are live: no leak
    assert.equal(s5.allocatedBytes, s1.allocatedBytes, `live bytes after each epoch ${s1.allocatedBytes} -> ${s5.allocatedBytes}`);
    assert.equal(s5.liveBlocks, s1.liveBlocks, `live blocks ${s1.liveBlocks} -> ${s5.liveBlocks}`);
    // what the driver holds: bounded (how many intermediates are alive at once varies with V8's
    // collections, so a class may need one more block in a later epoch)
    assert.ok(s5.reservedBytes <= s1.reservedBytes * 1.05 + 2 ** 20, `reserved ${s1.reservedBytes} -> ${s5.reservedBytes}`);
  });

  test('nd.scope: training steps match unscoped ones bit for bit, memory flat with no collection', () => {
    const size = { features: 64, hidden: 48, classes: 10, batch: 128, lr: 1e-3, steps: 12 };
    const run = (scoped: boolean) => scopedTrainingRun(runtime.allocator, scoped, size);
    const plain = run(false);
    const scoped = run(true);
    assert.deepEqual(scoped.values, plain.values);
    assert.ok(scoped.bytes.every((b) => b === scoped.bytes[2]), `allocated bytes per step: ${scoped.bytes.join(' ')}`);
  });

  test('dispose frees now and a disposed tensor throws', () => {
    const before = runtime.allocator.stats().allocatedBytes;
    const t = nd.ones([1 << 20], { device: 'cuda' });
    cuda.dispose(t);
    assert.equal(runtime.allocator.stats().allocatedBytes, before);
    assert.throws(() => t.dataSync(), DeviceError);
  });

  test('TF32 is off by default and can be switched on', () => {
    assert.equal(runtime.describe().allowTF32, false);
    if (!runtime.cublas) return;
    runtime.cublas.setAllowTF32(true);
    assert.equal(runtime.describe().allowTF32, true);
    runtime.cublas.setAllowTF32(false);
  });
});
