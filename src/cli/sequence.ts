/**
 * The sequence tasks of the CLI (`tcn` on `adding`, `seq2seq` on `digit-reversal`,
 * `bilstm-tagger` on `occurrence-tags`): loss, metrics and loaders for nd.train.fit, each task's
 * own final metric (printed by `train` and `eval`), and the examples `sample` shows.
 */
import * as nd from '../index.js';
import { count, entryForward, textLoss } from './common.js';
import { LengthGroupedBatchSampler, TAGS_K, TAGS_L, type SequenceData, type SequenceDatasetName, type SequenceSplit } from './data.js';
import type { ModelEntry } from './models.js';

/** Samples per forward pass when evaluating. */
const EVAL_BATCH = 500;

/** The training loss: MSE for the adding problem, token cross-entropy for the others. */
export function sequenceLoss(name: SequenceDatasetName): nd.train.LossLike {
  return name === 'adding' ? new nd.nn.MSELoss() : textLoss();
}

/** Metrics besides the loss during training: token accuracy (teacher forced for seq2seq). */
export function sequenceMetrics(name: SequenceDatasetName): readonly nd.train.MetricName[] {
  return name === 'adding' ? [] : ['accuracy'];
}

/** What one sample is called in messages. */
export function sequenceUnit(name: SequenceDatasetName): string {
  return name === 'adding' ? 'sequences' : 'strings';
}

/**
 * A loader over a split: reversal strings in batches of one length (shuffled with `generator`
 * every epoch when `shuffle`), the other tasks as plain shuffled (global generator) batches.
 */
export function sequenceLoader(split: SequenceSplit, batchSize: number, shuffle: boolean, generator?: nd.Generator): nd.utils.data.DataLoader<nd.Tensor[]> {
  const { DataLoader } = nd.utils.data;
  if (split.strings) {
    return new DataLoader(split.dataset, { batchSampler: new LengthGroupedBatchSampler(split.strings.map((s) => s.length), batchSize, shuffle, generator) });
  }
  return new DataLoader(split.dataset, { batchSize, shuffle });
}

/** A task's final metric: the lines to print and the numbers for summary.json. */
export interface SequenceReport {
  lines: string[];
  values: Record<string, number>;
}

function pct(v: number): string {
  return `${(100 * v).toFixed(2)}%`;
}

/** 4 significant digits. */
function sig(v: number): string {
  return Number(v.toPrecision(4)).toString();
}

/** The tensors of a TensorDataset split. */
function tensorsOf(split: SequenceSplit): readonly nd.Tensor[] {
  return (split.dataset as nd.utils.data.TensorDataset).tensors;
}

/** `fn` over [start, stop) windows of `n` samples. */
function inBatches(n: number, fn: (start: number, stop: number) => void): void {
  for (let s = 0; s < n; s += EVAL_BATCH) fn(s, Math.min(n, s + EVAL_BATCH));
}

/** The outputs of the entry's forward on x in eval mode, batch by batch, concatenated. */
function predictAll(entry: ModelEntry, model: nd.nn.Module, x: nd.Tensor, y: nd.Tensor): nd.Tensor {
  const forward = entryForward(entry);
  const outs: nd.Tensor[] = [];
  inBatches(x.shape[0]!, (a, b) => {
    const sl = [{ start: a, stop: b }];
    outs.push(forward(model as unknown as nd.train.TrainableModel, [x.slice(sl), y.slice(sl)]));
  });
  return nd.cat(outs, 0);
}

/** Best token accuracy of a left-to-right tagger on occurrence tags (see seq_tagger.ts). */
export function leftToRightCeiling(L: number, K: number): number {
  let acc = 0;
  for (let t = 0; t < L; t++) {
    const pAfter = 1 - (1 - 1 / K) ** (L - 1 - t);
    acc += Math.max(pAfter, 1 - pAfter);
  }
  return acc / L;
}

/** Greedy decoding of reversal strings of one length: (N, L + 1) token ids. */
function decode(model: nd.models.Seq2Seq, strings: readonly (readonly number[])[]): number[][] {
  const L = strings[0]!.length;
  const { src } = nd.datasets.reversalBatch(strings);
  const out = model.greedyDecode(src, { bos: nd.datasets.REVERSAL_BOS, maxLen: L + 1, eos: nd.datasets.REVERSAL_EOS }).transpose(0, 1).contiguous();
  return out.toArray() as number[][];
}

/**
 * The task's own metric on `split`, in eval mode without gradients:
 * - adding: test MSE of the last-step prediction, and the MSE of always predicting 1;
 * - digit-reversal: greedy-decoding token accuracy (digits at their positions) and whole-string
 *   accuracy (all digits and the end token), as examples/zoo/seq_seq2seq.ts;
 * - occurrence-tags: token accuracy, with the majority-tag baseline.
 */
export function sequenceReport(entry: ModelEntry, model: nd.nn.Module, data: SequenceData, split: SequenceSplit, splitName = 'test'): SequenceReport {
  const was = model.training;
  model.eval();
  try {
    return nd.noGrad((): SequenceReport => {
      const n = split.n;
      if (data.name === 'adding') {
        const [x, y] = tensorsOf(split) as [nd.Tensor, nd.Tensor];
        const pred = predictAll(entry, model, x, y);
        const mse = nd.sub(pred, y).square().mean().item();
        const baseline = nd.sub(nd.onesLike(y), y).square().mean().item();
        return {
          lines: [`${splitName} MSE ${sig(mse)} vs ${sig(baseline)} for always predicting 1 (baseline / MSE = ${(baseline / mse).toFixed(1)}; ${count(n)} sequences)`],
          values: { mse, baselineMse: baseline },
        };
      }
      if (data.name === 'occurrence-tags') {
        const [x, y] = tensorsOf(split) as [nd.Tensor, nd.Tensor];
        const pred = predictAll(entry, model, x, y).argmax(-1).dataSync();
        const tags = y.dataSync();
        const counts = [0, 0, 0, 0];
        let hit = 0;
        for (let i = 0; i < tags.length; i++) {
          counts[tags[i]!]! += 1;
          if (pred[i] === tags[i]) hit++;
        }
        const acc = hit / tags.length;
        const majority = Math.max(...counts) / tags.length;
        const ceiling = leftToRightCeiling(TAGS_L, TAGS_K);
        return {
          lines: [`${splitName} token accuracy ${pct(acc)} (majority tag ${pct(majority)}, best possible left-to-right ${pct(ceiling)}; ${count(n)} strings of ${TAGS_L})`],
          values: { tokenAccuracy: acc, majorityAccuracy: majority },
        };
      }
      const strings = split.strings!;
      let correct = 0;
      let total = 0;
      let exact = 0;
      for (const idx of new LengthGroupedBatchSampler(strings.map((s) => s.length), EVAL_BATCH, false)) {
        const batch = idx.map((i) => strings[i]!);
        const pred = decode(model as nd.models.Seq2Seq, batch);
        batch.forEach((s, k) => {
          const L = s.length;
          let all = pred[k]![L] === nd.datasets.REVERSAL_EOS;
          for (let t = 0; t < L; t++) {
            total++;
            if (pred[k]![t] === s[L - 1 - t]) correct++;
            else all = false;
          }
          if (all) exact++;
        });
      }
      return {
        lines: [`greedy decoding on the ${splitName} set: token accuracy ${pct(correct / total)}, whole strings ${pct(exact / n)} (${count(n)} strings of length 5-10; chance 10%)`],
        values: { tokenAccuracy: correct / total, exactAccuracy: exact / n },
      };
    });
  } finally {
    model.train(was);
  }
}

/** Digits and tokens as text: digits as is, the end token ends it, a start token shows as ^. */
function tokensText(ids: readonly number[]): string {
  let s = '';
  for (const t of ids) {
    if (t === nd.datasets.REVERSAL_EOS) break;
    s += t === nd.datasets.REVERSAL_BOS ? '^' : String(t);
  }
  return s;
}

/** One decoded reversal: the line `sample` prints. */
function reversalLine(label: string, model: nd.models.Seq2Seq, s: readonly number[]): string {
  const pred = decode(model, [s])[0]!;
  const want = [...s].reverse();
  const ok = pred.length === s.length + 1 && want.every((v, t) => pred[t] === v) && pred[s.length] === nd.datasets.REVERSAL_EOS;
  const out = tokensText(pred);
  return `${label.padEnd(13)}${ok ? 'ok   ' : 'WRONG'}  input ${s.join('').padEnd(10)}  output ${ok ? out : `${out.padEnd(10)}  expected ${want.join('')}`}`;
}

/**
 * `count` random examples of the test split (drawn with `generator`), one line each:
 * the seq2seq's decoded strings, the tagger's tags, the TCN's predicted sums. With `prompt`
 * (digit-reversal only), its reversal instead.
 */
export function sequenceSamples(entry: ModelEntry, model: nd.nn.Module, data: SequenceData, k: number, generator: nd.Generator, prompt?: readonly number[]): string[] {
  model.eval();
  return nd.noGrad(() => {
    if (prompt) return [reversalLine('prompt', model as nd.models.Seq2Seq, prompt)];
    const split = data.test;
    const m = Math.min(k, split.n);
    const ids = Array.from(nd.randperm(split.n, { generator }).dataSync().subarray(0, m));
    const label = (i: number) => `test #${i}`;
    if (data.name === 'digit-reversal') return ids.map((i) => reversalLine(label(i), model as nd.models.Seq2Seq, split.strings![i]!));
    const [x, y] = tensorsOf(split) as [nd.Tensor, nd.Tensor];
    const index = nd.tensor(Int32Array.from(ids), { dtype: 'int32', shape: [m] });
    const xs = nd.indexSelect(x, 0, index);
    const ys = nd.indexSelect(y, 0, index);
    const out = entryForward(entry)(model as unknown as nd.train.TrainableModel, [xs, ys]);
    if (data.name === 'adding') {
      const pred = out.dataSync();
      const want = ys.dataSync();
      const xv = xs.dataSync();
      const T = x.shape[2]!;
      return ids.map((i, r) => {
        const marked: string[] = [];
        for (let t = 0; t < T; t++) if (xv[r * 2 * T + T + t] === 1) marked.push(`${xv[r * 2 * T + t]!.toFixed(4)} at step ${t}`);
        const err = pred[r]! - want[r]!;
        return `${label(i).padEnd(13)}predicted ${pred[r]!.toFixed(4)}  true ${want[r]!.toFixed(4)} (${marked.join(' + ')})  error ${err >= 0 ? '+' : ''}${err.toFixed(4)}`;
      });
    }
    const pred = out.argmax(-1).toArray() as number[][];
    const want = ys.toArray() as number[][];
    const xsArr = xs.toArray() as number[][];
    return ids.map((i, r) => {
      const hits = pred[r]!.filter((v, t) => v === want[r]![t]).length;
      const ok = hits === want[r]!.length;
      return `${label(i).padEnd(13)}${ok ? 'ok   ' : 'WRONG'}  input ${xsArr[r]!.join('')}  tags ${pred[r]!.join('')}${ok ? '' : `  true ${want[r]!.join('')} (${hits}/${want[r]!.length})`}`;
    });
  });
}

/** `--prompt` of `sample` for the digit-reversal model: digits only. */
export function parseDigits(text: string): number[] | null {
  return /^\d+$/.test(text) ? [...text].map(Number) : null;
}

