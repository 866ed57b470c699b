/**
 * Autograd: reverse mode (backward, autograd.grad, grad/valueAndGrad), forward mode (jvp),
 * higher-order derivatives, the engine's checks on op rules, and gradcheck. Reference values are
 * closed forms or PyTorch fixtures (tools/gen_autograd_fixtures.py -> test/fixtures/autograd.json).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as nd from '../src/index.js';
import { apply, defineOp } from '../src/autograd/op.js';
import { binaryNd, unaryNd } from '../src/ndarray/compute.js';
import { assertClose, assertShape, assertThrows, flat } from './helpers.js';

const f64 = (data: nd.NestedArray, requiresGrad = false) => nd.tensor(data, { dtype: 'float64', requiresGrad });
const vals = (t: nd.Tensor) => flat(t);
const TOL = { atol: 1e-10, rtol: 1e-10 };

// ---------------------------------------------------------------- (1) the worked example

describe('worked example: y = ln(x1) + x1*x2 - sin(x2) at (2, 5)', () => {
  const f = (x1: nd.Tensor, x2: nd.Tensor) => x1.log().add(x1.mul(x2)).sub(x2.sin());
  const y0 = Math.log(2) + 10 - Math.sin(5);
  const d1 = 0.5 + 5;
  const d2 = 2 - Math.cos(5);

  it('one reverse pass gives both partial derivatives', () => {
    const x1 = f64(2, true);
    const x2 = f64(5, true);
    const y = f(x1, x2);
    assertClose(y, [y0], TOL);
    y.backward();
    assertClose(x1.grad!, [5.5], TOL);
    assertClose(x2.grad!, [d2], TOL);
    assertShape(x1.grad!, []);
  });

  it('forward mode: one jvp pass per input gives the same numbers', () => {
    const x1 = f64(2);
    const x2 = f64(5);
    const [ya, t1] = nd.autograd.jvp(f, [x1, x2], [f64(1), f64(0)]);
    const [yb, t2] = nd.autograd.jvp(f, [x1, x2], [f64(0), f64(1)]);
    assertClose(ya, [y0], TOL);
    assertClose(yb, [y0], TOL);
    assertClose(t1, [d1], TOL);
    assertClose(t2, [d2], TOL);
  });

  it('float32 gives the same numbers to float32 precision', () => {
    const x1 = nd.tensor(2, { requiresGrad: true });
    const x2 = nd.tensor(5, { requiresGrad: true });
    f(x1, x2).backward();
    assertClose(x1.grad!, [d1], { atol: 1e-5, rtol: 1e-5 });
    assertClose(x2.grad!, [d2], { atol: 1e-5, rtol: 1e-5 });
    assert.equal(x1.grad!.dtype, 'float32');
  });
});

// ---------------------------------------------------------------- (2) backward semantics

describe('backward semantics', () => {
  it('accumulates into leaves across calls', () => {
    const x = f64([1, 2, 3], true);
    x.mul(x).sum().backward();
    assertClose(x.grad!, [2, 4, 6], TOL);
    x.mul(x).sum().backward();
    assertClose(x.grad!, [4, 8, 12], TOL);
    x.mul(3).sum().backward();
    assertClose(x.grad!, [7, 11, 15], TOL);
  });

  it('a leaf used twice gets the sum of both paths', () => {
    const x = f64([1, -2], true);
    x.mul(x).add(x.exp()).add(x).sum().backward();
    assertClose(x.grad!, [2 + Math.E + 1, -4 + Math.exp(-2) + 1], TOL);
  });

  it('non-leaf .grad stays null unless retainGrad()', () => {
    const x = f64([1, 2], true);
    const y = x.mul(2);
    const z = y.mul(y).sum();
    z.backward();
    assert.equal(y.grad, null);
    assert.equal(y.isLeaf, false);
    assert.equal(x.isLeaf, true);
    const x2 = f64([1, 2], true);
    const y2 = x2.mul(2).retainGrad();
    y2.mul(y2).sum().backward();
    assertClose(y2.grad!, [4, 8], TOL); // d(y^2)/dy = 2y
    assertClose(x2.grad!, [8, 16], TOL);
  });

  it('detach cuts the graph and shares values', () => {
    const x = f64([1, 2], true);
    const y = x.mul(3);
    const d = y.detach();
    assert.equal(d.requiresGrad, false);
    assert.equal(d.node, null);
    assert.equal(d.isLeaf, true);
    assert.deepEqual(vals(d), [3, 6]);
    // gradient flows only through the attached path
    y.add(d.mul(y)).sum().backward();
    assertClose(x.grad!, [3 + 3 * 3, 3 + 6 * 3], TOL);
  });

  it('requiresGrad_ sets the flag on leaves and is refused on ints and non-leaves', () => {
    const x = f64([1, 2]);
    assert.equal(x.requiresGrad, false);
    assert.equal(x.requiresGrad_(), x);
    assert.equal(x.requiresGrad, true);
    x.mul(x).sum().backward();
    assertClose(x.grad!, [2, 4], TOL);
    x.requiresGrad_(false);
    assert.equal(x.mul(2).requiresGrad, false);
    assertThrows(() => nd.tensor([1, 2], { dtype: 'int32' }).requiresGrad_(), TypeError, /^requiresGrad_: .*got int32/);
    const y = f64([1], true).mul(2);
    assertThrows(() => y.requiresGrad_(false), TypeError, /^requiresGrad_: .*got a tensor made by mul/);
  });

  it('noGrad builds no graph; enableGrad switches recording back on', () => {
    const x = f64([1, 2], true);
    const y = nd.noGrad(() => x.mul(2).exp());
    assert.equal(y.requiresGrad, false);
    assert.equal(y.node, null);
    assert.equal(nd.isGradEnabled(), true);
    const z = nd.noGrad(() => nd.enableGrad(() => x.mul(2)));
    assert.equal(z.requiresGrad, true);
    assert.notEqual(z.node, null);
    // noGrad restores the mode when fn throws
    assert.throws(() => nd.noGrad(() => { throw new Error('boom'); }));
    assert.equal(nd.isGradEnabled(), true);
  });

  it('ops on tensors that do not require grad build no graph; int results never require grad', () => {
    const a = f64([1, 2]);
    assert.equal(a.mul(a).node, null);
    const x = f64([1, 2], true);
    const c = x.gt(1);
    assert.equal(c.requiresGrad, false);
    assert.equal(x.argmax().requiresGrad, false);
  });

  it('backward without createGraph builds no graph; with createGraph the gradient is differentiable', () => {
    const x = f64([1, 2], true);
    x.mul(x).mul(x).sum().backward();
    assert.equal(x.grad!.node, null);
    assert.equal(x.grad!.requiresGrad, false);
    const x2 = f64([1, 2], true);
    x2.mul(x2).mul(x2).sum().backward(undefined, { createGraph: true });
    assert.equal(x2.grad!.requiresGrad, true);
    assertClose(x2.grad!, [3, 12], TOL);
    const [h] = nd.autograd.grad(x2.grad!.sum(), x2);
    assertClose(h!, [6, 12], TOL); // d/dx 3x^2 = 6x
  });

  it('backward on a non-scalar needs a gradient (RangeError); with one it weights the outputs', () => {
    const x = f64([[1, 2, 3], [4, 5, 6]], true);
    const y = x.mul(x);
    assertThrows(() => y.backward(), RangeError, /^backward: .*got shape \[2,3\]/);
    assertThrows(() => y.backward(f64([1, 2])), RangeError, /^backward: grad of the output's shape \[2,3\], got \[2\]/);
    assertThrows(() => y.backward(nd.ones([2, 3])), TypeError, /^backward: .*dtype float64, got float32/);
    assert.equal(x.grad, null, 'failed backward calls leave .grad untouched');
    y.backward(f64([[1, 0, 1], [0, 2, 0]]));
    assertClose(x.grad!, [2, 0, 6, 0, 20, 0], TOL);
  });

  it('backward twice without retainGraph is a GraphError; with retainGraph it accumulates', () => {
    const x = f64([1, 2], true);
    const y = x.exp().sum();
    y.backward();
    assertThrows(() => y.backward(), nd.GraphError, /^backward: .*already freed.*retainGraph/);
    const x2 = f64([1, 2], true);
    const y2 = x2.exp().mul(x2).sum();
    y2.backward(undefined, { retainGraph: true });
    const once = vals(x2.grad!);
    y2.backward(undefined, { retainGraph: true });
    assertClose(x2.grad!, once.map((v) => 2 * v), TOL);
    y2.backward();
    assertClose(x2.grad!, once.map((v) => 3 * v), TOL);
    assertThrows(() => y2.backward(), nd.GraphError, /already freed/);
  });

  it('backward on a tensor that does not require grad is a GraphError', () => {
    assertThrows(() => f64([1, 2]).sum().backward(), nd.GraphError, /^backward: a tensor that requires grad, got/);
    const x = f64([1, 2], true);
    const y = nd.noGrad(() => x.sum());
    assertThrows(() => y.backward(), nd.GraphError, /^backward: /);
  });

  it('each leaf gets its own .grad storage (not the seed, not another leaf\'s)', () => {
    const a = f64([1, 2], true);
    const b = f64([3, 4], true);
    const seed = f64([1, 1]);
    a.add(b).backward(seed); // add's vjp passes the seed through to both inputs
    assert.notEqual(a.grad!.array, b.grad!.array);
    assert.notEqual(a.grad!.array.storage, seed.array.storage);
    nd.noGrad(() => a.grad!.set(0, 100));
    assert.deepEqual(vals(b.grad!), [1, 1]);
    assert.deepEqual(vals(seed), [1, 1]);
    assert.deepEqual(vals(a.grad!), [100, 1]);
  });

  it('autograd.grad returns gradients without touching .grad', () => {
    const x = f64([1, 2], true);
    const [g] = nd.autograd.grad(x.mul(x).sum(), x);
    assertClose(g!, [2, 4], TOL);
    assert.equal(x.grad, null);
    assert.equal(g!.requiresGrad, false);
  });

  it('autograd.grad takes several outputs and gradOutputs', () => {
    const x = f64([1, 2], true);
    const y = f64([3], true);
    const o1 = x.mul(y); // [2]
    const o2 = x.sum().mul(y.sum()); // []
    const [gx, gy] = nd.autograd.grad([o1, o2], [x, y], { gradOutputs: [f64([1, 10]), f64(1)] });
    // d/dx: [y*1, y*10] + y = [3+3, 30+3]; d/dy: x·[1,10] + sum(x) = 21 + 3
    assertClose(gx!, [6, 33], TOL);
    assertClose(gy!, [24], TOL);
  });
});

// ---------------------------------------------------------------- (3) broadcasting

describe('broadcast gradients are summed', () => {
  it('add of [3,1] and [4]', () => {
    const a = f64([[1], [2], [3]], true);
    const b = f64([1, 2, 3, 4], true);
    const y = a.add(b);
    assertShape(y, [3, 4]);
    y.sum().backward();
    assertShape(a.grad!, [3, 1]);
    assertShape(b.grad!, [4]);
    assertClose(a.grad!, [4, 4, 4], TOL);
    assertClose(b.grad!, [3, 3, 3, 3], TOL);
  });

  it('mul of [3,1] and [4] with a non-uniform upstream gradient', () => {
    const A = [1, 2, 3];
    const B = [0.5, -1, 2, 3];
    const G = [[1, 2, 3, 4], [0, -1, 0, 1], [2, 2, -2, 0.5]];
    const a = f64([[1], [2], [3]], true);
    const b = f64(B, true);
    a.mul(b).backward(f64(G));
    assertClose(a.grad!, G.map((row) => row.reduce((s, g, j) => s + g * B[j]!, 0)), TOL);
    assertClose(b.grad!, B.map((_, j) => G.reduce((s, row, i) => s + row[j]! * A[i]!, 0)), TOL);
  });

  it('leading dims, size-1 middle dims and 0-d tensors', () => {
    const a = f64(Array.from({ length: 2 }, () => Array.from({ length: 3 }, () => [1, 2, 3, 4])), true); // [2,3,4]
    const b = f64([[1], [2], [3]], true); // [3,1]
    const s = f64(2, true); // []
    const y = a.mul(b).add(s).mul(s);
    y.sum().backward();
    assertShape(b.grad!, [3, 1]);
    assertShape(s.grad!, []);
    // d/db[i] = sum_{n,k} a[n,i,k] * s = 2 * 10 * 2
    assertClose(b.grad!, [40, 40, 40], TOL);
    // y = (a*b + s) * s: dy/ds = a*b + 2s, summed: sum(a*b) = 2*(1+2+3)*10 = 120, plus 24 * 2 * 2 = 96
    assertClose(s.grad!, [120 + 96], TOL);
    // d/da[n,i,k] = b[i] * s
    assertClose(a.grad!, Array.from({ length: 24 }, (_, i) => 2 * ((Math.floor(i / 4) % 3) + 1)), TOL);
  });

  it('explicit expand and sub/div broadcasting', () => {
    const a = f64([[2], [4]], true);
    const b = f64([1, 2, 4], true);
    a.div(b).sub(b.expand([2, 3])).sum().backward();
    // d/da_i = sum_j 1/b_j = 1.75; d/db_j = -sum_i a_i / b_j^2 - 2
    assertClose(a.grad!, [1.75, 1.75], TOL);
    assertClose(b.grad!, [-6 - 2, -6 / 4 - 2, -6 / 16 - 2], TOL);
  });

  it('second derivative through a broadcast', () => {
    const a = f64([[1], [2]], true);
    const b = f64([3, 4, 5], true);
    const [ga] = nd.autograd.grad(a.mul(b).pow(2).sum(), a, { createGraph: true }); // 2 a sum(b^2)
    assertClose(ga!, [100, 200], TOL);
    const [gb] = nd.autograd.grad(ga!.sum(), b); // 2 * sum(a) * 2b
    assertClose(gb!, [36, 48, 60], TOL);
  });
});

// ---------------------------------------------------------------- (4) deep graphs

describe('deep graphs', () => {
  it('a chain of 10,000 ops (20,000 nodes) runs backward without stack overflow', () => {
    const x = f64(1, true);
    let y = x;
    for (let i = 0; i < 10000; i++) y = y.mul(1.0001).add(0.0);
    const expected = Math.pow(1.0001, 10000);
    assertClose(y, [expected], { atol: 0, rtol: 1e-9 });
    y.backward();
    assertClose(x.grad!, [expected], { atol: 0, rtol: 1e-9 });
  });

  it('a wide-and-deep graph (every step reuses the previous two) stays correct', () => {
    // Fibonacci-like: y_{k+1} = 0.5 * (y_k + y_{k-1}); all gradients via many shared paths
    const x = f64(1, true);
    let prev = x;
    let cur = x.mul(1);
    for (let i = 0; i < 3000; i++) {
      const next = cur.add(prev).mul(0.5);
      prev = cur;
      cur = next;
    }
    cur.backward();
    assertClose(x.grad!, [1], { atol: 1e-9, rtol: 0 }); // the recurrence is linear with y = x for all k
  });
});

// ---------------------------------------------------------------- (5) higher order

/** f, f', f'', f''' applied elementwise. */
interface Closed {
  name: string;
  f: (x: nd.Tensor) => nd.Tensor;
  d: [(x: number) => number, (x: number) => number, (x: number) => number];
  xs: number[];
}

const sig = (x: number) => 1 / (1 + Math.exp(-x));
const P = 3.5;
const CLOSED: Closed[] = [
  { name: 'exp', f: (x) => x.exp(), d: [Math.exp, Math.exp, Math.exp], xs: [-1.5, 0, 0.3, 2] },
  {
    name: 'tanh',
    f: (x) => x.tanh(),
    d: [
      (x) => 1 - Math.tanh(x) ** 2,
      (x) => -2 * Math.tanh(x) * (1 - Math.tanh(x) ** 2),
      (x) => (6 * Math.tanh(x) ** 2 - 2) * (1 - Math.tanh(x) ** 2),
    ],
    xs: [-1.2, -0.1, 0.4, 1.7],
  },
  {
    name: 'sigmoid',
    f: (x) => x.sigmoid(),
    d: [
      (x) => sig(x) * (1 - sig(x)),
      (x) => sig(x) * (1 - sig(x)) * (1 - 2 * sig(x)),
      (x) => sig(x) * (1 - sig(x)) * (1 - 6 * sig(x) + 6 * sig(x) ** 2),
    ],
    xs: [-2, -0.3, 0.5, 3],
  },
  {
    // softmax over [x, 0] is sigmoid(x) in its first column: every order has a closed form
    name: 'softmax',
    f: (x) => nd.stack([x, nd.zerosLike(x)], 1).softmax(1).get('...', 0),
    d: [
      (x) => sig(x) * (1 - sig(x)),
      (x) => sig(x) * (1 - sig(x)) * (1 - 2 * sig(x)),
      (x) => sig(x) * (1 - sig(x)) * (1 - 6 * sig(x) + 6 * sig(x) ** 2),
    ],
    xs: [-2, -0.3, 0.5, 3],
  },
  { name: 'log', f: (x) => x.log(), d: [(x) => 1 / x, (x) => -1 / x ** 2, (x) => 2 / x ** 3], xs: [0.3, 1, 2.5, 7] },
  { name: 'sin', f: (x) => x.sin(), d: [Math.cos, (x) => -Math.sin(x), (x) => -Math.cos(x)], xs: [-2, 0, 0.7, 3] },
  {
    name: 'pow (x^3.5)',
    f: (x) => x.pow(P),
    d: [(x) => P * x ** (P - 1), (x) => P * (P - 1) * x ** (P - 2), (x) => P * (P - 1) * (P - 2) * x ** (P - 3)],
    xs: [0.4, 1, 1.5, 3],
  },
  {
    name: 'pow (2^x, tensor exponent)',
    f: (x) => nd.pow(2, x),
    d: [(x) => 2 ** x * Math.LN2, (x) => 2 ** x * Math.LN2 ** 2, (x) => 2 ** x * Math.LN2 ** 3],
    xs: [-1, 0, 0.5, 2],
  },
  {
    name: 'pow (x^x)',
    f: (x) => x.pow(x),
    d: [
      (x) => x ** x * (Math.log(x) + 1),
      (x) => x ** x * ((Math.log(x) + 1) ** 2 + 1 / x),
      (x) => x ** x * ((Math.log(x) + 1) ** 3 + (3 * (Math.log(x) + 1)) / x - 1 / x ** 2),
    ],
    xs: [0.5, 1.2, 1.5, 2.5], // not 1: as PyTorch, d/db a^(b-1) is masked where b - 1 == 0, so the 3rd derivative there is 2, not 3
  },
];

describe('higher-order derivatives via nested autograd.grad with createGraph', () => {
  for (const c of CLOSED) {
    it(`first, second and third derivatives of ${c.name}`, () => {
      const x = f64(c.xs, true);
      const [g1] = nd.autograd.grad(c.f(x).sum(), x, { createGraph: true });
      const [g2] = nd.autograd.grad(g1!.sum(), x, { createGraph: true });
      const [g3] = nd.autograd.grad(g2!.sum(), x);
      const tol = { atol: 1e-10, rtol: 1e-9 };
      assertClose(g1!, c.xs.map(c.d[0]), { ...tol, msg: `${c.name}'` });
      assertClose(g2!, c.xs.map(c.d[1]), { ...tol, msg: `${c.name}''` });
      assertClose(g3!, c.xs.map(c.d[2]), { ...tol, msg: `${c.name}'''` });
      assert.equal(g3!.requiresGrad, false);
    });
  }

  it('full softmax Hessian matches the closed form', () => {
    // f = sum(softmax(x) * c): g = s*(c - a), H_ij = δ_ij s_i (c_i - a) - s_i s_j (c_i - a) - s_i s_j (c_j - a), a = s·c
    const xs = [0.2, -1, 0.7, 1.5];
    const cs = [1, -2, 0.5, 3];
    const e = xs.map(Math.exp);
    const z = e.reduce((p, q) => p + q, 0);
    const s = e.map((v) => v / z);
    const a = s.reduce((p, si, i) => p + si * cs[i]!, 0);
    const x = f64(xs, true);
    const c = f64(cs);
    const [g] = nd.autograd.grad(x.softmax(0).mul(c).sum(), x, { createGraph: true });
    assertClose(g!, s.map((si, i) => si * (cs[i]! - a)), TOL);
    for (let j = 0; j < 4; j++) {
      const [hj] = nd.autograd.grad(g!.get(j), x, { retainGraph: true });
      const expected = xs.map((_, i) => (i === j ? s[i]! * (cs[i]! - a) : 0) - s[i]! * s[j]! * (cs[i]! - a) - s[i]! * s[j]! * (cs[j]! - a));
      assertClose(hj!, expected, { atol: 1e-12, rtol: 1e-9, msg: `row ${j}` });
    }
  });

  it('Tensor.backward with createGraph composes with autograd.grad (gradient penalty)', () => {
    const w = f64([1, -2, 0.5], true);
    const x = f64([0.3, 0.1, -0.4], true);
    const out = w.mul(x).tanh().sum();
    const [gx] = nd.autograd.grad(out, x, { createGraph: true });
    const penalty = gx!.pow(2).sum();
    penalty.backward();
    // gx = w * (1 - t^2), t = tanh(w x); d penalty / dw_i = 2 gx_i * d gx_i / dw_i
    const t = [1 * 0.3, -2 * 0.1, 0.5 * -0.4].map(Math.tanh);
    const W = [1, -2, 0.5];
    const X = [0.3, 0.1, -0.4];
    const exp = W.map((wi, i) => {
      const ti = t[i]!;
      const gxi = wi * (1 - ti * ti);
      const dgdw = (1 - ti * ti) + wi * (-2 * ti * (1 - ti * ti) * X[i]!);
      return 2 * gxi * dgdw;
    });
    assertClose(w.grad!, exp, TOL);
  });
});

// ---------------------------------------------------------------- PyTorch fixtures (HVP, JVP)

interface Enc {
  shape: number[];
  data: number[];
}
interface Fixtures {
  hvp: { name: string; x: Enc; v: Enc; params: Record<string, Enc>; value: number; hvp: Enc }[];
  jvp: { name: string; primals: Enc[]; tangents: Enc[]; params: Record<string, Enc>; out: Enc; jvp: Enc }[];
}
const FIX = JSON.parse(readFileSync(new URL('../../test/fixtures/autograd.json', import.meta.url), 'utf8')) as Fixtures;
const dec = (e: Enc, requiresGrad = false) =>
  nd.tensor(Float64Array.from(e.data), { shape: e.shape, dtype: 'float64', requiresGrad });

type Params = Record<string, nd.Tensor>;
const HVP_FNS: Record<string, (x: nd.Tensor, p: Params) => nd.Tensor> = {
  sum_tanh_Wx_sq: (x, p) => p.W!.matmul(x).tanh().pow(2).sum(),
  logsumexp_x_sq: (x) => x.mul(x).logsumexp(0),
  sum_softmax_x_times_x: (x) => x.softmax(0).mul(x).sum(),
  mlp_sigmoid: (x, p) => p.W2!.matmul(p.W1!.matmul(x).add(p.b1!).sigmoid()).add(p.b2!).sigmoid().pow(2).sum(),
  sum_exp_sin_x_over_1_plus_x_sq: (x) => x.sin().exp().div(x.mul(x).add(1)).sum(),
};
const JVP_FNS: Record<string, (p: Params, ...xs: nd.Tensor[]) => nd.Tensor> = {
  softmax_Wx: (p, x) => p.W!.matmul(x!).softmax(0),
  sin_x_times_y_plus_exp_x: (_p, x, y) => x!.sin().mul(y!).add(x!.exp()),
  matmul_AB: (_p, a, b) => a!.matmul(b!),
  log_softmax_rows: (_p, x) => x!.logSoftmax(1),
  gelu_times_tanh: (_p, x, y) => nd.gelu(x!).mul(y!.tanh()),
  broadcast_add_div: (_p, x, y) => x!.add(y!).div(y!.mul(y!).add(1)),
};
const decParams = (ps: Record<string, Enc>): Params => Object.fromEntries(Object.entries(ps).map(([k, v]) => [k, dec(v)]));
const FIX_TOL = { atol: 1e-11, rtol: 1e-9 };

describe('Hessian-vector products vs PyTorch (torch.autograd.functional.hvp)', () => {
  it('fixture file has the expected cases', () => {
    assert.deepEqual(FIX.hvp.map((c) => c.name).sort(), Object.keys(HVP_FNS).sort());
    assert.deepEqual(FIX.jvp.map((c) => c.name).sort(), Object.keys(JVP_FNS).sort());
  });
  for (const c of FIX.hvp) {
    it(`${c.name}: reverse-over-reverse`, () => {
      const f = HVP_FNS[c.name]!;
      const p = decParams(c.params);
      const x = dec(c.x, true);
      const y = f(x, p);
      assertClose(y, [c.value], FIX_TOL);
      const [g] = nd.autograd.grad(y, x, { createGraph: true });
      const [hv] = nd.autograd.grad(g!, x, { gradOutputs: dec(c.v) });
      assertShape(hv!, c.hvp.shape);
      assertClose(hv!, c.hvp.data, FIX_TOL);
    });
    it(`${c.name}: forward-over-reverse (jvp of autograd.grad)`, () => {
      const f = HVP_FNS[c.name]!;
      const p = decParams(c.params);
      const gradF = (x: nd.Tensor) => nd.autograd.grad(f(x, p), x)[0]!;
      const [, hv] = nd.autograd.jvp(gradF, [dec(c.x, true)], [dec(c.v)]);
      assertClose(hv, c.hvp.data, FIX_TOL);
    });
    it(`${c.name}: forward-over-reverse (jvp of grad(f))`, () => {
      const f = HVP_FNS[c.name]!;
      const p = decParams(c.params);
      const gradF = nd.grad((x: nd.Tensor) => f(x, p)) as (x: nd.Tensor) => nd.Tensor;
      const [, hv] = nd.autograd.jvp(gradF, [dec(c.x)], [dec(c.v)]);
      assertClose(hv, c.hvp.data, FIX_TOL);
    });
  }
});

describe('Jacobian-vector products vs PyTorch (torch.autograd.functional.jvp)', () => {
  for (const c of FIX.jvp) {
    it(`${c.name}`, () => {
      const p = decParams(c.params);
      const f = (...xs: nd.Tensor[]) => JVP_FNS[c.name]!(p, ...xs);
      const primals = c.primals.map((e) => dec(e));
      const tangents = c.tangents.map((e) => dec(e));
      const [out, t] = nd.autograd.jvp(f, primals, tangents);
      assertShape(out, c.out.shape);
      assertClose(out, c.out.data, FIX_TOL);
      assertShape(t, c.jvp.shape);
      assertClose(t, c.jvp.data, FIX_TOL);
      // jvp = sum of the per-input jvps (other tangents zero)
      if (primals.length > 1) {
        let total: nd.Tensor | null = null;
        primals.forEach((_, i) => {
          const ts = tangents.map((tg, k) => (k === i ? tg : nd.zerosLike(tg)));
          const ti = nd.autograd.jvp(f, primals, ts)[1];
          total = total === null ? ti : total.add(ti);
        });
        assertClose(total!, c.jvp.data, FIX_TOL);
      }
      // and agrees with reverse mode: <u, J t> = <J^T u, t>
      const xs = primals.map((e) => e.detach().requiresGrad_());
      const y = f(...xs);
      const u = nd.tensor(Float64Array.from({ length: y.size }, (_, i) => Math.sin(i + 1)), { shape: [...y.shape], dtype: 'float64' });
      const gs = nd.autograd.grad(y, xs, { gradOutputs: u });
      const lhs = u.mul(t).sum().item();
      const rhs = gs.reduce((s, g, i) => s + g.mul(tangents[i]!).sum().item(), 0);
      assert.ok(Math.abs(lhs - rhs) <= 1e-10 * (1 + Math.abs(lhs)), `<u, Jt> = ${lhs} but <J^T u, t> = ${rhs}`);
    });
  }
});

// ---------------------------------------------------------------- (6) function transforms, gradcheck

describe('grad(f), valueAndGrad(f), autograd.grad options', () => {
  const f = (x: nd.Tensor, y: nd.Tensor) => x.mul(y).add(x.sin()).sum();
  const X = [0.5, -1, 2];
  const Y = [3, 0.25, -2];

  it('grad(f) defaults to all arguments; argnums picks one (a tensor) or several (a list)', () => {
    const x = f64(X);
    const y = f64(Y);
    const all = nd.grad(f)(x, y) as nd.Tensor[];
    assert.equal(all.length, 2);
    assertClose(all[0]!, X.map((xi, i) => Y[i]! + Math.cos(xi)), TOL);
    assertClose(all[1]!, X, TOL);
    const gy = nd.grad(f, { argnums: 1 })(x, y);
    assert.ok(gy instanceof nd.Tensor);
    assertClose(gy, X, TOL);
    const g0 = nd.grad(f, { argnums: [0] })(x, y);
    assert.ok(Array.isArray(g0) && g0.length === 1);
    assertClose(g0[0]!, X.map((xi, i) => Y[i]! + Math.cos(xi)), TOL);
    const g10 = nd.grad(f, { argnums: [1, 0] })(x, y) as nd.Tensor[];
    assertClose(g10[0]!, X, TOL);
    // a single-argument function returns a tensor
    const g = nd.grad((t: nd.Tensor) => t.mul(t).sum())(x);
    assert.ok(g instanceof nd.Tensor);
    assertClose(g, X.map((v) => 2 * v), TOL);
    // the caller's tensors are untouched
    assert.equal(x.requiresGrad, false);
    assert.equal(x.grad, null);
    assert.equal(y.grad, null);
  });

  it('valueAndGrad returns the value and the gradients', () => {
    const [v, g] = nd.valueAndGrad(f, { argnums: 0 })(f64(X), f64(Y));
    assertClose(v, [X.reduce((s, xi, i) => s + xi * Y[i]! + Math.sin(xi), 0)], TOL);
    assertClose(g as nd.Tensor, X.map((xi, i) => Y[i]! + Math.cos(xi)), TOL);
    assert.equal(v.requiresGrad, false);
  });

  it('grad(grad(f)) with createGraph gives second derivatives', () => {
    const d1 = nd.grad((x: nd.Tensor) => x.pow(3).sum(), { createGraph: true }) as (x: nd.Tensor) => nd.Tensor;
    const d2 = nd.grad((x: nd.Tensor) => d1(x).sum());
    assertClose(d2(f64([1, 2, -3])) as nd.Tensor, [6, 12, -18], TOL);
  });

  it('grad(f) refuses non-scalar outputs and int arguments', () => {
    assertThrows(() => nd.grad((x: nd.Tensor) => x.mul(2))(f64([1, 2])), RangeError, /^grad: f to return a scalar tensor, got \[2\]/);
    assertThrows(() => nd.grad((x: nd.Tensor) => x.sum())(nd.tensor([1], { dtype: 'int32' })), TypeError, /^grad: .*got int32/);
  });

  it('autograd.grad with allowUnused returns zeros for an unused input, else a RangeError', () => {
    const x = f64([1, 2], true);
    const unused = f64([5, 6, 7], true);
    const y = x.mul(x).sum();
    assertThrows(() => nd.autograd.grad(y, [x, unused], { retainGraph: true }), RangeError, /^autograd\.grad: inputs\[1\] .*got an unused input/);
    const [gx, gu] = nd.autograd.grad(y, [x, unused], { allowUnused: true });
    assertClose(gx!, [2, 4], TOL);
    assertShape(gu!, [3]);
    assertClose(gu!, [0, 0, 0], TOL);
  });

  it('autograd.grad refuses inputs that do not require grad', () => {
    const x = f64([1, 2], true);
    assertThrows(() => nd.autograd.grad(x.sum(), [f64([1])]), TypeError, /^autograd\.grad: inputs\[0\] to require grad/);
  });
});

/** x^2 with a deliberately wrong vjp: correct (2 g x) except at element `bad`, where it adds 1. */
function wrongSquare(bad: number) {
  return defineOp<undefined>({
    name: 'wrongSquare',
    differentiable: true,
    forward: ([a]) => binaryNd('mul', a!, a!),
    vjp: (g, { inputs }) => {
      const x = inputs[0]!;
      const oops = nd.tensor(Float64Array.from({ length: x.size }, (_, i) => (i === bad ? 1 : 0)), { shape: [...x.shape], dtype: 'float64' });
      return [g.mul(x).mul(2).add(oops.to(x.dtype))];
    },
    jvp: ([t], { inputs }) => (t ? t.mul(inputs[0]!).mul(2) : null),
  });
}

describe('gradcheck', () => {
  it('passes for correct functions (float32 inputs are checked in float64)', () => {
    const a = nd.tensor([[0.3, -0.5, 1.2], [0.8, 0.1, -1.1]]);
    const b = nd.tensor([[0.7], [-0.2], [0.4]]);
    const res = nd.autograd.gradcheck((x, w) => x.matmul(w).tanh().mul(x.sum(1, true).sigmoid()), [a, b]);
    assert.equal(res.ok, true);
    assert.ok(res.maxError < 1e-6, `maxError ${res.maxError}`);
    assert.equal(a.dtype, 'float32', 'inputs are not modified');
    const r2 = nd.autograd.gradcheck((x) => x.softmax(1).log().mul(x).sum(0), [a]);
    assert.equal(r2.ok, true);
  });

  it('reports the worst element of a deliberately wrong custom op (RangeError)', () => {
    const op = wrongSquare(3);
    const x = f64([[0.5, -1, 2], [1.5, 0.25, -0.75]]);
    const fn = (t: nd.Tensor) => apply(op, [t], undefined).mul(t.sin());
    assertThrows(() => nd.autograd.gradcheck(fn, [x]), RangeError, /^gradcheck: analytic and numeric gradients within .*got input 0 element 3: analytic /);
    const res = nd.autograd.gradcheck(fn, [x], { raise: false });
    assert.equal(res.ok, false);
    assert.deepEqual([res.worst!.input, res.worst!.index], [0, 3]);
    assert.ok(Math.abs(res.worst!.analytic - res.worst!.numeric) > 0.01);
    // the same op with the bug on another element names that element
    assertThrows(() => nd.autograd.gradcheck((t) => apply(wrongSquare(0), [t], undefined), [x]), RangeError, /element 0:/);
    // the second input is named by its position
    const y = f64([1, 2]);
    assertThrows(
      () => nd.autograd.gradcheck((a, t) => a.sum().add(apply(wrongSquare(1), [t], undefined)), [x, y]),
      RangeError,
      /input 1 element 1:/,
    );
  });
});

// ---------------------------------------------------------------- (7) the engine checks op rules

function customOp(name: string, vjp: (g: nd.Tensor, x: nd.Tensor) => (nd.Tensor | null)[]) {
  return defineOp<undefined>({
    name,
    differentiable: true,
    forward: ([a]) => unaryNd('exp', a!),
    vjp: (g, { inputs }) => vjp(g, inputs[0]!),
    jvp: ([t]) => t,
  });
}

describe('the engine names the op when a rule misbehaves', () => {
  const x = () => f64([1, 2, 3], true);

  it('a wrong-shaped (non-broadcastable) gradient is an internal error naming the op', () => {
    const op = customOp('badShapeOp', () => [nd.ones([5], { dtype: 'float64' })]);
    assertThrows(() => apply(op, [x()], undefined).sum().backward(), Error, /^internal: badShapeOp vjp returned a gradient of shape \[5\] for input 0 of shape \[3\]/);
    const op2 = customOp('badShape2d', () => [nd.ones([2, 4], { dtype: 'float64' })]);
    assertThrows(() => nd.autograd.grad(apply(op2, [x()], undefined).sum(), x()), Error, /^internal: /);
  });

  it('a wrong number of gradients is an internal error naming the op', () => {
    const op = customOp('badCountOp', (g) => [g, g]);
    assertThrows(() => apply(op, [x()], undefined).sum().backward(), Error, /^internal: badCountOp vjp returned 2 gradients for 1 inputs/);
    const op0 = customOp('noGradOp', () => []);
    assertThrows(() => apply(op0, [x()], undefined).sum().backward(), Error, /^internal: noGradOp vjp returned 0 gradients/);
  });

  it('a missing gradient or a wrong dtype is an internal error naming the op', () => {
    const opNull = customOp('nullGradOp', () => [null]);
    assertThrows(() => apply(opNull, [x()], undefined).sum().backward(), Error, /^internal: nullGradOp vjp returned no gradient for input 0/);
    const opDt = customOp('dtypeOp', (g) => [g.to('float32')]);
    assertThrows(() => apply(opDt, [x()], undefined).sum().backward(), Error, /^internal: dtypeOp vjp returned dtype float32 for input 0 of dtype float64/);
  });

  it('a broadcast-shaped gradient is summed by the engine, not an error', () => {
    // the vjp returns the gradient broadcast to [2,3]: the engine sums it back to [3]
    const op = customOp('broadcastGradOp', (g, t) => [g.mul(t.exp()).expand([2, 3])]);
    const xx = x();
    apply(op, [xx], undefined).sum().backward();
    assertClose(xx.grad!, [1, 2, 3].map((v) => 2 * Math.exp(v)), TOL);
  });

  it('a wrong-shaped tangent from a jvp rule is an error naming the op', () => {
    const op = defineOp<undefined>({
      name: 'badTangentOp',
      differentiable: true,
      forward: ([a]) => a!.clone(),
      vjp: (g) => [g],
      jvp: () => nd.ones([4], { dtype: 'float64' }),
    });
    assert.throws(() => nd.autograd.jvp((t) => apply(op, [t], undefined), [f64([1, 2, 3])], [f64([1, 1, 1])]), /^Error: internal: badTangentOp jvp returned a tangent of shape \[4\] for an output of shape \[3\]/);
  });
});

// ---------------------------------------------------------------- (8) forward mode

describe('jvp (forward mode)', () => {
  it('returns the output and the directional derivative; zero tangents for unconnected outputs', () => {
    const x = f64([0.1, 0.2]);
    const [out, t] = nd.autograd.jvp((a) => a.exp().sum(), [x], [f64([1, 2])]);
    assertClose(out, [Math.exp(0.1) + Math.exp(0.2)], TOL);
    assertClose(t, [Math.exp(0.1) + 2 * Math.exp(0.2)], TOL);
    const [, tz] = nd.autograd.jvp(() => f64([1, 2, 3]), [x], [f64([1, 1])]);
    assertClose(tz, [0, 0, 0], TOL);
    assert.equal(x.requiresGrad, false);
  });

  it('nested jvp: the jvp of a function that calls jvp', () => {
    // inner: d/dx sin(x) along 1 = cos(x); outer: d/dx cos(x) along v = -sin(x) v
    const inner = (x: nd.Tensor) => nd.autograd.jvp((a) => a.sin(), [x], [nd.onesLike(x)])[1];
    const xs = [0.3, -1.2, 2];
    const [d1, d2] = nd.autograd.jvp(inner, [f64(xs)], [f64([1, 2, 3])]);
    assertClose(d1, xs.map(Math.cos), TOL);
    assertClose(d2, xs.map((v, i) => -Math.sin(v) * (i + 1)), TOL);
  });

  it('nested jvp without perturbation confusion: d/dx [x * d/dy (x + y)] = 1', () => {
    // the classic test: the inner derivative must not see the outer tangent of x
    const f = (x: nd.Tensor) => {
      const inner = nd.autograd.jvp((y) => x.add(y), [f64(1)], [f64(1)])[1];
      return x.mul(inner);
    };
    const [, t] = nd.autograd.jvp(f, [f64(2)], [f64(1)]);
    assertClose(t, [1], TOL);
  });

  it('third derivative by nested jvp', () => {
    const d = (g: (x: nd.Tensor) => nd.Tensor) => (x: nd.Tensor) => nd.autograd.jvp(g, [x], [nd.onesLike(x)])[1];
    const d3 = d(d(d((x) => x.tanh())));
    const xs = [-0.5, 0.2, 1.1];
    assertClose(d3(f64(xs)), xs.map((v) => (6 * Math.tanh(v) ** 2 - 2) * (1 - Math.tanh(v) ** 2)), { atol: 1e-12, rtol: 1e-9 });
  });

  it('several inputs: the jvp equals the sum of per-input jvps', () => {
    const f = (a: nd.Tensor, b: nd.Tensor, c: nd.Tensor) => a.mul(b).add(c.exp()).div(b.add(3)).tanh();
    const a = f64([0.1, -0.4, 0.9]);
    const b = f64([1.2, 0.3, -0.8]);
    const c = f64([[0.2], [-0.6]]);
    const ta = f64([1, 0.5, -2]);
    const tb = f64([-0.3, 1, 0.4]);
    const tc = f64([[0.7], [1.1]]);
    const [out, all] = nd.autograd.jvp(f, [a, b, c], [ta, tb, tc]);
    assertShape(out, [2, 3]);
    const z = (t: nd.Tensor) => nd.zerosLike(t);
    const ja = nd.autograd.jvp(f, [a, b, c], [ta, z(tb), z(tc)])[1];
    const jb = nd.autograd.jvp(f, [a, b, c], [z(ta), tb, z(tc)])[1];
    const jc = nd.autograd.jvp(f, [a, b, c], [z(ta), z(tb), tc])[1];
    assertClose(all, ja.add(jb).add(jc), { atol: 1e-12, rtol: 1e-10 });
    // linearity in the tangent
    const [, twice] = nd.autograd.jvp(f, [a, b, c], [ta.mul(2), tb.mul(2), tc.mul(2)]);
    assertClose(twice, all.mul(2), { atol: 1e-12, rtol: 1e-10 });
    // and central differences agree
    const h = 1e-6;
    const fp = f(a.add(ta.mul(h)), b.add(tb.mul(h)), c.add(tc.mul(h)));
    const fm = f(a.sub(ta.mul(h)), b.sub(tb.mul(h)), c.sub(tc.mul(h)));
    assertClose(all, fp.sub(fm).div(2 * h), { atol: 1e-8, rtol: 1e-6 });
  });

  it('the same tensor passed twice gets both tangents', () => {
    const x = f64([1.5, -0.5]);
    const [, t] = nd.autograd.jvp((a, b) => a.mul(b), [x, x], [f64([1, 0]), f64([0, 1])]);
    // d(a*b) = ta*b + a*tb with a = b = x
    assertClose(t, [1.5, -0.5], TOL);
  });

  it('jvp checks its arguments', () => {
    assertThrows(() => nd.autograd.jvp((a) => a, [f64([1, 2])], [f64([1])]), RangeError, /^jvp: tangent 0 of shape \[2\], got \[1\]/);
    assertThrows(() => nd.autograd.jvp((a) => a, [f64([1, 2])], []), RangeError, /^jvp: one tangent per primal \(1\), got 0/);
    assertThrows(() => nd.autograd.jvp((a) => a, [nd.tensor([1], { dtype: 'int32' })], [nd.tensor([1], { dtype: 'int32' })]), TypeError, /^jvp: primal 0 of a floating dtype, got int32/);
  });

  it('forward mode through a deep chain', () => {
    const [y, t] = nd.autograd.jvp((x) => {
      let y = x;
      for (let i = 0; i < 2000; i++) y = y.mul(1.001);
      return y;
    }, [f64(1)], [f64(1)]);
    assertClose(y, [1.001 ** 2000], { atol: 0, rtol: 1e-9 });
    assertClose(t, [1.001 ** 2000], { atol: 0, rtol: 1e-9 });
  });
});
