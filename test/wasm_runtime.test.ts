// The wasm backend's runtime: the heap (size classes, reuse, zeroing, reclamation of dead tensors
// in a synchronous loop, explicit free, the memory limit), the thread pool (every task runs once,
// results depend only on the thread count), nd.info(), and a training script exiting cleanly.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import * as nd from '../src/index.js';
import { wasmRuntime } from '../src/platform/setup.js';
import { WasmHeap, sizeClass, HEAP_BASE } from '../src/ndarray/wasm/heap.js';
import { DeviceError } from '../src/errors.js';

const rt = wasmRuntime!;
const here = dirname(fileURLToPath(import.meta.url));

async function workersReady(): Promise<void> {
  for (let i = 0; i < 400 && rt.pool.ready < rt.pool.threads - 1; i++) await new Promise((r) => setTimeout(r, 5));
}

describe('wasm heap', () => {
  test('size classes are 64-byte multiples within a third of the request', () => {
    for (const b of [1, 63, 64, 65, 100, 1000, 4097, 65536, 1e6, 3e7]) {
      const c = sizeClass(b);
      assert.ok(c >= b && c % 64 === 0, `class ${c} of ${b}`);
      assert.ok(b <= 64 || c <= b * 1.5 + 64, `class ${c} of ${b} wastes too much`);
    }
  });

  test('blocks are reused after free (not cleared: the contract promises no contents)', () => {
    const heap = new WasmHeap({}, { initialPages: 32 });
    const a = heap.allocate('float32', 1000);
    a.data.fill(7);
    const ptr = a.ptr;
    heap.free(a);
    const b = heap.allocate('float32', 900); // same size class
    assert.equal(b.ptr, ptr);
    assert.equal(b.data[0], 7);
    assert.ok(b.ptr >= HEAP_BASE && b.ptr % 64 === 0);
  });

  test('growth beyond the maximum is a DeviceError naming the sizes', () => {
    const heap = new WasmHeap({}, { initialPages: 17, maxPages: 40 });
    assert.throws(() => heap.allocate('float64', 1 << 20), (e: unknown) => e instanceof DeviceError && /wasm: expected an allocation that fits in 2621440 bytes/.test((e as Error).message));
  });

  test('a synchronous loop that drops its tensors keeps live memory flat', { skip: !rt.heap.syncReclaim && 'no synchronous reclamation on this platform' }, () => {
    const x = nd.randn([1 << 19], { device: "wasm" });
    const live: number[] = [];
    let sum = 0;
    for (let step = 0; step < 120; step++) {
      const y = nd.mul(nd.add(x, step), 2); // two 4 MiB tensors per step, dropped at once
      sum += y.array.storage.length;
      if (step % 40 === 39) {
        rt.heap.collect();
        live.push(rt.heap.stats().liveBytes);
      }
    }
    // 120 steps allocate 480 MB, more than the 256 MiB between forced collections; what stays live must not grow
    assert.equal(sum, 120 << 19);
    assert.ok(live[2]! <= live[0]! + 2 ** 20, `live bytes grew: ${live.join(', ')}`);
    assert.ok(rt.heap.stats().memoryBytes < 512 * 2 ** 20, `memory grew to ${rt.heap.stats().memoryBytes}`);
  });
});

describe('wasm thread pool', () => {
  test('every task of a split kernel runs once (fill with 1..4 parts over odd sizes)', async () => {
    await workersReady();
    for (const n of [1, 7, 1023, 100_003]) {
      for (const parts of [1, 2, 3, 4]) {
        const t = nd.zeros([n], { device: 'wasm' });
        const s = t.array.storage as unknown as { ptr: number; data: Float32Array };
        rt.run('fill_f32', [s.ptr, n, parts + 0.5], parts);
        assert.ok(s.data.every((v) => v === parts + 0.5), `n=${n} parts=${parts}`);
      }
    }
  });
});

describe('nd.info()', () => {
  test('reports the devices, the default, threads, relaxed SIMD and the matmul path', () => {
    const i = nd.info();
    assert.ok(i.devices.includes('cpu') && i.devices.includes('wasm'));
    assert.equal(i.defaultDevice, process.env['NEEDLE_DEVICE'] || 'wasm');
    assert.equal(i.wasm.available, true);
    assert.equal(i.wasm.threads, rt.pool.threads);
    assert.equal(typeof i.wasm.relaxedSimd, 'boolean');
    assert.ok(i.wasm.matmul === 'blas' || i.wasm.matmul === 'wasm');
    assert.equal(typeof i.wasm.blas, 'string');
    assert.ok(i.wasm.memory.memoryBytes >= i.wasm.memory.heapBytes);
  });
});

describe('process exit', () => {
  test('a script that trains on the wasm backend with threads exits by itself', () => {
    const index = join(here, '../src/index.js');
    const script = `
      const nd = await import(${JSON.stringify(index)});
      nd.manualSeed(0);
      const m = new nd.nn.Sequential(new nd.nn.Linear(20, 64), new nd.nn.ReLU(), new nd.nn.Linear(64, 2));
      const opt = new nd.optim.SGD(m.parameters(), { lr: 0.1 });
      const x = nd.randn([512, 20]); const y = nd.randint(0, 2, [512]);
      await new Promise((r) => setTimeout(r, 100));
      for (let i = 0; i < 20; i++) { opt.zeroGrad(); const l = nd.nn.functional.crossEntropy(m.forward(x), y); l.backward(); opt.step(); }
      console.log('done', nd.info().wasm.workersReady);
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 30_000, encoding: 'utf8', env: { ...process.env, NEEDLE_THREADS: '2' } });
    assert.equal(r.error, undefined, `the process did not exit: ${String(r.error)}`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^done [01]/);
  });
});

describe('moving tensors between devices', () => {
  test('x.to(device) copies views compactly, and gradients flow back to the source device', () => {
    const x = nd.tensor([[1, 2, 3], [4, 5, 6]], { device: 'cpu' }).requiresGrad_(true);
    const y = x.transpose(0, 1).to('wasm');
    assert.equal(y.device, 'wasm');
    assert.deepEqual(y.toArray(), [[1, 4], [2, 5], [3, 6]]);
    y.mul(y).sum().backward();
    assert.equal(x.grad!.device, 'cpu');
    assert.deepEqual(x.grad!.toArray(), [[2, 4, 6], [8, 10, 12]]);
    assert.equal(y.to('wasm'), y);
    assert.equal(nd.tensor([1, 2], { dtype: 'int32', device: 'wasm' }).to('cpu').dtype, 'int32');
    assert.throws(() => x.to('tpu'), /device: expected one of cpu, wasm.*got "tpu"/);
  });
});

describe('unshared memory (pages that are not cross-origin isolated)', () => {
  test('the module runs on a plain memory with one thread, and views survive growth', async () => {
    const { createWasmBackend } = await import('../src/ndarray/wasm/index.js');
    const { unshareMemoryImport } = await import('../src/ndarray/wasm/runtime.js');
    const { backend: be, runtime } = createWasmBackend({ sharedMemory: false, threads: 4, heap: { initialPages: 17 } });
    assert.equal(runtime.pool.threads, 1);
    assert.equal(runtime.heap.memory.buffer instanceof ArrayBuffer, true);
    const a = be.allocate('float32', 1000);
    const b = be.allocate('float32', 1000);
    const o = be.allocate('float32', 1000);
    be.write(a, 0, Array.from({ length: 1000 }, (_, i) => i));
    be.write(b, 0, Array.from({ length: 1000 }, () => 2));
    // grow the plain memory (its old buffer detaches), then use the old storages
    const big = be.allocate('float64', 4 << 20);
    assert.ok(runtime.heap.byteLength > 17 * 65536);
    be.binary('mul', { storage: a, offset: 0 }, { storage: b, offset: 0 }, { storage: o, offset: 0 }, 1000);
    assert.equal(be.readSync(o, 999, 1)[0], 1998);
    be.setitemScalar({ storage: big, offset: 0, shape: [3], strides: [2] }, 5);
    assert.deepEqual(Array.from(be.readSync(big, 0, 5)), [5, 0, 5, 0, 5]);
    assert.throws(() => unshareMemoryImport(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])), /no memory import/);
  });
});
