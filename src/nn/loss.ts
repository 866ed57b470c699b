/**
 * Losses (torch.nn.functional and torch.nn loss modules, camelCased) and regularization
 * penalties. Every loss is a composite of src/ops and src/functional, so its derivatives of every
 * order come from the primitives. Functional forms are also re-exported by `nn.functional`.
 */
import { Module } from './module.js';
import { Tensor } from '../autograd/tensor.js';
import { isFloating } from '../ndarray/dtype.js';
import { broadcastShapes } from '../ndarray/shape.js';
import { fmt, fmtShape, rangeError, typeError } from '../errors.js';
import { expectTensor } from '../ops/util.js';
import {
  abs, add, cast, clamp, div, eq, exp, gather, gt, indexSelect, log, logicalNot, lt, mean, mul, neg, relu, reshape,
  squeeze, sub, sum, unsqueeze, where,
} from '../ops/primitives.js';
import { logSoftmax } from '../functional/activation.js';
import { zeros } from '../creation.js';
import { asLayer } from './layer_util.js';

/** How a loss reduces its per-element values: PyTorch's `reduction`. */
export type Reduction = 'mean' | 'sum' | 'none';

function floatTensor(op: string, name: string, x: unknown): Tensor {
  const t = expectTensor(op, name, x);
  if (!isFloating(t.dtype)) throw typeError(op, `a floating-point ${name}`, t.dtype);
  return t;
}

function checkReduction(op: string, r: unknown): Reduction {
  if (r !== 'mean' && r !== 'sum' && r !== 'none') throw typeError(op, "reduction of 'mean', 'sum' or 'none'", fmt(r));
  return r;
}

function reduce(x: Tensor, r: Reduction): Tensor {
  return r === 'none' ? x : r === 'sum' ? sum(x) : mean(x);
}

function sameShape(op: string, input: Tensor, target: Tensor): void {
  if (fmtShape(input.shape) !== fmtShape(target.shape)) {
    throw rangeError(op, `target of the input's shape ${fmtShape(input.shape)}`, fmtShape(target.shape));
  }
}

function checkClassWeight(op: string, weight: Tensor | null | undefined, C: number): Tensor | null {
  if (weight === null || weight === undefined) return null;
  floatTensor(op, 'weight', weight);
  if (weight.ndim !== 1 || weight.shape[0] !== C) throw rangeError(op, `a weight of shape [${C}] (one per class)`, fmtShape(weight.shape));
  return weight;
}

// ---------------------------------------------------------------- classification

/** Options of {@link nllLoss}. */
export interface NLLLossOptions {
  /** Per-class rescaling weight, shape (C). */
  weight?: Tensor | null;
  /** Target value that contributes nothing (not to the mean's denominator either). Default -100. */
  ignoreIndex?: number;
  reduction?: Reduction;
}

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions extends NLLLossOptions {
  /** Mixes the target with the uniform distribution: (1 - s) * target + s / C. Default 0. */
  labelSmoothing?: number;
}

/** Checks class-index targets: shape (N, d1, ...) for input (N, C, d1, ...), () for (C); values in range. */
function checkIndexTarget(op: string, input: Tensor, target: Tensor, ignoreIndex: number): void {
  const want = input.ndim === 1 ? [] : input.shape.filter((_, i) => i !== 1);
  if (fmtShape(target.shape) !== fmtShape(want)) {
    throw rangeError(op, `a target of shape ${fmtShape(want)} for input of shape ${fmtShape(input.shape)}`, fmtShape(target.shape));
  }
  const C = input.shape[input.ndim === 1 ? 0 : 1]!;
  for (const t of target.dataSync()) {
    if (t !== ignoreIndex && (t < 0 || t >= C)) throw rangeError(op, `target values in [0, ${C - 1}] or ignoreIndex ${ignoreIndex}`, String(t));
  }
}

/**
 * Per-element -w[t] * logp[t] (zero where ignored) and the per-element weights w[t] (zero where
 * ignored), both of the target's shape.
 */
function pickNll(logp: Tensor, target: Tensor, weight: Tensor | null, ignoreIndex: number): { loss: Tensor; w: Tensor } {
  const cdim = logp.ndim === 1 ? 0 : 1;
  const ignored = eq(target, ignoreIndex);
  const safe = where(ignored, 0, target);
  const picked = squeeze(gather(logp, cdim, unsqueeze(safe, cdim)), cdim);
  let w: Tensor = where(ignored, 0, 1);
  w = cast(w, logp.dtype);
  if (weight) w = mul(w, reshape(indexSelect(cast(weight, logp.dtype), 0, reshape(safe, [safe.size])), safe.shape));
  return { loss: neg(mul(picked, w)), w };
}

/**
 * Negative log-likelihood loss (torch.nn.functional.nll_loss) of log-probabilities `input` and
 * int32 class indices `target`: loss_i = -weight[t_i] * input[i, t_i], 0 where t_i = ignoreIndex.
 * 'mean' divides by the sum of the weights of the non-ignored targets (PyTorch's weighted mean;
 * NaN when every target is ignored).
 *
 * Shape: input (N, C), (C) or (N, C, d1, ...); target (N), () or (N, d1, ...);
 * output () or, with reduction 'none', the target's shape.
 */
export function nllLoss(input: Tensor, target: Tensor, opts: NLLLossOptions = {}): Tensor {
  floatTensor('nllLoss', 'input', input);
  expectTensor('nllLoss', 'target', target);
  if (target.dtype !== 'int32') throw typeError('nllLoss', 'an int32 target of class indices', target.dtype);
  if (input.ndim < 1) throw rangeError('nllLoss', 'input of shape (C), (N, C) or (N, C, d1, ...)', fmtShape(input.shape));
  const reduction = checkReduction('nllLoss', opts.reduction ?? 'mean');
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const C = input.shape[input.ndim === 1 ? 0 : 1]!;
  const weight = checkClassWeight('nllLoss', opts.weight, C);
  checkIndexTarget('nllLoss', input, target, ignoreIndex);
  const { loss, w } = pickNll(input, target, weight, ignoreIndex);
  if (reduction === 'none') return loss;
  if (reduction === 'sum') return sum(loss);
  return div(sum(loss), sum(w));
}

/**
 * Cross-entropy of logits (torch.nn.functional.cross_entropy): logSoftmax over the class dim 1
 * (dim 0 for an unbatched (C) input) followed by the negative log-likelihood. `target` is either
 * int32 class indices (with `weight`, `ignoreIndex` and PyTorch's weighted mean, see
 * {@link nllLoss}) or class probabilities of the input's shape (then 'mean' divides by the number
 * of samples N * d1 * ..., and ignoreIndex does not apply). `labelSmoothing` s mixes the target
 * with the uniform distribution: loss = (1 - s) * nll + s / C * sum_c -w_c logp_c, reduced as
 * PyTorch.
 *
 * Shape: input (N, C), (C) or (N, C, d1, ...); target (N), () or (N, d1, ...) int32, or the
 * input's shape (float); output () or, with reduction 'none', (N), () or (N, d1, ...).
 */
export function crossEntropy(input: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  floatTensor(op, 'input', input);
  expectTensor(op, 'target', target);
  if (input.ndim < 1) throw rangeError(op, 'input of shape (C), (N, C) or (N, C, d1, ...)', fmtShape(input.shape));
  const reduction = checkReduction(op, opts.reduction ?? 'mean');
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const s = opts.labelSmoothing ?? 0;
  if (typeof s !== 'number' || !(s >= 0 && s <= 1)) throw rangeError(op, 'labelSmoothing in [0, 1]', fmt(s));
  const cdim = input.ndim === 1 ? 0 : 1;
  const C = input.shape[cdim]!;
  const weight = checkClassWeight(op, opts.weight, C);
  const wshape = input.shape.map((d, i) => (i === cdim ? d : 1));
  const logp = logSoftmax(input, cdim);
  if (isFloating(target.dtype)) {
    if (fmtShape(target.shape) !== fmtShape(input.shape)) {
      throw rangeError(op, `class-probability targets of the input's shape ${fmtShape(input.shape)}`, fmtShape(target.shape));
    }
    let t = cast(target, input.dtype);
    if (s > 0) t = add(mul(t, 1 - s), s / C);
    let terms = mul(logp, t);
    if (weight) terms = mul(terms, reshape(cast(weight, input.dtype), wshape));
    const loss = neg(sum(terms, cdim));
    return reduce(loss, reduction);
  }
  if (target.dtype !== 'int32') throw typeError(op, 'an int32 target of class indices or a float target of probabilities', target.dtype);
  checkIndexTarget(op, input, target, ignoreIndex);
  const { loss: nll, w } = pickNll(logp, target, weight, ignoreIndex);
  const nllRed = reduction === 'none' ? nll : reduction === 'sum' ? sum(nll) : div(sum(nll), sum(w));
  if (s === 0) return nllRed;
  // the smoothing term: -sum_c w_c logp_c, zero where ignored
  let terms = logp;
  if (weight) terms = mul(terms, reshape(cast(weight, input.dtype), wshape));
  const keep = cast(logicalNot(eq(target, ignoreIndex)), input.dtype);
  const smooth = mul(neg(sum(terms, cdim)), keep);
  let smoothRed: Tensor;
  if (reduction === 'none') smoothRed = smooth;
  else if (reduction === 'sum') smoothRed = sum(smooth);
  else smoothRed = div(sum(smooth), weight ? sum(w) : sum(keep));
  return add(mul(nllRed, 1 - s), mul(smoothRed, s / C));
}

// ---------------------------------------------------------------- regression

/**
 * Mean squared error (torch.nn.functional.mse_loss): (input - target)^2, reduced. The target
 * broadcasts against the input (PyTorch warns; here it must be broadcastable).
 *
 * Shape: input (*), target broadcastable to it; output () or, with 'none', the broadcast shape.
 */
export function mseLoss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  floatTensor('mseLoss', 'input', input);
  expectTensor('mseLoss', 'target', target);
  broadcastShapes('mseLoss', input.shape, target.shape);
  const r = checkReduction('mseLoss', opts.reduction ?? 'mean');
  const d = sub(input, target);
  return reduce(mul(d, d), r);
}

/**
 * Mean absolute error (torch.nn.functional.l1_loss): |input - target|, reduced (gradient 0 where
 * they are equal, as PyTorch).
 *
 * Shape: as {@link mseLoss}.
 */
export function l1Loss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  floatTensor('l1Loss', 'input', input);
  expectTensor('l1Loss', 'target', target);
  broadcastShapes('l1Loss', input.shape, target.shape);
  const r = checkReduction('l1Loss', opts.reduction ?? 'mean');
  return reduce(abs(sub(input, target)), r);
}

/**
 * Huber loss (torch.nn.functional.huber_loss): 0.5 d^2 where |d| < delta, else
 * delta * (|d| - 0.5 delta), with d = input - target.
 *
 * Shape: as {@link mseLoss}.
 */
export function huberLoss(input: Tensor, target: Tensor, opts: { reduction?: Reduction; delta?: number } = {}): Tensor {
  floatTensor('huberLoss', 'input', input);
  expectTensor('huberLoss', 'target', target);
  broadcastShapes('huberLoss', input.shape, target.shape);
  const r = checkReduction('huberLoss', opts.reduction ?? 'mean');
  const delta = opts.delta ?? 1;
  if (typeof delta !== 'number' || !(delta > 0)) throw rangeError('huberLoss', 'a positive delta', fmt(delta));
  const d = sub(input, target);
  const a = abs(d);
  const loss = where(lt(a, delta), mul(mul(d, d), 0.5), mul(sub(a, 0.5 * delta), delta));
  return reduce(loss, r);
}

// ---------------------------------------------------------------- binary classification

/** Options of {@link binaryCrossEntropy}. */
export interface BCEOptions {
  /** Rescaling weight, broadcastable to the input. */
  weight?: Tensor | null;
  reduction?: Reduction;
}

/** Options of {@link binaryCrossEntropyWithLogits}. */
export interface BCEWithLogitsOptions extends BCEOptions {
  /** Weight of the positive term, broadcast along the last (class) dim. */
  posWeight?: Tensor | null;
}

/** log(x) clamped to >= -100, with a finite (zero) gradient where x = 0. */
function clampedLog(x: Tensor): Tensor {
  const pos = gt(x, 0);
  return clamp(where(pos, log(where(pos, x, 1)), -100), -100);
}

/**
 * Binary cross-entropy of probabilities (torch.nn.functional.binary_cross_entropy):
 * -w (t log p + (1 - t) log(1 - p)) with each log clamped to >= -100 as PyTorch, so p = 0 or 1
 * gives a finite loss. Input values must lie in [0, 1].
 *
 * Shape: input (*), target of the same shape, weight broadcastable; output () or, with 'none', (*).
 */
export function binaryCrossEntropy(input: Tensor, target: Tensor, opts: BCEOptions = {}): Tensor {
  const op = 'binaryCrossEntropy';
  floatTensor(op, 'input', input);
  floatTensor(op, 'target', target);
  sameShape(op, input, target);
  const r = checkReduction(op, opts.reduction ?? 'mean');
  for (const v of input.dataSync()) if (!(v >= 0 && v <= 1)) throw rangeError(op, 'input values in [0, 1]', String(v));
  let loss = neg(add(mul(target, clampedLog(input)), mul(sub(1, target), clampedLog(sub(1, input)))));
  if (opts.weight) loss = mul(loss, floatTensor(op, 'weight', opts.weight));
  return reduce(loss, r);
}

/**
 * Binary cross-entropy of logits (torch.nn.functional.binary_cross_entropy_with_logits), stable
 * for any logit: (1 - t) x + lw * softplus(-x), lw = 1 + (posWeight - 1) t, with
 * softplus(-x) = m + log(e^-m + e^(-x-m)), m = max(-x, 0) (PyTorch's form, exact gradients at 0).
 *
 * Shape: input (*), target of the same shape, weight broadcastable, posWeight broadcastable along
 * the last dim (C); output () or, with 'none', (*).
 */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, opts: BCEWithLogitsOptions = {}): Tensor {
  const op = 'binaryCrossEntropyWithLogits';
  floatTensor(op, 'input', input);
  floatTensor(op, 'target', target);
  sameShape(op, input, target);
  const r = checkReduction(op, opts.reduction ?? 'mean');
  const m = relu(neg(input));
  const sp = add(m, log(add(exp(neg(m)), exp(sub(neg(input), m)))));
  let lw: Tensor | number = 1;
  if (opts.posWeight) {
    const pw = floatTensor(op, 'posWeight', opts.posWeight);
    const C = input.ndim === 0 ? 1 : input.shape[input.ndim - 1]!;
    if (pw.ndim > 1 || (pw.ndim === 1 && pw.shape[0] !== C && pw.shape[0] !== 1)) {
      throw rangeError(op, `a posWeight of shape [${C}] (the input's last dim)`, fmtShape(pw.shape));
    }
    lw = add(mul(sub(pw, 1), target), 1);
  }
  let loss = add(mul(sub(1, target), input), mul(sp, lw));
  if (opts.weight) loss = mul(loss, floatTensor(op, 'weight', opts.weight));
  return reduce(loss, r);
}

// ---------------------------------------------------------------- penalties

function paramList(op: string, params: Iterable<Tensor> | Module): Tensor[] {
  const list = params instanceof Module ? params.parameters() : [...params];
  list.forEach((p, i) => expectTensor(op, `params[${i}]`, p));
  return list;
}

/**
 * L1 regularization: sum over the parameters of sum |w| (add `lambda * l1Penalty(...)` to a loss).
 * Accepts a Module (its parameters) or any iterable of tensors; an empty list gives 0.
 *
 * @example
 * const loss = nd.add(task, nd.mul(nd.nn.l1Penalty(model), 1e-4));
 */
export function l1Penalty(params: Iterable<Tensor> | Module): Tensor {
  const list = paramList('l1Penalty', params);
  if (list.length === 0) return zeros([]);
  return list.map((p) => sum(abs(p))).reduce((a, b) => add(a, b));
}

/**
 * L2 regularization: sum over the parameters of sum w^2 (no factor 1/2; weight decay of
 * strength lambda corresponds to `lambda / 2 * l2Penalty(...)`). Accepts a Module or any iterable
 * of tensors; an empty list gives 0.
 *
 * @example
 * const loss = nd.add(task, nd.mul(nd.nn.l2Penalty(model.parameters()), 5e-4));
 */
export function l2Penalty(params: Iterable<Tensor> | Module): Tensor {
  const list = paramList('l2Penalty', params);
  if (list.length === 0) return zeros([]);
  return list.map((p) => sum(mul(p, p))).reduce((a, b) => add(a, b));
}

// ---------------------------------------------------------------- modules

/** Base of the loss modules: stores `reduction`. */
abstract class Loss extends Module {
  readonly reduction: Reduction;

  constructor(layer: string, reduction: Reduction | undefined) {
    super();
    this.reduction = checkReduction(layer, reduction ?? 'mean');
  }

  abstract override forward(input: Tensor, target: Tensor): Tensor;

  override extraRepr(): string {
    return `reduction=${this.reduction}`;
  }
}

/**
 * Cross-entropy loss of logits (torch.nn.CrossEntropyLoss); see {@link crossEntropy}. The class
 * weight is the buffer `weight` (state-dict key `weight`, as PyTorch). `SoftmaxLoss` (needle's
 * name) is the same class.
 *
 * Shape: input (N, C), (C) or (N, C, d1, ...); target (N), () or (N, d1, ...) int32 class
 * indices, or float probabilities of the input's shape; output () or, with reduction 'none',
 * the per-sample losses.
 *
 * @example
 * const loss = new nd.nn.CrossEntropyLoss({ labelSmoothing: 0.1 });
 * const l = loss.forward(nd.randn([4, 10]), nd.tensor([1, 0, 9, 3], { dtype: 'int32' })); // scalar
 */
export class CrossEntropyLoss extends Loss {
  declare weight: Tensor | null;
  readonly ignoreIndex: number;
  readonly labelSmoothing: number;

  constructor(opts: CrossEntropyOptions = {}) {
    super('CrossEntropyLoss', opts.reduction);
    this.registerBuffer('weight', opts.weight ?? null);
    this.ignoreIndex = opts.ignoreIndex ?? -100;
    this.labelSmoothing = opts.labelSmoothing ?? 0;
  }

  forward(input: Tensor, target: Tensor): Tensor {
    const o = { weight: this.weight, ignoreIndex: this.ignoreIndex, reduction: this.reduction, labelSmoothing: this.labelSmoothing };
    return asLayer('CrossEntropyLoss', 'crossEntropy', () => crossEntropy(input, target, o));
  }
}

/** needle's name for {@link CrossEntropyLoss}. */
export const SoftmaxLoss = CrossEntropyLoss;
/** needle's name for {@link CrossEntropyLoss}. */
export type SoftmaxLoss = CrossEntropyLoss;

/**
 * Negative log-likelihood loss of log-probabilities (torch.nn.NLLLoss); see {@link nllLoss}.
 *
 * Shape: input (N, C), (C) or (N, C, d1, ...) log-probabilities; target (N), () or (N, d1, ...)
 * int32; output () or, with 'none', the target's shape.
 *
 * @example
 * const logp = nd.logSoftmax(nd.randn([3, 5]), 1);
 * new nd.nn.NLLLoss().forward(logp, nd.tensor([0, 4, 2], { dtype: 'int32' })); // scalar
 */
export class NLLLoss extends Loss {
  declare weight: Tensor | null;
  readonly ignoreIndex: number;

  constructor(opts: NLLLossOptions = {}) {
    super('NLLLoss', opts.reduction);
    this.registerBuffer('weight', opts.weight ?? null);
    this.ignoreIndex = opts.ignoreIndex ?? -100;
  }

  forward(input: Tensor, target: Tensor): Tensor {
    const o = { weight: this.weight, ignoreIndex: this.ignoreIndex, reduction: this.reduction };
    return asLayer('NLLLoss', 'nllLoss', () => nllLoss(input, target, o));
  }
}

/**
 * Mean squared error (torch.nn.MSELoss); see {@link mseLoss}.
 *
 * Shape: input (*), target of the same (broadcastable) shape; output () or, with 'none', (*).
 *
 * @example
 * new nd.nn.MSELoss().forward(nd.tensor([1, 2]), nd.tensor([1, 4])); // 2
 */
export class MSELoss extends Loss {
  constructor(opts: { reduction?: Reduction } = {}) {
    super('MSELoss', opts.reduction);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return asLayer('MSELoss', 'mseLoss', () => mseLoss(input, target, { reduction: this.reduction }));
  }
}

/**
 * Mean absolute error (torch.nn.L1Loss); see {@link l1Loss}.
 *
 * Shape: input (*), target of the same (broadcastable) shape; output () or, with 'none', (*).
 *
 * @example
 * new nd.nn.L1Loss().forward(nd.tensor([1, 2]), nd.tensor([1, 4])); // 1
 */
export class L1Loss extends Loss {
  constructor(opts: { reduction?: Reduction } = {}) {
    super('L1Loss', opts.reduction);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return asLayer('L1Loss', 'l1Loss', () => l1Loss(input, target, { reduction: this.reduction }));
  }
}

/**
 * Huber loss (torch.nn.HuberLoss); see {@link huberLoss}. `delta` defaults to 1.
 *
 * Shape: input (*), target of the same (broadcastable) shape; output () or, with 'none', (*).
 *
 * @example
 * new nd.nn.HuberLoss({ delta: 0.5 }).forward(nd.randn([8]), nd.zeros([8])); // scalar
 */
export class HuberLoss extends Loss {
  readonly delta: number;

  constructor(opts: { reduction?: Reduction; delta?: number } = {}) {
    super('HuberLoss', opts.reduction);
    this.delta = opts.delta ?? 1;
    if (typeof this.delta !== 'number' || !(this.delta > 0)) throw rangeError('HuberLoss', 'a positive delta', fmt(this.delta));
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return asLayer('HuberLoss', 'huberLoss', () => huberLoss(input, target, { reduction: this.reduction, delta: this.delta }));
  }
}

/**
 * Binary cross-entropy of probabilities (torch.nn.BCELoss); see {@link binaryCrossEntropy}.
 * `weight` is the buffer `weight`.
 *
 * Shape: input (*) in [0, 1], target of the same shape; output () or, with 'none', (*).
 *
 * @example
 * const p = nd.sigmoid(nd.randn([4]));
 * new nd.nn.BCELoss().forward(p, nd.tensor([0, 1, 1, 0])); // scalar
 */
export class BCELoss extends Loss {
  declare weight: Tensor | null;

  constructor(opts: BCEOptions = {}) {
    super('BCELoss', opts.reduction);
    this.registerBuffer('weight', opts.weight ?? null);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return asLayer('BCELoss', 'binaryCrossEntropy', () => binaryCrossEntropy(input, target, { weight: this.weight, reduction: this.reduction }));
  }
}

/**
 * Binary cross-entropy of logits (torch.nn.BCEWithLogitsLoss), numerically stable; see
 * {@link binaryCrossEntropyWithLogits}. `weight` and `posWeight` are buffers (state-dict keys
 * `weight`, `pos_weight`).
 *
 * Shape: input (*) logits, target of the same shape, posWeight (C) for the last dim; output ()
 * or, with 'none', (*).
 *
 * @example
 * const loss = new nd.nn.BCEWithLogitsLoss({ posWeight: nd.tensor([3]) });
 * loss.forward(nd.randn([4, 1]), nd.tensor([[0], [1], [1], [0]])); // scalar
 */
export class BCEWithLogitsLoss extends Loss {
  declare weight: Tensor | null;
  declare posWeight: Tensor | null;

  constructor(opts: BCEWithLogitsOptions = {}) {
    super('BCEWithLogitsLoss', opts.reduction);
    this.registerBuffer('weight', opts.weight ?? null);
    this.registerBuffer('posWeight', opts.posWeight ?? null);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    const o = { weight: this.weight, posWeight: this.posWeight, reduction: this.reduction };
    return asLayer('BCEWithLogitsLoss', 'binaryCrossEntropyWithLogits', () => binaryCrossEntropyWithLogits(input, target, o));
  }
}
