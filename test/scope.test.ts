/**
 * nd.scope(fn) and nd.keep(t): what a scope made is freed at its exit except what it returns,
 * keeps, or gives to long-lived state (parameters, gradients, optimizer and BatchNorm state), and
 * a training step in a scope gives the same numbers as without one, with flat wasm memory. Runs
 * on the default device and on cpu.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as nd from '../src/index.js';
import { DeviceError } from '../src/errors.js';
import { assertThrows } from './helpers.js';
import { wasmRuntime } from '../src/platform/setup.js';

const FREED = /expected a live tensor, got one whose memory was freed by dispose\(\)/;
const hasWasm = nd.listDevices().includes('wasm');
const liveBytes = (): number => nd.info().wasm.memory.liveBytes;
/** Returns what the collector can find dead now (Node), so live bytes then count only the living. */
const collect = (): void => wasmRuntime?.heap.collect();

const assertFreed = (t: nd.Tensor): void => assertThrows(() => t.dataSync(), DeviceError, FREED);
const values = (t: nd.Tensor): number[] => Array.from(t.dataSync(), Number);

/** An MLP with BatchNorm1d and Dropout, its optimizer and data, all made outside any scope. */
function setup(device: string, makeOpt: (ps: nd.Tensor[]) => nd.optim.Optimizer<{ lr: number }>) {
  nd.manualSeed(7);
  const model = new nd.nn.Sequential(
    new nd.nn.Linear(8, 16), new nd.nn.BatchNorm1d(16), new nd.nn.ReLU(), new nd.nn.Dropout(0.25), new nd.nn.Linear(16, 3),
  );
  model.to(device);
  const opt = makeOpt(model.parameters());
  const x = nd.randn([32, 8]).to(device);
  const y = nd.randint(0, 3, [32], { dtype: 'int32' }).to(device);
  const step = (clip: boolean): number => {
    opt.zeroGrad();
    const loss = nd.nn.functional.crossEntropy(model.forward(x) as nd.Tensor, y);
    loss.backward();
    if (clip) nd.optim.clipGradNorm_(model.parameters(), 0.5);
    opt.step();
    return loss.item();
  };
  return { model, opt, step };
}

/** Every parameter, buffer and optimizer state tensor, as numbers. */
function snapshot(model: nd.nn.Module, opt: nd.optim.Optimizer<{ lr: number }>): number[][] {
  const out = [...model.parameters(), ...model.buffers()].map(values);
  for (const s of opt.state.values()) for (const v of Object.values(s)) out.push(v instanceof nd.Tensor ? values(v) : [v]);
  return out;
}

for (const device of [...new Set([nd.getDefaultDevice(), 'cpu'])]) {
  describe(`scope on ${device}`, () => {
    const t = (v: number[]) => nd.tensor(v, { device });

    test('the returned tensor lives; the others made inside are freed; inputs made before are untouched', () => {
      const x = t([1, 2, 3, 4, 5, 6]);
      let inner: nd.Tensor | null = null;
      let view: nd.Tensor | null = null;
      const r = nd.scope(() => {
        inner = nd.mul(x, 2);
        view = x.reshape([2, 3]); // shares x's memory, made before the scope
        return nd.add(inner, 1);
      });
      assert.deepEqual(values(r), [3, 5, 7, 9, 11, 13]);
      assertFreed(inner!);
      assert.deepEqual(values(view!), [1, 2, 3, 4, 5, 6]);
      assert.deepEqual(values(x), [1, 2, 3, 4, 5, 6]);
    });

    test('a returned view keeps its base alive; tensors in arrays and objects two levels deep are returned', () => {
      let base: nd.Tensor | null = null;
      const v = nd.scope(() => {
        base = nd.tensor([[0, 1, 2], [3, 4, 5]], { device });
        return base.transpose(0, 1);
      });
      assert.deepEqual(v.toArray(), [[0, 3], [1, 4], [2, 5]]);
      assert.deepEqual(values(base!), [0, 1, 2, 3, 4, 5]);
      let lost: nd.Tensor | null = null;
      const out = nd.scope(() => {
        lost = t([9]);
        return { a: t([1]), list: [t([2]), t([3])], n: 4 };
      });
      assert.deepEqual([out.a, ...out.list].map((x) => x.item()), [1, 2, 3]);
      assert.equal(out.n, 4);
      assertFreed(lost!);
      const pair = nd.scope(() => [t([5]), t([6])] as const);
      assert.deepEqual(pair.map((x) => x.item()), [5, 6]);
      assert.equal(nd.scope(() => t([7]).item()), 7);
    });

    test('nested scopes: the inner result belongs to the outer scope', () => {
      let inner: nd.Tensor | null = null;
      let innerTmp: nd.Tensor | null = null;
      const outer = nd.scope(() => {
        inner = nd.scope(() => {
          innerTmp = t([1, 2]);
          return nd.mul(innerTmp, 10);
        });
        assertFreed(innerTmp!);
        assert.deepEqual(values(inner), [10, 20]); // alive until the outer scope ends
        return nd.sum(inner);
      });
      assert.equal(outer.item(), 30);
      assertFreed(inner!);
    });

    test('nd.keep survives every enclosing scope; outside scopes it does nothing', () => {
      let kept: nd.Tensor | null = null;
      nd.scope(() => {
        nd.scope(() => {
          kept = nd.keep(nd.mul(t([1, 2, 3]), 3));
        });
      });
      assert.deepEqual(values(kept!), [3, 6, 9]);
      const free = t([1]);
      assert.equal(nd.keep(free), free);
      assertThrows(() => nd.keep([1, 2] as never), TypeError, /^keep: a Tensor, got \[1,2\]$/);
    });

    test('a throw inside frees what was made and propagates; state written before it survives', () => {
      const w = t([1, 2, 3]);
      let tmp: nd.Tensor | null = null;
      assert.throws(
        () =>
          nd.scope(() => {
            tmp = nd.add(w, 1);
            w.array = nd.mul(w, 2).array;
            throw new Error('boom');
          }),
        /^Error: boom$/,
      );
      assertFreed(tmp!);
      assert.deepEqual(values(w), [2, 4, 6]);
    });

    test('async functions and non-functions are refused with a TypeError', () => {
      const x = t([1]);
      assertThrows(
        () => nd.scope(async () => nd.add(x, 1)),
        TypeError,
        /^scope: fn to return synchronously \(a Tensor, an array or object of Tensors, or nothing\); an async function cannot be scoped, since tracking across await would free or keep the tensors of other tasks, got a Promise$/,
      );
      assertThrows(() => nd.scope(42 as never), TypeError, /^scope: fn to be a function, got 42$/);
      // the scope stack is clean afterwards
      let tmp: nd.Tensor | null = null;
      nd.scope(() => {
        tmp = nd.add(x, 1);
      });
      assertFreed(tmp!);
    });

    test('the graph behind a returned tensor is kept: backward after the scope', () => {
      nd.manualSeed(1);
      const w = nd.randn([4, 3], { device }).requiresGrad_();
      const x = nd.randn([5, 4], { device });
      const f = () => nd.sum(nd.tanh(nd.matmul(x, w)).mul(nd.sigmoid(nd.matmul(x, w))));
      const loss = nd.scope(f);
      loss.backward();
      const g1 = values(w.grad!);
      w.grad = null;
      f().backward();
      assert.deepEqual(g1, values(w.grad!));
    });

    test('gradients stored on leaves made before the scope survive; the graph they came from is freed', () => {
      const w = t([1, 2, 3]).requiresGrad_();
      let h: nd.Tensor | null = null;
      nd.scope(() => {
        h = nd.mul(w, w);
        nd.sum(h).backward();
      });
      assert.deepEqual(values(w.grad!), [2, 4, 6]);
      assertFreed(h!);
      // a second backward accumulates into the gradient from the first scope
      nd.scope(() => nd.sum(nd.mul(w, 3)).backward());
      assert.deepEqual(values(w.grad!), [5, 7, 9]);
    });

    test('a value replaced by a later scope is freed if it came out of a scope as that tensor\'s own', () => {
      const w = t([1, 2]);
      nd.scope(() => {
        w.array = nd.add(w, 1).array;
      });
      const first = w.array; // a raw NDArray: not a holder the scope can see
      const snap = w.detach(); // a tensor made outside scopes: its memory is no longer w's alone
      nd.scope(() => {
        w.array = nd.add(w, 1).array;
      });
      assert.deepEqual(values(w), [3, 4]);
      assert.deepEqual(values(snap), [2, 3]);
      nd.scope(() => {
        w.array = nd.add(w, 1).array;
      });
      const second = w.array;
      nd.scope(() => {
        w.array = nd.add(w, 1).array;
      });
      assert.deepEqual(values(w), [5, 6]);
      assert.deepEqual(Array.from(first.dataSync(), Number), [2, 3]);
      assertThrows(() => second.dataSync(), DeviceError, FREED);
    });

    test('a training step in a scope (BatchNorm, Dropout, Adam) matches the same step without one; memory flat', () => {
      const adam = (ps: nd.Tensor[]) => new nd.optim.Adam(ps, { lr: 0.01 });
      const plain = setup(device, adam);
      const l1 = Array.from({ length: 20 }, () => plain.step(false));
      const scoped = setup(device, adam); // the same seed: the same weights, data and dropout masks
      collect(); // the plain run's garbage waits for a collection; the scoped run leaves none
      const l2: number[] = [];
      const live: number[] = [];
      for (let i = 0; i < 20; i++) {
        l2.push(nd.scope(() => scoped.step(false)));
        live.push(liveBytes());
      }
      assert.deepEqual(l2, l1);
      assert.deepEqual(snapshot(scoped.model, scoped.opt), snapshot(plain.model, plain.opt));
      assert.equal(scoped.opt.state.size, 6);
      assert.equal(scoped.model.buffers()[2]!.item(), 20); // BatchNorm's numBatchesTracked
      if (device === 'wasm') assert.ok(live.every((b) => b === live[2]), `live bytes per step: ${live.join(' ')}`);
    });

    test('SGD with momentum and gradient clipping (state replaced every step) in a scope matches; memory flat', () => {
      const sgd = (ps: nd.Tensor[]) => new nd.optim.SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 });
      const plain = setup(device, sgd);
      const l1 = Array.from({ length: 12 }, () => plain.step(true));
      const scoped = setup(device, sgd);
      collect();
      const l2: number[] = [];
      const live: number[] = [];
      for (let i = 0; i < 12; i++) {
        l2.push(nd.scope(() => scoped.step(true)));
        live.push(liveBytes());
      }
      assert.deepEqual(l2, l1);
      assert.deepEqual(snapshot(scoped.model, scoped.opt), snapshot(plain.model, plain.opt));
      if (device === 'wasm') assert.ok(live.every((b) => b === live[2]), `live bytes per step: ${live.join(' ')}`);
    });
  });
}

test('wasm: every intermediate of a scope is back at its exit', { skip: !hasWasm && 'no wasm backend' }, () => {
  const x = nd.randn([64, 64], { device: 'wasm' });
  const before = liveBytes();
  const s = nd.scope(() => nd.matmul(x, x).relu().softmax(1).sum().item());
  assert.ok(Number.isFinite(s));
  assert.equal(liveBytes(), before);
});
