/**
 * The optional fused backend members (softmax, softmaxBackward, layerNorm, layerNormBackward,
 * adamStep) and the ops and optimizers that use them:
 * - each backend's kernels against the plain-TypeScript reference (cpu/fused.ts), on shapes that
 *   exercise SIMD tails and the thread split, and on rows holding infinities and NaN; in float64
 *   bit for bit, except softmax's exp/log (a few ulp);
 * - the fused paths against the composite fallbacks, which run on a copy of the same backend with
 *   the fused members removed (so both paths are tested on every device);
 * - first and second derivatives and forward mode by float64 finite differences;
 * - Adam / AdamW: 20 fused steps equal 20 unfused ones, and the state dicts have one layout.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as nd from '../src/index.js';
import { NDArray } from '../src/ndarray/ndarray.js';
import type { Backend } from '../src/ndarray/backend.js';
import { cpuFused, FUSED_MEMBERS } from '../src/ndarray/cpu/fused.js';
import { assertClose, checkDerivatives, eachElement, flat, sameBits } from './helpers.js';

const DEVICE = nd.getDefaultDevice();
/** The default device's backend without its fused members: the op layer takes its fallbacks. */
const PLAIN = `${DEVICE}-unfused`;
{
  const copy: Record<string, unknown> = { ...nd.getBackend(DEVICE), name: PLAIN };
  for (const k of FUSED_MEMBERS) delete copy[k];
  nd.registerBackend(copy as unknown as Backend);
}
const be = nd.getBackend(DEVICE);

/** A deterministic pseudo-random tensor. */
function rnd(shape: number[], opts: { seed?: number; dtype?: nd.DType; device?: string; scale?: number } = {}): nd.Tensor {
  let s = opts.seed ?? 7;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    data[i] = (s / 2147483648 - 0.5) * 2 * (opts.scale ?? 3);
  }
  return nd.tensor(data, { shape, dtype: opts.dtype ?? 'float32', device: opts.device ?? DEVICE });
}

/** An array's values as plain numbers. */
const vals = (a: NDArray): number[] => Array.from(a.dataSync(), Number);

/** The reference kernels read host memory: their arrays live on cpu (a copy when DEVICE is a GPU). */
const host = (a: NDArray): NDArray => a.toDevice('cpu');
const hostEmpty = (shape: number[]): NDArray => NDArray.empty(shape, 'float32', 'cpu');

const onDevice = (t: nd.Tensor, device: string) => nd.tensor(t.dataSync(), { shape: [...t.shape], dtype: t.dtype, device });

// row shapes: a single element, every SIMD tail (1..3), exact vectors, odd sizes, short rows taken
// four at a time (one row per lane; row counts that are not multiples of 4), and enough elements
// (>= 2 x 16K) for the thread split
const ROWS: [number, number][] = [
  [1, 1], [3, 1], [2, 3], [9, 3], [7, 2], [5, 4], [4, 7], [3, 8], [6, 10], [13, 13], [5, 17], [2, 33],
  [300, 513], [6400, 10], [6401, 3],
];

describe(`fused kernels on ${DEVICE} against the reference`, () => {
  for (const [outer, size] of ROWS) {
    for (const log of [false, true]) {
      test(`${log ? 'log-' : ''}softmax and its backward, rows (${outer}, ${size})`, () => {
        const x = rnd([outer, size], { seed: outer * 31 + size, scale: 20 }).array;
        const g = rnd([outer, size], { seed: size }).array;
        const mine = NDArray.empty([outer, size], 'float32', DEVICE);
        const ref = hostEmpty([outer, size]);
        be.softmax!(x, mine, outer, size, log);
        cpuFused.softmax(host(x), ref, outer, size, log);
        assertClose(vals(mine), vals(ref), { atol: 1e-6, rtol: 1e-5, msg: 'forward' });
        const gm = NDArray.empty([outer, size], 'float32', DEVICE);
        const gr = hostEmpty([outer, size]);
        be.softmaxBackward!(ref.toDevice(DEVICE), g, gm, outer, size, log); // both from the same y
        cpuFused.softmaxBackward(ref, host(g), gr, outer, size, log);
        assertClose(vals(gm), vals(gr), { atol: 1e-5, rtol: 1e-5, msg: 'backward' });
      });
    }
  }

  test('softmax rows holding infinities and NaN follow PyTorch', () => {
    const inf = Infinity;
    const rows = [
      [1, 2, -inf, 3, 0, -inf], // -inf entries: probability 0, log-probability -inf
      [-inf, -inf, -inf, -inf, -inf, -inf], // all -inf: NaN
      [inf, 1, 2, 3, 4, 5], // +inf: softmax NaN; log-softmax NaN at inf, -inf elsewhere
      [NaN, 1, 2, 3, 4, 5], // NaN: NaN
      [1e30, -1e30, 0, 5, 6, 7], // huge magnitudes
      [-100, -101, -102, -103, -104, -105], // exp underflow of the shifted values is fine
    ];
    const x = nd.tensor(rows, { device: DEVICE });
    const sm = [
      [0.0871443, 0.2368828, 0, 0.6439143, 0.0320586, 0],
      [NaN, NaN, NaN, NaN, NaN, NaN],
      [NaN, NaN, NaN, NaN, NaN, NaN],
      [NaN, NaN, NaN, NaN, NaN, NaN],
      [1, 0, 0, 0, 0, 0],
      [0.6336913, 0.233122, 0.0857608, 0.0315496, 0.0116065, 0.0042698],
    ];
    const lsm = [
      [-2.4401897, -1.4401897, -inf, -0.4401897, -3.4401897, -inf],
      [NaN, NaN, NaN, NaN, NaN, NaN],
      [NaN, -inf, -inf, -inf, -inf, -inf],
      [NaN, NaN, NaN, NaN, NaN, NaN],
      [0, -2e30, -1e30, -1e30, -1e30, -1e30],
      [-0.4561933, -1.4561933, -2.4561933, -3.4561933, -4.4561933, -5.4561933],
    ];
    for (const device of [DEVICE, PLAIN]) {
      const xd = onDevice(x, device);
      assertClose(nd.softmax(xd, 1), sm, { atol: 1e-6, msg: `softmax on ${device}` });
      assertClose(nd.logSoftmax(xd, 1), lsm, { atol: 1e-5, rtol: 1e-6, msg: `logSoftmax on ${device}` });
    }
  });

  for (const [outer, size] of [[1, 1], [3, 5], [4, 8], [7, 13], [300, 513], [64, 1024 + 37]] as [number, number][]) {
    for (const affine of ['wb', 'w', 'b', 'none'] as const) {
      test(`layerNorm and its backward, rows (${outer}, ${size}), affine ${affine}`, () => {
        const x = rnd([outer, size], { seed: outer + size, scale: 4 });
        const xa = nd.add(x, 100).array; // an offset mean: the two-pass variance must hold up
        const w = affine === 'wb' || affine === 'w' ? rnd([size], { seed: 3 }).array : null;
        const b = affine === 'wb' || affine === 'b' ? rnd([size], { seed: 4 }).array : null;
        const g = rnd([outer, size], { seed: 5 }).array;
        const run = (k: typeof cpuFused, device: string) => {
          const on = (a: NDArray | null) => a && a.toDevice(device);
          const out = NDArray.empty([outer, size], 'float32', device);
          const mean = NDArray.empty([outer], 'float32', device);
          const rstd = NDArray.empty([outer], 'float32', device);
          k.layerNorm(on(xa)!, on(w), on(b), out, mean, rstd, outer, size, 1e-5);
          const gx = NDArray.empty([outer, size], 'float32', device);
          const gw = NDArray.empty([size], 'float32', device);
          const gb = NDArray.empty([size], 'float32', device);
          k.layerNormBackward(on(g)!, on(xa)!, on(w), mean, rstd, gx, gw, gb, outer, size);
          return [out, mean, rstd, gx, gw, gb].map(vals);
        };
        const mine = run(be as typeof cpuFused, DEVICE);
        const ref = run(cpuFused, 'cpu');
        ['out', 'mean', 'rstd', 'gx', 'gw', 'gb'].forEach((name, i) => {
          const tol = name === 'gw' || name === 'gb' ? { atol: 1e-3, rtol: 1e-4 } : { atol: 2e-4, rtol: 1e-4 };
          assertClose(mine[i], ref[i], { ...tol, msg: name });
        });
      });
    }
  }

  for (const decoupled of [false, true]) {
    for (const maximize of [false, true]) {
      test(`adamStep (${decoupled ? 'AdamW' : 'Adam'}${maximize ? ', maximize' : ''}) in and out of place`, () => {
        const n = 70001; // a tail and a thread split
        const p = rnd([n], { seed: 1 }).array;
        const g = rnd([n], { seed: 2 }).array;
        const m = rnd([n], { seed: 3, scale: 0.1 }).array;
        const v = nd.abs(rnd([n], { seed: 4, scale: 0.01 })).array;
        const spec = { lr: 0.01, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, decoupled, maximize, step: 3 };
        const outs = () => [0, 1, 2].map(() => NDArray.empty([n], 'float32', DEVICE));
        const [po, mo, vo] = outs();
        be.adamStep!({ param: p, grad: g, expAvg: m, expAvgSq: v, paramOut: po!, expAvgOut: mo!, expAvgSqOut: vo! }, n, spec);
        const [pr, mr, vr] = [0, 1, 2].map(() => hostEmpty([n]));
        cpuFused.adamStep({ param: host(p), grad: host(g), expAvg: host(m), expAvgSq: host(v), paramOut: pr!, expAvgOut: mr!, expAvgSqOut: vr! }, n, spec);
        assertClose(vals(po!), vals(pr!), { atol: 1e-6, rtol: 1e-6, msg: 'param' });
        assertClose(vals(mo!), vals(mr!), { atol: 1e-7, rtol: 1e-6, msg: 'exp_avg' });
        assertClose(vals(vo!), vals(vr!), { atol: 1e-9, rtol: 1e-6, msg: 'exp_avg_sq' });
        // in place: outputs alias the inputs
        const [pc, mc, vc] = [p.clone(), m.clone(), v.clone()];
        be.adamStep!({ param: pc, grad: g, expAvg: mc, expAvgSq: vc, paramOut: pc, expAvgOut: mc, expAvgSqOut: vc }, n, spec);
        assert.deepEqual(vals(pc), vals(po!));
        assert.deepEqual(vals(vc), vals(vo!));
      });
    }
  }
});

// ---------------------------------------------------------------- float64 kernels against the reference

/** The spacing of doubles at |v| (for v normal). */
const ulp = (v: number): number => (v === 0 ? Number.MIN_VALUE : 2 ** (Math.floor(Math.log2(Math.abs(v))) - 52));

/**
 * a and b agree to within k ulp of max(|a|, |b|, floor) (non-finite values must be identical):
 * the float64 kernels differ from the reference only by exp/log (musl against V8, <= ~2 ulp).
 */
function ulpClose(a: NDArray, b: NDArray, k: number, floor: number, msg: string): void {
  eachElement(a, b, msg, (p, q) => {
    if (!Number.isFinite(p) || !Number.isFinite(q)) return (p !== p && q !== q) || Object.is(p, q) ? null : `${p} != ${q}`;
    const unit = ulp(Math.max(Math.abs(p), Math.abs(q), floor));
    return Math.abs(p - q) > k * unit ? `${p} != ${q} (${Math.abs(p - q) / unit} ulp)` : null;
  });
}

const F64_ROWS: [number, number][] = [
  [1, 1], [3, 1], [2, 2], [5, 3], [1, 7], [4, 7], [9, 7], [6, 10], [13, 13], [1, 1023], [3, 1023], [8, 1023],
  [300, 513], [6400, 10], [6401, 3], [70, 1061],
];

describe(`float64 fused kernels on ${DEVICE} against the reference`, () => {
  const e64 = (shape: number[], device: string) => NDArray.empty(shape, 'float64', device);
  const r64 = (shape: number[], seed: number, scale = 3) => rnd(shape, { seed, scale, dtype: 'float64' }).array;

  for (const [outer, size] of F64_ROWS) {
    for (const log of [false, true]) {
      test(`${log ? 'log-' : ''}softmax and its backward, rows (${outer}, ${size})`, () => {
        const x = r64([outer, size], outer * 31 + size, 20);
        const g = r64([outer, size], size);
        const mine = e64([outer, size], DEVICE);
        const ref = e64([outer, size], 'cpu');
        be.softmax!(x, mine, outer, size, log);
        cpuFused.softmax(host(x), ref, outer, size, log);
        // softmax: a few ulp of each value; log-softmax: of the row's scale (x - max - log(sum))
        ulpClose(mine, ref, 10, log ? 64 : 0, 'forward');
        const gm = e64([outer, size], DEVICE);
        const gr = e64([outer, size], 'cpu');
        be.softmaxBackward!(ref.toDevice(DEVICE), g, gm, outer, size, log); // both from the same y
        cpuFused.softmaxBackward(ref, host(g), gr, outer, size, log);
        if (log) ulpClose(gm, gr, 8, 64, 'backward'); // exp(y)
        else sameBits(gm, gr, 'backward');
      });
    }
  }

  test('softmax rows holding infinities, NaN and signed zeros', () => {
    const inf = Infinity;
    const rows = [
      [1, 2, -inf, 3, 0, -inf, 2],
      [-inf, -inf, -inf, -inf, -inf, -inf, -inf],
      [inf, 1, 2, 3, 4, 5, 6],
      [1, inf, 2, inf, 4, 5, 6],
      [NaN, 1, 2, 3, 4, 5, 6],
      [1, 2, 3, 4, 5, 6, NaN],
      [1e300, -1e300, 0, 5, 6, 7, 8],
      [-0, 0, -0, 0, -0, 0, -0],
      [-745, -746, -747, -748, -749, -750, -751],
    ];
    const x = nd.tensor(rows, { dtype: 'float64', device: DEVICE }).array;
    for (const log of [false, true]) {
      const mine = e64([rows.length, 7], DEVICE);
      const ref = e64([rows.length, 7], 'cpu');
      be.softmax!(x, mine, rows.length, 7, log);
      cpuFused.softmax(host(x), ref, rows.length, 7, log);
      ulpClose(mine, ref, 10, log ? 64 : 0, `${log ? 'log-' : ''}softmax`);
    }
  });

  for (const [outer, size] of [[1, 1], [3, 5], [4, 8], [1, 7], [7, 13], [5, 1023], [300, 513], [64, 1024 + 37]] as [number, number][]) {
    for (const affine of ['wb', 'w', 'b', 'none'] as const) {
      test(`layerNorm and its backward, rows (${outer}, ${size}), affine ${affine}: bit for bit`, () => {
        const x = rnd([outer, size], { seed: outer + size, scale: 4, dtype: 'float64' });
        const xa = nd.add(x, 100).array; // an offset mean
        const w = affine === 'wb' || affine === 'w' ? r64([size], 3) : null;
        const b = affine === 'wb' || affine === 'b' ? r64([size], 4) : null;
        const g = r64([outer, size], 5);
        const run = (k: typeof cpuFused, device: string, outs: 'all' | 'gx' | 'gw' | 'gb') => {
          const on = (a: NDArray | null) => a && a.toDevice(device);
          const out = e64([outer, size], device);
          const mean = e64([outer], device);
          const rstd = e64([outer], device);
          k.layerNorm(on(xa)!, on(w), on(b), out, mean, rstd, outer, size, 1e-5);
          const gx = outs === 'all' || outs === 'gx' ? e64([outer, size], device) : null;
          const gw = outs === 'all' || outs === 'gw' ? e64([size], device) : null;
          const gb = outs === 'all' || outs === 'gb' ? e64([size], device) : null;
          k.layerNormBackward(on(g)!, on(xa)!, on(w), mean, rstd, gx, gw, gb, outer, size);
          return { out, mean, rstd, gx, gw, gb };
        };
        for (const outs of ['all', 'gx', 'gw', 'gb'] as const) {
          const mine = run(be as typeof cpuFused, DEVICE, outs);
          const ref = run(cpuFused, 'cpu', outs);
          for (const [name, v] of Object.entries(mine)) {
            const r = (ref as Record<string, NDArray | null>)[name]!;
            if (v) sameBits(v, r, `${name} (${outs})`);
          }
        }
      });
    }
  }

  for (const n of [1, 7, 1023, 70001]) {
    for (const decoupled of [false, true]) {
      for (const maximize of [false, true]) {
        for (const weightDecay of [0, 0.1]) {
          test(`adamStep (${decoupled ? 'AdamW' : 'Adam'}, n ${n}, weight decay ${weightDecay}${maximize ? ', maximize' : ''}) in and out of place: bit for bit`, () => {
            const p = r64([n], 1);
            const g = r64([n], 2);
            const m = r64([n], 3, 0.1);
            const v = nd.abs(rnd([n], { seed: 4, scale: 0.01, dtype: 'float64' })).array;
            const spec = { lr: 0.01, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay, decoupled, maximize, step: 3 };
            const [po, mo, vo] = [0, 1, 2].map(() => e64([n], DEVICE));
            be.adamStep!({ param: p, grad: g, expAvg: m, expAvgSq: v, paramOut: po!, expAvgOut: mo!, expAvgSqOut: vo! }, n, spec);
            const [pr, mr, vr] = [0, 1, 2].map(() => e64([n], 'cpu'));
            cpuFused.adamStep({ param: host(p), grad: host(g), expAvg: host(m), expAvgSq: host(v), paramOut: pr!, expAvgOut: mr!, expAvgSqOut: vr! }, n, spec);
            sameBits(po!, pr!, 'param');
            sameBits(mo!, mr!, 'exp_avg');
            sameBits(vo!, vr!, 'exp_avg_sq');
            const [pc, mc, vc] = [p.clone(), m.clone(), v.clone()];
            be.adamStep!({ param: pc, grad: g, expAvg: mc, expAvgSq: vc, paramOut: pc, expAvgOut: mc, expAvgSqOut: vc }, n, spec);
            sameBits(pc, pr!, 'param in place');
            sameBits(mc, mr!, 'exp_avg in place');
            sameBits(vc, vr!, 'exp_avg_sq in place');
          });
        }
      }
    }
  }
});

// ---------------------------------------------------------------- ops: fused against composite

/** Forward and plain-backward values of `f` on the fused device and on its unfused copy. */
function compareOp(
  f: (...xs: nd.Tensor[]) => nd.Tensor, inputs: nd.Tensor[], tol = { atol: 1e-5, rtol: 1e-5 },
): void {
  const run = (device: string) => {
    const xs = inputs.map((x) => onDevice(x, device).requiresGrad_(true));
    const y = f(...xs);
    const g = rnd([...y.shape], { seed: 11, dtype: y.dtype, device });
    y.backward(g);
    return { y, grads: xs.map((x) => x.grad!) };
  };
  const a = run(DEVICE);
  const b = run(PLAIN);
  assertClose(a.y, b.y, { ...tol, msg: 'forward' });
  a.grads.forEach((g, i) => assertClose(g, b.grads[i]!, { ...tol, msg: `gradient of input ${i}` }));
}

describe(`softmax, logSoftmax and layerNorm ops on ${DEVICE}: fused and composite paths agree`, () => {
  for (const log of [false, true]) {
    const f = log ? nd.logSoftmax : nd.softmax;
    const name = log ? 'logSoftmax' : 'softmax';
    test(`${name} along every dim, 0-d to 3-d`, () => {
      compareOp((x) => f(x!, 0), [rnd([], { seed: 2 })]);
      compareOp((x) => f(x!, -1), [rnd([7], { seed: 3 })]);
      compareOp((x) => f(x!, 0), [rnd([5, 6], { seed: 4 })]);
      compareOp((x) => f(x!, 1), [rnd([5, 6], { seed: 5 })]);
      for (const d of [0, 1, 2]) compareOp((x) => f(x!, d), [rnd([3, 4, 9], { seed: 6 + d })]);
      // a non-compact input (a transposed view)
      compareOp((x) => f(nd.transpose(x!, 0, 1), -1), [rnd([6, 5], { seed: 12 })]);
    });
  }

  test('crossEntropy runs through the fused logSoftmax', () => {
    const target = nd.tensor([0, 3, 2, 1], { dtype: 'int32', device: DEVICE });
    const run = (device: string) => {
      const x = rnd([4, 5], { seed: 9, device }).requiresGrad_(true);
      const loss = nd.nn.functional.crossEntropy(x, onDevice(target, device), { labelSmoothing: 0.1 });
      loss.backward();
      return [loss, x.grad!];
    };
    const [la, ga] = run(DEVICE);
    const [lb, gb] = run(PLAIN);
    assertClose(la, lb);
    assertClose(ga, gb);
  });

  for (const affine of ['wb', 'w', 'b', 'none'] as const) {
    test(`layerNorm (affine ${affine}) over one and two trailing dims`, () => {
      for (const shape of [[4, 6], [2, 3, 4, 5], [10]]) {
        const k = shape.length >= 4 ? 2 : 1;
        const ns = shape.slice(shape.length - k);
        const x = rnd(shape, { seed: shape.length });
        const w = rnd(ns, { seed: 21 });
        const b = rnd(ns, { seed: 22 });
        const ins = [x, ...(affine === 'wb' || affine === 'w' ? [w] : []), ...(affine === 'wb' || affine === 'b' ? [b] : [])];
        compareOp((...xs) => {
          const wi = affine === 'wb' || affine === 'w' ? xs[1]! : null;
          const bi = affine === 'b' ? xs[1]! : affine === 'wb' ? xs[2]! : null;
          return nd.nn.functional.layerNorm(xs[0]!, ns, wi, bi, 1e-5);
        }, ins, { atol: 1e-4, rtol: 1e-4 });
      }
    });
  }

  test('layerNorm with a weight that needs no gradient, and an input that needs none', () => {
    for (const device of [DEVICE, PLAIN]) {
      const x = rnd([3, 8], { seed: 1, device });
      const w = rnd([8], { seed: 2, device }).requiresGrad_(true);
      const b = rnd([8], { seed: 3, device });
      nd.sum(nd.mul(nd.nn.functional.layerNorm(x, 8, w, b), x)).backward();
      assert.ok(flat(w.grad).every(Number.isFinite));
      assert.equal(b.grad, null);
    }
  });
});

// ---------------------------------------------------------------- higher order and forward mode

const derivatives = (f: (...xs: nd.Tensor[]) => nd.Tensor, inputs: nd.Tensor[]): void => checkDerivatives(f, inputs, rnd, true);

describe(`second derivatives and forward mode (float64)`, () => {
  for (const device of [DEVICE, PLAIN]) {
    test(`softmax and logSoftmax on ${device}`, () => {
      const x = rnd([3, 5], { seed: 3, dtype: 'float64', device });
      derivatives((a) => nd.softmax(a!, 1), [x]);
      derivatives((a) => nd.logSoftmax(a!, 1), [x]);
      derivatives((a) => nd.softmax(a!, 0), [x]);
      derivatives((a) => nd.logSoftmax(a!, 0), [x]);
    });

    test(`layerNorm on ${device}`, () => {
      const x = rnd([3, 6], { seed: 4, dtype: 'float64', device });
      const w = rnd([6], { seed: 5, dtype: 'float64', device });
      const b = rnd([6], { seed: 6, dtype: 'float64', device });
      derivatives((a, c, d) => nd.nn.functional.layerNorm(a!, 6, c!, d!), [x, w, b]);
      derivatives((a) => nd.nn.functional.layerNorm(a!, 6), [x]);
      derivatives((a, c) => nd.nn.functional.layerNorm(a!, [2, 3], c!), [rnd([2, 2, 3], { seed: 7, dtype: 'float64', device }), rnd([2, 3], { seed: 8, dtype: 'float64', device })]);
    });
  }
});

// ---------------------------------------------------------------- Adam / AdamW

/**
 * `steps` optimizer steps on a small least-squares problem whose gradients depend on the
 * trajectory: loss = |W x + c - y|^2 + 0.1 |W|^2.
 */
function train(name: 'Adam' | 'AdamW', device: string, opts: nd.optim.AdamOptions, dtype: nd.DType, steps = 20) {
  const W = rnd([6, 5], { seed: 1, dtype, device }).requiresGrad_(true);
  const c = rnd([6, 1], { seed: 2, dtype, device }).requiresGrad_(true);
  const x = rnd([5, 8], { seed: 3, dtype, device });
  const y = rnd([6, 8], { seed: 4, dtype, device });
  const opt = new nd.optim[name]([W, c], { lr: 0.05, ...opts });
  for (let i = 0; i < steps; i++) {
    opt.zeroGrad();
    const r = nd.sub(nd.add(nd.matmul(W, x), c), y);
    nd.add(nd.sum(nd.mul(r, r)), nd.mul(nd.sum(nd.mul(W, W)), 0.1)).backward();
    opt.step();
  }
  return { params: [W, c], opt };
}

describe(`Adam and AdamW on ${DEVICE}: the fused step equals the transform chain`, () => {
  const variants: [string, nd.optim.AdamOptions][] = [
    ['defaults', {}],
    ['weight decay', { weightDecay: 0.1 }],
    ['weight decay, maximize', { weightDecay: 0.05, maximize: true, betas: [0.8, 0.9] }],
    ['no weight decay, large eps', { weightDecay: 0, eps: 1e-3 }],
  ];
  for (const name of ['Adam', 'AdamW'] as const) {
    for (const [label, opts] of variants) {
      for (const dtype of ['float32', 'float64'] as const) {
        test(`${name} (${label}, ${dtype}): 20 steps`, () => {
          const fused = train(name, DEVICE, opts, dtype);
          const chain = train(name, PLAIN, opts, dtype);
          const tol = dtype === 'float32' ? { atol: 1e-5, rtol: 1e-4 } : { atol: 1e-12, rtol: 1e-10 };
          fused.params.forEach((p, i) => assertClose(p, chain.params[i]!, { ...tol, msg: `param ${i}` }));
          const a = fused.opt.stateDict();
          const b = chain.opt.stateDict();
          assert.deepEqual(a.param_groups, b.param_groups);
          assert.deepEqual(Object.keys(a.state), Object.keys(b.state));
          for (const [k, s] of Object.entries(a.state)) {
            assert.deepEqual(Object.keys(s), ['step', 'exp_avg', 'exp_avg_sq']);
            assert.deepEqual(Object.keys(s), Object.keys(b.state[k]!));
            assert.equal(s.step, 20);
            assert.equal(b.state[k]!.step, 20);
            for (const key of ['exp_avg', 'exp_avg_sq']) {
              const t = s[key] as nd.Tensor;
              assert.equal(t.dtype, dtype);
              assert.deepEqual([...t.shape], [...(b.state[k]![key] as nd.Tensor).shape]);
              assertClose(t, b.state[k]![key], { ...tol, msg: `state ${k} ${key}` });
            }
          }
        });
      }
    }
  }

  test('amsgrad takes the chain (and keeps max_exp_avg_sq)', () => {
    const fused = train('AdamW', DEVICE, { amsgrad: true }, 'float32', 5);
    const chain = train('AdamW', PLAIN, { amsgrad: true }, 'float32', 5);
    fused.params.forEach((p, i) => assertClose(p, chain.params[i]!));
    assert.deepEqual(Object.keys(fused.opt.stateDict().state['0']!), ['step', 'exp_avg', 'exp_avg_sq', 'max_exp_avg_sq']);
  });

  test('state dicts are snapshots, and a round trip continues identically', () => {
    const { params, opt } = train('Adam', DEVICE, { weightDecay: 0.01 }, 'float32', 3);
    const sd = opt.stateDict();
    const before = flat(sd.state['0']!.exp_avg);
    const [W, c] = params;
    const W2 = W!.detach().clone().requiresGrad_(true);
    const c2 = c!.detach().clone().requiresGrad_(true);
    const opt2 = new nd.optim.Adam([W2, c2], { lr: 0.05, weightDecay: 0.01 });
    opt2.loadStateDict(sd);
    for (const [ps, o] of [[[W!, c!], opt], [[W2, c2], opt2]] as const) {
      for (let i = 0; i < 3; i++) {
        o.zeroGrad();
        nd.sum(nd.mul(nd.matmul(ps[0], ps[1].expand([6, 5]).mT), 0.5)).backward();
        o.step();
      }
    }
    assert.deepEqual(flat(sd.state['0']!.exp_avg), before);
    assert.deepEqual(flat(W2), flat(W));
    assert.deepEqual(flat(c2), flat(c));
    assert.deepEqual(flat(opt2.stateDict().state['1']!.exp_avg_sq), flat(opt.stateDict().state['1']!.exp_avg_sq));
  });
});
