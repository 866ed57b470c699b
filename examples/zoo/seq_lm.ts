// Word-level language models on Moby-Dick (nd.datasets.textCorpus('moby-dick')): needle's
// LanguageModel with an LSTM or a causal Transformer, against the unigram baseline.
//
// Data: the text is lowercased, ’ becomes ', and split into tokens: words ([a-z]+), clitics
// ('s, 'll, ...), numbers, and every other non-space character (punctuation, dashes, quotes) as
// a token of its own. The first 90% of the tokens are the training split, the last 10% the
// validation split. The vocabulary is the `vocab` - 1 most frequent training tokens plus <unk>
// (id 0); other tokens map to <unk>, which is predicted like any word.
// Metric: perplexity of every validation token (the first one conditioned on the last training
// token), with batch 1 so that no token is dropped. The LSTM carries its state through the whole
// split; the Transformer scores windows of `seqLen` tokens sliding by `evalStride`, so every token
// but the first few sees at least seqLen - evalStride tokens of context.
// Baseline: the unigram model of the training counts with add-one smoothing over the vocabulary,
// p(w) = (count(w) + 1) / (N + V), on the same validation tokens.
//
// Run: npx tsc -p tsconfig.json && node build/examples/zoo/seq_lm.js --model=lstm
//      node build/examples/zoo/seq_lm.js --model=transformer   (compares with the saved LSTM run)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nd from '../../src/index.js';
import { isMain, report, since, withArgs, type ZooResult } from './seq_common.js';

export const lmDefaults = {
  model: 'lstm',
  seed: 0,
  vocab: 10000,
  embed: 128,
  hidden: 128,
  layers: 1,
  dropout: 0.1,
  tie: true,
  batch: 32,
  bptt: 35,
  epochs: 2,
  lr: 3e-3,
  weightDecay: 0.01,
  warmup: 100,
  clip: 0.5,
  nhead: 4,
  positional: 'sinusoidal',
  seqLen: 64,
  evalStride: 32,
  monitorTokens: 3000,
  logEvery: 100,
  sample: 40,
};
export type LMConfig = typeof lmDefaults;

/** The full LSTM run (chosen on 0.5-epoch trials, see docs/zoo-seq.md). */
export const lstmConfig: Partial<LMConfig> = { model: 'lstm', vocab: 5000, batch: 4, lr: 0.01, dropout: 0, epochs: 2, logEvery: 500 };
/** The full Transformer run. */
export const transformerConfig: Partial<LMConfig> = {
  model: 'transformer', vocab: 5000, batch: 4, lr: 0.004, dropout: 0, layers: 2, hidden: 512, positional: 'sinusoidal', epochs: 2, logEvery: 300,
};

/** The zoo's word tokenizer (see the header). */
export function tokenize(text: string): string[] {
  return text.toLowerCase().replace(/’/g, "'").match(/'[a-z]+|[a-z]+|[0-9]+|\S/g) ?? [];
}

/** The vocabulary: <unk> then the maxVocab - 1 most frequent tokens (ties alphabetical). */
export function buildVocab(tokens: readonly string[], maxVocab: number): nd.datasets.Dictionary {
  const counts = new Map<string, number>();
  for (const w of tokens) counts.set(w, (counts.get(w) ?? 0) + 1);
  const words = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([w]) => w);
  const dict = new nd.datasets.Dictionary();
  dict.addWord('<unk>');
  for (const w of words.slice(0, maxVocab - 1)) dict.addWord(w);
  return dict;
}

/** Token ids under `dict`, unknown words as <unk> (0). */
export function encode(dict: nd.datasets.Dictionary, tokens: readonly string[]): number[] {
  return tokens.map((w) => dict.word2idx.get(w) ?? 0);
}

/** Unigram perplexity of `valid` under add-one smoothed counts of `train` over `vocab` words. */
export function unigramPerplexity(train: readonly number[], valid: readonly number[], vocab: number): number {
  const counts = new Float64Array(vocab);
  for (const t of train) counts[t]!++;
  let nll = 0;
  for (const t of valid) nll -= Math.log((counts[t]! + 1) / (train.length + vocab));
  return Math.exp(nll / valid.length);
}

export interface MobyData {
  dict: nd.datasets.Dictionary;
  train: number[];
  valid: number[];
  unigram: number;
  unkRate: number;
}

/** Loads, tokenizes and splits Moby-Dick (90/10), with the unigram baseline. */
export async function mobyDick(vocab: number): Promise<MobyData> {
  const tokens = tokenize(await nd.datasets.textCorpus('moby-dick'));
  const cut = Math.floor(tokens.length * 0.9);
  const dict = buildVocab(tokens.slice(0, cut), vocab);
  const ids = encode(dict, tokens);
  const train = ids.slice(0, cut);
  const valid = ids.slice(cut);
  const unkRate = valid.filter((t) => t === 0).length / valid.length;
  return { dict, train, valid, unigram: unigramPerplexity(train, valid, dict.length), unkRate };
}

function makeModel(cfg: LMConfig, vocab: number): nd.models.LanguageModel {
  if (cfg.model === 'lstm') {
    return new nd.models.LanguageModel(cfg.embed, vocab, cfg.hidden, {
      seqModel: 'lstm', numLayers: cfg.layers, dropout: cfg.dropout, tieWeights: cfg.tie,
    });
  }
  if (cfg.model === 'transformer') {
    return new nd.models.LanguageModel(cfg.embed, vocab, cfg.hidden, {
      seqModel: 'transformer', numLayers: cfg.layers, dropout: cfg.dropout, tieWeights: cfg.tie, nhead: cfg.nhead, seqLen: cfg.seqLen,
      positional: cfg.positional as 'learned' | 'sinusoidal',
    });
  }
  throw new TypeError(`seq_lm: model "lstm" or "transformer", got ${cfg.model}`);
}

/** (L, 1) int32 column of ids. */
function column(ids: readonly number[]): nd.Tensor {
  return nd.tensor(Int32Array.from(ids), { dtype: 'int32', shape: [ids.length, 1] });
}

/**
 * Perplexity of `valid[1..]` given `valid[0]` onwards (pass [context, ...valid] to score every
 * token), batch 1. Recurrent models: windows of `window` tokens carrying the state. The
 * Transformer: windows of up to seqLen tokens sliding by `stride`, scoring only the new tokens.
 */
export function evaluateLM(model: nd.models.LanguageModel, stream: readonly number[], opts: { window: number; stride: number }): number {
  model.eval();
  const nll = nd.noGrad(() => {
    let total = 0;
    const n = stream.length - 1; // targets
    if (model.seqModelKind !== 'transformer') {
      let h: nd.models.LMState = null;
      for (let i = 0; i < n; i += opts.window) {
        const len = Math.min(opts.window, n - i);
        const [logits, next] = model.forward(column(stream.slice(i, i + len)), h);
        h = next;
        total += nd.nn.functional.crossEntropy(logits, nd.tensor(Int32Array.from(stream.slice(i + 1, i + 1 + len)), { dtype: 'int32' }), { reduction: 'sum' }).item();
      }
    } else {
      const W = model.seqLen;
      // target j (predicting stream[j + 1]) is scored once, in the first window that ends at or after it
      let scored = 0;
      while (scored < n) {
        const end = Math.min(n, scored === 0 ? W : scored + opts.stride); // exclusive end of targets
        const start = Math.max(0, end - W);
        const [feats] = model.features(column(stream.slice(start, end)));
        const fresh = feats.get({ start: scored - start }).reshape([-1, feats.shape[2]!]);
        const logits = model.linear.forward(fresh);
        total += nd.nn.functional.crossEntropy(logits, nd.tensor(Int32Array.from(stream.slice(scored + 1, end + 1)), { dtype: 'int32' }), { reduction: 'sum' }).item();
        scored = end;
      }
    }
    return total / n;
  });
  model.train();
  return Math.exp(nll);
}

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'zoo_seq_lm.json');

function saveRun(model: string, ppl: number): void {
  let all: Record<string, number> = {};
  try {
    all = JSON.parse(readFileSync(RESULTS, 'utf8')) as Record<string, number>;
  } catch {
    /* first run */
  }
  all[model] = ppl;
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(all, null, 2));
}

/** The saved validation perplexity of an earlier run of `model` (build/zoo_seq_lm.json), or null. */
export function savedPerplexity(model: string): number | null {
  try {
    const v = (JSON.parse(readFileSync(RESULTS, 'utf8')) as Record<string, number>)[model];
    return typeof v === 'number' ? v : null;
  } catch {
    return null;
  }
}

/**
 * Trains and evaluates one language model. `lstmPerplexity` (for the Transformer's target) defaults
 * to the saved result of the last LSTM run.
 */
export async function runLM(cfg: LMConfig = lmDefaults, lstmPerplexity: number | null = null): Promise<ZooResult> {
  const t0 = performance.now();
  const data = await mobyDick(cfg.vocab);
  const V = data.dict.length;
  console.log(
    `moby-dick: ${data.train.length} train / ${data.valid.length} valid tokens, vocab ${V} (<unk> ${(100 * data.unkRate).toFixed(1)}% of valid); unigram valid perplexity ${data.unigram.toFixed(1)}`,
  );
  nd.manualSeed(cfg.seed);
  const model = makeModel(cfg, V);
  const isTf = cfg.model === 'transformer';
  const L = isTf ? cfg.seqLen : cfg.bptt;
  const source = nd.datasets.batchify(data.train, cfg.batch);
  const rows = source.shape[0]!;
  const perEpoch = Math.ceil((rows - 1) / L);
  const steps = Math.max(1, Math.round(cfg.epochs * perEpoch));
  const opt = new nd.optim.AdamW(model.parameters(), { lr: cfg.lr, weightDecay: cfg.weightDecay });
  const warm = Math.min(cfg.warmup, Math.max(1, steps - 1));
  const sched = new nd.optim.SequentialLR(
    opt,
    [new nd.optim.LinearLR(opt, { startFactor: 0.05, totalIters: warm }), new nd.optim.CosineAnnealingLR(opt, Math.max(1, steps - warm), { etaMin: cfg.lr / 20 })],
    [warm],
  );
  const lossFn = new nd.nn.CrossEntropyLoss();
  // the validation stream, prefixed by the last training token so every valid token is a target
  const stream = [data.train[data.train.length - 1]!, ...data.valid];
  const evalOpts = { window: 100, stride: cfg.evalStride };
  console.log(`${cfg.model}: ${model.numParameters} parameters, ${steps} steps of ${cfg.batch} x ${L} tokens (${perEpoch} per epoch)`);
  const tTrain = performance.now();
  let trainSeconds = 0;
  let evalSeconds = 0;
  let h: nd.models.LMState = null;
  let avg = NaN;
  let tokens = 0;
  let step = 0;
  while (step < steps) {
    h = null;
    for (let i = 0; i < rows - 1 && step < steps; i += L) {
      const [x, y] = nd.datasets.getBatch(source, i, L);
      opt.zeroGrad();
      const [logits, next] = model.forward(x, nd.models.detachState(h));
      h = next;
      const loss = lossFn.forward(logits, y);
      loss.backward();
      nd.optim.clipGradNorm_(model.parameters(), cfg.clip);
      opt.step();
      sched.step();
      step++;
      tokens += y.size;
      const l = loss.item();
      avg = Number.isNaN(avg) ? l : 0.95 * avg + 0.05 * l;
      if (step % cfg.logEvery === 0 || step === steps) {
        trainSeconds += since(tTrain) - trainSeconds - evalSeconds;
        const te = performance.now();
        const mon = evaluateLM(model, stream.slice(0, cfg.monitorTokens + 1), evalOpts);
        evalSeconds += since(te);
        console.log(
          `${cfg.model} step ${step}/${steps} (epoch ${(step / perEpoch).toFixed(2)}): train loss ${avg.toFixed(3)} (ppl ${Math.exp(avg).toFixed(0)}), valid[:${cfg.monitorTokens}] ppl ${mon.toFixed(1)}, train ${(tokens / trainSeconds).toFixed(0)} tok/s, ${since(t0).toFixed(0)} s`,
        );
      }
    }
  }
  const ppl = evaluateLM(model, stream, evalOpts);
  saveRun(cfg.model, ppl);
  if (cfg.sample > 0) {
    const prompt = encode(data.dict, tokenize('call me ishmael .'));
    nd.manualSeed(cfg.seed);
    const ids = nd.train.generate(model, prompt, { maxNewTokens: cfg.sample, temperature: 0.8, topK: 40, batchFirst: false, contextLength: isTf ? cfg.seqLen : 200 });
    console.log(`sample: ${ids.map((t) => data.dict.idx2word[t]).join(' ')}`);
  }
  const seconds = since(t0);
  if (!isTf) {
    return {
      task: 'moby-dick word LM (90/10)',
      model: `LSTM LM (${cfg.layers}x${cfg.hidden}, vocab ${V})`,
      metric: 'valid perplexity',
      value: ppl,
      baseline: data.unigram,
      baselineName: 'unigram (add-one)',
      target: `<= ${(data.unigram / 2).toFixed(1)} (unigram / 2)`,
      passed: ppl <= data.unigram / 2,
      seconds,
      params: model.numParameters,
      notes: `${cfg.epochs} epochs, ${tokens} training tokens`,
    };
  }
  const ref = lstmPerplexity ?? savedPerplexity('lstm');
  return {
    task: 'moby-dick word LM (90/10)',
    model: `Transformer LM (${cfg.layers}x${cfg.embed}, vocab ${V})`,
    metric: 'valid perplexity',
    value: ppl,
    baseline: data.unigram,
    baselineName: 'unigram (add-one)',
    target: ref === null ? 'within 20% of the LSTM (no LSTM run saved)' : `<= ${(1.2 * ref).toFixed(1)} (LSTM ${ref.toFixed(1)} x 1.2)`,
    passed: ref !== null && ppl <= 1.2 * ref,
    seconds,
    params: model.numParameters,
    notes: `${cfg.epochs} epochs, ${tokens} training tokens; context ${cfg.seqLen}, eval stride ${cfg.evalStride}`,
  };
}

if (isMain(import.meta.url)) {
  const tf = process.argv.includes('--model=transformer');
  report(await runLM(withArgs({ ...lmDefaults, ...(tf ? transformerConfig : lstmConfig) })));
}
