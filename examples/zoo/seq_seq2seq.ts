// Seq2seq LSTM encoder-decoder reversing random digit strings of length 5-10.
// Training: teacher forcing, Adam, batches whose strings share one length (drawn per batch), so
// no padding is needed. Reported: token accuracy of greedy decoding on 2,000 held-out strings
// (digits right at their position), plus whole-string accuracy (all digits and the end token).
// Run: npx tsc -p tsconfig.json && node build/examples/zoo/seq_seq2seq.js [--steps=3000]
import * as nd from '../../src/index.js';
import { Ints, isMain, report, since, withArgs, type ZooResult } from './seq_common.js';

const DIGITS = 10;
const BOS = nd.datasets.REVERSAL_BOS; // 10
const EOS = nd.datasets.REVERSAL_EOS; // 11

export const seq2seqDefaults = {
  seed: 0,
  steps: 1000,
  batch: 64,
  minLen: 5,
  maxLen: 10,
  embed: 32,
  hidden: 128,
  layers: 1,
  lr: 3e-3,
  testSize: 2000,
  logEvery: 250,
};
export type Seq2SeqConfig = typeof seq2seqDefaults;

/** N random digit strings of length L (nd.datasets.randomStrings). */
function strings(rng: Ints, N: number, L: number): number[][] {
  return nd.datasets.randomStrings(N, L, DIGITS, rng.generator);
}

/** src (L, N), decoder input [BOS, reversed] (L + 1, N), target [reversed, EOS] (L + 1, N) (nd.datasets.reversalBatch). */
export function reversalBatch(seqs: number[][]): { src: nd.Tensor; tgtIn: nd.Tensor; tgtOut: nd.Tensor } {
  return nd.datasets.reversalBatch(seqs, { bos: BOS, eos: EOS });
}

/** Greedy-decoding accuracy: [token accuracy over digits, exact-string accuracy]. */
export function evaluateReversal(model: nd.models.Seq2Seq, test: number[][]): [number, number] {
  model.eval();
  let correct = 0;
  let total = 0;
  let exact = 0;
  const byLen = new Map<number, number[][]>();
  for (const s of test) byLen.set(s.length, [...(byLen.get(s.length) ?? []), s]);
  for (const [L, seqs] of byLen) {
    const { src, tgtOut } = reversalBatch(seqs);
    const pred = model.greedyDecode(src, { bos: BOS, maxLen: L + 1, eos: EOS }).toArray() as number[][];
    const want = tgtOut.toArray() as number[][];
    for (let n = 0; n < seqs.length; n++) {
      let all = true;
      for (let t = 0; t <= L; t++) {
        const ok = pred[t]![n] === want[t]![n];
        if (t < L) {
          total++;
          if (ok) correct++;
        }
        all &&= ok;
      }
      if (all) exact++;
    }
  }
  model.train();
  return [correct / total, exact / test.length];
}

export function runSeq2Seq(cfg: Seq2SeqConfig = seq2seqDefaults): ZooResult {
  const t0 = performance.now();
  nd.manualSeed(cfg.seed);
  const rng = new Ints(cfg.seed + 1);
  const testRng = new Ints(cfg.seed + 1000);
  const spread = cfg.maxLen - cfg.minLen + 1;
  const test = nd.datasets.reversalStrings(cfg.testSize, cfg.minLen, cfg.maxLen, testRng.generator);
  const model = new nd.models.Seq2Seq(DIGITS, DIGITS + 2, cfg.embed, cfg.hidden, { numLayers: cfg.layers });
  const opt = new nd.optim.Adam(model.parameters(), { lr: cfg.lr });
  const sched = new nd.optim.CosineAnnealingLR(opt, cfg.steps, { etaMin: cfg.lr / 20 });
  const lossFn = new nd.nn.CrossEntropyLoss();
  let avg = 0;
  for (let step = 1; step <= cfg.steps; step++) {
    const L = cfg.minLen + rng.below(spread);
    const { src, tgtIn, tgtOut } = reversalBatch(strings(rng, cfg.batch, L));
    opt.zeroGrad();
    const logits = model.forward(src, tgtIn);
    const loss = lossFn.forward(logits.reshape([-1, DIGITS + 2]), tgtOut.reshape([-1]));
    loss.backward();
    nd.optim.clipGradNorm_(model.parameters(), 1.0);
    opt.step();
    sched.step();
    avg = step === 1 ? loss.item() : 0.98 * avg + 0.02 * loss.item();
    if (step % cfg.logEvery === 0 || step === cfg.steps) {
      const [acc] = step === cfg.steps ? [NaN] : evaluateReversal(model, test.slice(0, 300));
      console.log(`seq2seq step ${step}: loss ${avg.toFixed(4)}${Number.isNaN(acc) ? '' : `, token acc (300 strings) ${acc.toFixed(4)}`}, ${since(t0).toFixed(0)} s`);
    }
  }
  const [acc, exact] = evaluateReversal(model, test);
  const result: ZooResult = {
    task: 'reverse digit strings (len 5-10)',
    model: 'Seq2Seq LSTM enc-dec',
    metric: 'token acc (greedy)',
    value: acc,
    baseline: 0.1,
    baselineName: 'chance',
    target: '>= 0.95',
    passed: acc >= 0.95,
    seconds: since(t0),
    params: model.numParameters,
    notes: `exact-string accuracy ${exact.toFixed(4)}; ${cfg.steps} steps x ${cfg.batch}`,
  };
  return result;
}

if (isMain(import.meta.url)) report(runSeq2Seq(withArgs(seq2seqDefaults)));
