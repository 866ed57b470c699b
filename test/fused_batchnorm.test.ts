/**
 * The batchNorm and linear primitives, the batchNorm / batchNormBackward / philoxBernoulli backend
 * members and the dropout mask:
 * - the default device's kernels against the plain-TypeScript reference (cpu/fused.ts), bit for
 *   bit, in float32 and float64, on shapes with channel tails, (N, C) and (N, C, L) layouts and the
 *   thread split;
 * - the primitives against the composites (batchNorm on a copy of the backend without the fused
 *   members; linear against matmul + add), running statistics included;
 * - first and second derivatives and forward mode by float64 finite differences;
 * - the Philox Bernoulli draws against the generator's own stream at every word phase.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as nd from '../src/index.js';
import { NDArray } from '../src/ndarray/ndarray.js';
import type { Backend } from '../src/ndarray/backend.js';
import { cpuFused, FUSED_MEMBERS } from '../src/ndarray/cpu/fused.js';
import { bernoulliInto } from '../src/ndarray/cpu/philox.js';
import { bernoulliMask, scaledBernoulliMask } from '../src/random.js';
import { assertClose, checkDerivatives, flat, sameBits } from './helpers.js';

const DEVICE = nd.getDefaultDevice();
const PLAIN = `${DEVICE}-unfused-bn`;
{
  const copy: Record<string, unknown> = { ...nd.getBackend(DEVICE), name: PLAIN };
  for (const k of FUSED_MEMBERS) delete copy[k];
  nd.registerBackend(copy as unknown as Backend);
}
const be = nd.getBackend(DEVICE);
const F = nd.nn.functional;
/** The members are optional: a backend without them (cuda) runs the composites, tested below. */
const NO_BN = be.batchNorm ? false : `${DEVICE} has no batchNorm member (the composite runs)`;
const NO_PHILOX = be.philoxBernoulli ? false : `${DEVICE} has no philoxBernoulli member (masks come from the host stream)`;
/** Whether `linear` and matmul + add run the same float32 GEMM kernels here (bitwise equal). */
const HOST_GEMM = DEVICE === 'cpu' || DEVICE === 'wasm';

function rnd(shape: number[], opts: { seed?: number; dtype?: nd.DType; device?: string; scale?: number; offset?: number } = {}): nd.Tensor {
  let s = opts.seed ?? 7;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    data[i] = (s / 2147483648 - 0.5) * 2 * (opts.scale ?? 3) + (opts.offset ?? 0);
  }
  return nd.tensor(data, { shape, dtype: opts.dtype ?? 'float32', device: opts.device ?? DEVICE });
}

const onDevice = (t: nd.Tensor, device: string) => nd.tensor(t.dataSync(), { shape: [...t.shape], dtype: t.dtype, device });

// ---------------------------------------------------------------- kernels against the reference

describe(`batchNorm kernels on ${DEVICE} against the reference`, () => {
  // (n, c, inner): channel counts with tails of 1..3 (four channels per vector on (N, C)), inner > 1
  // (per-channel loops), one sample of many channels, and sizes that split over threads
  const SHAPES: [number, number, number][] = [
    [2, 1, 1], [3, 3, 1], [5, 4, 1], [7, 6, 1], [100, 100, 1], [100, 50, 1], [9, 13, 1],
    [2, 3, 5], [4, 5, 7], [3, 9, 16], [64, 257, 1], [8, 32, 64],
    // odd channel counts 1, 7, 1023 (float64 runs two channels per vector)
    [5, 1, 1], [4, 1, 7], [6, 7, 1], [2, 7, 3], [3, 1023, 1], [2, 1023, 2],
  ];
  const CASES = (['float32', 'float64'] as const).flatMap((dtype) => SHAPES.map(([n, c, inner]) => [dtype, n, c, inner] as const));
  for (const [dtype, n, c, inner] of CASES) {
    for (const affine of [true, false]) {
      test(`${dtype} (${n}, ${c}, ${inner}), ${affine ? 'affine, running statistics' : 'plain'}`, { skip: NO_BN }, () => {
        const x = rnd([n, c, inner], { seed: n * 7 + c, scale: 2, offset: 50, dtype }).array; // an offset mean
        const w = affine ? rnd([c], { seed: 3, dtype }).array : null;
        const b = affine ? rnd([c], { seed: 4, dtype }).array : null;
        const g = rnd([n, c, inner], { seed: 5, dtype }).array;
        const rm = rnd([c], { seed: 6, dtype }).array;
        const rv = nd.abs(rnd([c], { seed: 8, dtype })).array;
        const sp = { n, c, inner, eps: 1e-5 };
        const f = dtype === 'float32' ? Math.fround : (v: number) => v;
        const run = (k: Pick<Backend, 'batchNorm' | 'batchNormBackward'>, device: string) => {
          const on = (a: NDArray | null) => a && a.toDevice(device);
          const e = (shape: number[]) => NDArray.empty(shape, dtype, device);
          const out = e([n, c, inner]);
          const [mean, variance, rstd, mo, vo] = [0, 1, 2, 3, 4].map(() => e([c]));
          const running = affine
            ? { mean: on(rm)!, var: on(rv)!, meanOut: mo!, varOut: vo!, keep: f(0.9), momentum: f(0.1), unbias: f((n * inner) / (n * inner - 1)) }
            : null;
          k.batchNorm!(on(x)!, on(w), on(b), out, mean!, variance!, rstd!, sp, running);
          const gx = e([n, c, inner]);
          const gw = e([c]);
          const gb = e([c]);
          k.batchNormBackward!(on(g)!, on(x)!, on(w), mean!, rstd!, gx, gw, gb, sp);
          const res = { out, mean: mean!, variance: variance!, rstd: rstd!, gx, gw, gb };
          return affine ? { ...res, meanOut: mo!, varOut: vo! } : res;
        };
        const mine = run(be, DEVICE);
        const ref = run(cpuFused, 'cpu');
        for (const [k, v] of Object.entries(mine)) sameBits(v, (ref as Record<string, NDArray>)[k]!, k);
      });
    }
  }

  for (const dtype of ['float32', 'float64'] as const) {
    test(`${dtype}: null outputs of the backward are skipped`, { skip: NO_BN }, () => {
      for (const inner of [1, 3]) {
        const x = rnd([6, 5, inner], { seed: 1, dtype }).array;
        const g = rnd([6, 5, inner], { seed: 2, dtype }).array;
        const sp = { n: 6, c: 5, inner, eps: 1e-5 };
        const e = (shape: number[], device = DEVICE) => NDArray.empty(shape, dtype, device);
        const [mean, variance, rstd] = [e([5]), e([5]), e([5])];
        be.batchNorm!(x, null, null, e([6, 5, inner]), mean, variance, rstd, sp, null);
        const gb = e([5]);
        be.batchNormBackward!(g, x, null, mean, rstd, null, null, gb, sp);
        assertClose(flat(new nd.Tensor(gb)), flat(nd.sum(new nd.Tensor(g), [0, 2])), { atol: 1e-5 });
        // gx alone, against the reference's
        const gx = e([6, 5, inner]);
        be.batchNormBackward!(g, x, null, mean, rstd, gx, null, null, sp);
        const gxr = e([6, 5, inner], 'cpu');
        cpuFused.batchNormBackward(g.toDevice('cpu'), x.toDevice('cpu'), null, mean.toDevice('cpu'), rstd.toDevice('cpu'), gxr, null, null, sp);
        sameBits(gx, gxr, 'gx');
      }
    });
  }
});

// ---------------------------------------------------------------- primitives against composites

/** The composite batchNorm of PyTorch's formulas, from primitives only (no fused op). */
function bnComposite(x: nd.Tensor, w: nd.Tensor | null, b: nd.Tensor | null, eps = 1e-5): nd.Tensor {
  const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const cs = x.shape.map((d, i) => (i === 1 ? d : 1));
  const mu = nd.mean(x, axes, true);
  const d = nd.sub(x, mu);
  let y = nd.mul(d, nd.rsqrt(nd.add(nd.mean(nd.mul(d, d), axes, true), eps)));
  if (w) y = nd.mul(y, nd.reshape(w, cs));
  if (b) y = nd.add(y, nd.reshape(b, cs));
  return y;
}

describe(`batchNorm op on ${DEVICE}: fused, array composite and primitive composite agree`, () => {
  for (const shape of [[8, 5], [100, 100], [4, 3, 6], [2, 3, 4, 5]]) {
    test(`training ${JSON.stringify(shape)} with running statistics`, () => {
      const C = shape[1]!;
      const run = (device: string) => {
        const x = rnd(shape, { seed: 1, device, offset: 3 }).requiresGrad_(true);
        const w = rnd([C], { seed: 2, device }).requiresGrad_(true);
        const b = rnd([C], { seed: 3, device }).requiresGrad_(true);
        const rm = rnd([C], { seed: 4, device });
        const rv = nd.abs(rnd([C], { seed: 5, device }));
        const y = F.batchNorm(x, rm, rv, w, b, { training: true, momentum: 0.1 });
        y.backward(rnd(shape, { seed: 6, device }));
        return { y, rm, rv, gx: x.grad!, gw: w.grad!, gb: b.grad! };
      };
      const a = run(DEVICE);
      const p = run(PLAIN);
      // forward and running statistics: the same arithmetic op for op
      const tol = { atol: 1e-5, rtol: 1e-5 };
      for (const k of ['y', 'rm', 'rv', 'gx', 'gw', 'gb'] as const) assertClose(a[k], p[k], { ...tol, msg: k });
      // against the primitive composite (autograd through the formula)
      const x = rnd(shape, { seed: 1, offset: 3 }).requiresGrad_(true);
      const w = rnd([C], { seed: 2 }).requiresGrad_(true);
      const b = rnd([C], { seed: 3 }).requiresGrad_(true);
      const y = bnComposite(x, w, b);
      y.backward(rnd(shape, { seed: 6 }));
      assertClose(a.y, y, { atol: 1e-5, rtol: 1e-5, msg: 'forward vs formula' });
      assertClose(a.gx, x.grad!, { atol: 1e-4, rtol: 1e-4, msg: 'gx vs formula' });
      assertClose(a.gw, w.grad!, { atol: 1e-4, rtol: 1e-4, msg: 'gw vs formula' });
      assertClose(a.gb, b.grad!, { atol: 1e-4, rtol: 1e-4, msg: 'gb vs formula' });
    });
  }

  test('the forward equals the composite bit for bit on the reference backend', () => {
    const x = rnd([20, 7], { seed: 9, device: 'cpu' });
    const w = rnd([7], { seed: 10, device: 'cpu' });
    const b = rnd([7], { seed: 11, device: 'cpu' });
    sameBits(F.batchNorm(x, null, null, w, b, { training: true }).array, bnComposite(x, w, b).array, 'forward');
  });

  test('BatchNorm1d / BatchNorm2d modules: momentum null, no affine, eval mode, buffers updated', () => {
    const run = (device: string) => {
      const bn = new nd.nn.BatchNorm1d(6, { momentum: null, device });
      const bn2 = new nd.nn.BatchNorm2d(3, { affine: false, device });
      for (let i = 0; i < 3; i++) {
        bn.forward(rnd([10, 6], { seed: i, device }));
        bn2.forward(rnd([2, 3, 4, 4], { seed: i + 5, device }));
      }
      assert.equal(bn.numBatchesTracked!.item(), 3);
      bn.eval();
      const y = bn.forward(rnd([4, 6], { seed: 20, device }));
      return [bn.runningMean, bn.runningVar, bn2.runningMean, bn2.runningVar, y].map((t) => flat(t));
    };
    const a = run(DEVICE);
    const b = run(PLAIN);
    a.forEach((v, i) => assertClose(v, b[i]!, { atol: 1e-5, rtol: 1e-5, msg: `value ${i}` }));
  });

  test('mixed dtypes take the composite (promotion), an input without gradient and a weight with', () => {
    const x = rnd([5, 4], { seed: 1 });
    const w = rnd([4], { seed: 2, dtype: 'float64' }).requiresGrad_(true);
    const y = F.batchNorm(x, null, null, w, null, { training: true });
    assert.equal(y.dtype, 'float64');
    nd.sum(nd.mul(y, y)).backward();
    assert.ok(flat(w.grad).every(Number.isFinite));
    const w2 = rnd([4], { seed: 2 }).requiresGrad_(true);
    nd.sum(nd.mul(F.batchNorm(x, null, null, w2, null, { training: true }), x)).backward();
    assert.ok(flat(w2.grad).every(Number.isFinite));
  });
});

describe(`linear op on ${DEVICE} against matmul + add`, () => {
  for (const shape of [[5, 7], [100, 784], [2, 3, 7], [1, 7]]) {
    for (const bias of [true, false]) {
      test(`input ${JSON.stringify(shape)}, ${bias ? 'bias' : 'no bias'}`, () => {
        const inF = shape[shape.length - 1]!;
        const x = rnd(shape, { seed: 1 }).requiresGrad_(true);
        const w = rnd([6, inF], { seed: 2, scale: 0.3 }).requiresGrad_(true);
        const b = bias ? rnd([6], { seed: 3 }).requiresGrad_(true) : null;
        const y = F.linear(x, w, b);
        const g = rnd([...y.shape], { seed: 4 });
        y.backward(g);
        const x2 = x.detach().requiresGrad_(true);
        const w2 = w.detach().requiresGrad_(true);
        const b2 = b ? b.detach().requiresGrad_(true) : null;
        const r = nd.matmul(x2, nd.transpose(w2, 0, 1));
        const y2 = b2 ? nd.add(r, b2) : r;
        y2.backward(g);
        assert.deepEqual(y.shape, y2.shape);
        // (cuBLAS picks different kernels for a 2-D and a batched product: rounding differs)
        if (HOST_GEMM) sameBits(y.array, y2.array, 'forward');
        else assertClose(y, y2, { atol: 1e-6, rtol: 1e-6, msg: 'forward' });
        const tol = { atol: 1e-4, rtol: 1e-4 };
        assertClose(x.grad, x2.grad, { ...tol, msg: 'dx' });
        assertClose(w.grad, w2.grad, { ...tol, msg: 'dW' });
        if (b) assertClose(b.grad, b2!.grad, { ...tol, msg: 'db' });
        // the weight gradient is compact in the weight's own layout
        assert.ok(w.grad!.array.isCompact());
      });
    }
  }
});

const derivatives = (f: (...xs: nd.Tensor[]) => nd.Tensor, inputs: nd.Tensor[]): void => checkDerivatives(f, inputs, rnd, false);

describe('batchNorm and linear: second derivatives and forward mode (float64)', () => {
  for (const device of [DEVICE, PLAIN]) {
    test(`batchNorm on ${device}`, () => {
      const o = (seed: number, shape: number[]) => rnd(shape, { seed, dtype: 'float64', device });
      derivatives((a, c, d) => F.batchNorm(a!, null, null, c!, d!, { training: true }), [o(1, [5, 3]), o(2, [3]), o(3, [3])]);
      derivatives((a) => F.batchNorm(a!, null, null, null, null, { training: true }), [o(4, [4, 2, 3])]);
      derivatives((a, c) => F.batchNorm(a!, null, null, c!, null, { training: true }), [o(5, [2, 3, 2, 2]), o(6, [3])]);
    });

    test(`linear on ${device}`, () => {
      const o = (seed: number, shape: number[]) => rnd(shape, { seed, dtype: 'float64', device });
      derivatives((a, w, b) => F.linear(a!, w!, b!), [o(1, [4, 3]), o(2, [5, 3]), o(3, [5])]);
      derivatives((a, w) => F.linear(a!, w!), [o(4, [2, 2, 3]), o(5, [2, 3])]);
    });
  }
});

// ---------------------------------------------------------------- Philox Bernoulli draws

describe('Bernoulli masks from the Philox stream', () => {
  /** The draws as the generator's own word stream makes them, one float64 uniform per element. */
  function expected(g: nd.Generator, n: number, p: number, value: number, dtype: nd.DType): number[] {
    const out: number[] = [];
    const round = dtype === 'float32' ? Math.fround : (v: number) => v;
    for (let i = 0; i < n; i++) out.push(g.nextUniform('float64') < p ? round(value) : 0);
    return out;
  }

  for (const dtype of ['float32', 'float64', 'bool'] as const) {
    test(`${dtype}: every word phase, odd sizes, the thread split, and the stream position after`, () => {
      for (const skip of [0, 1, 2, 3, 5]) {
        for (const n of [1, 2, 3, 7, 64, 5001, 70001]) {
          const seed = 1000 + skip * 7 + n;
          const value = dtype === 'bool' ? 1 : 1 / 0.9;
          const g = new nd.Generator(seed).skip(skip);
          const mask = scaledBernoulliMask([n], 0.9, value, { generator: g, dtype, device: DEVICE });
          const ref = new nd.Generator(seed).skip(skip);
          assert.deepEqual(flat(mask), expected(ref, n, 0.9, value, dtype), `skip ${skip}, n ${n}`);
          assert.equal(g.wordOffset(), ref.wordOffset());
          assert.equal(g.nextUint32(), ref.nextUint32());
        }
      }
    });
  }

  test('a stream position past 2^32 blocks (the counter carries into its high word)', { skip: NO_PHILOX }, () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const spec = { key0: 5, key1: 7, counter: 2 ** 32 - 1, phase: 3 };
      const n = 9;
      const out = NDArray.empty([n], dtype, DEVICE);
      be.philoxBernoulli!(out, n, spec, 0.5, 2);
      const host = new Float64Array(n);
      bernoulliInto(host, 0, n, spec.key0, spec.key1, spec.counter, spec.phase, 0.5, 2);
      assert.deepEqual(flat(new nd.Tensor(out)), Array.from(host), dtype);
    }
  });

  test('dropout: the scaled mask equals the 0/1 mask times 1/(1-p), on every device and dtype', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      for (const device of [DEVICE, PLAIN, 'cpu']) {
        const x = nd.ones([300], { dtype, device });
        const y = nd.dropout(x, 0.3, { generator: new nd.Generator(17) });
        const mask = bernoulliMask([300], 0.7, { generator: new nd.Generator(17), dtype, device });
        assert.deepEqual(flat(y), flat(nd.mul(nd.mul(mask, 1 / 0.7), x)), `${dtype} on ${device}`);
      }
    }
  });
});
