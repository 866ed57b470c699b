/**
 * Inference helpers: batched `predict`, `classify` with probabilities and labels, and `generate`
 * (autoregressive sampling with temperature and top-k) for language models. Browser-safe.
 * All of them run in eval mode without building a graph and restore the model's mode afterwards.
 */
import { Tensor } from '../autograd/tensor.js';
import { noGrad } from '../autograd/mode.js';
import { tensor } from '../creation.js';
import { cat, narrow } from '../ops/shape.js';
import { softmax } from '../functional/activation.js';
import { defaultGenerator, type Generator } from '../random.js';
import { fmt, fmtShape, rangeError, typeError } from '../errors.js';

/** A model for inference: `forward` and `train(mode)` / `training` (e.g. any nn.Module). */
export interface InferenceModel {
  forward(...args: never[]): unknown;
  train(mode?: boolean): unknown;
  training: boolean;
}

function checkModel(fn: string, model: unknown): InferenceModel {
  const m = model as Partial<InferenceModel> | null;
  if (!m || typeof m !== 'object' || typeof m.forward !== 'function' || typeof m.train !== 'function') {
    throw typeError(fn, 'a model with forward() and train() (e.g. an nn.Module)', fmt(model));
  }
  return model as InferenceModel;
}

function firstTensor(fn: string, out: unknown): Tensor {
  const y = Array.isArray(out) ? out[0] : out;
  if (!(y instanceof Tensor)) throw typeError(fn, 'the model to return a Tensor (or an array starting with one)', fmt(y));
  return y;
}

/** Runs `body` in eval mode under noGrad, restoring the model's mode. */
function inEval<T>(model: InferenceModel, body: () => T): T {
  const was = model.training;
  model.train(false);
  try {
    return noGrad(body);
  } finally {
    model.train(was);
  }
}

/** Options of {@link predict} and {@link classify}. */
export interface PredictOptions {
  /** Rows per forward pass (default 256). */
  batchSize?: number;
}

function checkBatchSize(fn: string, b: unknown): number {
  if (b === undefined) return 256;
  if (!Number.isInteger(b) || (b as number) < 1) throw rangeError(fn, 'batchSize to be a positive integer', fmt(b));
  return b as number;
}

/**
 * The model's outputs for `input`, computed in batches along dim 0 and concatenated.
 *
 * Shape: input (N, ...) -> output (N, ...).
 *
 * @example
 * const logits = nd.train.predict(model, xTest, { batchSize: 500 }); // (N, 10)
 */
export function predict(model: InferenceModel, input: Tensor, opts: PredictOptions = {}): Tensor {
  const fn = 'predict';
  checkModel(fn, model);
  if (!(input instanceof Tensor)) throw typeError(fn, 'input to be a Tensor', fmt(input));
  if (input.ndim === 0) throw rangeError(fn, 'input with a batch dimension', fmtShape(input.shape));
  const bs = checkBatchSize(fn, opts.batchSize);
  const n = input.shape[0]!;
  return inEval(model, () => {
    const outs: Tensor[] = [];
    for (let i = 0; i < n || (n === 0 && i === 0); i += bs) {
      const x = n <= bs ? input : narrow(input, 0, i, Math.min(bs, n - i));
      outs.push(firstTensor(fn, (model.forward as (x: Tensor) => unknown)(x)));
      if (n <= bs) break;
    }
    return outs.length === 1 ? outs[0]! : cat(outs, 0);
  });
}

/** One row of {@link classify}'s result. */
export interface Classification {
  /** The predicted class index. */
  index: number;
  /** Its softmax probability. */
  prob: number;
  /** Its name, when labels were given. */
  label?: string;
}

/**
 * Predicts a class for each row of `input`: argmax of the logits, its softmax probability, and
 * its label when `labels` are given.
 *
 * Shape: input (N, ...) with a model returning logits (N, C).
 *
 * @example
 * nd.train.classify(model, x.slice([{ start: 0, stop: 2 }]), { labels: ['T-shirt', 'Trouser', ...] });
 * // [{ index: 9, prob: 0.97, label: 'Ankle boot' }, ...]
 */
export function classify(model: InferenceModel, input: Tensor, opts: PredictOptions & { labels?: readonly string[] } = {}): Classification[] {
  const fn = 'classify';
  const logits = predict(model, input, opts);
  if (logits.ndim !== 2) throw rangeError(fn, 'the model to return logits (N, C)', fmtShape(logits.shape));
  const [n, c] = logits.shape as [number, number];
  if (opts.labels !== undefined && (!Array.isArray(opts.labels) || opts.labels.length !== c)) {
    throw rangeError(fn, `labels to be an array of ${c} class names`, fmt(opts.labels));
  }
  const probs = noGrad(() => softmax(logits.float(), -1)).dataSync();
  const out: Classification[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (probs[i * c + j]! > probs[i * c + best]!) best = j;
    const r: Classification = { index: best, prob: Number(probs[i * c + best]) };
    if (opts.labels) r.label = opts.labels[best]!;
    out.push(r);
  }
  return out;
}

/** Options of {@link sampleLogits}. */
export interface SampleOptions {
  /** Divides the logits (default 1). 0 picks the most likely token (greedy). */
  temperature?: number;
  /** Sample only among the k most likely tokens (default: all). */
  topK?: number;
  /** The random source (default nd.defaultGenerator). */
  generator?: Generator;
}

function checkSample(fn: string, o: SampleOptions): { temperature: number; topK: number; gen: Generator } {
  const temperature = o.temperature ?? 1;
  if (typeof temperature !== 'number' || !(temperature >= 0) || !Number.isFinite(temperature)) throw rangeError(fn, 'temperature to be a finite number >= 0', fmt(temperature));
  const topK = o.topK ?? Infinity;
  if (topK !== Infinity && (!Number.isInteger(topK) || topK < 1)) throw rangeError(fn, 'topK to be a positive integer', fmt(topK));
  return { temperature, topK, gen: o.generator ?? defaultGenerator };
}

/**
 * Samples an index from unnormalized logits: softmax(logits / temperature) restricted to the
 * `topK` largest logits (ties at the k-th value are kept). Temperature 0 returns the argmax.
 * Uses one float64 uniform (two words) of the generator per call unless greedy.
 *
 * @example
 * nd.train.sampleLogits([2.0, 1.0, -1.0], { temperature: 0.8, topK: 2 }); // 0 or 1
 */
export function sampleLogits(logits: ArrayLike<number>, opts: SampleOptions = {}): number {
  const fn = 'sampleLogits';
  const { temperature, topK, gen } = checkSample(fn, opts);
  const v = logits.length;
  if (v === 0) throw rangeError(fn, 'at least one logit', '0');
  let argmax = 0;
  for (let i = 1; i < v; i++) if (logits[i]! > logits[argmax]!) argmax = i;
  if (temperature === 0 || topK === 1) return argmax;
  let threshold = -Infinity;
  if (topK < v) {
    const sorted = Array.from(logits).sort((a, b) => b - a);
    threshold = sorted[topK - 1]!;
  }
  const maxL = logits[argmax]!;
  const w = new Float64Array(v);
  let total = 0;
  for (let i = 0; i < v; i++) {
    const l = logits[i]!;
    if (l >= threshold && Number.isFinite(l)) {
      w[i] = Math.exp((l - maxL) / temperature);
      total += w[i]!;
    }
  }
  if (!(total > 0)) return argmax;
  let u = gen.nextUniform('float64') * total;
  for (let i = 0; i < v; i++) {
    u -= w[i]!;
    if (u < 0 && w[i]! > 0) return i;
  }
  for (let i = v - 1; i >= 0; i--) if (w[i]! > 0) return i;
  return argmax;
}

/** Options of {@link generate}. */
export interface GenerateOptions extends SampleOptions {
  /** Tokens to append (default 100). */
  maxNewTokens?: number;
  /** Feed at most this many last tokens to the model (e.g. a Transformer's block size). */
  contextLength?: number;
  /**
   * Input layout: true (default) feeds (1, T) and reads logits (1, T, V) or (T, V);
   * false feeds (T, 1) (needle's sequence models) and reads (T, 1, V) or (T, V).
   */
  batchFirst?: boolean;
  /** Stop after generating this token (it is included). */
  stopToken?: number;
  /** Called with each new token (e.g. to stream text). */
  onToken?: (token: number) => void;
}

/** The logits of the last position from a model output of layout (1, T, V), (T, 1, V), (T, V) or (V). */
function lastLogits(fn: string, out: Tensor, t: number): Float32Array | Float64Array {
  const data = out.float().dataSync() as Float32Array;
  const shape = out.shape;
  const v = shape[shape.length - 1]!;
  const rows = out.size / v;
  if (out.ndim === 1) return data;
  if (rows !== t && rows !== 1) throw rangeError(fn, `logits for the ${t} input positions, (1, T, V), (T, 1, V) or (T, V)`, fmtShape(shape));
  return data.subarray((rows - 1) * v, rows * v);
}

/**
 * Extends `prompt` (token ids) by sampling from a language model one token at a time: the model
 * sees the last `contextLength` tokens as int32 (1, T) (or (T, 1) with batchFirst false), and the
 * logits of the last position are sampled with {@link sampleLogits}. Returns prompt + new tokens.
 *
 * @example
 * const ids = nd.train.generate(lm, encode('Call me '), { maxNewTokens: 200, temperature: 0.8, topK: 20 });
 * console.log(decode(ids));
 */
export function generate(model: InferenceModel, prompt: readonly number[], opts: GenerateOptions = {}): number[] {
  const fn = 'generate';
  checkModel(fn, model);
  if (!Array.isArray(prompt) || prompt.length === 0 || !prompt.every((t) => Number.isInteger(t) && t >= 0)) {
    throw typeError(fn, 'prompt to be a non-empty array of token ids', fmt(prompt));
  }
  checkSample(fn, opts);
  const maxNew = opts.maxNewTokens ?? 100;
  if (!Number.isInteger(maxNew) || maxNew < 0) throw rangeError(fn, 'maxNewTokens to be a non-negative integer', fmt(maxNew));
  const ctxLen = opts.contextLength ?? Infinity;
  if (ctxLen !== Infinity && (!Number.isInteger(ctxLen) || ctxLen < 1)) throw rangeError(fn, 'contextLength to be a positive integer', fmt(ctxLen));
  const batchFirst = opts.batchFirst ?? true;
  const tokens = [...prompt];
  return inEval(model, () => {
    for (let i = 0; i < maxNew; i++) {
      const ctx = tokens.length > ctxLen ? tokens.slice(tokens.length - ctxLen) : tokens;
      const x = tensor(Int32Array.from(ctx), { dtype: 'int32', shape: batchFirst ? [1, ctx.length] : [ctx.length, 1] });
      const out = firstTensor(fn, (model.forward as (x: Tensor) => unknown)(x));
      const next = sampleLogits(lastLogits(fn, out, ctx.length), opts);
      tokens.push(next);
      opts.onToken?.(next);
      if (opts.stopToken !== undefined && next === opts.stopToken) break;
    }
    return tokens;
  });
}
