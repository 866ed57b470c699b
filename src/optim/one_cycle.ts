/** OneCycleLR: the 1cycle policy (Smith & Topin), PyTorch 1.13's schedule and momentum cycling. */
import { LRScheduler, perGroup, type AnyOptimizer } from './lr_scheduler.js';
import { Optimizer } from './optimizer.js';
import { rangeError, typeError } from '../errors.js';

/** OneCycleLR options (PyTorch's defaults). */
export interface OneCycleOptions {
  /** Total number of steps; or give epochs and stepsPerEpoch. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent increasing the lr (default 0.3). */
  pctStart?: number;
  /** 'cos' (default) or 'linear'. */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle momentum (SGD/RMSprop `momentum`, Adam `betas[0]`) inversely to the lr (default true). */
  cycleMomentum?: boolean;
  baseMomentum?: number | number[];
  maxMomentum?: number | number[];
  /** initialLr = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** minLr = initialLr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Three phases (up, down to initialLr, annihilate to minLr) as fastai; default false. */
  threePhase?: boolean;
  lastEpoch?: number;
}

type GroupKey = 'initialLr' | 'maxLr' | 'minLr' | 'maxMomentum' | 'baseMomentum';
interface Phase {
  endStep: number;
  startLr: GroupKey;
  endLr: GroupKey;
  startMomentum: GroupKey;
  endMomentum: GroupKey;
}

/** Cosine from `start` to `end` as pct goes 0 -> 1. */
function annealCos(start: number, end: number, pct: number): number {
  return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
}
/** Linear from `start` to `end`. */
function annealLinear(start: number, end: number, pct: number): number {
  return (end - start) * pct + start;
}

/**
 * The 1cycle policy: the lr rises from maxLr/divFactor to maxLr over pctStart of the steps, then
 * anneals to maxLr/(divFactor*finalDivFactor) (cosine or linear); momentum (or Adam's beta1) moves
 * the opposite way between maxMomentum and baseMomentum. Step it after every batch. Sets
 * initialLr, maxLr, minLr, maxMomentum and baseMomentum on every group, as PyTorch.
 *
 * @example
 * const sched = new nd.optim.OneCycleLR(opt, 0.1, { epochs: 10, stepsPerEpoch: loader.length });
 */
export class OneCycleLR extends LRScheduler {
  totalSteps: number;
  phases: Phase[];
  annealStrategy: 'cos' | 'linear';
  cycleMomentum: boolean;
  useBeta1: boolean;

  constructor(optimizer: AnyOptimizer, maxLr: number | number[], opts: OneCycleOptions = {}) {
    const name = 'OneCycleLR';
    if (!(optimizer instanceof Optimizer)) throw typeError(name, 'an Optimizer', String(optimizer));
    const totalSteps = OneCycleLR.resolveTotal(opts);
    const pct = opts.pctStart ?? 0.3;
    if (typeof pct !== 'number' || !(pct >= 0 && pct <= 1)) throw rangeError(name, 'pctStart must be in [0, 1]', String(pct));
    const anneal = opts.annealStrategy ?? 'cos';
    if (anneal !== 'cos' && anneal !== 'linear') throw typeError(name, "annealStrategy must be 'cos' or 'linear'", String(anneal));
    const divFactor = opts.divFactor ?? 25;
    const finalDivFactor = opts.finalDivFactor ?? 1e4;
    for (const [k, v] of [['divFactor', divFactor], ['finalDivFactor', finalDivFactor]] as const) {
      if (typeof v !== 'number' || !(v > 0)) throw rangeError(name, `${k} must be > 0`, String(v));
    }
    const cycle = opts.cycleMomentum ?? true;
    const lastEpoch = opts.lastEpoch ?? -1;
    if (!Number.isInteger(lastEpoch) || lastEpoch < -1) throw rangeError(name, 'lastEpoch must be an integer >= -1', String(lastEpoch));
    // validate everything before touching the groups
    const maxLrs = perGroup(name, 'maxLr', optimizer, maxLr);
    const useBeta1 = 'betas' in optimizer.defaults;
    let maxMs: number[] = [];
    let baseMs: number[] = [];
    if (cycle) {
      if (!('momentum' in optimizer.defaults) && !useBeta1) {
        throw typeError(name, 'an optimizer with momentum or betas when cycleMomentum is true', optimizer.name);
      }
      maxMs = perGroup(name, 'maxMomentum', optimizer, opts.maxMomentum ?? 0.95);
      baseMs = perGroup(name, 'baseMomentum', optimizer, opts.baseMomentum ?? 0.85);
    }
    if (lastEpoch === -1) {
      optimizer.paramGroups.forEach((g, i) => {
        g.initialLr = maxLrs[i]! / divFactor;
        g.maxLr = maxLrs[i]!;
        g.minLr = g.initialLr / finalDivFactor;
        if (cycle) {
          const r = g as unknown as Record<string, unknown>;
          if (useBeta1) r.betas = [maxMs[i]!, ...(r.betas as number[]).slice(1)];
          else r.momentum = maxMs[i]!;
          g.maxMomentum = maxMs[i]!;
          g.baseMomentum = baseMs[i]!;
        }
      });
    }
    super(name, optimizer, lastEpoch);
    this.totalSteps = totalSteps;
    this.phases = opts.threePhase
      ? [
          { endStep: pct * totalSteps - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
          { endStep: 2 * pct * totalSteps - 2, startLr: 'maxLr', endLr: 'initialLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
          { endStep: totalSteps - 1, startLr: 'initialLr', endLr: 'minLr', startMomentum: 'maxMomentum', endMomentum: 'maxMomentum' },
        ]
      : [
          { endStep: pct * totalSteps - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
          { endStep: totalSteps - 1, startLr: 'maxLr', endLr: 'minLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
        ];
    this.annealStrategy = anneal;
    this.cycleMomentum = cycle;
    this.useBeta1 = useBeta1;
    this.initialStep();
  }

  private static resolveTotal(opts: OneCycleOptions): number {
    const name = 'OneCycleLR';
    const posInt = (k: string, v: unknown) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw rangeError(name, `${k} must be a positive integer`, String(v));
      return v;
    };
    if (opts.totalSteps !== undefined) return posInt('totalSteps', opts.totalSteps);
    if (opts.epochs === undefined && opts.stepsPerEpoch === undefined) {
      throw typeError(name, 'totalSteps, or epochs and stepsPerEpoch', 'none of them');
    }
    return posInt('epochs', opts.epochs) * posInt('stepsPerEpoch', opts.stepsPerEpoch);
  }

  protected getLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps) {
      throw rangeError(this.name, `at most ${this.totalSteps} steps after construction (totalSteps ${this.totalSteps})`, `step ${stepNum}`);
    }
    const anneal = this.annealStrategy === 'cos' ? annealCos : annealLinear;
    const lrs: number[] = [];
    const momenta: number[] = [];
    for (const group of this.optimizer.paramGroups) {
      const g = group as unknown as Record<string, number>;
      let start = 0;
      for (let i = 0; i < this.phases.length; i++) {
        const phase = this.phases[i]!;
        if (stepNum <= phase.endStep || i === this.phases.length - 1) {
          const pct = (stepNum - start) / (phase.endStep - start);
          lrs.push(anneal(g[phase.startLr]!, g[phase.endLr]!, pct));
          if (this.cycleMomentum) momenta.push(anneal(g[phase.startMomentum]!, g[phase.endMomentum]!, pct));
          break;
        }
        start = phase.endStep;
      }
    }
    if (this.cycleMomentum) {
      this.optimizer.paramGroups.forEach((group, i) => {
        const r = group as unknown as Record<string, unknown>;
        if (this.useBeta1) r.betas = [momenta[i]!, ...(r.betas as number[]).slice(1)];
        else r.momentum = momenta[i]!;
      });
    }
    return lrs;
  }
}
