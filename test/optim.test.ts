/**
 * Optimizers, LR schedulers and gradient clipping against PyTorch 1.13 (test/fixtures/optim.json,
 * written by tools/gen_optim_fixtures.py), plus the properties the fixtures can not show: updates
 * do not grow the graph, zeroGrad modes, state-dict round trips that continue identically, and
 * errors in the grammar `<Optimizer>: <expected>, got <actual>`.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nd from '../src/index.js';
import { assertClose, assertThrows, flat } from './helpers.js';

const { optim } = nd;

// ---------------------------------------------------------------- fixture types

interface OptionsSpec {
  [k: string]: unknown;
}
interface SchedSpec {
  type: string;
  options?: OptionsSpec;
  schedulers?: SchedSpec[];
  milestones?: number[];
  lambdas?: string[];
}
interface OptCase {
  id: string;
  optimizer: string;
  dtype: 'float32' | 'float64';
  options: OptionsSpec;
  groups: { params: number[]; options: OptionsSpec }[] | null;
  losses: number[];
  params: Record<string, number[][]>;
  scheduler?: SchedSpec;
  lrs?: number[][];
}
interface SchedCase {
  id: string;
  optimizer: { type: string; lrs: number[]; options?: OptionsSpec };
  scheduler: SchedSpec;
  lrs: number[][];
  lastLrs?: number[][];
  momentums?: number[][];
  metrics?: number[];
}
interface ClipCase {
  kind: 'norm' | 'value';
  dtype: 'float32' | 'float64';
  maxNorm?: number;
  normType?: number | string;
  clipValue?: number;
  shapes: number[][];
  grads: number[][];
  total?: number;
  clipped: number[][];
}
interface Fixture {
  steps: number;
  recordAt: number[];
  problem: { x: number[]; xShape: number[]; t: number[]; tShape: number[]; params: number[][]; paramShapes: number[][] };
  optimizers: OptCase[];
  schedulers: SchedCase[];
  clip: ClipCase[];
}

const FIX = JSON.parse(
  readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'optim.json'), 'utf8'),
) as Fixture;

// ---------------------------------------------------------------- the problem (as the generator)

const fromData = (data: number[], shape: number[], dtype: nd.DType) => nd.tensor(Float64Array.from(data), { shape, dtype });

interface Problem {
  params: nd.nn.Parameter[];
  loss: () => nd.Tensor;
}

/** The seeded 2-layer tanh MLP with MSE loss; `init` overrides the initial parameter values. */
function makeProblem(dtype: nd.DType, init: number[][] = FIX.problem.params): Problem {
  const P = FIX.problem;
  const x = fromData(P.x, P.xShape, dtype);
  const t = fromData(P.t, P.tShape, dtype);
  const params = init.map((d, i) => new nd.nn.Parameter(fromData(d, P.paramShapes[i]!, dtype)));
  const [w1, b1, w2, b2] = params as [nd.Tensor, nd.Tensor, nd.Tensor, nd.Tensor];
  const loss = () => {
    const h = nd.tanh(nd.add(nd.matmul(x, nd.transpose(w1, 0, 1)), b1));
    const y = nd.add(nd.matmul(h, nd.transpose(w2, 0, 1)), b2);
    const d = nd.sub(y, t);
    return nd.mean(nd.mul(d, d));
  };
  return { params, loss };
}

type AnyOpt = nd.optim.AnyOptimizer;
const OPTIMIZERS: Record<string, new (params: any, opts: any) => AnyOpt> = { // eslint-disable-line @typescript-eslint/no-explicit-any
  SGD: optim.SGD,
  Adam: optim.Adam,
  AdamW: optim.AdamW,
  RMSprop: optim.RMSprop,
  Adagrad: optim.Adagrad,
};

function buildOptimizer(name: string, params: nd.Tensor[], options: OptionsSpec, groups: OptCase['groups']): AnyOpt {
  const spec = groups ? groups.map((g) => ({ params: g.params.map((i) => params[i]!), ...g.options })) : params;
  return new OPTIMIZERS[name]!(spec, options);
}

/** The LambdaLR / MultiplicativeLR functions named in the fixture (same as the generator's). */
const LAMBDAS: Record<string, (e: number) => number> = {
  warmup5: (e) => Math.min(1, (e + 1) / 5),
  exp095: (e) => 0.95 ** e,
  halfEvery3: (e) => 0.5 ** Math.floor(e / 3),
  mul098: () => 0.98,
};

type AnySched = nd.optim.Scheduler & { step(arg?: number): void };

function buildScheduler(opt: AnyOpt, spec: SchedSpec): AnySched {
  const o = { ...(spec.options ?? {}) } as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const take = (k: string) => {
    const v = o[k];
    delete o[k];
    return v;
  };
  switch (spec.type) {
    case 'StepLR': return new optim.StepLR(opt, take('stepSize'), o);
    case 'MultiStepLR': return new optim.MultiStepLR(opt, take('milestones'), o);
    case 'ExponentialLR': return new optim.ExponentialLR(opt, take('gamma'), o);
    case 'CosineAnnealingLR': return new optim.CosineAnnealingLR(opt, take('tMax'), o);
    case 'LinearLR': return new optim.LinearLR(opt, o);
    case 'ConstantLR': return new optim.ConstantLR(opt, o);
    case 'PolynomialLR': return new optim.PolynomialLR(opt, o);
    case 'OneCycleLR': return new optim.OneCycleLR(opt, take('maxLr'), o);
    case 'LambdaLR': {
      const fns = spec.lambdas!.map((n) => LAMBDAS[n]!);
      return new optim.LambdaLR(opt, fns.length > 1 ? fns : fns[0]!);
    }
    case 'MultiplicativeLR': {
      const fns = spec.lambdas!.map((n) => LAMBDAS[n]!);
      return new optim.MultiplicativeLR(opt, fns.length > 1 ? fns : fns[0]!);
    }
    case 'SequentialLR':
      return new optim.SequentialLR(opt, spec.schedulers!.map((s) => buildScheduler(opt, s) as nd.optim.LRScheduler), spec.milestones!);
    case 'ChainedScheduler':
      return new optim.ChainedScheduler(spec.schedulers!.map((s) => buildScheduler(opt, s) as nd.optim.LRScheduler));
    case 'ReduceLROnPlateau': return new optim.ReduceLROnPlateau(opt, o) as unknown as AnySched;
    default: throw new Error(`unknown scheduler ${spec.type}`);
  }
}

const groupLrs = (opt: AnyOpt) => opt.paramGroups.map((g) => g.lr);
const momentumOf = (opt: AnyOpt) =>
  opt.paramGroups.map((g) => ('betas' in g ? (g.betas as number[])[0]! : (g as { momentum?: number }).momentum!));

/** Tolerances: float64 runs agree with torch to rounding; float32 within float32 accumulation. */
const TOL = {
  float64: { atol: 1e-12, rtol: 1e-10 },
  float32: { atol: 2e-6, rtol: 1e-5 },
};
const LR_TOL = { atol: 1e-12, rtol: 1e-9 };

// ---------------------------------------------------------------- optimizer trajectories

describe('optimizers vs torch 1.13 (20 steps on a 2-layer MLP)', () => {
  for (const c of FIX.optimizers) {
    const label = `${c.id} (${c.optimizer}${c.scheduler ? ` + ${c.scheduler.type}` : ''}, ${c.dtype})`;
    test(label, () => {
      const prob = makeProblem(c.dtype);
      const opt = buildOptimizer(c.optimizer, prob.params, c.options, c.groups);
      const sched = c.scheduler ? buildScheduler(opt, c.scheduler) : null;
      const tol = TOL[c.dtype];
      for (let step = 1; step <= FIX.steps; step++) {
        opt.zeroGrad();
        const loss = prob.loss();
        loss.backward();
        assertClose(loss.item(), c.losses[step - 1], { ...tol, msg: `loss before step ${step}` });
        opt.step();
        if (sched) {
          sched.step();
          assertClose(groupLrs(opt), c.lrs![step - 1], { ...LR_TOL, msg: `lr after step ${step}` });
        }
        const want = c.params[String(step)];
        if (want) {
          prob.params.forEach((p, i) => {
            assert.equal(p.dtype, c.dtype, 'parameters keep their dtype');
            assertClose(p, want[i], { ...tol, msg: `param ${i} after step ${step}` });
          });
        }
      }
    });
  }
});

// ---------------------------------------------------------------- scheduler trajectories

describe('LR schedulers vs torch 1.13 (20 steps)', () => {
  for (const c of FIX.schedulers) {
    test(`${c.id} (${c.scheduler.type}, ${c.optimizer.lrs.length} group${c.optimizer.lrs.length > 1 ? 's' : ''})`, () => {
      const params = c.optimizer.lrs.map(() => nd.zeros([1], { requiresGrad: true }));
      const groups = params.map((p, i) => ({ params: [p], lr: c.optimizer.lrs[i]! }));
      const opt = new OPTIMIZERS[c.optimizer.type]!(groups, c.optimizer.options ?? {});
      const sched = buildScheduler(opt, c.scheduler);
      const check = (i: number) => {
        assertClose(groupLrs(opt), c.lrs[i], { ...LR_TOL, msg: `group lrs after ${i} steps` });
        if (c.lastLrs) assertClose(sched.getLastLr(), c.lastLrs[i], { ...LR_TOL, msg: `getLastLr after ${i} steps` });
        if (c.momentums) assertClose(momentumOf(opt), c.momentums[i], { ...LR_TOL, msg: `momentum after ${i} steps` });
      };
      check(0);
      for (let i = 0; i < FIX.steps; i++) {
        opt.step();
        if (c.metrics) sched.step(c.metrics[i]);
        else sched.step();
        check(i + 1);
      }
    });
  }
});

// ---------------------------------------------------------------- clipping

describe('gradient clipping vs torch', () => {
  for (const c of FIX.clip) {
    const what = c.kind === 'norm' ? `clipGradNorm_(maxNorm ${c.maxNorm}, normType ${c.normType})` : `clipGradValue_(${c.clipValue})`;
    test(`${what} ${c.dtype}`, () => {
      const params = c.shapes.map((s) => nd.zeros(s, { dtype: c.dtype, requiresGrad: true }));
      params.forEach((p, i) => (p.grad = fromData(c.grads[i]!, c.shapes[i]!, c.dtype)));
      const gradObjects = params.map((p) => p.grad);
      const tol = c.dtype === 'float64' ? { atol: 1e-12, rtol: 1e-10 } : { atol: 1e-6, rtol: 1e-5 };
      if (c.kind === 'norm') {
        const normType = c.normType === 'inf' ? Infinity : (c.normType as number);
        const total = optim.clipGradNorm_(params, c.maxNorm!, normType);
        assert.equal(total.ndim, 0);
        assertClose(total.item(), c.total, { ...tol, msg: 'total norm' });
      } else {
        optim.clipGradValue_(params, c.clipValue!);
      }
      params.forEach((p, i) => {
        assert.equal(p.grad, gradObjects[i], 'grad tensors are kept (changed in place)');
        assertClose(p.grad!, c.clipped[i], { ...tol, msg: `grad ${i}` });
      });
    });
  }

  test('clipGradNorm_ with no gradients returns 0; single tensor accepted', () => {
    const p = nd.zeros([3], { requiresGrad: true });
    assert.equal(optim.clipGradNorm_([p], 1).item(), 0);
    p.grad = nd.tensor([3, 4, 0]);
    assertClose(optim.clipGradNorm_(p, 1).item(), 5);
    assertClose(p.grad, [0.6, 0.8, 0], { atol: 1e-6 });
  });

  test('clipGradNorm_ errorIfNonfinite leaves gradients untouched', () => {
    const p = nd.zeros([2], { requiresGrad: true });
    p.grad = nd.tensor([NaN, 1]);
    const before = p.grad.array;
    assertThrows(() => optim.clipGradNorm_([p], 1, 2, { errorIfNonfinite: true }), RangeError, /^clipGradNorm_: a finite total norm of order 2 \(errorIfNonfinite\), got NaN$/);
    assert.equal(p.grad.array, before);
  });
});

// ---------------------------------------------------------------- graph, zeroGrad, closure, groups

/** One zeroGrad/forward/backward/step iteration. */
function iterate(prob: Problem, opt: AnyOpt, sched?: AnySched | null): number {
  opt.zeroGrad();
  const loss = prob.loss();
  loss.backward();
  opt.step();
  sched?.step();
  return loss.item();
}

describe('optimizer mechanics', () => {
  test('updates keep parameter identity and never grow the graph', () => {
    for (const name of Object.keys(OPTIMIZERS)) {
      const prob = makeProblem('float32');
      const opt = buildOptimizer(name, prob.params, { lr: 0.01, ...(name === 'SGD' ? { momentum: 0.9 } : {}) }, null);
      const before = [...prob.params];
      for (let i = 0; i < 3; i++) iterate(prob, opt);
      opt.paramGroups[0]!.params.forEach((p: nd.Tensor, i: number) => {
        assert.equal(p, before[i], `${name}: the optimizer still holds the same Parameter`);
        assert.ok(p.isLeaf && p.node === null, `${name}: parameter ${i} is still a leaf`);
        assert.ok(p.requiresGrad, `${name}: parameter ${i} still requires grad`);
        assert.ok(p.grad !== null && p.grad.node === null, `${name}: gradient has no graph`);
      });
      for (const s of opt.state.values()) {
        for (const v of Object.values(s)) {
          if (v instanceof nd.Tensor) assert.ok(v.node === null && !v.requiresGrad, `${name}: state tensors are constants`);
        }
      }
    }
  });

  test('step inside a recording context still builds no graph', () => {
    const w = new nd.nn.Parameter(nd.tensor([1, 2]));
    const opt = new optim.Adam([w], { lr: 0.1 });
    w.grad = nd.tensor([0.5, -0.5]);
    opt.step();
    assert.equal(w.node, null);
    const y = nd.sum(nd.mul(w, w));
    y.backward();
    assert.ok(w.grad !== null);
  });

  test('zeroGrad: setToNone (default) vs zeros in place', () => {
    const prob = makeProblem('float32');
    const opt = new optim.SGD(prob.params, { lr: 0.1 });
    prob.loss().backward();
    const g0 = prob.params[0]!.grad!;
    opt.zeroGrad({ setToNone: false });
    assert.equal(prob.params[0]!.grad, g0, 'same grad tensor');
    assert.deepEqual(flat(g0), new Array(g0.size).fill(0));
    assert.deepEqual([...g0.shape], [...prob.params[0]!.shape]);
    opt.zeroGrad();
    for (const p of prob.params) assert.equal(p.grad, null);
    // zeros then backward accumulates from zero; None then backward starts fresh: same result
    prob.loss().backward();
    const fresh = flat(prob.params[0]!.grad);
    opt.zeroGrad({ setToNone: false });
    prob.loss().backward();
    assertClose(prob.params[0]!.grad!, fresh, { atol: 0, rtol: 0 });
  });

  test('a parameter without a gradient is skipped and gets no state', () => {
    const a = nd.zeros([2], { requiresGrad: true });
    const b = nd.ones([2], { requiresGrad: true });
    const opt = new optim.Adam([a, b], { lr: 0.1 });
    a.grad = nd.ones([2]);
    opt.step();
    assert.ok(opt.state.has(a));
    assert.ok(!opt.state.has(b));
    assert.deepEqual(flat(b), [1, 1]);
  });

  test('step(closure) evaluates the closure with grad enabled and returns its loss', () => {
    const prob = makeProblem('float64');
    const ref = makeProblem('float64');
    const opt = new optim.SGD(prob.params, { lr: 0.1, momentum: 0.9 });
    const refOpt = new optim.SGD(ref.params, { lr: 0.1, momentum: 0.9 });
    for (let i = 0; i < 3; i++) {
      const loss = nd.noGrad(() =>
        opt.step(() => {
          opt.zeroGrad();
          const l = prob.loss();
          l.backward();
          return l;
        }),
      );
      const want = iterate(ref, refOpt);
      assert.ok(loss instanceof nd.Tensor);
      assert.equal(loss.item(), want);
    }
    prob.params.forEach((p, i) => assertClose(p, ref.params[i]!, { atol: 0, rtol: 0 }));
  });

  test('param groups: per-group hyperparameters, addParamGroup takes the defaults', () => {
    const a = nd.ones([2], { requiresGrad: true });
    const b = nd.ones([2], { requiresGrad: true });
    const c = nd.ones([2], { requiresGrad: true });
    const opt = new optim.SGD([{ params: [a], lr: 0.5 }, { params: b, momentum: 0.9 }], { lr: 0.1, weightDecay: 0.01 });
    opt.addParamGroup({ params: [c], nesterov: true, momentum: 0.5 });
    assert.equal(opt.paramGroups.length, 3);
    assert.deepEqual(
      opt.paramGroups.map((g) => [g.lr, g.momentum, g.weightDecay, g.nesterov]),
      [[0.5, 0, 0.01, false], [0.1, 0.9, 0.01, false], [0.1, 0.5, 0.01, true]],
    );
    for (const p of [a, b, c]) p.grad = nd.ones([2]);
    opt.step();
    assertClose(a, [1 - 0.5 * 1.01, 1 - 0.5 * 1.01]);
    assertClose(b, [1 - 0.1 * 1.01, 1 - 0.1 * 1.01]);
    assertClose(c, [1 - 0.1 * 1.01 * 1.5, 1 - 0.1 * 1.01 * 1.5]);
    // groups never share the betas array of the defaults
    const adam = new optim.Adam([{ params: [a] }, { params: [b] }]);
    assert.notEqual(adam.paramGroups[0]!.betas, adam.paramGroups[1]!.betas);
  });

  test("needle's course momentum u = b*u + (1-b)*g is dampening = momentum after the first step", () => {
    const w = nd.zeros([1], { requiresGrad: true });
    const opt = new optim.SGD([w], { lr: 1, momentum: 0.9, dampening: 0.9 });
    const grads = [1, 2, 3];
    let u = grads[0]!; // PyTorch: the buffer starts as the first gradient
    let expected = 0;
    for (const [i, g] of grads.entries()) {
      if (i > 0) u = 0.9 * u + 0.1 * g;
      expected -= u;
      w.grad = nd.tensor([g]);
      opt.step();
      assertClose(w, [expected], { atol: 1e-6 });
    }
  });

  test('a new optimizer from the general transforms in a few lines', () => {
    const T = optim.transforms;
    const w = nd.tensor([1, -2, 3], { requiresGrad: true });
    const signSgd = new optim.Optimizer<{ lr: number; weightDecay: number }>('SignSGD', [w], { lr: 0.1, weightDecay: 0.5 }, [
      (g) => nd.sign(g),
      T.addWeightDecay,
      T.scaleByLr,
    ]);
    w.grad = nd.tensor([0.3, -7, 0]);
    signSgd.step();
    assertClose(w, [1 - 0.1 * (1 + 0.5), -2 - 0.1 * (-1 - 1), 3 - 0.1 * (0 + 1.5)]);
    assertThrows(() => new optim.Optimizer('SignSGD', [w], { lr: -1 }, [T.scaleByLr]), RangeError, /^SignSGD: lr must be >= 0, got -1$/);
  });
});

// ---------------------------------------------------------------- state dicts

const CONFIGS: [string, OptionsSpec][] = [
  ['SGD', { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 }],
  ['Adam', { lr: 0.01, amsgrad: true, weightDecay: 0.1 }],
  ['AdamW', { lr: 0.01 }],
  ['RMSprop', { lr: 0.01, momentum: 0.5, centered: true }],
  ['Adagrad', { lr: 0.1, lrDecay: 0.01, initialAccumulatorValue: 0.1 }],
];
const TWO_GROUPS = [
  { params: [0, 1], options: { lr: 0.02 } },
  { params: [2, 3], options: {} },
];

describe('state dicts', () => {
  test('optimizer stateDict has PyTorch layout and is a snapshot', () => {
    const prob = makeProblem('float32');
    const opt = buildOptimizer('Adam', prob.params, { lr: 0.01, amsgrad: true }, TWO_GROUPS);
    iterate(prob, opt);
    iterate(prob, opt);
    const sd = opt.stateDict();
    assert.deepEqual(Object.keys(sd.state), ['0', '1', '2', '3']);
    assert.deepEqual(Object.keys(sd.state['0']!).sort(), ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq', 'step']);
    assert.equal(sd.state['0']!.step, 2);
    assert.ok(sd.state['3']!.exp_avg instanceof nd.Tensor);
    assert.deepEqual(sd.param_groups.map((g) => g.params), [[0, 1], [2, 3]]);
    assert.deepEqual(sd.param_groups[0], {
      params: [0, 1], lr: 0.02, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, amsgrad: true, maximize: false,
    });
    const snap = flat(sd.state['0']!.exp_avg);
    iterate(prob, opt);
    assert.deepEqual(flat(sd.state['0']!.exp_avg), snap, 'later steps do not change a saved dict');
    // SGD with momentum stores momentum_buffer, without it nothing
    const sgd = new optim.SGD(prob.params, { lr: 0.1, momentum: 0.9 });
    iterate(prob, sgd);
    assert.deepEqual(Object.keys(sgd.stateDict().state['0']!), ['momentum_buffer']);
  });

  for (const [name, options] of CONFIGS) {
    test(`${name}: save after 6 steps, load into a fresh optimizer, continue identically`, () => {
      const prob = makeProblem('float64');
      const opt = buildOptimizer(name, prob.params, options, TWO_GROUPS);
      const sched = new optim.StepLR(opt, 4, { gamma: 0.5 });
      for (let i = 0; i < 6; i++) iterate(prob, opt, sched);
      const optSd = opt.stateDict();
      const schedSd = sched.stateDict();
      const saved = prob.params.map((p) => flat(p));

      const resumed = makeProblem('float64', saved);
      const opt2 = buildOptimizer(name, resumed.params, options, TWO_GROUPS);
      const sched2 = new optim.StepLR(opt2, 4, { gamma: 0.5 });
      opt2.loadStateDict(optSd);
      sched2.loadStateDict(schedSd);
      assert.deepEqual(groupLrs(opt2), groupLrs(opt));
      for (let i = 0; i < 6; i++) {
        assert.equal(iterate(resumed, opt2, sched2), iterate(prob, opt, sched), `loss at resumed step ${i}`);
      }
      prob.params.forEach((p, i) => assertClose(resumed.params[i]!, p, { atol: 0, rtol: 0, msg: `param ${i}` }));
      assert.deepEqual(sched2.getLastLr(), sched.getLastLr());
    });
  }

  test('loadStateDict casts state to the parameter dtype and copies it', () => {
    const a = makeProblem('float64');
    const opt = new optim.Adam(a.params, { lr: 0.01 });
    iterate(a, opt);
    const sd = opt.stateDict();
    const b = makeProblem('float32');
    const opt2 = new optim.Adam(b.params, { lr: 0.01 });
    opt2.loadStateDict(sd);
    const s = opt2.state.get(b.params[0]!)!;
    assert.equal((s.expAvg as nd.Tensor).dtype, 'float32');
    assert.notEqual((s.expAvg as nd.Tensor).array, (sd.state['0']!.exp_avg as nd.Tensor).array);
    // step given as a one-element tensor (PyTorch 1.13 stores it so) is accepted
    sd.state['0']!.step = nd.tensor(1);
    opt2.loadStateDict(sd);
    assert.equal(opt2.state.get(b.params[0]!)!.step, 1);
  });

  test('a state dict that does not fit is rejected and changes nothing', () => {
    const prob = makeProblem('float32');
    const opt = buildOptimizer('SGD', prob.params, { lr: 0.1, momentum: 0.9 }, TWO_GROUPS);
    iterate(prob, opt);
    const good = opt.stateDict();
    const other = new optim.SGD(prob.params, { lr: 0.3, momentum: 0.9 });
    iterate(prob, other);
    const before = other.stateDict();
    assertThrows(() => other.loadStateDict(good), RangeError, /^SGD\.loadStateDict: 1 param groups, got 2$/);
    const bad = { state: {}, param_groups: [{ ...good.param_groups[0]!, params: [0, 1, 2, 3], lr: -1 }] };
    assertThrows(() => other.loadStateDict(bad), RangeError, /^SGD: lr must be >= 0, got -1$/);
    const wrongShape = { state: { 0: { momentum_buffer: nd.zeros([7]) } }, param_groups: [{ ...before.param_groups[0]!, params: [0, 1, 2, 3] }] };
    assertThrows(() => other.loadStateDict(wrongShape), RangeError, /^SGD\.loadStateDict: momentum_buffer of parameter 0 with shape \[5,4\], got \[7\]$/);
    assert.deepEqual(other.stateDict().param_groups, before.param_groups);
    assert.deepEqual(flat(other.stateDict().state['0']!.momentum_buffer), flat(before.state['0']!.momentum_buffer));
  });

  const SCHEDS: [string, (opt: AnyOpt) => AnySched][] = [
    ['StepLR', (o) => new optim.StepLR(o, 3, { gamma: 0.5 })],
    ['MultiStepLR', (o) => new optim.MultiStepLR(o, [2, 5, 9])],
    ['CosineAnnealingLR', (o) => new optim.CosineAnnealingLR(o, 6, { etaMin: 1e-4 })],
    ['OneCycleLR', (o) => new optim.OneCycleLR(o, 0.5, { totalSteps: 20 })],
    ['LambdaLR', (o) => new optim.LambdaLR(o, LAMBDAS.exp095!)],
    ['PolynomialLR', (o) => new optim.PolynomialLR(o, { totalIters: 10, power: 3 })],
    ['SequentialLR', (o) => new optim.SequentialLR(o, [new optim.LinearLR(o, { startFactor: 0.1, totalIters: 5 }), new optim.CosineAnnealingLR(o, 10)], [5])],
    ['ChainedScheduler', (o) => new optim.ChainedScheduler([new optim.ExponentialLR(o, 0.9), new optim.StepLR(o, 4)])],
  ];
  for (const [name, make] of SCHEDS) {
    test(`${name}: scheduler stateDict round trip continues identically`, () => {
      const mk = () => new optim.SGD([{ params: [nd.zeros([1], { requiresGrad: true })], lr: 0.1 }, { params: [nd.zeros([1], { requiresGrad: true })], lr: 0.05 }], { lr: 0.1, momentum: 0.9 });
      const opt = mk();
      const sched = make(opt);
      for (let i = 0; i < 7; i++) sched.step();
      const sd = sched.stateDict();
      const json = JSON.parse(JSON.stringify(sd)) as Record<string, unknown>;
      assert.deepEqual(json, sd, 'scheduler state dicts are plain data');
      const opt2 = mk();
      const sched2 = make(opt2);
      opt2.loadStateDict(opt.stateDict());
      sched2.loadStateDict(json);
      for (let i = 0; i < 8; i++) {
        sched.step();
        sched2.step();
        assert.deepEqual(groupLrs(opt2), groupLrs(opt), `lrs at resumed step ${i}`);
        assert.deepEqual(momentumOf(opt2), momentumOf(opt));
      }
    });
  }

  test('ReduceLROnPlateau stateDict round trip (best = Infinity kept)', () => {
    const mk = () => new optim.SGD([nd.zeros([1], { requiresGrad: true })], { lr: 0.1 });
    const opt = mk();
    const s = new optim.ReduceLROnPlateau(opt, { patience: 1, factor: 0.5, cooldown: 1 });
    const sd0 = s.stateDict();
    assert.equal(sd0.best, Infinity);
    const metrics = [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.4, 0.4, 0.4];
    metrics.slice(0, 5).forEach((m) => s.step(m));
    const opt2 = mk();
    const s2 = new optim.ReduceLROnPlateau(opt2, { patience: 1, factor: 0.5, cooldown: 1 });
    opt2.loadStateDict(opt.stateDict());
    s2.loadStateDict(s.stateDict());
    for (const m of metrics.slice(5)) {
      s.step(m);
      s2.step(nd.tensor(m));
      assert.deepEqual(s2.getLastLr(), s.getLastLr());
    }
  });

  test('LambdaLR state dicts hold no functions; unknown keys are rejected', () => {
    const opt = new optim.SGD([nd.zeros([1], { requiresGrad: true })], { lr: 0.1 });
    const s = new optim.LambdaLR(opt, LAMBDAS.warmup5!);
    const sd = s.stateDict();
    assert.ok(!Object.values(sd).some((v) => typeof v === 'function'));
    assert.ok(!('lr_lambdas' in sd));
    assert.deepEqual(Object.keys(sd).sort(), ['base_lrs', 'last_epoch', 'last_lr', 'step_count']);
    assertThrows(() => s.loadStateDict({ ...sd, t_max: 3 }), RangeError, /^LambdaLR\.loadStateDict: the keys of a LambdaLR state dict, got unknown key t_max$/);
  });
});

// ---------------------------------------------------------------- errors

describe('errors follow `<Optimizer>: <expected>, got <actual>`', () => {
  const p = () => [nd.zeros([2], { requiresGrad: true })];
  const cases: [string, () => unknown, new (...a: never[]) => Error, RegExp][] = [
    ['negative lr', () => new optim.SGD(p(), { lr: -1 }), RangeError, /^SGD: lr must be >= 0, got -1$/],
    ['missing SGD lr', () => new optim.SGD(p()), TypeError, /^SGD: lr to be given \(in the options or in every param group\), got undefined$/],
    ['nesterov without momentum', () => new optim.SGD(p(), { lr: 0.1, nesterov: true }), RangeError, /^SGD: nesterov requires momentum > 0 and dampening = 0, got momentum=0, dampening=0$/],
    ['nesterov with dampening', () => new optim.SGD(p(), { lr: 0.1, nesterov: true, momentum: 0.9, dampening: 0.1 }), RangeError, /^SGD: nesterov requires momentum > 0 and dampening = 0, got momentum=0.9, dampening=0.1$/],
    ['negative momentum', () => new optim.SGD(p(), { lr: 0.1, momentum: -0.5 }), RangeError, /^SGD: momentum must be >= 0, got -0.5$/],
    ['negative weight decay', () => new optim.SGD(p(), { lr: 0.1, weightDecay: -1 }), RangeError, /^SGD: weightDecay must be >= 0, got -1$/],
    ['NaN lr', () => new optim.Adam(p(), { lr: NaN }), RangeError, /^Adam: lr must be >= 0, got NaN$/],
    ['string lr', () => new optim.SGD(p(), { lr: '0.1' as unknown as number }), TypeError, /^SGD: lr must be a number, got "0.1"$/],
    ['beta1 = 1', () => new optim.Adam(p(), { betas: [1, 0.999] }), RangeError, /^Adam: betas\[0\] must be in \[0, 1\), got 1$/],
    ['beta2 < 0', () => new optim.AdamW(p(), { betas: [0.9, -0.1] }), RangeError, /^AdamW: betas\[1\] must be in \[0, 1\), got -0.1$/],
    ['betas not a pair', () => new optim.Adam(p(), { betas: [0.9] as unknown as [number, number] }), TypeError, /^Adam: betas must be an array of 2 numbers, got \[0.9\]$/],
    ['negative eps', () => new optim.Adam(p(), { eps: -1e-8 }), RangeError, /^Adam: eps must be >= 0, got -1e-8$/],
    ['AdamW negative weight decay', () => new optim.AdamW(p(), { weightDecay: -0.1 }), RangeError, /^AdamW: weightDecay must be >= 0, got -0.1$/],
    ['amsgrad not boolean', () => new optim.Adam(p(), { amsgrad: 1 as unknown as boolean }), TypeError, /^Adam: amsgrad must be a boolean, got 1$/],
    ['RMSprop negative alpha', () => new optim.RMSprop(p(), { alpha: -0.5 }), RangeError, /^RMSprop: alpha must be >= 0, got -0.5$/],
    ['RMSprop negative momentum', () => new optim.RMSprop(p(), { momentum: -1 }), RangeError, /^RMSprop: momentum must be >= 0, got -1$/],
    ['Adagrad negative lrDecay', () => new optim.Adagrad(p(), { lrDecay: -1 }), RangeError, /^Adagrad: lrDecay must be >= 0, got -1$/],
    ['Adagrad negative initial accumulator', () => new optim.Adagrad(p(), { initialAccumulatorValue: -1 }), RangeError, /^Adagrad: initialAccumulatorValue must be >= 0, got -1$/],
    ['misspelled option', () => new optim.Adam(p(), { weight_decay: 0.1 } as never), TypeError, /^Adam: options among lr, betas, eps, weightDecay, amsgrad, maximize, got unknown option weight_decay$/],
    ['empty params', () => new optim.SGD([], { lr: 0.1 }), RangeError, /^SGD: a non-empty list of parameters, got an empty list$/],
    ['a single tensor', () => new optim.SGD(nd.zeros([2]) as never, { lr: 0.1 }), TypeError, /^SGD: params to be an iterable of Tensors or of param groups, got a single Tensor$/],
    ['not a tensor', () => new optim.SGD([1, 2] as never, { lr: 0.1 }), TypeError, /^SGD: a param group: an object with a params field, got 1$/],
    ['non-leaf parameter', () => new optim.SGD([nd.mul(nd.zeros([2], { requiresGrad: true }), 2)], { lr: 0.1 }), TypeError, /^SGD: leaf tensors as parameters \(can not optimize a non-leaf Tensor\), got a tensor made by mul$/],
    ['integer parameter', () => new optim.SGD([nd.zeros([2], { dtype: 'int32' })], { lr: 0.1 }), TypeError, /^SGD: floating-point parameters, got a parameter of dtype int32$/],
    ['a group with a bad lr', () => new optim.SGD([{ params: p(), lr: -2 }], { lr: 0.1 }), RangeError, /^SGD: lr must be >= 0, got -2$/],
    ['a parameter in two groups', () => {
      const w = p();
      return new optim.SGD([{ params: w }, { params: w }], { lr: 0.1 });
    }, RangeError, /^SGD: each parameter in one param group only, got a parameter that is already in a group$/],
    ['StepLR stepSize 0', () => new optim.StepLR(new optim.SGD(p(), { lr: 0.1 }), 0), RangeError, /^StepLR: stepSize must be a positive integer, got 0$/],
    ['scheduler without an optimizer', () => new optim.StepLR({} as never, 3), TypeError, /^StepLR: an Optimizer, got \[object Object\]$/],
    ['CosineAnnealingLR tMax', () => new optim.CosineAnnealingLR(new optim.SGD(p(), { lr: 0.1 }), 2.5), RangeError, /^CosineAnnealingLR: tMax must be a positive integer, got 2.5$/],
    ['LinearLR startFactor 0', () => new optim.LinearLR(new optim.SGD(p(), { lr: 0.1 }), { startFactor: 0 }), RangeError, /^LinearLR: startFactor must be in \(0, 1\], got 0$/],
    ['resuming without initialLr', () => new optim.StepLR(new optim.SGD(p(), { lr: 0.1 }), 3, { lastEpoch: 4 }), RangeError, /^StepLR: param group 0 to have initialLr when resuming \(lastEpoch 4\), got none$/],
    ['OneCycleLR without a length', () => new optim.OneCycleLR(new optim.SGD(p(), { lr: 0.1, momentum: 0.9 }), 1), TypeError, /^OneCycleLR: totalSteps, or epochs and stepsPerEpoch, got none of them$/],
    ['OneCycleLR pctStart', () => new optim.OneCycleLR(new optim.SGD(p(), { lr: 0.1, momentum: 0.9 }), 1, { totalSteps: 10, pctStart: 1.5 }), RangeError, /^OneCycleLR: pctStart must be in \[0, 1\], got 1.5$/],
    ['OneCycleLR cycling an optimizer without momentum', () => new optim.OneCycleLR(new optim.Adagrad(p()), 1, { totalSteps: 10 }), TypeError, /^OneCycleLR: an optimizer with momentum or betas when cycleMomentum is true, got Adagrad$/],
    ['OneCycleLR maxLr per group', () => new optim.OneCycleLR(new optim.SGD(p(), { lr: 0.1 }), [1, 2], { totalSteps: 10 }), RangeError, /^OneCycleLR: 1 values of maxLr \(one per param group\), got 2$/],
    ['LambdaLR lambdas per group', () => new optim.LambdaLR(new optim.SGD(p(), { lr: 0.1 }), [() => 1, () => 1]), RangeError, /^LambdaLR: 1 lr lambdas \(one per param group\), got 2$/],
    ['ReduceLROnPlateau factor 1', () => new optim.ReduceLROnPlateau(new optim.SGD(p(), { lr: 0.1 }), { factor: 1 }), RangeError, /^ReduceLROnPlateau: factor must be in \[0, 1\), got 1$/],
    ['ReduceLROnPlateau mode', () => new optim.ReduceLROnPlateau(new optim.SGD(p(), { lr: 0.1 }), { mode: 'up' as never }), TypeError, /^ReduceLROnPlateau: mode must be 'min' or 'max', got up$/],
    ['SequentialLR milestones', () => {
      const o = new optim.SGD(p(), { lr: 0.1 });
      return new optim.SequentialLR(o, [new optim.StepLR(o, 2), new optim.ExponentialLR(o, 0.9)], [2, 4]);
    }, RangeError, /^SequentialLR: 1 integer milestones \(one fewer than schedulers\), got 2$/],
    ['SequentialLR across optimizers', () => {
      const o = new optim.SGD(p(), { lr: 0.1 });
      const o2 = new optim.SGD(p(), { lr: 0.1 });
      return new optim.SequentialLR(o, [new optim.StepLR(o, 2), new optim.ExponentialLR(o2, 0.9)], [2]);
    }, RangeError, /^SequentialLR: every scheduler to belong to the same optimizer, got a different optimizer at index 1$/],
    ['clipGradNorm_ negative normType', () => optim.clipGradNorm_(p(), 1, -1), RangeError, /^clipGradNorm_: normType must be >= 0 or Infinity, got -1$/],
    ['clipGradValue_ negative', () => optim.clipGradValue_(p(), -1), RangeError, /^clipGradValue_: clipValue must be >= 0, got -1$/],
  ];
  for (const [name, fn, type, re] of cases) test(name, () => assertThrows(fn, type, re));

  test('OneCycleLR past totalSteps fails and leaves the schedule intact', () => {
    const opt = new optim.SGD(p(), { lr: 0.1, momentum: 0.9 });
    const s = new optim.OneCycleLR(opt, 1, { totalSteps: 3 });
    for (let i = 0; i < 3; i++) s.step();
    const lr = opt.paramGroups[0]!.lr;
    assertThrows(() => s.step(), RangeError, /^OneCycleLR: at most 3 steps after construction \(totalSteps 3\), got step 4$/);
    assert.equal(s.lastEpoch, 3);
    assert.equal(opt.paramGroups[0]!.lr, lr);
  });

  test('a failed construction leaves the optimizer usable', () => {
    const w = p();
    const opt = new optim.SGD(w, { lr: 0.1 });
    assertThrows(() => opt.addParamGroup({ params: w }), RangeError, /^SGD: each parameter in one param group only/);
    assert.equal(opt.paramGroups.length, 1);
  });
});
