/**
 * Learning-rate schedulers with PyTorch 1.13's semantics: a scheduler sets every param group's
 * `lr` at construction (step 0) and at each `step()`; most use PyTorch's chainable (recursive)
 * form, so several schedulers can act on one optimizer, and `step(epoch)` uses the closed form
 * where PyTorch has one. Call `optimizer.step()` before `scheduler.step()`.
 *
 * State dicts are plain objects (numbers, arrays, strings, booleans) with snake_case keys; lambdas
 * are never stored.
 */
import { Optimizer, toCamel, type BaseHyper } from './optimizer.js';
import { toSnake } from '../nn/module.js';
import { rangeError, typeError } from '../errors.js';

/** Any optimizer (schedulers only read and write group hyperparameters). */
export type AnyOptimizer = Optimizer<BaseHyper>;

/** A scheduler state dict: plain values under snake_case keys. */
export type SchedulerStateDict = Record<string, unknown>;

/** What every scheduler offers. */
export interface Scheduler {
  readonly optimizer: AnyOptimizer;
  /** The lr of every group after the last step. */
  getLastLr(): number[];
  stateDict(): SchedulerStateDict;
  loadStateDict(dict: SchedulerStateDict): void;
}

/** Python's a % n (the sign of n). */
export function pyMod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/** Python's bisect.bisect_right on a sorted array. */
export function bisectRight(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x < sorted[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Deep copy of plain data (arrays and plain objects). */
export function copyPlain<T>(v: T): T {
  if (Array.isArray(v)) return v.map(copyPlain) as T;
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = copyPlain(x);
    return out as T;
  }
  return v;
}

/** Own data fields of `obj` except `exclude` (and functions) as a snake_case state dict. */
export function exportState(obj: object, exclude: readonly string[]): SchedulerStateDict {
  const out: SchedulerStateDict = {};
  for (const [k, v] of Object.entries(obj)) {
    if (exclude.includes(k) || typeof v === 'function') continue;
    out[toSnake(k)] = copyPlain(v);
  }
  return out;
}

/** Assigns a snake_case state dict to the matching own fields of `obj`; unknown keys are an error. */
export function importState(obj: object, dict: SchedulerStateDict, name: string, exclude: readonly string[]): void {
  if (dict === null || typeof dict !== 'object' || Array.isArray(dict)) throw typeError(`${name}.loadStateDict`, 'a state dict object', String(dict));
  const target = obj as Record<string, unknown>;
  const updates: [string, unknown][] = [];
  for (const [k, v] of Object.entries(dict)) {
    const key = toCamel(k);
    if (!Object.prototype.hasOwnProperty.call(target, key) || exclude.includes(key) || typeof target[key] === 'function') {
      throw rangeError(`${name}.loadStateDict`, `the keys of a ${name} state dict`, `unknown key ${k}`);
    }
    updates.push([key, copyPlain(v)]);
  }
  for (const [k, v] of updates) target[k] = v;
}

function checkOptimizer(name: string, optimizer: unknown): AnyOptimizer {
  if (!(optimizer instanceof Optimizer)) throw typeError(name, 'an Optimizer', String(optimizer));
  return optimizer;
}

/** Per-group values: one value for every group, or an array with one per group. */
export function perGroup(name: string, key: string, optimizer: AnyOptimizer, v: number | readonly number[]): number[] {
  const n = optimizer.paramGroups.length;
  const list = Array.isArray(v) ? [...(v as number[])] : new Array<number>(n).fill(v as number);
  if (Array.isArray(v) && v.length !== n) throw rangeError(name, `${n} values of ${key} (one per param group)`, `${v.length}`);
  for (const x of list) if (typeof x !== 'number' || Number.isNaN(x)) throw typeError(name, `${key} must be a number or an array of numbers`, String(x));
  return list;
}

function checkNumber(name: string, key: string, v: unknown, ok: (x: number) => boolean, expected: string): number {
  if (typeof v !== 'number') throw typeError(name, `${key} must be a number`, String(v));
  if (!ok(v)) throw rangeError(name, `${key} must be ${expected}`, String(v));
  return v;
}
const positiveInt = (name: string, key: string, v: unknown) => checkNumber(name, key, v, (x) => Number.isInteger(x) && x > 0, 'a positive integer');

/** Options every epoch-based scheduler takes. */
export interface SchedulerOptions {
  /** The index of the last epoch when resuming; -1 (default) starts from the groups' lr. */
  lastEpoch?: number;
}

/**
 * Base of the epoch-based schedulers (PyTorch's _LRScheduler): records `initialLr` on every group
 * (first construction), keeps `baseLrs`, `lastEpoch` and `stepCount`, and on `step()` writes
 * `getLr()` into the groups. Subclasses set their fields and then call `initialStep()`.
 */
export abstract class LRScheduler implements Scheduler {
  readonly optimizer: AnyOptimizer;
  /** Name for error messages. */
  readonly name: string;
  /** Each group's initial lr. */
  baseLrs: number[];
  /** Steps taken since construction (0 after construction). */
  lastEpoch: number;
  /** Calls of step() (PyTorch's _step_count). */
  stepCount = 0;
  /** Each group's lr after the last step. */
  lastLr: number[] = [];

  protected constructor(name: string, optimizer: AnyOptimizer, lastEpoch = -1) {
    this.name = name;
    this.optimizer = checkOptimizer(name, optimizer);
    if (!Number.isInteger(lastEpoch) || lastEpoch < -1) throw rangeError(name, 'lastEpoch must be an integer >= -1', String(lastEpoch));
    optimizer.paramGroups.forEach((g, i) => {
      if (lastEpoch === -1) g.initialLr ??= g.lr;
      else if (g.initialLr === undefined) {
        throw rangeError(name, `param group ${i} to have initialLr when resuming (lastEpoch ${lastEpoch})`, 'none');
      }
    });
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr as number);
    this.lastEpoch = lastEpoch;
  }

  /** The chainable form: the next lr of every group from the current ones. */
  protected abstract getLr(): number[];

  /** The closed form at `lastEpoch`, used by `step(epoch)` where PyTorch has one. */
  protected closedFormLr(): number[] | null {
    return null;
  }

  /** Resets the step count and takes the construction step (PyTorch's _initial_step). */
  initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /**
   * Advances one epoch (or jumps to `epoch`, PyTorch's deprecated form, using the closed form when
   * there is one) and writes the new lr into every group. A step that fails changes nothing.
   */
  step(epoch?: number): void {
    const saved = [this.lastEpoch, this.stepCount] as const;
    this.stepCount++;
    let values: number[];
    try {
      if (epoch === undefined) {
        this.lastEpoch++;
        values = this.getLr();
      } else {
        if (!Number.isInteger(epoch) || epoch < 0) throw rangeError(this.name, 'epoch must be a non-negative integer', String(epoch));
        this.lastEpoch = epoch;
        values = this.closedFormLr() ?? this.getLr();
      }
    } catch (e) {
      [this.lastEpoch, this.stepCount] = saved;
      throw e;
    }
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = values[i]!));
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The lr of every group after the last step. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** Field names left out of state dicts. */
  protected stateExclude(): string[] {
    return ['optimizer', 'name'];
  }

  /** The scheduler's state (everything but the optimizer and functions), snake_case keys. */
  stateDict(): SchedulerStateDict {
    return exportState(this, this.stateExclude());
  }

  /** Restores a state from {@link stateDict} (load the optimizer's state too). */
  loadStateDict(dict: SchedulerStateDict): void {
    importState(this, dict, this.name, this.stateExclude());
  }

  /** The groups' current lrs. */
  protected groupLrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }
}

// ---------------------------------------------------------------- step decays

/**
 * Multiplies the lr by `gamma` every `stepSize` epochs: lr = initialLr * gamma^floor(epoch/stepSize).
 *
 * @example
 * const sched = new nd.optim.StepLR(opt, 30, { gamma: 0.1 });
 */
export class StepLR extends LRScheduler {
  stepSize: number;
  gamma: number;
  constructor(optimizer: AnyOptimizer, stepSize: number, opts: SchedulerOptions & { gamma?: number } = {}) {
    super('StepLR', optimizer, opts.lastEpoch);
    this.stepSize = positiveInt('StepLR', 'stepSize', stepSize);
    this.gamma = checkNumber('StepLR', 'gamma', opts.gamma ?? 0.1, (x) => x >= 0, '>= 0');
    this.initialStep();
  }
  protected getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return this.groupLrs();
    return this.groupLrs().map((lr) => lr * this.gamma);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }
}

/**
 * Multiplies the lr by `gamma` at each milestone (a milestone listed twice multiplies twice).
 *
 * @example
 * const sched = new nd.optim.MultiStepLR(opt, [30, 80], { gamma: 0.1 });
 */
export class MultiStepLR extends LRScheduler {
  milestones: number[];
  gamma: number;
  constructor(optimizer: AnyOptimizer, milestones: readonly number[], opts: SchedulerOptions & { gamma?: number } = {}) {
    super('MultiStepLR', optimizer, opts.lastEpoch);
    if (!Array.isArray(milestones) || milestones.some((m) => !Number.isInteger(m))) {
      throw typeError('MultiStepLR', 'milestones must be an array of integers', String(milestones));
    }
    this.milestones = [...milestones].sort((a, b) => a - b);
    this.gamma = checkNumber('MultiStepLR', 'gamma', opts.gamma ?? 0.1, (x) => x >= 0, '>= 0');
    this.initialStep();
  }
  protected getLr(): number[] {
    const hits = this.milestones.filter((m) => m === this.lastEpoch).length;
    if (hits === 0) return this.groupLrs();
    return this.groupLrs().map((lr) => lr * this.gamma ** hits);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** bisectRight(this.milestones, this.lastEpoch));
  }
}

/**
 * Multiplies the lr by `gamma` every epoch: lr = initialLr * gamma^epoch.
 *
 * @example
 * const sched = new nd.optim.ExponentialLR(opt, 0.95);
 */
export class ExponentialLR extends LRScheduler {
  gamma: number;
  constructor(optimizer: AnyOptimizer, gamma: number, opts: SchedulerOptions = {}) {
    super('ExponentialLR', optimizer, opts.lastEpoch);
    this.gamma = checkNumber('ExponentialLR', 'gamma', gamma, (x) => x >= 0, '>= 0');
    this.initialStep();
  }
  protected getLr(): number[] {
    if (this.lastEpoch === 0) return this.groupLrs();
    return this.groupLrs().map((lr) => lr * this.gamma);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** this.lastEpoch);
  }
}

/**
 * Cosine annealing from the initial lr to `etaMin` over `tMax` epochs, with PyTorch's recursive
 * form (so it composes with other schedulers, and continues as a cosine wave past tMax):
 * lr_t = etaMin + (lr_{t-1} - etaMin) * (1 + cos(pi t/T)) / (1 + cos(pi (t-1)/T)).
 * Alone it equals the closed form etaMin + (initialLr - etaMin) * (1 + cos(pi t/T)) / 2.
 *
 * @example
 * const sched = new nd.optim.CosineAnnealingLR(opt, 100, { etaMin: 1e-5 });
 */
export class CosineAnnealingLR extends LRScheduler {
  tMax: number;
  etaMin: number;
  constructor(optimizer: AnyOptimizer, tMax: number, opts: SchedulerOptions & { etaMin?: number } = {}) {
    super('CosineAnnealingLR', optimizer, opts.lastEpoch);
    this.tMax = positiveInt('CosineAnnealingLR', 'tMax', tMax);
    this.etaMin = checkNumber('CosineAnnealingLR', 'etaMin', opts.etaMin ?? 0, (x) => x >= 0, '>= 0');
    this.initialStep();
  }
  protected getLr(): number[] {
    const { lastEpoch: e, tMax: T, etaMin } = this;
    if (e === 0) return this.groupLrs();
    if (this.stepCount === 1 && e > 0) {
      return this.baseLrs.map((b) => etaMin + ((b - etaMin) * (1 + Math.cos((e * Math.PI) / T))) / 2);
    }
    if (pyMod(e - 1 - T, 2 * T) === 0) {
      return this.optimizer.paramGroups.map((g, i) => g.lr + ((this.baseLrs[i]! - etaMin) * (1 - Math.cos(Math.PI / T))) / 2);
    }
    return this.groupLrs().map(
      (lr) => ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (lr - etaMin) + etaMin,
    );
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => this.etaMin + ((b - this.etaMin) * (1 + Math.cos((Math.PI * this.lastEpoch) / this.tMax))) / 2);
  }
}

/**
 * Scales the lr linearly from startFactor * initialLr to endFactor * initialLr over totalIters
 * epochs, then keeps it (defaults: 1/3 -> 1 over 5 epochs): a warmup, or a linear decay.
 *
 * @example
 * const warmup = new nd.optim.LinearLR(opt, { startFactor: 0.1, totalIters: 5 });
 */
export class LinearLR extends LRScheduler {
  startFactor: number;
  endFactor: number;
  totalIters: number;
  constructor(optimizer: AnyOptimizer, opts: SchedulerOptions & { startFactor?: number; endFactor?: number; totalIters?: number } = {}) {
    super('LinearLR', optimizer, opts.lastEpoch);
    this.startFactor = checkNumber('LinearLR', 'startFactor', opts.startFactor ?? 1 / 3, (x) => x > 0 && x <= 1, 'in (0, 1]');
    this.endFactor = checkNumber('LinearLR', 'endFactor', opts.endFactor ?? 1, (x) => x >= 0 && x <= 1, 'in [0, 1]');
    this.totalIters = positiveInt('LinearLR', 'totalIters', opts.totalIters ?? 5);
    this.initialStep();
  }
  protected getLr(): number[] {
    const { lastEpoch: e, startFactor: s, endFactor: f, totalIters: T } = this;
    if (e === 0) return this.groupLrs().map((lr) => lr * s);
    if (e > T) return this.groupLrs();
    return this.groupLrs().map((lr) => lr * (1 + (f - s) / (T * s + (e - 1) * (f - s))));
  }
  protected override closedFormLr(): number[] {
    const { lastEpoch: e, startFactor: s, endFactor: f, totalIters: T } = this;
    return this.baseLrs.map((b) => b * (s + ((f - s) * Math.min(T, e)) / T));
  }
}

/**
 * Multiplies the lr by `factor` until epoch totalIters (defaults 1/3 and 5).
 *
 * @example
 * const sched = new nd.optim.ConstantLR(opt, { factor: 0.5, totalIters: 4 });
 */
export class ConstantLR extends LRScheduler {
  factor: number;
  totalIters: number;
  constructor(optimizer: AnyOptimizer, opts: SchedulerOptions & { factor?: number; totalIters?: number } = {}) {
    super('ConstantLR', optimizer, opts.lastEpoch);
    this.factor = checkNumber('ConstantLR', 'factor', opts.factor ?? 1 / 3, (x) => x > 0 && x <= 1, 'in (0, 1]');
    this.totalIters = positiveInt('ConstantLR', 'totalIters', opts.totalIters ?? 5);
    this.initialStep();
  }
  protected getLr(): number[] {
    if (this.lastEpoch === 0) return this.groupLrs().map((lr) => lr * this.factor);
    if (this.lastEpoch !== this.totalIters) return this.groupLrs();
    return this.groupLrs().map((lr) => lr * (1 / this.factor));
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * (this.factor + (this.lastEpoch >= this.totalIters ? 1 - this.factor : 0)));
  }
}

/**
 * Polynomial decay to zero over totalIters epochs: lr = initialLr * (1 - min(t, T)/T)^power
 * (defaults 5 and 1).
 *
 * @example
 * const sched = new nd.optim.PolynomialLR(opt, { totalIters: 100, power: 2 });
 */
export class PolynomialLR extends LRScheduler {
  totalIters: number;
  power: number;
  constructor(optimizer: AnyOptimizer, opts: SchedulerOptions & { totalIters?: number; power?: number } = {}) {
    super('PolynomialLR', optimizer, opts.lastEpoch);
    this.totalIters = positiveInt('PolynomialLR', 'totalIters', opts.totalIters ?? 5);
    this.power = checkNumber('PolynomialLR', 'power', opts.power ?? 1, Number.isFinite, 'finite');
    this.initialStep();
  }
  protected getLr(): number[] {
    const { lastEpoch: e, totalIters: T } = this;
    if (e === 0 || e > T) return this.groupLrs();
    const decay = ((1 - e / T) / (1 - (e - 1) / T)) ** this.power;
    return this.groupLrs().map((lr) => lr * decay);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * (1 - Math.min(this.totalIters, this.lastEpoch) / this.totalIters) ** this.power);
  }
}

// ---------------------------------------------------------------- user functions

/** A function of the epoch, or one per param group. */
export type LrLambda = (epoch: number) => number;

function lambdas(name: string, optimizer: AnyOptimizer, f: LrLambda | readonly LrLambda[]): LrLambda[] {
  const n = optimizer.paramGroups.length;
  const list = Array.isArray(f) ? [...f] : new Array<LrLambda>(n).fill(f as LrLambda);
  if (list.length !== n) throw rangeError(name, `${n} lr lambdas (one per param group)`, `${list.length}`);
  for (const fn of list) if (typeof fn !== 'function') throw typeError(name, 'lrLambda to be a function or an array of functions', String(fn));
  return list;
}

/**
 * lr = initialLr * lrLambda(epoch) (one function, or one per group). Its state dict leaves the
 * functions out: recreate the scheduler with the same functions, then load.
 *
 * @example
 * const warmup = new nd.optim.LambdaLR(opt, (e) => Math.min(1, (e + 1) / 500));
 */
export class LambdaLR extends LRScheduler {
  lrLambdas: LrLambda[];
  constructor(optimizer: AnyOptimizer, lrLambda: LrLambda | readonly LrLambda[], opts: SchedulerOptions = {}) {
    super('LambdaLR', optimizer, opts.lastEpoch);
    this.lrLambdas = lambdas('LambdaLR', optimizer, lrLambda);
    this.initialStep();
  }
  protected getLr(): number[] {
    return this.baseLrs.map((b, i) => b * this.lrLambdas[i]!(this.lastEpoch));
  }
  protected override stateExclude(): string[] {
    return [...super.stateExclude(), 'lrLambdas'];
  }
}

/**
 * lr_t = lr_{t-1} * lrLambda(t) for t > 0 (one function, or one per group; not stored in the
 * state dict).
 *
 * @example
 * const sched = new nd.optim.MultiplicativeLR(opt, () => 0.95);
 */
export class MultiplicativeLR extends LRScheduler {
  lrLambdas: LrLambda[];
  constructor(optimizer: AnyOptimizer, lrLambda: LrLambda | readonly LrLambda[], opts: SchedulerOptions = {}) {
    super('MultiplicativeLR', optimizer, opts.lastEpoch);
    this.lrLambdas = lambdas('MultiplicativeLR', optimizer, lrLambda);
    this.initialStep();
  }
  protected getLr(): number[] {
    if (this.lastEpoch <= 0) return this.groupLrs();
    return this.groupLrs().map((lr, i) => lr * this.lrLambdas[i]!(this.lastEpoch));
  }
  protected override stateExclude(): string[] {
    return [...super.stateExclude(), 'lrLambdas'];
  }
}
