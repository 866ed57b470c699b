/**
 * The general update rules, as small gradient transforms that optimizers chain (optax style).
 * Each reads its hyperparameters from the param group at every step and keeps its state in the
 * parameter's state record under PyTorch's names (camelCase here, snake_case in state dicts).
 *
 *   SGD      maximize -> addWeightDecay -> momentum -> scaleByLr
 *   Adam     countStep -> maximize -> addWeightDecay -> scaleByAdam -> scaleByLr
 *   AdamW    countStep -> maximize -> scaleByAdam -> addWeightDecay -> scaleByLr
 *   RMSprop  countStep -> maximize -> addWeightDecay -> scaleByRms -> momentum -> scaleByLr
 *   Adagrad  countStep -> maximize -> addWeightDecay -> scaleByRss -> scaleByDecayedLr
 *
 * Weight decay is one transform in two places: before the preconditioner it is L2 regularization
 * (g + wd*p, Adam), after it it is decoupled decay (AdamW: p - lr*(adam + wd*p) = p*(1 - lr*wd) - lr*adam).
 * All transforms run under noGrad (Optimizer.step) and never modify a tensor in place (the fused
 * Adam step, {@link fusedAdam}, updates its moment estimates in place).
 */
import { Tensor } from '../autograd/tensor.js';
import { NDArray } from '../ndarray/ndarray.js';
import { add, div, maximum, mul, neg, sqrt, sub } from '../ops/primitives.js';
import type { BaseHyper, FusedUpdate, ParamState, Transform } from './optimizer.js';

/** A constant tensor like `p` (zeros by default). */
function filled(p: Tensor, value = 0): Tensor {
  return new Tensor(NDArray.full(p.shape, value, p.dtype, p.device));
}

/** The state tensor `key`, created filled with `init` at first use. */
function stateTensor(state: ParamState, key: string, p: Tensor, init = 0): Tensor {
  const v = state[key];
  return v instanceof Tensor ? v : filled(p, init);
}

/** EMA: decay * avg + weight * x. */
function ema(avg: Tensor, x: Tensor, decay: number, weight: number): Tensor {
  return add(mul(avg, decay), mul(x, weight));
}

/** Counts this parameter's updates in `state.step` (PyTorch's per-parameter step). */
export const countStep: Transform<unknown> = (u, { state }) => {
  state.step = ((state.step as number | undefined) ?? 0) + 1;
  return u;
};

/** Negates the gradient when `group.maximize` (gradient ascent). */
export const maximize: Transform<{ maximize: boolean }> = (g, { group }) => (group.maximize ? neg(g) : g);

/** u + weightDecay * param (L2 penalty before a preconditioner, decoupled decay after it). */
export const addWeightDecay: Transform<{ weightDecay: number }> = (u, { group, param }) =>
  group.weightDecay !== 0 ? add(u, mul(param, group.weightDecay)) : u;

/**
 * Heavy-ball momentum with PyTorch SGD's rules: the buffer starts as the first input (not zero),
 * then buf = momentum * buf + (1 - dampening) * u; returns u + momentum * buf with nesterov, else
 * buf. A no-op when momentum is 0.
 */
export const momentum: Transform<{ momentum: number; dampening?: number; nesterov?: boolean }> = (u, { group, state }) => {
  const mu = group.momentum;
  if (mu === 0) return u;
  const prev = state.momentumBuffer;
  const buf = prev instanceof Tensor ? ema(prev, u, mu, 1 - (group.dampening ?? 0)) : new Tensor(u.array.clone());
  state.momentumBuffer = buf;
  return group.nesterov ? add(u, mul(buf, mu)) : buf;
};

/**
 * Adam's preconditioner: exp_avg and exp_avg_sq EMAs (betas), optional AMSGrad maximum, and
 * PyTorch 1.13's bias correction: (m / bc1) / (sqrt(v) / sqrt(bc2) + eps) with
 * bc_i = 1 - beta_i^step. Needs countStep earlier in the chain.
 */
export const scaleByAdam: Transform<{ betas: number[]; eps: number; amsgrad: boolean }> = (g, { group, state, param }) => {
  const [b1, b2] = group.betas as [number, number];
  const step = state.step as number;
  const m = ema(stateTensor(state, 'expAvg', param), g, b1, 1 - b1);
  const v = ema(stateTensor(state, 'expAvgSq', param), mul(g, g), b2, 1 - b2);
  state.expAvg = m;
  state.expAvgSq = v;
  let second = v;
  if (group.amsgrad) {
    second = maximum(stateTensor(state, 'maxExpAvgSq', param), v);
    state.maxExpAvgSq = second;
  }
  const bc1 = 1 - b1 ** step;
  const bc2 = 1 - b2 ** step;
  const denom = add(div(sqrt(second), Math.sqrt(bc2)), group.eps);
  return div(div(m, denom), bc1);
};

/**
 * RMSprop's preconditioner: square_avg = alpha * square_avg + (1 - alpha) * g^2; centered also
 * tracks grad_avg and uses the variance square_avg - grad_avg^2; returns g / (sqrt(.) + eps).
 */
export const scaleByRms: Transform<{ alpha: number; eps: number; centered: boolean }> = (g, { group, state, param }) => {
  const a = group.alpha;
  const sq = ema(stateTensor(state, 'squareAvg', param), mul(g, g), a, 1 - a);
  state.squareAvg = sq;
  let avg: Tensor;
  if (group.centered) {
    const ga = ema(stateTensor(state, 'gradAvg', param), g, a, 1 - a);
    state.gradAvg = ga;
    avg = sqrt(sub(sq, mul(ga, ga)));
  } else {
    avg = sqrt(sq);
  }
  return div(g, add(avg, group.eps));
};

/** Adagrad's preconditioner: sum += g^2 (starting at initialAccumulatorValue); g / (sqrt(sum) + eps). */
export const scaleByRss: Transform<{ eps: number; initialAccumulatorValue: number }> = (g, { group, state, param }) => {
  const sum = add(stateTensor(state, 'sum', param, group.initialAccumulatorValue), mul(g, g));
  state.sum = sum;
  return div(g, add(sqrt(sum), group.eps));
};

/** -lr * u: the last stage of a descent chain. */
export const scaleByLr: Transform<BaseHyper> = (u, { group }) => mul(u, -group.lr);

/** -lr / (1 + (step - 1) * lrDecay) * u (Adagrad's decayed rate; needs countStep). */
export const scaleByDecayedLr: Transform<BaseHyper & { lrDecay: number }> = (u, { group, state }) =>
  mul(u, -group.lr / (1 + ((state.step as number) - 1) * group.lrDecay));

/** Hyperparameters {@link fusedAdam} reads. */
type AdamLike = BaseHyper & { betas: number[]; eps: number; weightDecay: number; amsgrad: boolean; maximize: boolean };

/** A moment-estimate state entry the fused kernel can take: absent, or an array like the param's. */
function fusable(v: Tensor | number | undefined, p: Tensor): boolean {
  return v === undefined || (v instanceof Tensor && v.dtype === p.dtype && v.device === p.device && v.size === p.size);
}

/**
 * Adam's whole chain (countStep -> maximize -> weight decay -> scaleByAdam -> scaleByLr, with the
 * decay before scaleByAdam, or decoupled after it when `decoupled`) as one Backend.adamStep kernel
 * pass, for parameters on a backend that has it (amsgrad takes the chain). The state it leaves
 * (step, expAvg, expAvgSq) is the chain's; the moment estimates, the optimizer's own tensors, are
 * updated in place (Optimizer.stateDict returns copies), and the parameter gets a new array.
 */
export function fusedAdam(decoupled: boolean): FusedUpdate<AdamLike> {
  return (grad, { param, group, state }) => {
    const be = param.array.backend;
    if (!be.adamStep || group.amsgrad) return null;
    if (grad.dtype !== param.dtype || grad.device !== param.device || grad.size !== param.size) return null;
    if (!fusable(state.expAvg, param) || !fusable(state.expAvgSq, param)) return null;
    const step = ((state.step as number | undefined) ?? 0) + 1;
    const { shape, dtype, device } = param;
    const moment = (v: Tensor | number | undefined) =>
      v instanceof Tensor ? v.array.compact() : NDArray.full(shape, 0, dtype, device);
    const expAvg = moment(state.expAvg);
    const expAvgSq = moment(state.expAvgSq);
    const paramOut = NDArray.empty(shape, dtype, device);
    const [beta1, beta2] = group.betas as [number, number];
    be.adamStep(
      { param: param.array.compact(), grad: grad.array.compact(), expAvg, expAvgSq, paramOut, expAvgOut: expAvg, expAvgSqOut: expAvgSq },
      param.size,
      { lr: group.lr, beta1, beta2, eps: group.eps, weightDecay: group.weightDecay, decoupled, maximize: group.maximize, step },
    );
    state.step = step;
    if (!(state.expAvg instanceof Tensor) || state.expAvg.array !== expAvg) state.expAvg = new Tensor(expAvg);
    if (!(state.expAvgSq instanceof Tensor) || state.expAvgSq.array !== expAvgSq) state.expAvgSq = new Tensor(expAvgSq);
    return paramOut;
  };
}
