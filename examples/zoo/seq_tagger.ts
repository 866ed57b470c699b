// BiLSTM tagger on "occurrence tagging", a synthetic task that needs both directions.
// Inputs are strings of L = 12 symbols drawn uniformly from K = 10. The tag of position t says
// whether the same symbol also occurs before t and whether it occurs after t:
//   tag = 2 * [x_t occurs in x_0..x_{t-1}] + [x_t occurs in x_{t+1}..x_{L-1}]   (4 tags).
// A left-to-right model knows the first bit but can only guess the second from the position, so
// the same tagger with `bidirectional: false`, trained identically, is the baseline (its best
// possible accuracy is printed too); the majority tag is the trivial baseline.
// Target: BiLSTM per-token accuracy >= 0.98 on 2,000 held-out strings.
// Run: npx tsc -p tsconfig.json && node build/examples/zoo/seq_tagger.js [--steps=600]
import * as nd from '../../src/index.js';
import { Ints, isMain, report, since, withArgs, type ZooResult } from './seq_common.js';

export const taggerDefaults = {
  seed: 0,
  steps: 600,
  batch: 64,
  L: 12,
  K: 10,
  embed: 16,
  hidden: 64,
  lr: 5e-3,
  testSize: 2000,
  logEvery: 200,
};
export type TaggerConfig = typeof taggerDefaults;

/** The occurrence tags of one string (see the header; nd.datasets.occurrenceTags). */
export const occurrenceTags = nd.datasets.occurrenceTags;

/** x (L, N) int32 strings and their tags (L, N) (nd.datasets.occurrenceTagging). */
export function taggingBatch(rng: Ints, N: number, L: number, K: number): { x: nd.Tensor; y: nd.Tensor; seqs: number[][] } {
  return nd.datasets.occurrenceTagging(N, L, K, rng.generator);
}

/** Best accuracy of a left-to-right tagger: exact "before" bit, "after" bit guessed from t. */
export function leftToRightCeiling(L: number, K: number): number {
  let acc = 0;
  for (let t = 0; t < L; t++) {
    const pAfter = 1 - (1 - 1 / K) ** (L - 1 - t);
    acc += Math.max(pAfter, 1 - pAfter);
  }
  return acc / L;
}

function trainTagger(cfg: TaggerConfig, bidirectional: boolean, test: { x: nd.Tensor; y: nd.Tensor }, t0: number): [number, nd.models.BiLSTMTagger] {
  nd.manualSeed(cfg.seed);
  const rng = new Ints(cfg.seed + 1);
  const model = new nd.models.BiLSTMTagger(cfg.K, 4, cfg.embed, cfg.hidden, { bidirectional });
  const opt = new nd.optim.Adam(model.parameters(), { lr: cfg.lr });
  const sched = new nd.optim.CosineAnnealingLR(opt, cfg.steps, { etaMin: cfg.lr / 20 });
  const lossFn = new nd.nn.CrossEntropyLoss();
  const testAcc = (): number => {
    model.eval();
    const acc = nd.noGrad(() => nd.train.accuracy(model.forward(test.x), test.y));
    model.train();
    return acc;
  };
  const name = bidirectional ? 'bilstm' : 'lstm (left-to-right)';
  let avg = NaN;
  for (let step = 1; step <= cfg.steps; step++) {
    const { x, y } = taggingBatch(rng, cfg.batch, cfg.L, cfg.K);
    opt.zeroGrad();
    const loss = lossFn.forward(model.forward(x).reshape([-1, 4]), y.reshape([-1]));
    loss.backward();
    nd.optim.clipGradNorm_(model.parameters(), 1.0);
    opt.step();
    sched.step();
    const l = loss.item();
    avg = Number.isNaN(avg) ? l : 0.95 * avg + 0.05 * l;
    if (step % cfg.logEvery === 0) console.log(`${name} step ${step}: loss ${avg.toFixed(4)}, test acc ${testAcc().toFixed(4)}, ${since(t0).toFixed(0)} s`);
  }
  return [testAcc(), model];
}

export function runTagger(cfg: TaggerConfig = taggerDefaults): ZooResult {
  const t0 = performance.now();
  const test = taggingBatch(new Ints(cfg.seed + 1000), cfg.testSize, cfg.L, cfg.K);
  const counts = [0, 0, 0, 0];
  for (const s of test.seqs) for (const g of occurrenceTags(s)) counts[g]!++;
  const majority = Math.max(...counts) / (cfg.testSize * cfg.L);
  const ceiling = leftToRightCeiling(cfg.L, cfg.K);
  console.log(`tags 0..3: ${counts.join(' / ')}; majority ${majority.toFixed(4)}; left-to-right ceiling ${ceiling.toFixed(4)}`);
  const [uni] = trainTagger(cfg, false, test, t0);
  const [acc, model] = trainTagger(cfg, true, test, t0);
  return {
    task: `occurrence tagging (L=${cfg.L}, K=${cfg.K})`,
    model: `BiLSTMTagger (1x${cfg.hidden} per direction)`,
    metric: 'token accuracy',
    value: acc,
    baseline: uni,
    baselineName: 'left-to-right LSTM',
    target: '>= 0.98',
    passed: acc >= 0.98,
    seconds: since(t0),
    params: model.numParameters,
    notes: `majority tag ${majority.toFixed(4)}, best left-to-right ${ceiling.toFixed(4)}; ${cfg.steps} steps x ${cfg.batch} each`,
  };
}

if (isMain(import.meta.url)) report(runTagger(withArgs(taggerDefaults)));
