// TCN on the adding problem (Hochreiter & Schmidhuber 1997; the TCN paper's first benchmark).
// Each input is a (2, T) sequence: channel 0 holds T values drawn U(0, 1), channel 1 is zero
// except for 1 at two distinct random positions; the target is the sum of the two marked values.
// The prediction is the TCN's output at the last step (its receptive field covers all T steps).
// Trivial baseline: always predict the mean sum, 1, whose MSE is Var(a + b) = 2/12 = 0.1667.
// Target: a test MSE at most 1/20 of that (<= 0.00833). Reported on 2,000 held-out sequences.
// Run: npx tsc -p tsconfig.json && node build/examples/zoo/seq_tcn.js [--steps=1500]
import * as nd from '../../src/index.js';
import { Ints, isMain, report, since, withArgs, type ZooResult } from './seq_common.js';

export const tcnDefaults = {
  seed: 0,
  steps: 1500,
  batch: 32,
  T: 100,
  channels: 24,
  levels: 4,
  kernel: 6,
  lr: 4e-3,
  testSize: 2000,
  logEvery: 250,
};
export type TCNConfig = typeof tcnDefaults;

/** A batch of the adding problem (nd.datasets.addingProblem): x (N, 2, T) float32, y (N) float32. */
export function addingBatch(rng: Ints, N: number, T: number): { x: nd.Tensor; y: nd.Tensor } {
  return nd.datasets.addingProblem(N, T, rng.generator);
}

/** The TCN's prediction: its output at the last step, (N). */
export function lastStep(model: nd.models.TCN, x: nd.Tensor): nd.Tensor {
  return model.forward(x).get(':', 0, -1);
}

export function runTCN(cfg: TCNConfig = tcnDefaults): ZooResult {
  const t0 = performance.now();
  nd.manualSeed(cfg.seed);
  const rng = new Ints(cfg.seed + 1);
  const test = addingBatch(new Ints(cfg.seed + 1000), cfg.testSize, cfg.T);
  const model = new nd.models.TCN(2, 1, Array.from({ length: cfg.levels }, () => cfg.channels), { kernelSize: cfg.kernel });
  if (model.receptiveField < cfg.T) throw new RangeError(`seq_tcn: a receptive field of at least T = ${cfg.T}, got ${model.receptiveField}`);
  const opt = new nd.optim.Adam(model.parameters(), { lr: cfg.lr });
  const sched = new nd.optim.CosineAnnealingLR(opt, cfg.steps, { etaMin: cfg.lr / 20 });
  const mse = new nd.nn.MSELoss();
  const testMSE = (): number => {
    model.eval();
    const v = nd.noGrad(() => mse.forward(lastStep(model, test.x), test.y).item());
    model.train();
    return v;
  };
  const baseline = nd.noGrad(() => mse.forward(nd.onesLike(test.y), test.y).item());
  let avg = NaN;
  for (let step = 1; step <= cfg.steps; step++) {
    const { x, y } = addingBatch(rng, cfg.batch, cfg.T);
    opt.zeroGrad();
    const loss = mse.forward(lastStep(model, x), y);
    loss.backward();
    nd.optim.clipGradNorm_(model.parameters(), 1.0);
    opt.step();
    sched.step();
    const l = loss.item();
    avg = Number.isNaN(avg) ? l : 0.95 * avg + 0.05 * l;
    if (step % cfg.logEvery === 0) console.log(`tcn step ${step}: train mse ${avg.toFixed(5)}, test mse ${testMSE().toFixed(5)}, ${since(t0).toFixed(0)} s`);
  }
  const value = testMSE();
  return {
    task: `adding problem (T=${cfg.T})`,
    model: `TCN (${cfg.levels} blocks x ${cfg.channels} ch, k=${cfg.kernel})`,
    metric: 'test MSE',
    value,
    baseline,
    baselineName: 'predict 1',
    target: `<= ${(baseline / 20).toFixed(5)} (baseline / 20)`,
    passed: value <= baseline / 20,
    seconds: since(t0),
    params: model.numParameters,
    notes: `${cfg.steps} steps x ${cfg.batch}; receptive field ${model.receptiveField}`,
  };
}

if (isMain(import.meta.url)) report(runTCN(withArgs(tcnDefaults)));
