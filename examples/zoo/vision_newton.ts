// Newton's method for logistic regression on MNIST: "3" against "5", images average-pooled to
// 14x14 (196 features + a bias), L2-regularized. The Hessian comes from double backward
// (nd.models.hessian: autograd.grad with createGraph, then one backward per gradient entry) and
// each step solves H d = g by Cholesky. Gradient descent with step 1/L runs beside it to show
// that both reach the same optimum, Newton in a handful of steps and GD in hundreds or thousands.
// Target: Newton converges (gradient norm <= 1e-8) in <= 10 steps to the loss GD approaches.
//   npx tsc -p tsconfig.json && node build/examples/zoo/vision_newton.js [--l2=0.01 --gdSteps=3000]
import * as nd from '../../src/index.js';
import { clock, isMain, loadImages, report, withArgs, type VisionResult } from './vision_common.js';

export const defaults = { a: 3, b: 5, l2: 0.01, gdSteps: 3000, seed: 0 };

/** Rows of (x, y) whose label is a or b: features (n, 197) float64 (pooled pixels and a 1), labels 1 for b. */
function binary(x: nd.Tensor, y: nd.Tensor, a: number, b: number): [nd.Tensor, nd.Tensor] {
  const labels = Array.from(y.dataSync(), Number);
  const idx = labels.flatMap((v, i) => (v === a || v === b ? [i] : []));
  const sel = nd.indexSelect(x, 0, nd.tensor(Int32Array.from(idx), { dtype: 'int32' }));
  const pooled = nd.avgPool2d(sel.reshape([idx.length, 1, 28, 28]), 2).reshape([idx.length, 196]).double();
  const feats = nd.cat([pooled, nd.ones([idx.length, 1], { dtype: 'float64' })], 1);
  const t = nd.tensor(Float64Array.from(idx, (i) => (labels[i] === b ? 1 : 0)), { dtype: 'float64' });
  return [feats, t];
}

/** Largest eigenvalue of the symmetric PSD matrix m by power iteration. */
function lambdaMax(m: nd.Tensor, iters = 100): number {
  let v = nd.ones([m.shape[0]!], { dtype: 'float64' });
  let lam = 0;
  for (let i = 0; i < iters; i++) {
    const w = m.matmul(v);
    lam = Math.sqrt(nd.mul(w, w).sum().item());
    v = nd.div(w, lam);
  }
  return lam;
}

export async function run(cfg = defaults): Promise<VisionResult> {
  const t = clock();
  const { xTrain, yTrain, xTest, yTest } = await loadImages('mnist');
  const [x, y] = binary(xTrain, yTrain, cfg.a, cfg.b);
  const [xt, yt] = binary(xTest, yTest, cfg.a, cfg.b);
  const n = x.shape[0]!;
  const d = x.shape[1]!;
  const f = (w: nd.Tensor) => nd.models.logisticRegressionLoss(w, x, y, { l2: cfg.l2 });

  const tn = clock();
  const newton = nd.models.newtonMinimize(f, nd.zeros([d], { dtype: 'float64' }), { tol: 1e-8, maxSteps: 20 });
  const newtonSeconds = tn.wall();
  const fStar = newton.losses.at(-1)!;
  newton.losses.forEach((l, i) => console.log(`newton step ${i}: loss ${l.toFixed(12)}, |grad| ${newton.gradNorms[i]!.toExponential(2)}`));

  // gradient descent with step 1/L, L = lambda_max(X^T X) / (4 n) + l2
  const lip = lambdaMax(nd.div(x.mT.matmul(x), n)) / 4 + cfg.l2;
  const w = new nd.nn.Parameter(nd.zeros([d], { dtype: 'float64' }));
  const opt = new nd.optim.SGD([w], { lr: 1 / lip });
  const tg = clock();
  let reach = -1;
  let gdLoss = NaN;
  for (let step = 0; step <= cfg.gdSteps; step++) {
    opt.zeroGrad();
    const loss = f(w);
    gdLoss = loss.item();
    if (reach < 0 && gdLoss - fStar <= 1e-6) reach = step;
    if (step % 500 === 0) console.log(`gd step ${step}: loss ${gdLoss.toFixed(12)} (gap ${(gdLoss - fStar).toExponential(2)})`);
    if (step === cfg.gdSteps) break;
    loss.backward();
    opt.step();
  }
  const gdSeconds = tg.wall();
  const wDiff = nd.sub(w, newton.w).abs().max().item();
  const acc = nd.eq(nd.gt(xt.matmul(newton.w), 0).double(), yt).double().mean().item();
  const passed = newton.steps <= 10 && newton.gradNorms.at(-1)! <= 1e-8 && gdLoss - fStar >= -1e-12 && reach > 0;
  return report({
    run: 'newton',
    dataset: `MNIST ${cfg.a} vs ${cfg.b} (${n} / ${xt.shape[0]}), 14x14`,
    model: `logistic regression, l2 ${cfg.l2}`,
    params: d,
    accuracy: acc,
    target: 'Newton <= 10 steps',
    passed,
    seconds: t.wall(),
    cpuSeconds: t.cpu(),
    command: 'node build/examples/zoo/vision_newton.js',
    notes:
      `Newton: ${newton.steps} steps (${newtonSeconds.toFixed(1)} s) to loss ${fStar.toFixed(8)}, |grad| ${newton.gradNorms.at(-1)!.toExponential(1)}; ` +
      `GD (lr 1/L = ${(1 / lip).toFixed(3)}): within 1e-6 of it after ${reach < 0 ? `more than ${cfg.gdSteps}` : reach} steps, ` +
      `gap ${(gdLoss - fStar).toExponential(1)} after ${cfg.gdSteps} (${gdSeconds.toFixed(1)} s); max |w_GD - w_Newton| ${wDiff.toExponential(1)}`,
  });
}

if (isMain(import.meta.url)) await run(withArgs(defaults));
