/** ReduceLROnPlateau: lowers the lr when a metric stops improving. */
import { Tensor } from '../autograd/tensor.js';
import { Optimizer } from './optimizer.js';
import { exportState, importState, perGroup, type AnyOptimizer, type Scheduler, type SchedulerStateDict } from './lr_scheduler.js';
import { rangeError, typeError } from '../errors.js';

/** ReduceLROnPlateau options (PyTorch's defaults). */
export interface PlateauOptions {
  /** 'min' (default): the metric should fall; 'max': it should rise. */
  mode?: 'min' | 'max';
  /** New lr = lr * factor (default 0.1; must be < 1). */
  factor?: number;
  /** Epochs without improvement tolerated before reducing (default 10). */
  patience?: number;
  /** Minimum change that counts as an improvement (default 1e-4). */
  threshold?: number;
  /** 'rel' (default): best * (1 -/+ threshold); 'abs': best -/+ threshold. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** Lower bound of the lr, one for all groups or one per group (default 0). */
  minLr?: number | number[];
  /** Reductions smaller than eps are skipped (default 1e-8). */
  eps?: number;
}

/**
 * Multiplies every group's lr by `factor` when the metric passed to `step(metric)` has not
 * improved for more than `patience` epochs (PyTorch 1.13 semantics, including cooldown and minLr).
 *
 * @example
 * const sched = new nd.optim.ReduceLROnPlateau(opt, { mode: 'min', factor: 0.5, patience: 5 });
 * for (const epoch of epochs) { train(); sched.step(validationLoss); }
 */
export class ReduceLROnPlateau implements Scheduler {
  readonly optimizer: AnyOptimizer;
  mode: 'min' | 'max';
  factor: number;
  patience: number;
  threshold: number;
  thresholdMode: 'rel' | 'abs';
  cooldown: number;
  cooldownCounter = 0;
  minLrs: number[];
  eps: number;
  /** The best metric so far (Infinity / -Infinity before the first step). */
  best: number;
  numBadEpochs = 0;
  lastEpoch = 0;
  lastLr: number[];

  constructor(optimizer: AnyOptimizer, opts: PlateauOptions = {}) {
    const name = 'ReduceLROnPlateau';
    if (!(optimizer instanceof Optimizer)) throw typeError(name, 'an Optimizer', String(optimizer));
    const num = (k: string, v: unknown, ok: (x: number) => boolean, expected: string): number => {
      if (typeof v !== 'number') throw typeError(name, `${k} must be a number`, String(v));
      if (!ok(v)) throw rangeError(name, `${k} must be ${expected}`, String(v));
      return v;
    };
    const mode = opts.mode ?? 'min';
    if (mode !== 'min' && mode !== 'max') throw typeError(name, "mode must be 'min' or 'max'", String(mode));
    const thresholdMode = opts.thresholdMode ?? 'rel';
    if (thresholdMode !== 'rel' && thresholdMode !== 'abs') throw typeError(name, "thresholdMode must be 'rel' or 'abs'", String(thresholdMode));
    this.optimizer = optimizer;
    this.mode = mode;
    this.thresholdMode = thresholdMode;
    this.factor = num('factor', opts.factor ?? 0.1, (x) => x >= 0 && x < 1, 'in [0, 1)');
    this.patience = num('patience', opts.patience ?? 10, (x) => Number.isInteger(x) && x >= 0, 'a non-negative integer');
    this.threshold = num('threshold', opts.threshold ?? 1e-4, (x) => x >= 0, '>= 0');
    this.cooldown = num('cooldown', opts.cooldown ?? 0, (x) => Number.isInteger(x) && x >= 0, 'a non-negative integer');
    this.minLrs = perGroup(name, 'minLr', optimizer, opts.minLr ?? 0);
    this.eps = num('eps', opts.eps ?? 1e-8, (x) => x >= 0, '>= 0');
    this.best = mode === 'min' ? Infinity : -Infinity;
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  /** Whether `a` improves on `best` by more than the threshold. */
  isBetter(a: number, best: number): boolean {
    const t = this.threshold;
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? a < best * (1 - t) : a < best - t;
    return this.thresholdMode === 'rel' ? a > best * (1 + t) : a > best + t;
  }

  /** Records one epoch's metric (a number or a one-element Tensor) and reduces the lr if it plateaued. */
  step(metric: number | Tensor): void {
    const current = metric instanceof Tensor ? metric.item() : metric;
    if (typeof current !== 'number') throw typeError('ReduceLROnPlateau', 'metric must be a number or a one-element Tensor', String(metric));
    this.lastEpoch++;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs++;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const old = g.lr;
        const next = Math.max(old * this.factor, this.minLrs[i]!);
        if (old - next > this.eps) g.lr = next;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** The scheduler's counters and options (best may be +-Infinity). */
  stateDict(): SchedulerStateDict {
    return exportState(this, ['optimizer']);
  }

  loadStateDict(dict: SchedulerStateDict): void {
    importState(this, dict, 'ReduceLROnPlateau', ['optimizer']);
  }
}
