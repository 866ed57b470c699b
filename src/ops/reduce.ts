/**
 * Reductions: sum, max, min, prod (primitives with gradients), argmax/argmin (no gradient), and
 * the composites mean, var, std, logsumexp.
 */
import { apply, defineOp, type OpDef } from '../autograd/op.js';
import { Tensor } from '../autograd/tensor.js';
import type { ReduceOp } from '../ndarray/backend.js';
import { binaryNd, reduceNd } from '../ndarray/compute.js';
import { NDArray } from '../ndarray/ndarray.js';
import { isFloating } from '../ndarray/dtype.js';
import { normAxes, prod as shapeProd } from '../ndarray/shape.js';
import { rangeError } from '../errors.js';
import { add, cast, div, eq, exp, log, mul, sqrt, sub, where } from './elementwise.js';
import { expand, permute, reshape } from './shape.js';
import { expectTensor } from './util.js';

/** Reduction dims: a dim, a list of dims, or null/undefined for all. */
export type Dims = number | readonly number[] | null | undefined;

interface RP {
  axes: number[];
  keepdim: boolean;
}

/** The shape of the output with reduced dims kept as 1. */
function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** Brings a reduced-shape tensor back to keepdim form. */
function keep(t: Tensor, inShape: readonly number[], p: RP): Tensor {
  return p.keepdim ? t : reshape(t, keptShape(inShape, p.axes));
}

function reduceDef(name: 'sum' | 'max' | 'min' | 'prod', vjp: (g: Tensor, x: Tensor, out: Tensor, p: RP) => Tensor, jvp: (t: Tensor, x: Tensor, out: Tensor, p: RP) => Tensor) {
  return defineOp<RP>({
    name,
    differentiable: true,
    forward: ([a], p) => reduceNd(name, a!, p.axes, p.keepdim),
    vjp: (g, { inputs, out, params }) => [vjp(g, inputs[0]!, out, params)],
    jvp: ([t], { inputs, out, params }) => (t ? jvp(t, inputs[0]!, out, params) : null),
  });
}

/** Mask of the elements equal to the (kept) extreme, and the count of such per reduced slice. */
function extremeMask(x: Tensor, out: Tensor, p: RP): { mask: Tensor; count: Tensor } {
  const mask = cast(eq(x, keep(out, x.shape, p)), x.dtype);
  return { mask, count: sumOp_(mask, { axes: p.axes, keepdim: true }) };
}

/** max/min: the gradient goes to the elements equal to the extreme, split evenly on ties. */
function extremeDef(name: 'max' | 'min') {
  return reduceDef(
    name,
    (g, x, out, p) => {
      const { mask, count } = extremeMask(x, out, p);
      return div(mul(keep(g, x.shape, p), mask), count);
    },
    (t, x, out, p) => {
      const { mask, count } = extremeMask(x, out, p);
      return reshape(div(sumOp_(mul(t, mask), { axes: p.axes, keepdim: true }), count), out.shape);
    },
  );
}

export const reduceOps = {
  sum: reduceDef(
    'sum',
    (g, x, _o, p) => expand(keep(g, x.shape, p), x.shape),
    (t, _x, _o, p) => sumOp_(t, p),
  ),
  /** Gradient split evenly among tied maxima (torch.amax / torch.max without dim). */
  max: extremeDef('max'),
  /** Gradient split evenly among tied minima (torch.amin). */
  min: extremeDef('min'),
  prod: reduceDef(
    'prod',
    (g, x, out, p) => mul(keep(g, x.shape, p), prodGrad(x, out, p)),
    (t, x, out, p) => sumOp_(mul(t, prodGrad(x, out, p)), p),
  ),
};

/**
 * d prod / d x_i = prod_{j != i} x_j. Without zeros this is out / x (exact to every order). With
 * zeros (checked on the data, as PyTorch does) it is computed directly as the product over a
 * matrix whose diagonal is replaced by ones, which stays exact to every order.
 */
function prodGrad(x: Tensor, out: Tensor, p: RP): Tensor {
  const hasZero = x.array.size > 0 && reduceNd('min', new Tensor(binaryNdNe(x)).array, null, false).item() === 0;
  if (!hasZero) return div(keep(out, x.shape, p), x);
  const nd = x.ndim;
  const kept = Array.from({ length: nd }, (_, i) => i).filter((i) => !p.axes.includes(i));
  const perm = [...kept, ...p.axes];
  const moved = permute(x, perm);
  const lead = kept.map((i) => x.shape[i]!);
  const n = shapeProd(p.axes.map((i) => x.shape[i]!));
  const flatX = reshape(moved, [...lead, 1, n]);
  const eye = new Tensor(eyeBool(n, x.device));
  const m = where(eye, 1, expand(flatX, [...lead, n, n]));
  const excl = apply(reduceOps.prod, [m], { axes: [lead.length + 1], keepdim: false });
  const back = reshape(excl, moved.shape);
  const inv = new Array<number>(nd);
  perm.forEach((a, i) => (inv[a] = i));
  return permute(back, inv);
}

/** ne(x, 0) as an NDArray (1 where nonzero). */
function binaryNdNe(x: Tensor) {
  return binaryNd('ne', x.array, NDArray.full([], 0, x.dtype, x.device));
}

function eyeBool(n: number, device: string): NDArray {
  const data = new Uint8Array(n * n);
  for (let i = 0; i < n; i++) data[i * n + i] = 1;
  return NDArray.fromData(data, [n, n], 'bool', device);
}

function sumOp_(x: Tensor, p: RP): Tensor {
  return apply(reduceOps.sum, [x], p);
}

function params(op: string, x: Tensor, dim: Dims, keepdim: boolean): RP {
  expectTensor(op, 'input', x);
  return { axes: normAxes(op, dim as number | number[] | null | undefined, x.ndim), keepdim };
}

/** Sum over `dim` (all dims when omitted). Integer and bool inputs sum as int32. */
export function sum(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  const p = params('sum', x, dim, keepdim);
  if (x.dtype === 'bool') x = cast(x, 'int32');
  return apply(reduceOps.sum, [x], p);
}

/** Product over `dim`; exact gradients with zeros. */
export function prod(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  const p = params('prod', x, dim, keepdim);
  if (x.dtype === 'bool') x = cast(x, 'int32');
  return apply(reduceOps.prod, [x], p);
}

/**
 * Maximum values over `dim` (torch.amax). Ties share the gradient evenly; NaN propagates.
 */
export function max(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  return apply(reduceOps.max, [x], params('max', x, dim, keepdim));
}

/** Minimum values over `dim` (torch.amin). */
export function min(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  return apply(reduceOps.min, [x], params('min', x, dim, keepdim));
}

function argReduce(op: ReduceOp & ('argmax' | 'argmin'), x: Tensor, dim: number | undefined | null, keepdim: boolean): Tensor {
  expectTensor(op, 'input', x);
  if (dim === undefined || dim === null) {
    const flat = x.array.reshape([x.size]);
    const r = reduceNd(op, flat, [0], false);
    return new Tensor(keepdim ? r.reshape(x.shape.map(() => 1)) : r);
  }
  return new Tensor(reduceNd(op, x.array, [dim], keepdim));
}

/** Index of the maximum along `dim` (of the flattened tensor when omitted); first on ties; int32. */
export function argmax(x: Tensor, dim?: number | null, keepdim = false): Tensor {
  return argReduce('argmax', x, dim, keepdim);
}
/** Index of the minimum; see {@link argmax}. */
export function argmin(x: Tensor, dim?: number | null, keepdim = false): Tensor {
  return argReduce('argmin', x, dim, keepdim);
}

/** Mean over `dim`; integer inputs are an error (as PyTorch). */
export function mean(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  const p = params('mean', x, dim, keepdim);
  if (!isFloating(x.dtype)) throw new TypeError(`mean: a floating-point input, got ${x.dtype}`);
  const n = shapeProd(p.axes.map((a) => x.shape[a]!));
  return div(apply(reduceOps.sum, [x], p), n);
}

/** Options of var/std. */
export interface VarOptions {
  /** Bessel's correction (divide by n - 1). Default true, as PyTorch. */
  unbiased?: boolean;
  keepdim?: boolean;
}

/** Variance over `dim`. */
export function variance(x: Tensor, dim?: Dims, opts: VarOptions = {}): Tensor {
  const p = params('var', x, dim, opts.keepdim ?? false);
  if (!isFloating(x.dtype)) throw new TypeError(`var: a floating-point input, got ${x.dtype}`);
  const n = shapeProd(p.axes.map((a) => x.shape[a]!));
  const unbiased = opts.unbiased ?? true;
  const d = sub(x, mean(x, p.axes, true));
  return div(sum(mul(d, d), p.axes, p.keepdim), Math.max(unbiased ? n - 1 : n, 0));
}

/** Standard deviation over `dim`. */
export function std(x: Tensor, dim?: Dims, opts: VarOptions = {}): Tensor {
  return sqrt(variance(x, dim, opts));
}

/**
 * log(sum(exp(x))) over `dim`, stable for large inputs (1e10 works): the max is subtracted first
 * (as a constant, so gradients are exact softmax weights). Infinite maxima are handled as PyTorch.
 */
export function logsumexp(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  const p = params('logsumexp', x, dim, keepdim);
  if (!isFloating(x.dtype)) x = cast(x, 'float32');
  if (x.size === 0) throw rangeError('logsumexp', 'a non-empty input', 'an empty tensor');
  const m = new Tensor(reduceNd('max', x.array, p.axes, true));
  const finiteM = where(eq(m, Infinity), 0, where(eq(m, -Infinity), 0, m));
  const s = log(sum(exp(sub(x, finiteM)), p.axes, true));
  const r = add(s, finiteM);
  return p.keepdim ? r : reshape(r, x.shape.filter((_, i) => !p.axes.includes(i)));
}
