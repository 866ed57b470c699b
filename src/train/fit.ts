/**
 * `fit`: the epoch loop around {@link trainEpoch} and {@link evaluate}, with callbacks, LR
 * scheduling, early stopping (a callback), gradient clipping, a progress bar, and, with `outDir`
 * (Node), a JSONL metrics log, an SVG plot and per-epoch checkpoints that `resume` continues from.
 *
 * A small trainer layer, not a framework: everything it does is available piecewise
 * (trainEpoch, evaluate, ProgressBar, plotHistory, nd.saveCheckpoint).
 */
import { fmt, rangeError, typeError } from '../errors.js';
import { defaultGenerator } from '../random.js';
import { ReduceLROnPlateau } from '../optim/plateau.js';
import { loadCheckpoint, saveCheckpoint, type GeneratorLike, type ModelLike, type StatefulLike } from '../io/checkpoint.js';
import { defaultMode, type Callback, type EpochLog, type FitContext, type FitResult } from './callbacks.js';
import {
  evaluate,
  loaderLength,
  trainEpoch,
  type Batches,
  type ForwardFn,
  type LossLike,
  type MetricsOption,
  type OptimizerLike,
  type PassResult,
  type TrainableModel,
} from './loop.js';
import { now } from './metrics.js';
import { defaultStream, formatDuration, ProgressBar, type OutputStream } from './progress.js';
import { plotHistory, type CurvePoint } from './plot.js';
import { appendText, copyFile, ensureDir, joinPath, toJsonl, writeText } from './files.js';

/** A scheduler fit can step: per epoch (default) or per batch; ReduceLROnPlateau gets the monitored value. */
export interface SchedulerLike {
  step(...args: never[]): unknown;
  stateDict?(): unknown;
  loadStateDict?(state: unknown): unknown;
}

/** Options of {@link fit}. */
export interface FitOptions {
  model: TrainableModel;
  trainLoader: Batches;
  /** Evaluated after every epoch (valLoss, valAccuracy, ...). */
  valLoader?: Batches;
  loss: LossLike;
  optimizer: OptimizerLike;
  scheduler?: SchedulerLike;
  /** When to step the scheduler: after each 'epoch' (default) or each 'batch'. */
  schedulerInterval?: 'epoch' | 'batch';
  /** Total number of epochs (a resumed run continues up to this number). */
  epochs: number;
  callbacks?: readonly Callback[];
  /** Metrics besides the loss (default 'auto': accuracy for classifiers). */
  metrics?: MetricsOption;
  /** Clip the total gradient L2 norm to this value before each step. */
  clipGradNorm?: number;
  forward?: ForwardFn;
  /** At most this many training batches per epoch (smoke runs). */
  maxBatches?: number;
  /** At most this many validation batches per epoch. */
  maxValBatches?: number;
  /**
   * true (default): a progress bar on a TTY and one line per epoch otherwise, on stdout (the
   * console in browsers); a stream: the same on that stream; false: silent.
   */
  progress?: boolean | OutputStream;
  /** Node: write metrics.jsonl, plot.svg and checkpoints/ here (created if missing). */
  outDir?: string;
  /** Save checkpoints/last.safetensors every this many epochs and after the last (default 1; 0: never). */
  checkpointEvery?: number;
  /** 'last' (default): keep last + best; 'all': also keep checkpoints/epoch-<n>.safetensors. */
  keepCheckpoints?: 'last' | 'all';
  /** The EpochLog field that decides the best epoch (default valLoss, or trainLoss without a valLoader). */
  monitor?: string;
  /** 'min' or 'max' for monitor (default: 'max' for accuracies). */
  mode?: 'min' | 'max';
  /** A checkpoint written by fit to continue from (model, optimizer, scheduler, RNG, history, callbacks). */
  resume?: string;
  /** The generator saved in checkpoints (default nd.defaultGenerator; null: none). */
  generator?: GeneratorLike | null;
  /** More generators to save (default: the loaders' own shuffling generators, e.g. a DataLoader's `generator` option). */
  generators?: readonly GeneratorLike[];
  /** Anything JSON-like to store in checkpoints as `extra.meta` (e.g. the model name and config). */
  meta?: unknown;
  /** Title of plot.svg. */
  title?: string;
}

/** Where fit keeps its own state in a checkpoint's `extra`. */
interface FitState {
  history: EpochLog[];
  curve: CurvePoint[];
  best: FitResult['best'];
  callbacks: unknown[];
  generators: number[][];
}

/** Curve points per epoch in the plot. */
const CURVE_POINTS = 20;

function isGenerator(g: unknown): g is GeneratorLike {
  return !!g && typeof g === 'object' && typeof (g as GeneratorLike).getState === 'function' && typeof (g as GeneratorLike).setState === 'function';
}

function isStateful(o: unknown): o is StatefulLike {
  return !!o && typeof o === 'object' && typeof (o as StatefulLike).stateDict === 'function' && typeof (o as StatefulLike).loadStateDict === 'function';
}

function isModelLike(m: unknown): m is ModelLike {
  return isStateful(m);
}

/** Downsamples the batch losses of epoch `epoch` to at most CURVE_POINTS chunk means. */
function curveOf(epoch: number, losses: readonly number[]): CurvePoint[] {
  const n = losses.length;
  if (n === 0) return [];
  const chunks = Math.min(CURVE_POINTS, n);
  const out: CurvePoint[] = [];
  for (let c = 0; c < chunks; c++) {
    const a = Math.floor((c * n) / chunks);
    const b = Math.floor(((c + 1) * n) / chunks);
    let s = 0;
    for (let i = a; i < b; i++) s += losses[i]!;
    out.push({ x: epoch - 1 + b / n, y: s / (b - a) });
  }
  return out;
}

function pct(v: number | undefined): string {
  return v === undefined ? '' : Number.isFinite(v) ? `${(100 * v).toFixed(2)}%` : 'nan';
}

function num(v: number | undefined): string {
  return v === undefined ? '' : Number.isFinite(v) ? v.toFixed(4) : String(v).toLowerCase();
}

/** The one-line summary of an epoch (printed per epoch; the README shows it). */
export function formatEpochLog(log: EpochLog, epochs: number): string {
  const w = String(epochs).length;
  const parts = [`epoch ${String(log.epoch).padStart(w)}/${epochs}`, `loss ${num(log.trainLoss)}`];
  if (log.trainAccuracy !== undefined) parts.push(`acc ${pct(log.trainAccuracy)}`);
  if (log.trainPerplexity !== undefined) parts.push(`ppl ${num(log.trainPerplexity)}`);
  if (log.valLoss !== undefined && !Number.isNaN(log.valLoss)) parts.push(`val_loss ${num(log.valLoss)}`);
  if (log.valAccuracy !== undefined) parts.push(`val_acc ${pct(log.valAccuracy)}`);
  if (log.valPerplexity !== undefined) parts.push(`val_ppl ${num(log.valPerplexity)}`);
  if (log.lr !== undefined) parts.push(`lr ${log.lr.toExponential(2)}`);
  parts.push(`${Math.round(log.samplesPerSec)} samples/s`, formatDuration(log.seconds));
  return parts.join('  ');
}

function epochLog(epoch: number, lr: number | undefined, tr: PassResult & { gradNorm?: number }, val: PassResult | null, seconds: number): EpochLog {
  // built in reading order: it is also the key order of metrics.jsonl
  const log = { epoch } as EpochLog;
  if (lr !== undefined) log.lr = lr;
  log.trainLoss = tr.loss;
  if (tr.accuracy !== undefined) log.trainAccuracy = tr.accuracy;
  if (tr.perplexity !== undefined) log.trainPerplexity = tr.perplexity;
  if (val) {
    log.valLoss = val.loss;
    if (val.accuracy !== undefined) log.valAccuracy = val.accuracy;
    if (val.perplexity !== undefined) log.valPerplexity = val.perplexity;
  }
  if (tr.gradNorm !== undefined) log.gradNorm = tr.gradNorm;
  log.samples = tr.samples;
  log.samplesPerSec = tr.samplesPerSec;
  log.seconds = seconds;
  return log;
}

function checkOptions(fn: string, o: FitOptions): void {
  if (o === null || typeof o !== 'object') throw typeError(fn, 'options {model, trainLoader, loss, optimizer, epochs, ...}', fmt(o));
  if (!Number.isInteger(o.epochs) || o.epochs < 0) throw rangeError(fn, 'epochs to be a non-negative integer', fmt(o.epochs));
  loaderLength(fn, 'trainLoader', o.trainLoader);
  if (o.valLoader !== undefined) loaderLength(fn, 'valLoader', o.valLoader);
  if (o.schedulerInterval !== undefined && o.schedulerInterval !== 'epoch' && o.schedulerInterval !== 'batch') {
    throw rangeError(fn, "schedulerInterval 'epoch' or 'batch'", fmt(o.schedulerInterval));
  }
  if (o.scheduler !== undefined && (o.scheduler === null || typeof o.scheduler.step !== 'function')) throw typeError(fn, 'scheduler with step()', fmt(o.scheduler));
  if (o.callbacks !== undefined && !Array.isArray(o.callbacks)) throw typeError(fn, 'callbacks to be an array', fmt(o.callbacks));
  const every = o.checkpointEvery;
  if (every !== undefined && (!Number.isInteger(every) || every < 0)) throw rangeError(fn, 'checkpointEvery to be a non-negative integer', fmt(every));
  if (o.keepCheckpoints !== undefined && o.keepCheckpoints !== 'last' && o.keepCheckpoints !== 'all') throw rangeError(fn, "keepCheckpoints 'last' or 'all'", fmt(o.keepCheckpoints));
  if (o.outDir !== undefined && (typeof o.outDir !== 'string' || o.outDir.length === 0)) throw typeError(fn, 'outDir to be a directory path', fmt(o.outDir));
  if (o.resume !== undefined && (typeof o.resume !== 'string' || o.resume.length === 0)) throw typeError(fn, 'resume to be a checkpoint path', fmt(o.resume));
  if (o.mode !== undefined && o.mode !== 'min' && o.mode !== 'max') throw rangeError(fn, "mode 'min' or 'max'", fmt(o.mode));
  if (o.generator !== undefined && o.generator !== null && !isGenerator(o.generator)) throw typeError(fn, 'generator with getState() and setState()', fmt(o.generator));
  if (o.resume !== undefined && !isModelLike(o.model)) throw typeError(fn, 'a model with stateDict() and loadStateDict() to resume', fmt(o.model));
}

/**
 * Trains for `epochs` epochs: each epoch runs {@link trainEpoch} on `trainLoader`, then
 * {@link evaluate} on `valLoader`, steps the scheduler, appends an {@link EpochLog} to the history,
 * calls the callbacks, and with `outDir` appends to `metrics.jsonl`, redraws `plot.svg` and saves
 * `checkpoints/last.safetensors` (and `best.safetensors` when the monitored value improves).
 * Checkpoints hold the model, optimizer, scheduler, RNG state, history and callback state, so
 * `resume` continues exactly where the run stopped (the same batches, dropout masks and updates).
 *
 * @example
 * const result = await nd.train.fit({
 *   model, trainLoader, valLoader, epochs: 10,
 *   loss: new nd.nn.CrossEntropyLoss(),
 *   optimizer: new nd.optim.Adam(model.parameters(), { lr: 1e-3 }),
 *   callbacks: [new nd.train.EarlyStopping({ patience: 3 })],
 *   outDir: 'out',
 * });
 * console.log(result.history.at(-1)?.valAccuracy);
 */
export async function fit(opts: FitOptions): Promise<FitResult> {
  const fn = 'fit';
  checkOptions(fn, opts);
  const t0 = now();
  const { model, optimizer, scheduler, epochs } = opts;
  const callbacks = opts.callbacks ?? [];
  const interval = opts.schedulerInterval ?? 'epoch';
  const monitor = opts.monitor ?? (opts.valLoader ? 'valLoss' : 'trainLoss');
  const mode = opts.mode ?? defaultMode(monitor);
  const stream = opts.progress === false ? null : opts.progress === true || opts.progress === undefined ? defaultStream() : opts.progress;
  const every = opts.checkpointEvery ?? 1;
  const generator = opts.generator === undefined ? defaultGenerator : opts.generator;
  const extraGens: GeneratorLike[] = [];
  type WithGen = { generator?: unknown; sampler?: { generator?: unknown } | null } | undefined;
  const candidates = opts.generators ?? [opts.trainLoader, opts.valLoader].map((l) => (l as WithGen)?.generator ?? (l as WithGen)?.sampler?.generator);
  for (const g of candidates) if (isGenerator(g) && g !== generator && !extraGens.includes(g)) extraGens.push(g);

  const history: EpochLog[] = [];
  let curve: CurvePoint[] = [];
  let best: FitResult['best'] = null;
  let epoch = 0;
  let stopReason: string | null = null;
  const ctx: FitContext = {
    model,
    optimizer,
    scheduler,
    epochs,
    get epoch() {
      return epoch;
    },
    history,
    stop(reason: string) {
      stopReason ??= reason;
    },
    get stopReason() {
      return stopReason;
    },
  };
  const say = (line: string) => stream?.write(`${line}\n`);

  // ---- resume
  if (opts.resume !== undefined) {
    const info = await loadCheckpoint(opts.resume, {
      model: model as unknown as ModelLike,
      ...(isStateful(optimizer) ? { optimizer } : {}),
      ...(isStateful(scheduler) ? { scheduler } : {}),
      ...(generator ? { generator } : {}),
    });
    const st = ((info.extra ?? {}) as { fit?: FitState }).fit;
    if (!st || !Array.isArray(st.history)) throw typeError(fn, `a checkpoint written by fit (extra.fit) in resume ${JSON.stringify(opts.resume)}`, 'none');
    history.push(...st.history);
    curve = Array.isArray(st.curve) ? st.curve : [];
    best = st.best ?? null;
    callbacks.forEach((cb, i) => {
      if (cb.loadStateDict && st.callbacks?.[i] !== undefined && st.callbacks[i] !== null) cb.loadStateDict(st.callbacks[i]);
    });
    extraGens.forEach((g, i) => {
      const s = st.generators?.[i];
      if (s) g.setState(s);
    });
    epoch = info.epoch ?? history.length;
    say(`resumed from ${opts.resume} at epoch ${epoch}`);
  }

  // ---- output files
  const files: FitResult['files'] = {};
  const ckDir = opts.outDir !== undefined ? joinPath(opts.outDir, 'checkpoints') : '';
  if (opts.outDir !== undefined) {
    await ensureDir(fn, ckDir);
    files.metrics = joinPath(opts.outDir, 'metrics.jsonl');
    files.plot = joinPath(opts.outDir, 'plot.svg');
    await writeText(fn, files.metrics, toJsonl(history));
  }
  const saveTo = async (path: string) => {
    const state: FitState = {
      history,
      curve,
      best,
      callbacks: callbacks.map((cb) => (cb.stateDict ? cb.stateDict() : null)),
      generators: extraGens.map((g) => [...g.getState()]),
    };
    await saveCheckpoint(path, {
      model: model as unknown as ModelLike,
      ...(isStateful(optimizer) ? { optimizer } : {}),
      ...(isStateful(scheduler) ? { scheduler } : {}),
      ...(generator ? { generator } : {}),
      epoch,
      extra: { meta: opts.meta ?? null, fit: state },
    });
  };

  for (const cb of callbacks) await cb.onFitStart?.(ctx);
  const trainTotal = loaderLength(fn, 'trainLoader', opts.trainLoader);
  const valTotal = opts.valLoader ? loaderLength(fn, 'valLoader', opts.valLoader) : 0;
  while (epoch < epochs && stopReason === null) {
    epoch += 1;
    const te = now();
    for (const cb of callbacks) await cb.onEpochStart?.(epoch, ctx);
    const lr = optimizer.paramGroups?.[0]?.lr;
    const label = `epoch ${String(epoch).padStart(String(epochs).length)}/${epochs}`;
    const bar = stream ? new ProgressBar({ total: Math.min(trainTotal, opts.maxBatches ?? Infinity), label, stream }) : undefined;
    const tr = await trainEpoch(model, opts.trainLoader, {
      loss: opts.loss,
      optimizer,
      ...(opts.metrics !== undefined ? { metrics: opts.metrics } : {}),
      ...(opts.clipGradNorm !== undefined ? { clipGradNorm: opts.clipGradNorm } : {}),
      ...(scheduler && interval === 'batch' ? { scheduler: scheduler as { step(): unknown } } : {}),
      ...(opts.forward ? { forward: opts.forward } : {}),
      ...(opts.maxBatches !== undefined ? { maxBatches: opts.maxBatches } : {}),
      ...(bar ? { progress: bar } : {}),
      onBatchStart: async (i) => {
        for (const cb of callbacks) await cb.onBatchStart?.(i, ctx);
      },
      onBatchEnd: async (info) => {
        for (const cb of callbacks) await cb.onBatchEnd?.(info, ctx);
      },
      shouldStop: () => stopReason !== null,
    });
    bar?.clear();
    let val: PassResult | null = null;
    if (opts.valLoader) {
      const vbar = stream ? new ProgressBar({ total: Math.min(valTotal, opts.maxValBatches ?? Infinity), label: `${label} val`, stream }) : undefined;
      val = await evaluate(model, opts.valLoader, {
        loss: opts.loss,
        ...(opts.metrics !== undefined ? { metrics: opts.metrics } : {}),
        ...(opts.forward ? { forward: opts.forward } : {}),
        ...(opts.maxValBatches !== undefined ? { maxBatches: opts.maxValBatches } : {}),
        ...(vbar ? { progress: vbar } : {}),
      });
      vbar?.clear();
    }
    const log = epochLog(epoch, lr, tr, val, (now() - te) / 1000);
    curve.push(...curveOf(epoch, tr.batchLosses));
    if (!Number.isFinite(tr.loss)) ctx.stop(`non-finite training loss (${tr.loss}) in epoch ${epoch}`);
    const value = log[monitor];
    if (scheduler && interval === 'epoch') {
      if (scheduler instanceof ReduceLROnPlateau) {
        if (typeof value !== 'number') throw rangeError(fn, `monitor ${JSON.stringify(monitor)} in the epoch log for ReduceLROnPlateau`, `fields ${Object.keys(log).join(', ')}`);
        scheduler.step(value);
      } else {
        scheduler.step();
      }
    }
    history.push(log);
    say(formatEpochLog(log, epochs));
    for (const cb of callbacks) await cb.onEpochEnd?.(log, ctx);
    let isBest = false;
    if (typeof value === 'number' && Number.isFinite(value) && (best === null || (mode === 'min' ? value < best.value : value > best.value))) {
      best = { monitor, value, epoch };
      isBest = true;
    }
    if (stopReason !== null) say(stopReason);

    if (opts.outDir !== undefined) {
      await appendText(fn, files.metrics!, toJsonl([log]));
      await writeText(fn, files.plot!, plotHistory(history, { curve, ...(opts.title ? { title: opts.title } : {}) }));
      const last = joinPath(ckDir, 'last.safetensors');
      const final = epoch === epochs || stopReason !== null;
      if (every > 0 && (epoch % every === 0 || final)) {
        await saveTo(last);
        files.lastCheckpoint = last;
        if (opts.keepCheckpoints === 'all') await copyFile(fn, last, joinPath(ckDir, `epoch-${epoch}.safetensors`));
        if (isBest) {
          const bestPath = joinPath(ckDir, 'best.safetensors');
          await copyFile(fn, last, bestPath);
          files.bestCheckpoint = bestPath;
        }
      } else if (every > 0 && isBest) {
        const bestPath = joinPath(ckDir, 'best.safetensors');
        await saveTo(bestPath);
        files.bestCheckpoint = bestPath;
      }
    }
  }

  const result: FitResult = { history, stopReason, best, seconds: (now() - t0) / 1000, files };
  for (const cb of callbacks) await cb.onFitEnd?.(result, ctx);
  return result;
}
