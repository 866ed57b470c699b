/**
 * One pass over a loader: {@link trainEpoch} (forward, loss, backward, optional clipping,
 * optimizer step) and {@link evaluate} (eval mode, no graph). Browser-safe.
 *
 * Loaders are any iterable (or async iterable) of batches `[input, target, ...]`, e.g.
 * `nd.utils.data.DataLoader`, an array of pairs, or a generator. Nothing from one step is kept
 * after it (the loss is read with `item()`), so memory stays flat across batches and epochs.
 */
import { Tensor } from '../autograd/tensor.js';
import { noGrad } from '../autograd/mode.js';
import { clipGradNorm_ } from '../optim/clip.js';
import { fmt, rangeError, typeError } from '../errors.js';
import { correctCount, now, perplexity, type MetricName } from './metrics.js';
import type { ProgressBar } from './progress.js';
import { wasmRuntime } from '../platform/setup.js';

/** A batch: `[input, target]`; further elements (e.g. lengths) are ignored by the default step. */
export type Batch = readonly Tensor[];

/** Batches to iterate: a DataLoader, an array of `[x, y]` pairs, a (async) generator, ... */
export type Batches = (Iterable<Batch> | AsyncIterable<Batch>) & { readonly length?: number };

/** A model: `forward`, `train(mode)` / `training`, `parameters()` (e.g. any `nn.Module`). */
export interface TrainableModel {
  forward(...args: never[]): unknown;
  train(mode?: boolean): unknown;
  training: boolean;
  parameters(): Tensor[];
}

/** A loss: a function `(output, target) => scalar` or a module with that `forward`. */
export type LossLike = ((output: Tensor, target: Tensor) => Tensor) | { forward(output: Tensor, target: Tensor): Tensor };

/** An optimizer: `zeroGrad()` and `step()` (e.g. `nd.optim.Adam`). */
export interface OptimizerLike {
  zeroGrad(): void;
  step(): unknown;
  paramGroups?: readonly { lr: number }[];
}

/** A per-batch LR scheduler (e.g. OneCycleLR): stepped after every optimizer step. */
export interface StepScheduler {
  step(): unknown;
}

/**
 * How a batch becomes an output: the default calls `model.forward(batch[0])` and, when the model
 * returns an array (e.g. an RNN's `[output, hidden]`), uses its first element.
 */
export type ForwardFn = (model: TrainableModel, batch: Batch) => Tensor;

/** What the per-batch hooks receive. */
export interface BatchInfo {
  /** 0-based index of the batch in this epoch. */
  index: number;
  /** Number of batches in the epoch when known (NaN otherwise). */
  total: number;
  /** The loss of this batch (mean over its targets). */
  loss: number;
  /** Targets in this batch (the "samples" counted for rates). */
  samples: number;
  /** Gradient norm before clipping (only when clipping). */
  gradNorm?: number;
}

/** Per-batch hook; a returned promise is awaited. */
export type BatchHook = (info: BatchInfo) => void | Promise<void>;

/** Which metrics to compute besides the loss. `'auto'` (default): accuracy when the output
 * is (..., C) and the target (...) holds int32 class indices. */
export type MetricsOption = 'auto' | readonly MetricName[];

/** Options shared by {@link trainEpoch} and {@link evaluate}. */
export interface PassOptions {
  /** Metrics besides the loss (default 'auto'). */
  metrics?: MetricsOption;
  /** Custom forward (default: `model.forward(batch[0])`). */
  forward?: ForwardFn;
  /** A progress bar to advance once per batch. */
  progress?: ProgressBar;
  /** Stop after this many batches (smoke runs). */
  maxBatches?: number;
}

/** Options of {@link trainEpoch}. */
export interface TrainEpochOptions extends PassOptions {
  loss: LossLike;
  optimizer: OptimizerLike;
  /** Clip the total L2 norm of the gradients to this value before each step. */
  clipGradNorm?: number;
  /** Stepped after every optimizer step. */
  scheduler?: StepScheduler;
  onBatchStart?: (index: number) => void | Promise<void>;
  onBatchEnd?: BatchHook;
  /** Checked after each batch; returning true ends the epoch early. */
  shouldStop?: () => boolean;
}

/** Options of {@link evaluate}. */
export interface EvaluateOptions extends PassOptions {
  /** Without a loss only the metrics are computed (loss is NaN). */
  loss?: LossLike;
}

/** The result of one pass. Means are weighted by the number of targets per batch. */
export interface PassResult {
  loss: number;
  accuracy?: number;
  perplexity?: number;
  /** Targets seen. */
  samples: number;
  batches: number;
  seconds: number;
  samplesPerSec: number;
}

/** {@link trainEpoch}'s result: the pass result plus per-batch losses and the mean grad norm. */
export interface TrainEpochResult extends PassResult {
  /** The loss of every batch, in order. */
  batchLosses: number[];
  /** Mean gradient norm before clipping (only with clipGradNorm). */
  gradNorm?: number;
}

/** The default forward: `model.forward(batch[0])`, first element of an array result. */
export function defaultForward(model: TrainableModel, batch: Batch): Tensor {
  const out = (model.forward as (x: Tensor) => unknown)(batch[0]!);
  const y = Array.isArray(out) ? out[0] : out;
  if (!(y instanceof Tensor)) throw typeError('forward', 'the model to return a Tensor (or an array starting with one)', fmt(y));
  return y;
}

/** Calls a loss function or loss module. */
export function callLoss(loss: LossLike, output: Tensor, target: Tensor): Tensor {
  const l = typeof loss === 'function' ? loss(output, target) : loss.forward(output, target);
  if (!(l instanceof Tensor)) throw typeError('loss', 'a Tensor', fmt(l));
  return l;
}

/** Checks `loader` is iterable and returns its length (NaN when unknown). */
export function loaderLength(fn: string, name: string, loader: unknown): number {
  if (loader === null || typeof loader !== 'object' || (typeof (loader as Iterable<unknown>)[Symbol.iterator] !== 'function' && typeof (loader as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function')) {
    throw typeError(fn, `${name} to be an iterable of batches [input, target] (e.g. a DataLoader)`, fmt(loader));
  }
  const n = (loader as { length?: unknown }).length;
  return typeof n === 'number' && n >= 0 ? n : NaN;
}

/**
 * Whether dead tensors' memory comes back only when the event loop runs (the wasm backend
 * without forced collections, i.e. in browsers): then each batch ends with a macrotask yield, so
 * the FinalizationRegistry's callbacks can return the blocks (a promise that is already resolved
 * is not enough: its continuation runs before any task).
 */
function mustYield(): boolean {
  return wasmRuntime !== null && !wasmRuntime.heap.syncReclaim;
}

const macrotask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** Runs `body` on each batch (sync iteration when possible), stopping after `max` batches or when body returns false. */
async function forEachBatch(loader: Batches, max: number, body: (batch: Batch, i: number) => boolean | Promise<boolean>): Promise<void> {
  let i = 0;
  if (max <= 0) return;
  const yieldEach = mustYield();
  if (typeof (loader as Iterable<Batch>)[Symbol.iterator] === 'function') {
    for (const b of loader as Iterable<Batch>) {
      let r = body(b, i++);
      if (r instanceof Promise) r = await r;
      if (yieldEach) await macrotask();
      if (!r || i >= max) break;
    }
  } else {
    for await (const b of loader as AsyncIterable<Batch>) {
      const r = await body(b, i++);
      if (yieldEach) await macrotask();
      if (!r || i >= max) break;
    }
  }
}

function checkBatch(fn: string, b: unknown, i: number): Batch {
  if (!Array.isArray(b) || !(b[0] instanceof Tensor) || !(b[1] instanceof Tensor)) {
    throw typeError(fn, `batch ${i} to be [input, target] Tensors`, Array.isArray(b) ? `[${b.map(fmt).join(', ')}]` : fmt(b));
  }
  return b as Batch;
}

function checkMaxBatches(fn: string, v: unknown): number {
  if (v === undefined) return Infinity;
  if (typeof v !== 'number' || !(v >= 0)) throw rangeError(fn, 'maxBatches to be a non-negative number', fmt(v));
  return v;
}

function metricSet(fn: string, m: MetricsOption | undefined): { auto: boolean; acc: boolean; ppl: boolean } {
  if (m === undefined || m === 'auto') return { auto: true, acc: false, ppl: false };
  if (!Array.isArray(m)) throw typeError(fn, "metrics to be 'auto' or an array of 'accuracy' | 'perplexity'", fmt(m));
  for (const k of m) if (k !== 'accuracy' && k !== 'perplexity') throw rangeError(fn, "metrics from 'accuracy', 'perplexity'", fmt(k));
  return { auto: false, acc: m.includes('accuracy'), ppl: m.includes('perplexity') };
}

/** Whether 'auto' metrics compute accuracy for this output / target pair. */
function looksLikeClassification(out: Tensor, y: Tensor): boolean {
  return y.dtype === 'int32' && out.ndim === y.ndim + 1 && out.shape.slice(0, -1).every((n, i) => n === y.shape[i]);
}

/** Accumulates the loss and metrics of a pass. */
class PassAccumulator {
  private lossSum = 0;
  private lossCount = 0;
  private correct = 0;
  private accCount = 0;
  samples = 0;
  batches = 0;
  private readonly t0 = now();
  private readonly ms: { auto: boolean; acc: boolean; ppl: boolean };

  constructor(fn: string, metrics: MetricsOption | undefined, private readonly hasLoss: boolean) {
    this.ms = metricSet(fn, metrics);
  }

  add(out: Tensor, y: Tensor, loss: number): void {
    const n = y.size;
    this.samples += n;
    this.batches += 1;
    if (this.hasLoss) {
      this.lossSum += loss * n;
      this.lossCount += n;
    }
    if (this.ms.acc || (this.ms.auto && looksLikeClassification(out, y))) {
      this.correct += correctCount(out, y);
      this.accCount += n;
    }
  }

  /** The running values for a progress bar. */
  running(): { loss?: number; acc?: string } {
    const r: { loss?: number; acc?: string } = {};
    if (this.lossCount > 0) r.loss = this.lossSum / this.lossCount;
    if (this.accCount > 0) r.acc = `${((100 * this.correct) / this.accCount).toFixed(2)}%`;
    return r;
  }

  result(): PassResult {
    const seconds = (now() - this.t0) / 1000;
    const loss = this.lossCount > 0 ? this.lossSum / this.lossCount : NaN;
    const r: PassResult = { loss, samples: this.samples, batches: this.batches, seconds, samplesPerSec: seconds > 0 ? this.samples / seconds : 0 };
    if (this.accCount > 0) r.accuracy = this.correct / this.accCount;
    else if (this.ms.acc) r.accuracy = NaN;
    if (this.ms.ppl) r.perplexity = perplexity(loss);
    return r;
  }
}

function checkModel(fn: string, model: unknown): TrainableModel {
  const m = model as Partial<TrainableModel> | null;
  if (!m || typeof m !== 'object' || typeof m.forward !== 'function' || typeof m.train !== 'function' || typeof m.parameters !== 'function') {
    throw typeError(fn, 'a model with forward(), train() and parameters() (e.g. an nn.Module)', fmt(model));
  }
  return model as TrainableModel;
}

function checkLoss(fn: string, loss: unknown, required: boolean): LossLike | undefined {
  if (loss === undefined && !required) return undefined;
  if (typeof loss === 'function') return loss as LossLike;
  if (loss && typeof loss === 'object' && typeof (loss as { forward?: unknown }).forward === 'function') return loss as LossLike;
  throw typeError(fn, 'loss to be a function (output, target) => Tensor or a loss module', fmt(loss));
}

/**
 * Trains `model` for one pass over `loader`: for each batch, zero the gradients, forward, loss,
 * backward, clip (optional), optimizer step, scheduler step (optional). The model is put in
 * training mode. Returns the mean loss and metrics over the pass.
 *
 * @example
 * const r = await nd.train.trainEpoch(model, loader, { loss: new nd.nn.CrossEntropyLoss(), optimizer });
 * console.log(r.loss, r.accuracy, r.samplesPerSec);
 */
export async function trainEpoch(model: TrainableModel, loader: Batches, opts: TrainEpochOptions): Promise<TrainEpochResult> {
  const fn = 'trainEpoch';
  checkModel(fn, model);
  const total = loaderLength(fn, 'loader', loader);
  if (opts === null || typeof opts !== 'object') throw typeError(fn, 'options {loss, optimizer, ...}', fmt(opts));
  const lossFn = checkLoss(fn, opts.loss, true)!;
  const opt = opts.optimizer;
  if (!opt || typeof opt.zeroGrad !== 'function' || typeof opt.step !== 'function') throw typeError(fn, 'optimizer with zeroGrad() and step()', fmt(opt));
  const clip = opts.clipGradNorm;
  if (clip !== undefined && (typeof clip !== 'number' || !(clip > 0))) throw rangeError(fn, 'clipGradNorm to be a positive number', fmt(clip));
  const max = checkMaxBatches(fn, opts.maxBatches);
  const forward = opts.forward ?? defaultForward;
  const acc = new PassAccumulator(fn, opts.metrics, true);
  const batchLosses: number[] = [];
  const params = clip !== undefined ? model.parameters() : [];
  let normSum = 0;
  model.train(true);

  await forEachBatch(loader, max, async (raw, i) => {
    const batch = checkBatch(fn, raw, i);
    if (opts.onBatchStart) await opts.onBatchStart(i);
    opt.zeroGrad();
    const out = forward(model, batch);
    const lossT = callLoss(lossFn, out, batch[1]!);
    lossT.backward();
    let gradNorm: number | undefined;
    if (clip !== undefined) {
      gradNorm = clipGradNorm_(params, clip).item();
      normSum += gradNorm;
    }
    opt.step();
    opts.scheduler?.step();
    const loss = lossT.item();
    batchLosses.push(loss);
    acc.add(out, batch[1]!, loss);
    const samples = batch[1]!.size;
    opts.progress?.tick(1, acc.running(), samples);
    if (opts.onBatchEnd) {
      const info: BatchInfo = { index: i, total, loss, samples };
      if (gradNorm !== undefined) info.gradNorm = gradNorm;
      await opts.onBatchEnd(info);
    }
    return !(opts.shouldStop?.() ?? false);
  });

  const r: TrainEpochResult = { ...acc.result(), batchLosses };
  if (clip !== undefined && r.batches > 0) r.gradNorm = normSum / r.batches;
  return r;
}

/**
 * Evaluates `model` on `loader` in eval mode without building a graph; the model's previous
 * mode is restored afterwards. Returns the mean loss (when a loss is given) and metrics.
 *
 * @example
 * const { loss, accuracy } = await nd.train.evaluate(model, testLoader, { loss: new nd.nn.CrossEntropyLoss() });
 */
export async function evaluate(model: TrainableModel, loader: Batches, opts: EvaluateOptions = {}): Promise<PassResult> {
  const fn = 'evaluate';
  checkModel(fn, model);
  loaderLength(fn, 'loader', loader);
  if (opts === null || typeof opts !== 'object') throw typeError(fn, 'options {loss?, metrics?, ...}', fmt(opts));
  const lossFn = checkLoss(fn, opts.loss, false);
  const max = checkMaxBatches(fn, opts.maxBatches);
  const forward = opts.forward ?? defaultForward;
  const acc = new PassAccumulator(fn, opts.metrics, lossFn !== undefined);
  const wasTraining = model.training;
  model.train(false);
  try {
    await forEachBatch(loader, max, (raw, i) => {
      const batch = checkBatch(fn, raw, i);
      noGrad(() => {
        const out = forward(model, batch);
        const loss = lossFn ? callLoss(lossFn, out, batch[1]!).item() : NaN;
        acc.add(out, batch[1]!, loss);
      });
      opts.progress?.tick(1, acc.running(), batch[1]!.size);
      return true;
    });
  } finally {
    model.train(wasTraining);
  }
  return acc.result();
}
