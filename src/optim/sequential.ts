/** SequentialLR and ChainedScheduler: schedulers combined in time or in product. */
import { LRScheduler, bisectRight, copyPlain, exportState, importState, type AnyOptimizer, type Scheduler, type SchedulerStateDict } from './lr_scheduler.js';
import { Optimizer } from './optimizer.js';
import { rangeError, typeError } from '../errors.js';

function checkSchedulers(name: string, schedulers: unknown, optimizer?: AnyOptimizer): LRScheduler[] {
  if (!Array.isArray(schedulers) || schedulers.length === 0) throw typeError(name, 'a non-empty array of schedulers', String(schedulers));
  const first = optimizer ?? (schedulers[0] as LRScheduler)?.optimizer;
  schedulers.forEach((s, i) => {
    if (!(s instanceof LRScheduler)) throw typeError(name, `schedulers[${i}] to be an epoch-based LRScheduler`, String(s));
    if (s.optimizer !== first) throw rangeError(name, 'every scheduler to belong to the same optimizer', `a different optimizer at index ${i}`);
  });
  return [...schedulers] as LRScheduler[];
}

/**
 * Runs `schedulers` one after another, switching at `milestones` (one fewer than schedulers);
 * at a milestone the next scheduler restarts from epoch 0 (PyTorch 1.13 semantics).
 *
 * @example
 * // 5 epochs of linear warmup, then cosine annealing
 * const warmup = new nd.optim.LinearLR(opt, { startFactor: 0.1, totalIters: 5 });
 * const cosine = new nd.optim.CosineAnnealingLR(opt, 95);
 * const sched = new nd.optim.SequentialLR(opt, [warmup, cosine], [5]);
 */
export class SequentialLR implements Scheduler {
  readonly optimizer: AnyOptimizer;
  readonly schedulers: LRScheduler[];
  milestones: number[];
  lastEpoch: number;
  lastLr: number[];

  constructor(optimizer: AnyOptimizer, schedulers: LRScheduler[], milestones: readonly number[], opts: { lastEpoch?: number } = {}) {
    const name = 'SequentialLR';
    if (!(optimizer instanceof Optimizer)) throw typeError(name, 'an Optimizer', String(optimizer));
    this.schedulers = checkSchedulers(name, schedulers, optimizer);
    if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1 || milestones.some((m) => !Number.isInteger(m))) {
      throw rangeError(name, `${schedulers.length - 1} integer milestones (one fewer than schedulers)`, `${Array.isArray(milestones) ? milestones.length : String(milestones)}`);
    }
    optimizer.paramGroups.forEach((g, i) => {
      if (g.initialLr === undefined) throw rangeError(name, `param group ${i} to have initialLr (set by its schedulers)`, 'none');
    });
    this.optimizer = optimizer;
    this.milestones = [...milestones];
    this.lastEpoch = (opts.lastEpoch ?? -1) + 1;
    for (const g of optimizer.paramGroups) g.lr = g.initialLr!;
    for (const s of this.schedulers) s.lastEpoch -= 1;
    this.schedulers[0]!.initialStep();
    this.lastLr = this.schedulers[0]!.getLastLr();
  }

  /** Advances one epoch: steps the scheduler for this epoch (restarting it at its milestone). */
  step(): void {
    this.lastEpoch++;
    const idx = bisectRight(this.milestones, this.lastEpoch);
    const s = this.schedulers[idx]!;
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) s.step(0);
    else s.step();
    this.lastLr = s.getLastLr();
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** Own fields plus every scheduler's state dict under `schedulers`. */
  stateDict(): SchedulerStateDict {
    return compositeState(this);
  }

  loadStateDict(dict: SchedulerStateDict): void {
    loadCompositeState(this, 'SequentialLR', dict);
  }
}

/**
 * Steps every scheduler at each step, so their factors multiply (they must use the chainable
 * form, as all of ours do except LambdaLR and OneCycleLR, which set the lr outright).
 *
 * @example
 * const sched = new nd.optim.ChainedScheduler([new nd.optim.ExponentialLR(opt, 0.99), new nd.optim.StepLR(opt, 10)]);
 */
export class ChainedScheduler implements Scheduler {
  readonly optimizer: AnyOptimizer;
  readonly schedulers: LRScheduler[];
  lastLr: number[];

  constructor(schedulers: LRScheduler[]) {
    this.schedulers = checkSchedulers('ChainedScheduler', schedulers);
    this.optimizer = this.schedulers[0]!.optimizer;
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  step(): void {
    for (const s of this.schedulers) s.step();
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): SchedulerStateDict {
    return compositeState(this);
  }

  loadStateDict(dict: SchedulerStateDict): void {
    loadCompositeState(this, 'ChainedScheduler', dict);
  }
}

/** State of a scheduler made of schedulers: its own fields plus each child's dict. */
function compositeState(self: { schedulers: readonly LRScheduler[] }): SchedulerStateDict {
  return { ...exportState(self, ['optimizer', 'schedulers']), schedulers: self.schedulers.map((s) => s.stateDict()) };
}

/** Inverse of {@link compositeState}, checking the number of child dicts first. */
function loadCompositeState(self: { schedulers: readonly LRScheduler[] }, name: string, dict: SchedulerStateDict): void {
  const { schedulers, ...own } = dict ?? {};
  if (!Array.isArray(schedulers) || schedulers.length !== self.schedulers.length) {
    throw rangeError(`${name}.loadStateDict`, `schedulers with ${self.schedulers.length} state dicts`, String(schedulers));
  }
  importState(self, own, name, ['optimizer', 'schedulers']);
  self.schedulers.forEach((s, i) => s.loadStateDict(copyPlain(schedulers[i] as SchedulerStateDict)));
}
