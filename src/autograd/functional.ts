/**
 * Function transforms over the engine: autograd.grad, grad(f), valueAndGrad(f), forward-mode
 * jvp, and float64 finite-difference gradcheck.
 */
import { fmtShape, rangeError, typeError } from '../errors.js';
import { isFloating } from '../ndarray/dtype.js';
import { NDArray } from '../ndarray/ndarray.js';
import { activeLevels, withLevel } from './dual.js';
import { runBackward, seedGrad } from './engine.js';
import { Tensor } from './tensor.js';
import { cast, mul, sum } from '../ops/primitives.js';
import { shapesEqual } from '../ndarray/shape.js';

/** Options of {@link gradOf}. */
export interface GradOptions {
  /** Record the backward pass (higher-order derivatives). */
  createGraph?: boolean;
  /** Keep the graph for another backward. Defaults to createGraph. */
  retainGraph?: boolean;
  /** Return zeros (instead of an error) for inputs the outputs do not depend on. */
  allowUnused?: boolean;
  /** Gradients for non-scalar outputs. */
  gradOutputs?: Tensor | Tensor[];
}

const asList = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

/**
 * torch.autograd.grad: gradients of `outputs` with respect to `inputs`, returned (not accumulated
 * into `.grad`).
 */
export function gradOf(outputs: Tensor | Tensor[], inputs: Tensor | Tensor[], opts: GradOptions = {}): Tensor[] {
  const outs = asList(outputs);
  const ins = asList(inputs);
  const gouts = opts.gradOutputs === undefined ? [] : asList(opts.gradOutputs);
  const seeds = outs.map((o, i) => seedGrad('autograd.grad', o, gouts[i]));
  ins.forEach((x, i) => {
    if (!(x instanceof Tensor)) throw typeError('autograd.grad', `inputs[${i}] to be a Tensor`, String(x));
    if (!x.requiresGrad) throw typeError('autograd.grad', `inputs[${i}] to require grad`, 'a tensor that does not');
  });
  const createGraph = opts.createGraph ?? false;
  const grads = runBackward(outs, seeds, { retainGraph: opts.retainGraph ?? createGraph, createGraph, accumulate: false });
  return ins.map((x, i) => {
    const g = grads.get(x);
    if (g) return g;
    if (!opts.allowUnused) {
      throw rangeError('autograd.grad', `inputs[${i}] to be used in the graph of the outputs (or pass allowUnused)`, 'an unused input');
    }
    return new Tensor(NDArray.full(x.shape, 0, x.dtype, x.device));
  });
}

/**
 * grad(f): a function returning the gradient of scalar `f` with respect to its tensor arguments
 * (all of them, or those listed in `argnums`). Inputs are used as given, with requiresGrad set on
 * detached copies, so the caller's tensors are not changed.
 */
export function grad(f: (...args: Tensor[]) => Tensor, opts: { argnums?: number | number[]; createGraph?: boolean } = {}) {
  const vg = valueAndGrad(f, opts);
  return (...args: Tensor[]): Tensor | Tensor[] => vg(...args)[1];
}

/** valueAndGrad(f): like {@link grad}, returning `[f(...args), gradients]`. */
export function valueAndGrad(f: (...args: Tensor[]) => Tensor, opts: { argnums?: number | number[]; createGraph?: boolean } = {}) {
  return (...args: Tensor[]): [Tensor, Tensor | Tensor[]] => {
    const nums = opts.argnums === undefined ? args.map((_, i) => i) : asList(opts.argnums);
    const createGraph = opts.createGraph ?? false;
    const xs = args.map((a, i) => {
      if (!nums.includes(i)) return a;
      if (!(a instanceof Tensor)) throw typeError('grad', `argument ${i} to be a Tensor`, String(a));
      if (!isFloating(a.dtype)) throw typeError('grad', `argument ${i} of a floating dtype`, a.dtype);
      // keep the caller's graph when differentiating inside a createGraph computation
      return createGraph && a.requiresGrad ? a : keepTangents(a, a.detach().requiresGrad_(true));
    });
    const out = f(...xs);
    if (!(out instanceof Tensor) || out.size !== 1) {
      throw rangeError('grad', 'f to return a scalar tensor', out instanceof Tensor ? fmtShape(out.shape) : String(out));
    }
    const sel = nums.map((i) => xs[i]!);
    const gs = gradOf(out, sel, { createGraph, allowUnused: true });
    const value = createGraph ? out : keepTangents(out, out.detach());
    return [value, typeof opts.argnums === 'number' ? gs[0]! : opts.argnums === undefined && gs.length === 1 ? gs[0]! : gs];
  };
}

/**
 * Gives `copy` the forward-mode tangents that `orig` has in the active jvp levels, so that grad(f)
 * composes with jvp (forward-over-reverse Hessian-vector products).
 */
function keepTangents(orig: Tensor, copy: Tensor): Tensor {
  for (const level of activeLevels()) {
    const t = level.tangents.get(orig);
    if (t !== undefined) level.tangents.set(copy, t);
  }
  return copy;
}

/**
 * Forward mode: evaluates `f(...primals)` and its directional derivative along `tangents` in one
 * pass. Returns `[output, outputTangent]`.
 */
export function jvp(f: (...args: Tensor[]) => Tensor, primals: Tensor[], tangents: Tensor[]): [Tensor, Tensor] {
  if (primals.length !== tangents.length) {
    throw rangeError('jvp', `one tangent per primal (${primals.length})`, String(tangents.length));
  }
  return withLevel((level) => {
    const xs = primals.map((p, i) => {
      const t = tangents[i]!;
      if (!(p instanceof Tensor) || !(t instanceof Tensor)) throw typeError('jvp', 'primals and tangents to be Tensors', String(p));
      if (!shapesEqual(p.shape, t.shape)) throw rangeError('jvp', `tangent ${i} of shape ${fmtShape(p.shape)}`, fmtShape(t.shape));
      if (!isFloating(p.dtype)) throw typeError('jvp', `primal ${i} of a floating dtype`, p.dtype);
      let x = p;
      if (level.tangents.has(p)) {
        // the same tensor passed twice: an alias (sharing its graph) carries the second tangent
        x = new Tensor(p.array);
        x.requiresGrad = p.requiresGrad;
        x.node = p.node;
      }
      level.tangents.set(x, cast(t, p.dtype));
      return x;
    });
    const out = f(...xs);
    const t = level.tangents.get(out);
    return [out, t ?? new Tensor(NDArray.full(out.shape, 0, out.dtype, out.device))];
  });
}

/** Options of {@link gradcheck}. */
export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Seed for the random output cotangent. */
  seed?: number;
}

/** Result of a gradient check. */
export interface GradcheckResult {
  ok: boolean;
  maxError: number;
  /** Where the worst disagreement was. */
  worst: { input: number; index: number; analytic: number; numeric: number } | null;
}

/**
 * Central-difference gradient check in float64: compares the analytic vector-Jacobian product
 * with a random cotangent v against (v·f(x + eps e_i) - v·f(x - eps e_i)) / 2eps for every
 * element of every floating input. Throws with the worst element unless `opts.raise === false`.
 */
export function gradcheck(
  fn: (...xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  opts: GradcheckOptions & { raise?: boolean } = {},
): GradcheckResult {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-3;
  const xs = inputs.map((x) => (isFloating(x.dtype) ? cast(x.detach(), 'float64').detach().requiresGrad_(true) : x));
  const out = fn(...xs);
  let seed = opts.seed ?? 1234;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648 - 0.5;
  };
  const vData = Array.from({ length: out.size }, rand);
  const v = new Tensor(NDArray.fromData(vData, out.shape, 'float64', out.device));
  const diff = xs.filter((x) => x.requiresGrad);
  const analytic = diff.length > 0 && out.requiresGrad
    ? gradOf(out, diff, { gradOutputs: cast(v, out.dtype), allowUnused: true })
    : diff.map((x) => new Tensor(NDArray.full(x.shape, 0, 'float64', x.device)));
  const project = (o: Tensor) => sum(mul(cast(o, 'float64'), v)).item();
  let worst: GradcheckResult['worst'] = null;
  let maxErr = 0;
  let ok = true;
  // numeric evaluations keep grad mode on: fn may itself differentiate (second-order checks)
  {
    diff.forEach((x, k) => {
      const base = x.array;
      const data = Float64Array.from(base.dataSync());
      const an = analytic[k]!.dataSync();
      const inputIndex = xs.indexOf(x);
      for (let i = 0; i < data.length; i++) {
        const orig = data[i]!;
        data[i] = orig + eps;
        x.array = NDArray.fromData(data, base.shape, 'float64', base.device);
        const fp = project(fn(...xs));
        data[i] = orig - eps;
        x.array = NDArray.fromData(data, base.shape, 'float64', base.device);
        const fm = project(fn(...xs));
        data[i] = orig;
        const num = (fp - fm) / (2 * eps);
        const a = an[i]!;
        const err = Math.abs(a - num);
        const bad = !(err <= atol + rtol * Math.abs(num));
        if (bad) ok = false;
        if (err > maxErr || (bad && worst === null) || err !== err) {
          maxErr = err !== err ? Infinity : Math.max(maxErr, err);
          worst = { input: inputIndex, index: i, analytic: a, numeric: num };
        }
      }
      x.array = base;
    });
  }
  const res = { ok, maxError: maxErr, worst };
  if (!ok && opts.raise !== false) {
    const w = worst as GradcheckResult['worst'];
    throw rangeError(
      'gradcheck',
      `analytic and numeric gradients within atol=${atol}, rtol=${rtol}`,
      w ? `input ${w.input} element ${w.index}: analytic ${w.analytic}, numeric ${w.numeric}` : 'a mismatch',
    );
  }
  return res;
}
