/**
 * Callbacks for {@link fit}: the hook interface, the per-epoch log record, and EarlyStopping.
 * Browser-safe.
 */
import { Tensor } from '../autograd/tensor.js';
import { noGrad } from '../autograd/mode.js';
import { fmt, rangeError, typeError } from '../errors.js';
import type { BatchInfo, OptimizerLike, TrainableModel } from './loop.js';

/**
 * One line of the training history (and of metrics.jsonl). `train*` fields describe the training
 * pass, `val*` the validation pass (present when fit has a valLoader); `lr` is the learning rate
 * of the first param group during the epoch. Callbacks may add their own numeric fields.
 */
export interface EpochLog {
  /** 1-based epoch number. */
  epoch: number;
  lr?: number;
  trainLoss: number;
  trainAccuracy?: number;
  trainPerplexity?: number;
  valLoss?: number;
  valAccuracy?: number;
  valPerplexity?: number;
  /** Mean gradient norm before clipping (with clipGradNorm). */
  gradNorm?: number;
  /** Training targets seen this epoch. */
  samples: number;
  /** Training throughput (targets per second). */
  samplesPerSec: number;
  /** Wall time of the epoch, validation included. */
  seconds: number;
  [key: string]: number | undefined;
}

/** What callbacks see: the objects being trained, the history so far, and a way to stop. */
export interface FitContext {
  readonly model: TrainableModel;
  readonly optimizer: OptimizerLike;
  readonly scheduler: unknown;
  /** Total epochs requested. */
  readonly epochs: number;
  /** The current 1-based epoch (0 before the first). */
  readonly epoch: number;
  /** Completed epochs (including those restored on resume). */
  readonly history: readonly EpochLog[];
  /** Ends training after the current batch (the epoch is still evaluated and logged). */
  stop(reason: string): void;
  /** Why training stopped early, or null. */
  readonly stopReason: string | null;
}

/** What {@link fit} returns. */
export interface FitResult {
  history: EpochLog[];
  /** Why training stopped before `epochs`, or null. */
  stopReason: string | null;
  /** Best value of the monitored metric and its epoch (when one was logged). */
  best: { monitor: string; value: number; epoch: number } | null;
  /** Wall time of this call. */
  seconds: number;
  /** Paths written (with outDir). */
  files: { metrics?: string; plot?: string; lastCheckpoint?: string; bestCheckpoint?: string };
}

/**
 * Training hooks, called in this order: onFitStart, then per epoch onEpochStart,
 * (onBatchStart, onBatchEnd) per batch, onEpochEnd (after validation), and finally onFitEnd.
 * Hooks may be async. A callback with `stateDict` / `loadStateDict` has its state saved in
 * checkpoints and restored on resume.
 */
export interface Callback {
  onFitStart?(ctx: FitContext): void | Promise<void>;
  onEpochStart?(epoch: number, ctx: FitContext): void | Promise<void>;
  onBatchStart?(index: number, ctx: FitContext): void | Promise<void>;
  onBatchEnd?(info: BatchInfo, ctx: FitContext): void | Promise<void>;
  onEpochEnd?(log: EpochLog, ctx: FitContext): void | Promise<void>;
  onFitEnd?(result: FitResult, ctx: FitContext): void | Promise<void>;
  stateDict?(): unknown;
  loadStateDict?(state: unknown): void;
}

/** 'min' for losses and perplexities, 'max' for accuracies (names containing "acc"). */
export function defaultMode(monitor: string): 'min' | 'max' {
  return /acc/i.test(monitor) ? 'max' : 'min';
}

/** Options of {@link EarlyStopping}. */
export interface EarlyStoppingOptions {
  /** The EpochLog field to watch (default 'valLoss'). */
  monitor?: string;
  /** 'min' or 'max' (default: 'max' for accuracies, else 'min'). */
  mode?: 'min' | 'max';
  /** Epochs without improvement before stopping (default 5). */
  patience?: number;
  /** Smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  /** Load the best epoch's weights back into the model when stopping (default false). */
  restoreBestWeights?: boolean;
}

/**
 * Stops training when the monitored metric has not improved for `patience` epochs.
 *
 * @example
 * await nd.train.fit({ ..., callbacks: [new nd.train.EarlyStopping({ monitor: 'valLoss', patience: 3 })] });
 */
export class EarlyStopping implements Callback {
  readonly monitor: string;
  readonly mode: 'min' | 'max';
  readonly patience: number;
  readonly minDelta: number;
  readonly restoreBestWeights: boolean;
  /** Best value so far (±Infinity before the first epoch). */
  best: number;
  /** Epoch of the best value (0: none yet). */
  bestEpoch = 0;
  /** Epochs since the last improvement. */
  wait = 0;
  /** The epoch at which it stopped training (0: it has not). */
  stoppedEpoch = 0;
  private bestWeights: Record<string, Tensor> | null = null;

  constructor(opts: EarlyStoppingOptions = {}) {
    const fn = 'EarlyStopping';
    if (opts === null || typeof opts !== 'object') throw typeError(fn, 'an options object', fmt(opts));
    this.monitor = opts.monitor ?? 'valLoss';
    if (typeof this.monitor !== 'string') throw typeError(fn, 'monitor to be an EpochLog field name', fmt(this.monitor));
    this.mode = opts.mode ?? defaultMode(this.monitor);
    if (this.mode !== 'min' && this.mode !== 'max') throw rangeError(fn, "mode 'min' or 'max'", fmt(this.mode));
    this.patience = opts.patience ?? 5;
    if (!Number.isInteger(this.patience) || this.patience < 0) throw rangeError(fn, 'patience to be a non-negative integer', fmt(this.patience));
    this.minDelta = opts.minDelta ?? 0;
    if (typeof this.minDelta !== 'number' || !(this.minDelta >= 0)) throw rangeError(fn, 'minDelta to be a non-negative number', fmt(this.minDelta));
    this.restoreBestWeights = opts.restoreBestWeights ?? false;
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  /** Whether `value` improves on the best so far by more than minDelta. */
  improves(value: number): boolean {
    if (Number.isNaN(value)) return false;
    return this.mode === 'min' ? value < this.best - this.minDelta : value > this.best + this.minDelta;
  }

  onEpochEnd(log: EpochLog, ctx: FitContext): void {
    const value = log[this.monitor];
    if (typeof value !== 'number') {
      throw rangeError('EarlyStopping', `monitor ${JSON.stringify(this.monitor)} in the epoch log${this.monitor.startsWith('val') ? ' (pass a valLoader to fit)' : ''}`, `fields ${Object.keys(log).join(', ')}`);
    }
    if (this.improves(value)) {
      this.best = value;
      this.bestEpoch = log.epoch;
      this.wait = 0;
      if (this.restoreBestWeights) {
        const sd = (ctx.model as unknown as { stateDict?: () => Record<string, Tensor> }).stateDict;
        if (typeof sd !== 'function') throw typeError('EarlyStopping', 'a model with stateDict() for restoreBestWeights', fmt(ctx.model));
        this.bestWeights = noGrad(() => {
          const out: Record<string, Tensor> = {};
          for (const [k, t] of Object.entries(sd.call(ctx.model))) out[k] = t.clone();
          return out;
        });
      }
      return;
    }
    this.wait += 1;
    if (this.wait >= this.patience) {
      this.stoppedEpoch = log.epoch;
      ctx.stop(`early stopping: ${this.monitor} did not improve for ${this.wait} epoch${this.wait === 1 ? '' : 's'} (best ${this.best.toPrecision(5)} at epoch ${this.bestEpoch})`);
      this.restore(ctx);
    }
  }

  private restore(ctx: FitContext): void {
    if (!this.restoreBestWeights || !this.bestWeights) return;
    (ctx.model as unknown as { loadStateDict(d: Record<string, Tensor>): unknown }).loadStateDict(this.bestWeights);
  }

  stateDict(): { best: number; bestEpoch: number; wait: number; stoppedEpoch: number } {
    return { best: this.best, bestEpoch: this.bestEpoch, wait: this.wait, stoppedEpoch: this.stoppedEpoch };
  }

  loadStateDict(state: unknown): void {
    const s = state as Record<string, unknown> | null;
    if (!s || typeof s !== 'object' || typeof s['best'] !== 'number' || typeof s['wait'] !== 'number') {
      throw typeError('EarlyStopping.loadStateDict', 'a state {best, bestEpoch, wait, stoppedEpoch}', fmt(state));
    }
    this.best = s['best'];
    this.bestEpoch = typeof s['bestEpoch'] === 'number' ? s['bestEpoch'] : 0;
    this.wait = s['wait'];
    this.stoppedEpoch = typeof s['stoppedEpoch'] === 'number' ? s['stoppedEpoch'] : 0;
  }
}

/**
 * A callback from plain functions.
 *
 * @example
 * new nd.train.LambdaCallback({ onEpochEnd: (log) => console.log(log.valAccuracy) });
 */
export class LambdaCallback implements Callback {
  constructor(hooks: Omit<Callback, 'stateDict' | 'loadStateDict'>) {
    Object.assign(this, hooks);
  }
}
export interface LambdaCallback extends Callback {}
