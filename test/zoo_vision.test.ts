/**
 * The vision model zoo (src/models/classic.ts, cnn.ts, newton.ts): hand-derived gradients against
 * autograd, Newton's method against gradient descent, and short smoke trainings (loss must drop).
 * The full MNIST / Fashion-MNIST runs are examples/zoo/vision_*.ts (`npm run zoo:vision`).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as nd from '../src/index.js';
import { assertClose, assertShape, assertThrows, flat } from './helpers.js';

const F64 = { dtype: 'float64' as const };

/** Gaussian blobs: n points in d dims around k random centers. */
function blobs(n: number, d: number, k: number, g: nd.Generator, spread = 0.5): [nd.Tensor, nd.Tensor] {
  const centers = nd.randn([k, d], { generator: g });
  const y = nd.randint(0, k, [n], { generator: g });
  const x = nd.add(nd.indexSelect(centers, 0, y), nd.mul(nd.randn([n, d], { generator: g }), spread));
  return [x, y];
}

/** 1x28x28 images: class c lights up a 7x7 block at one of 16 positions, plus noise. */
function blockImages(n: number, k: number, g: nd.Generator): [nd.Tensor, nd.Tensor] {
  const y = nd.randint(0, k, [n], { generator: g });
  const labels = flat(y);
  const data = new Float32Array(n * 784);
  const noise = flat(nd.rand([n * 784], { generator: g }));
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    const r0 = 7 * Math.floor(c / 4);
    const c0 = 7 * (c % 4);
    for (let p = 0; p < 784; p++) data[i * 784 + p] = 0.3 * noise[i * 784 + p]!;
    for (let r = r0; r < r0 + 7; r++) for (let q = c0; q < c0 + 7; q++) data[i * 784 + r * 28 + q] += 1;
  }
  return [nd.tensor(data, { shape: [n, 1, 28, 28] }), y];
}

function autogradGrads(model: nd.nn.Module & { forward(x: nd.Tensor): nd.Tensor }, x: nd.Tensor, y: nd.Tensor): [number, nd.Tensor[]] {
  const loss = nd.nn.functional.crossEntropy(model.forward(x), y);
  return [loss.item(), nd.autograd.grad(loss, model.parameters())];
}

function randomize(model: nd.nn.Module, g: nd.Generator): void {
  nd.noGrad(() => {
    for (const p of model.parameters()) nd.normal_(p, 0, 0.3, { generator: g });
  });
}

describe('hand-derived gradients match autograd (float64)', () => {
  test('SoftmaxRegression', () => {
    const g = new nd.Generator().manualSeed(1);
    const [x, y] = blobs(13, 7, 4, g);
    const xd = x.double();
    for (const bias of [true, false]) {
      const model = new nd.models.SoftmaxRegression(7, 4, { ...F64, bias });
      randomize(model, g);
      const { loss, grads } = model.manualGradients(xd, y);
      const [ref, refGrads] = autogradGrads(model, xd, y);
      assert.equal(grads.length, bias ? 2 : 1);
      assertClose(loss, ref, { atol: 1e-12, rtol: 1e-12 });
      grads.forEach((gr, i) => {
        assertShape(gr, model.parameters()[i]!.shape);
        assertClose(gr, refGrads[i], { atol: 1e-12, rtol: 1e-10, msg: `grad ${i}` });
      });
    }
  });

  test('TwoLayerNet (every parameter, with and without biases)', () => {
    const g = new nd.Generator().manualSeed(2);
    const [x, y] = blobs(17, 9, 5, g);
    const xd = x.double();
    for (const bias of [true, false]) {
      const net = new nd.models.TwoLayerNet(9, 6, 5, { ...F64, bias, generator: g });
      const { loss, grads } = net.manualGradients(xd, y);
      const [ref, refGrads] = autogradGrads(net, xd, y);
      assert.equal(grads.length, bias ? 4 : 2);
      assertClose(loss, ref, { atol: 1e-12, rtol: 1e-12 });
      grads.forEach((gr, i) => assertClose(gr, refGrads[i], { atol: 1e-12, rtol: 1e-10, msg: `grad ${net.namedParameters()[i]![0]}` }));
    }
  });

  test('manualBackward accumulates into .grad as backward() does', () => {
    const g = new nd.Generator().manualSeed(3);
    const [x, y] = blobs(8, 5, 3, g);
    const net = new nd.models.TwoLayerNet(5, 4, 3, { ...F64, generator: g });
    const xd = x.double();
    net.manualBackward(xd, y);
    net.manualBackward(xd, y);
    const manual = net.parameters().map((p) => p.grad!);
    net.zeroGrad();
    nd.nn.functional.crossEntropy(net.forward(xd), y).backward();
    nd.nn.functional.crossEntropy(net.forward(xd), y).backward();
    net.parameters().forEach((p, i) => assertClose(manual[i], p.grad, { atol: 1e-12, rtol: 1e-10 }));
  });

  test('errors follow the grammar', () => {
    const net = new nd.models.TwoLayerNet(5, 4, 3);
    assertThrows(() => net.manualGradients(nd.randn([2, 6]), nd.tensor([0, 1], { dtype: 'int32' })), RangeError, /^TwoLayerNet\.manualGradients: x of shape \(N, 5\), got \[2,6\]/);
    assertThrows(() => net.manualGradients(nd.randn([2, 5]), nd.tensor([0, 1])), TypeError, /y of dtype int32/);
    assertThrows(() => new nd.models.SoftmaxRegression(0, 3), RangeError, /^SoftmaxRegression: inFeatures to be a positive integer, got 0/);
    assertThrows(() => new nd.models.RandomFourierFeatures(4, 8, 2, { sigma: -1 }), RangeError, /sigma to be a positive number/);
  });
});

describe("Newton's method with double-backward Hessians", () => {
  test('hessian matches the closed form of logistic regression', () => {
    const g = new nd.Generator().manualSeed(4);
    const x = nd.randn([30, 4], { ...F64, generator: g });
    const y = nd.randint(0, 2, [30], { generator: g }).double();
    const w = nd.randn([4], { ...F64, generator: g });
    const l2 = 0.1;
    const { value, grad, hessian } = nd.models.hessian((v) => nd.models.logisticRegressionLoss(v, x, y, { l2 }), w);
    const p = nd.sigmoid(x.matmul(w));
    const expectedGrad = nd.add(nd.div(x.mT.matmul(nd.sub(p, y)), 30), nd.mul(w, l2));
    const s = nd.mul(p, nd.sub(1, p)); // (N)
    const expectedH = nd.add(nd.div(x.mT.matmul(nd.mul(x, s.unsqueeze(1))), 30), nd.mul(nd.eye(4, 4, F64), l2));
    assertClose(grad, expectedGrad, { atol: 1e-12, rtol: 1e-10 });
    assertClose(hessian, expectedH, { atol: 1e-12, rtol: 1e-10 });
    assert.ok(Number.isFinite(value));
  });

  test('choleskySolve solves SPD systems and rejects indefinite ones', () => {
    const g = new nd.Generator().manualSeed(5);
    const m = nd.randn([6, 6], { ...F64, generator: g });
    const a = nd.add(m.matmul(m.mT), nd.eye(6, 6, F64));
    const b = nd.randn([6], { ...F64, generator: g });
    const x = nd.models.choleskySolve(a, b);
    assertClose(a.matmul(x), b, { atol: 1e-10, rtol: 1e-10 });
    assertThrows(() => nd.models.choleskySolve(nd.tensor([[1, 2], [2, 1]]), nd.tensor([1, 1])), RangeError, /^choleskySolve: a symmetric positive-definite matrix, got pivot -3 at row 1/);
    assertThrows(() => nd.models.choleskySolve(nd.zeros([2, 3]), nd.zeros([2])), RangeError, /a square matrix a \(n, n\), got \[2,3\]/);
  });

  test('Newton converges in <= 10 steps to the optimum gradient descent reaches in hundreds', () => {
    const g = new nd.Generator().manualSeed(6);
    const n = 200;
    const d = 5;
    const feats = nd.randn([n, d], { ...F64, generator: g });
    const x = nd.cat([feats, nd.ones([n, 1], F64)], 1); // bias column
    const wTrue = nd.tensor([1.5, -2, 0.5, 1, -0.5, 0.3], F64);
    const y = nd.lt(nd.rand([n], { ...F64, generator: g }), nd.sigmoid(x.matmul(wTrue))).double(); // noisy labels
    const l2 = 1e-2;
    const f = (w: nd.Tensor) => nd.models.logisticRegressionLoss(w, x, y, { l2 });

    const newton = nd.models.newtonMinimize(f, nd.zeros([d + 1], F64), { tol: 1e-10 });
    assert.ok(newton.steps <= 10, `Newton took ${newton.steps} steps`);
    assert.ok(newton.gradNorms.at(-1)! <= 1e-10, `final gradient norm ${newton.gradNorms.at(-1)}`);
    const fStar = newton.losses.at(-1)!;
    // quadratic convergence: the gradient norm collapses in the last steps
    assert.ok(newton.gradNorms.at(-2)! < 1e-4, `gradient norms ${newton.gradNorms}`);

    // gradient descent with step 1/L, L = lambda_max(X^T X) / (4N) + l2 <= trace / (4N) + l2
    const lSmooth = nd.mul(x, x).sum().item() / (4 * n) + l2;
    const w = new nd.nn.Parameter(nd.zeros([d + 1], F64));
    const opt = new nd.optim.SGD([w], { lr: 1 / lSmooth });
    const gdLoss: number[] = [];
    for (let step = 0; step < 800; step++) {
      opt.zeroGrad();
      const loss = f(w);
      gdLoss.push(loss.item());
      loss.backward();
      opt.step();
    }
    const gap10 = gdLoss[10]! - fStar;
    const gapEnd = nd.noGrad(() => f(w)).item() - fStar;
    assert.ok(gap10 > 1e-3, `GD after 10 steps is already close (gap ${gap10})`);
    assert.ok(gapEnd >= -1e-12 && gapEnd < 1e-7, `GD after 800 steps: gap ${gapEnd}`);
    const firstClose = gdLoss.findIndex((v) => v - fStar < 1e-6);
    assert.ok(firstClose > 100, `GD reached the optimum within 1e-6 after ${firstClose} steps`);
    assertClose(w, newton.w, { atol: 1e-5, rtol: 0 });
  });
});

/** Trains `steps` steps with `opt` and returns [first loss, mean of the last 5 losses]. */
function trainLoop(step: () => number, steps: number): [number, number] {
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push(step());
  return [losses[0]!, losses.slice(-5).reduce((a, b) => a + b, 0) / 5];
}

describe('smoke trainings (loss drops)', () => {
  test('SoftmaxRegression with manual gradients and nd.optim.SGD', () => {
    const g = new nd.Generator().manualSeed(10);
    const [x, y] = blobs(256, 20, 5, g);
    const model = new nd.models.SoftmaxRegression(20, 5);
    const opt = new nd.optim.SGD(model.parameters(), { lr: 0.5 });
    const [first, last] = trainLoop(() => {
      opt.zeroGrad();
      const loss = model.manualBackward(x, y);
      opt.step();
      return loss.item();
    }, 40);
    assert.ok(Math.abs(first - Math.log(5)) < 1e-6, `zero init gives log(5), got ${first}`);
    assert.ok(last < 0.3 * first, `loss ${first} -> ${last}`);
  });

  test('TwoLayerNet with manual gradients', () => {
    const g = new nd.Generator().manualSeed(11);
    const [x, y] = blobs(256, 20, 5, g, 1.0);
    const net = new nd.models.TwoLayerNet(20, 32, 5, { generator: g });
    const opt = new nd.optim.SGD(net.parameters(), { lr: 0.2, momentum: 0.9 });
    const [first, last] = trainLoop(() => {
      opt.zeroGrad();
      const loss = net.manualBackward(x, y);
      opt.step();
      return loss.item();
    }, 40);
    assert.ok(last < 0.3 * first, `loss ${first} -> ${last}`);
  });

  test('RandomFourierFeatures trains only its head', () => {
    const g = new nd.Generator().manualSeed(12);
    const [x, y] = blobs(256, 10, 4, g, 1.0);
    const rff = new nd.models.RandomFourierFeatures(10, 300, 4, { sigma: 3, generator: g });
    assert.deepEqual(rff.namedParameters().map(([k]) => k), ['head.weight', 'head.bias']);
    assert.deepEqual(Object.keys(rff.stateDict()).sort(), ['head.bias', 'head.weight', 'omega', 'phase']);
    // features approximate the Gaussian kernel
    const a = nd.randn([2, 10], { generator: g });
    const big = new nd.models.RandomFourierFeatures(10, 20000, 4, { sigma: 3, generator: g });
    const phi = big.features(a);
    const approx = nd.mul(phi.get(0), phi.get(1)).sum().item();
    const dist2 = nd.sub(a.get(0), a.get(1)).square().sum().item();
    assert.ok(Math.abs(approx - Math.exp(-dist2 / 18)) < 0.03, `kernel ${approx} vs ${Math.exp(-dist2 / 18)}`);
    const feats = rff.features(x);
    const omegaBefore = flat(rff.omega);
    const opt = new nd.optim.Adam(rff.parameters(), { lr: 0.05 });
    const [first, last] = trainLoop(() => {
      opt.zeroGrad();
      const loss = nd.nn.functional.crossEntropy(rff.head.forward(feats), y);
      loss.backward();
      opt.step();
      return loss.item();
    }, 40);
    assert.ok(last < 0.5 * first, `loss ${first} -> ${last}`);
    assert.deepEqual(flat(rff.omega), omegaBefore);
    assertShape(rff.forward(x), [256, 4]);
  });

  test('SmallCNN on synthetic 28x28 images', () => {
    const g = new nd.Generator().manualSeed(13);
    const [x, y] = blockImages(64, 10, g);
    const model = new nd.models.SmallCNN({ generator: g });
    assert.equal(model.numParameters, 20586);
    assert.equal(new nd.models.SmallCNN({ hidden: 64 }).numParameters, 20586 - 15690 + 1568 * 64 + 64 + 650);
    assertShape(model.forward(x.get('0:2')), [2, 10]);
    const opt = new nd.optim.Adam(model.parameters(), { lr: 3e-3 });
    const [first, last] = trainLoop(() => {
      const i = nd.randint(0, 64, [16], { generator: g });
      opt.zeroGrad();
      const loss = nd.nn.functional.crossEntropy(model.forward(nd.indexSelect(x, 0, i)), nd.indexSelect(y, 0, i));
      loss.backward();
      opt.step();
      return loss.item();
    }, 30);
    assert.ok(last < 0.5 * first, `loss ${first} -> ${last}`);
    assertThrows(() => new nd.models.SmallCNN({ imageSize: 30 }), RangeError, /^SmallCNN: imageSize to be a positive multiple of 4, got 30/);
  });

  test('ResNet9MNIST: needle layout from one channel, 430,378 parameters, trains', () => {
    const g = new nd.Generator().manualSeed(14);
    const model = new nd.models.ResNet9MNIST({ generator: g });
    assert.equal(model.numParameters, 430378);
    assert.equal(new nd.models.ResNet9().numParameters - model.numParameters, 2 * 16 * 49);
    assert.deepEqual(
      model.namedParameters().map(([k, p]) => `${k}:${p.shape.join('x')}`).slice(0, 3),
      ['0.0.weight:16x1x7x7', '0.0.bias:16', '0.1.weight:16'],
    );
    const [x, y] = blockImages(32, 10, g);
    assertShape(model.forward(x.get('0:2')), [2, 10]);
    const opt = new nd.optim.Adam(model.parameters(), { lr: 2e-3 });
    const [first, last] = trainLoop(() => {
      const i = nd.randint(0, 32, [16], { generator: g });
      opt.zeroGrad();
      const loss = nd.nn.functional.crossEntropy(model.forward(nd.indexSelect(x, 0, i)), nd.indexSelect(y, 0, i));
      loss.backward();
      opt.step();
      return loss.item();
    }, 25);
    assert.ok(last < 0.5 * first, `loss ${first} -> ${last}`);
  });
});
