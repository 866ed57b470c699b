/**
 * SGD, Adam, AdamW, RMSprop and Adagrad: PyTorch 1.13's algorithms and defaults, each a chain of
 * the general transforms in transforms.ts plus its validation rules. Adam and AdamW also have a
 * fused form of their chain (transforms.fusedAdam: one backend kernel pass per parameter), used
 * where the parameter's backend has Backend.adamStep and amsgrad is off.
 */
import { Optimizer, allOf, nonNegative, unitInterval, withDefaults, type BaseHyper, type GroupCheck, type Params } from './optimizer.js';
import {
  addWeightDecay,
  countStep,
  fusedAdam,
  maximize,
  momentum,
  scaleByAdam,
  scaleByDecayedLr,
  scaleByLr,
  scaleByRms,
  scaleByRss,
} from './transforms.js';
import { rangeError } from '../errors.js';

// ---------------------------------------------------------------- SGD

/** SGD hyperparameters (every group has all of them). */
export interface SGDHyper extends BaseHyper {
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}
/** SGD options: `lr` is required (here or in every param group). */
export type SGDOptions = Partial<SGDHyper>;

const sgdCheck: GroupCheck<SGDHyper> = allOf<SGDHyper>(nonNegative('momentum'), nonNegative('weightDecay'), (g, name) => {
  if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) {
    throw rangeError(name, 'nesterov requires momentum > 0 and dampening = 0', `momentum=${g.momentum}, dampening=${g.dampening}`);
  }
});

/**
 * Stochastic gradient descent with momentum (torch.optim.SGD):
 * g = grad (+ weightDecay * p); buf = g at the first step, then
 * buf = momentum * buf + (1 - dampening) * g; d = nesterov ? g + momentum * buf : buf; p -= lr * d.
 *
 * needle's course update u = b*u + (1-b)*g is `dampening: momentum` (it differs only at the first
 * step, where PyTorch's buffer starts as g).
 *
 * @example
 * const opt = new nd.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true });
 */
export class SGD extends Optimizer<SGDHyper> {
  constructor(params: Params<SGDHyper>, opts: SGDOptions = {}) {
    const defaults = withDefaults('SGD', { lr: undefined as number | undefined, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false }, opts);
    super('SGD', params, defaults, [maximize, addWeightDecay, momentum, scaleByLr], sgdCheck);
  }
}

// ---------------------------------------------------------------- Adam / AdamW

/** Adam and AdamW hyperparameters. */
export interface AdamHyper extends BaseHyper {
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}
/** Adam / AdamW options. */
export type AdamOptions = Partial<AdamHyper>;

const adamCheck: GroupCheck<AdamHyper> = allOf<AdamHyper>(
  nonNegative('eps'),
  unitInterval('betas[0]', (g) => g.betas[0]),
  unitInterval('betas[1]', (g) => g.betas[1]),
  nonNegative('weightDecay'),
);

/**
 * Adam (torch.optim.Adam; weightDecay is an L2 term added to the gradient):
 * g = grad (+ weightDecay * p); m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2 (amsgrad: vmax = max(vmax, v));
 * p -= lr/(1 - b1^t) * m / (sqrt(v)/sqrt(1 - b2^t) + eps).
 *
 * @example
 * const opt = new nd.optim.Adam(model.parameters(), { lr: 1e-3, betas: [0.9, 0.999] });
 */
export class Adam extends Optimizer<AdamHyper> {
  constructor(params: Params<AdamHyper>, opts: AdamOptions = {}) {
    const defaults = withDefaults('Adam', { lr: 1e-3, betas: [0.9, 0.999] as [number, number], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false }, opts);
    super('Adam', params, defaults, [countStep, maximize, addWeightDecay, scaleByAdam, scaleByLr], adamCheck, fusedAdam(false));
  }
}

/**
 * AdamW (torch.optim.AdamW): Adam with decoupled weight decay, p *= 1 - lr*weightDecay before the
 * Adam step (default weightDecay 0.01).
 *
 * @example
 * const opt = new nd.optim.AdamW(model.parameters(), { lr: 3e-4, weightDecay: 0.1 });
 */
export class AdamW extends Optimizer<AdamHyper> {
  constructor(params: Params<AdamHyper>, opts: AdamOptions = {}) {
    const defaults = withDefaults('AdamW', { lr: 1e-3, betas: [0.9, 0.999] as [number, number], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false }, opts);
    super('AdamW', params, defaults, [countStep, maximize, scaleByAdam, addWeightDecay, scaleByLr], adamCheck, fusedAdam(true));
  }
}

// ---------------------------------------------------------------- RMSprop

/** RMSprop hyperparameters. */
export interface RMSpropHyper extends BaseHyper {
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
  maximize: boolean;
}
/** RMSprop options. */
export type RMSpropOptions = Partial<RMSpropHyper>;

const rmspropCheck: GroupCheck<RMSpropHyper> = allOf<RMSpropHyper>(
  nonNegative('eps'),
  nonNegative('momentum'),
  nonNegative('weightDecay'),
  nonNegative('alpha'),
);

/**
 * RMSprop (torch.optim.RMSprop): g = grad (+ weightDecay * p); s = alpha*s + (1-alpha)*g^2;
 * centered: a = alpha*a + (1-alpha)*g, s' = s - a^2; d = g / (sqrt(s') + eps);
 * momentum: buf = momentum*buf + d, p -= lr*buf; else p -= lr*d.
 *
 * @example
 * const opt = new nd.optim.RMSprop(model.parameters(), { lr: 1e-2, alpha: 0.99, centered: true });
 */
export class RMSprop extends Optimizer<RMSpropHyper> {
  constructor(params: Params<RMSpropHyper>, opts: RMSpropOptions = {}) {
    const defaults = withDefaults('RMSprop', { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false }, opts);
    super('RMSprop', params, defaults, [countStep, maximize, addWeightDecay, scaleByRms, momentum, scaleByLr], rmspropCheck);
  }
}

// ---------------------------------------------------------------- Adagrad

/** Adagrad hyperparameters. */
export interface AdagradHyper extends BaseHyper {
  lrDecay: number;
  weightDecay: number;
  initialAccumulatorValue: number;
  eps: number;
  maximize: boolean;
}
/** Adagrad options. */
export type AdagradOptions = Partial<AdagradHyper>;

const adagradCheck: GroupCheck<AdagradHyper> = allOf<AdagradHyper>(
  nonNegative('lrDecay'),
  nonNegative('weightDecay'),
  nonNegative('initialAccumulatorValue'),
  nonNegative('eps'),
);

/**
 * Adagrad (torch.optim.Adagrad): g = grad (+ weightDecay * p); sum += g^2 (starting at
 * initialAccumulatorValue); p -= lr / (1 + (t-1)*lrDecay) * g / (sqrt(sum) + eps).
 *
 * @example
 * const opt = new nd.optim.Adagrad(model.parameters(), { lr: 0.01, lrDecay: 1e-4 });
 */
export class Adagrad extends Optimizer<AdagradHyper> {
  constructor(params: Params<AdagradHyper>, opts: AdagradOptions = {}) {
    const defaults = withDefaults('Adagrad', { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false }, opts);
    super('Adagrad', params, defaults, [countStep, maximize, addWeightDecay, scaleByRss, scaleByDecayedLr], adagradCheck);
  }
}
