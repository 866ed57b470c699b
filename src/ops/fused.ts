/**
 * Primitives with fused backend fast paths: softmax, logSoftmax, layerNorm and batchNorm (with
 * batch statistics). Their forward runs the backend's optional fused kernel when it has one
 * (Backend.softmax / layerNorm / batchNorm) and the same math composed from the contract's kernels
 * otherwise; their vjp and jvp are written with differentiable Tensor ops, so every derivative
 * order stays exact. A plain backward pass (no graph recorded) runs the backend's fused vjp
 * kernels instead (softmaxBackward, layerNormBackward, batchNormBackward) where it has them: its
 * results are values only, and nothing differentiates them.
 */
import { apply, defineOp, type OpDef } from '../autograd/op.js';
import { Tensor } from '../autograd/tensor.js';
import { isGradEnabled } from '../autograd/mode.js';
import { activeLevels } from '../autograd/dual.js';
import { binaryNd, reduceNd, unaryNd, whereNd } from '../ndarray/compute.js';
import { NDArray } from '../ndarray/ndarray.js';
import { prod } from '../ndarray/shape.js';
import type { BatchNormSpec } from '../ndarray/backend.js';
import { add, exp, mul, rsqrt, sub } from './elementwise.js';
import { mean, sum } from './reduce.js';
import { reshape } from './shape.js';

const scalar = (x: NDArray, v: number): NDArray => NDArray.full([], v, x.dtype, x.device);

/** The permutation that moves dim `d` of an `nd`-dim array last (null when it is last already). */
function moveLast(nd: number, d: number): number[] | null {
  return d === nd - 1 ? null : [...Array.from({ length: nd }, (_, i) => i).filter((i) => i !== d), d];
}

/** Runs a row kernel along dim `d`: on `arrays` with `d` moved last (compact), result moved back. */
function alongRows(arrays: NDArray[], d: number, kernel: (rows: NDArray[], outer: number, size: number) => NDArray): NDArray {
  const perm = moveLast(arrays[0]!.ndim, d);
  const rows = arrays.map((a) => (perm ? a.permute(perm) : a).compact());
  const size = arrays[0]!.shape[d]!;
  const out = kernel(rows, rows[0]!.size / size, size);
  if (!perm) return out;
  const inv = new Array<number>(perm.length);
  perm.forEach((a, i) => (inv[a] = i));
  return out.permute(inv);
}

// ---------------------------------------------------------------- softmax / logSoftmax

interface SoftmaxP {
  /** Normalized dim (the input has at least one dim). */
  dim: number;
}

/** softmax (or log-softmax) of `x` along `d` on arrays: the fused kernel or the composite. */
function softmaxNd(x: NDArray, d: number, log: boolean): NDArray {
  if (x.size === 0) return NDArray.empty(x.shape, x.dtype, x.device);
  const be = x.backend;
  if (be.softmax) {
    return alongRows([x], d, ([src], outer, size) => {
      const out = NDArray.empty(src!.shape, x.dtype, x.device);
      be.softmax!(src!, out, outer, size, log);
      return out;
    });
  }
  const m = reduceNd('max', x, [d], true);
  if (!log) {
    const e = unaryNd('exp', binaryNd('sub', x, m));
    return binaryNd('div', e, reduceNd('sum', e, [d], true));
  }
  // shift by the max, or by 0 where the max is infinite (PyTorch's results for such rows)
  const zero = scalar(x, 0);
  const inf = binaryNd('logicalOr', binaryNd('eq', m, scalar(x, Infinity)), binaryNd('eq', m, scalar(x, -Infinity)));
  const shifted = binaryNd('sub', x, whereNd(inf, zero, m));
  const lse = unaryNd('log', reduceNd('sum', unaryNd('exp', shifted), [d], true));
  return binaryNd('sub', shifted, lse);
}

/**
 * True in a plain backward pass (no graph recorded, no forward-mode level watching): a vjp may
 * then compute its values with a fused kernel instead of differentiable Tensor ops.
 */
function plainBackward(): boolean {
  return !isGradEnabled() && activeLevels().length === 0;
}

/** The fused softmax vjp (Backend.softmaxBackward) when it applies, else null. */
function softmaxVjpNd(y: Tensor, g: Tensor, d: number, log: boolean): Tensor | null {
  const be = y.array.backend;
  if (!be.softmaxBackward || !plainBackward() || g.dtype !== y.dtype || g.device !== y.device || y.size === 0) return null;
  return new Tensor(alongRows([y.array, g.array], d, ([ya, ga], outer, size) => {
    const out = NDArray.empty(ya!.shape, y.dtype, y.device);
    be.softmaxBackward!(ya!, ga!, out, outer, size, log);
    return out;
  }));
}

/** softmax along `dim`: y = exp(x - max) / sum; vjp y * (g - sum(g * y)). */
export const softmaxOp: OpDef<SoftmaxP> = defineOp<SoftmaxP>({
  name: 'softmax',
  differentiable: true,
  forward: ([x], p) => softmaxNd(x!, p.dim, false),
  vjp: (g, { out, params }) => [
    softmaxVjpNd(out, g, params.dim, false) ?? mul(out, sub(g, sum(mul(g, out), params.dim, true))),
  ],
  jvp: ([t], { out, params }) => (t ? mul(out, sub(t, sum(mul(t, out), params.dim, true))) : null),
});

/** log-softmax along `dim`: y = x - logsumexp(x); vjp g - exp(y) * sum(g). */
export const logSoftmaxOp: OpDef<SoftmaxP> = defineOp<SoftmaxP>({
  name: 'logSoftmax',
  differentiable: true,
  forward: ([x], p) => softmaxNd(x!, p.dim, true),
  vjp: (g, { out, params }) => [
    softmaxVjpNd(out, g, params.dim, true) ?? sub(g, mul(exp(out), sum(g, params.dim, true))),
  ],
  jvp: ([t], { out, params }) => (t ? sub(t, sum(mul(exp(out), t), params.dim, true)) : null),
});

/**
 * The softmax primitive on a floating-point tensor along a normalized dim (0-d tensors are
 * treated as one-element vectors). Argument checks are the caller's (functional/activation.ts).
 */
export function softmaxPrim(x: Tensor, dim: number, log: boolean): Tensor {
  const op = log ? logSoftmaxOp : softmaxOp;
  if (x.ndim === 0) return reshape(apply(op, [reshape(x, [1])], { dim: 0 }), []);
  return apply(op, [x], { dim });
}

// ---------------------------------------------------------------- layerNorm

interface LayerNormP {
  /** Number of trailing (normalized) dims. */
  k: number;
  eps: number;
  hasWeight: boolean;
  hasBias: boolean;
  /** Per-row mean and 1/std from the forward (kept shape), reused by a plain backward. */
  saved: { mean: NDArray; rstd: NDArray } | null;
}

/** The normalized axes: the last k. */
function lastAxes(ndim: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => ndim - k + i);
}

function splitInputs<T>(inputs: readonly T[], p: LayerNormP): { x: T; w: T | null; b: T | null } {
  return { x: inputs[0]!, w: p.hasWeight ? inputs[1]! : null, b: p.hasBias ? inputs[p.hasWeight ? 2 : 1]! : null };
}

function layerNormNd(inputs: NDArray[], p: LayerNormP): NDArray {
  const { x, w, b } = splitInputs(inputs, p);
  const nd = x.ndim;
  const size = prod(x.shape.slice(nd - p.k));
  const outer = prod(x.shape.slice(0, nd - p.k));
  const statShape = x.shape.map((s, i) => (i < nd - p.k ? s : 1));
  const be = x.backend;
  if (be.layerNorm && size > 0 && outer > 0) {
    const out = NDArray.empty(x.shape, x.dtype, x.device);
    const mu = NDArray.empty(statShape, x.dtype, x.device);
    const rstd = NDArray.empty(statShape, x.dtype, x.device);
    be.layerNorm(x.compact(), w ? w.compact() : null, b ? b.compact() : null, out, mu, rstd, outer, size, p.eps);
    p.saved = { mean: mu, rstd };
    return out;
  }
  const axes = lastAxes(nd, p.k);
  const n = scalar(x, size);
  const mu = binaryNd('div', reduceNd('sum', x, axes, true), n);
  const d = binaryNd('sub', x, mu);
  const v = binaryNd('div', reduceNd('sum', binaryNd('mul', d, d), axes, true), n);
  const rstd = unaryNd('rsqrt', binaryNd('add', v, scalar(x, p.eps)));
  let y = binaryNd('mul', d, rstd);
  if (w) y = binaryNd('mul', y, w);
  if (b) y = binaryNd('add', y, b);
  p.saved = { mean: mu, rstd };
  return y;
}

/** The fused layerNorm vjp (Backend.layerNormBackward) when it applies, else null. */
function layerNormVjpNd(g: Tensor, x: Tensor, w: Tensor | null, b: Tensor | null, p: LayerNormP): (Tensor | null)[] | null {
  const be = x.array.backend;
  if (!be.layerNormBackward || !p.saved || !plainBackward() || g.dtype !== x.dtype || g.device !== x.device) return null;
  const nd = x.ndim;
  const size = prod(x.shape.slice(nd - p.k));
  const outer = prod(x.shape.slice(0, nd - p.k));
  if (size === 0 || outer === 0) return null;
  const wShape = x.shape.slice(nd - p.k);
  const gx = x.requiresGrad ? NDArray.empty(x.shape, x.dtype, x.device) : null;
  const gw = w?.requiresGrad ? NDArray.empty(wShape, x.dtype, x.device) : null;
  const gb = b?.requiresGrad ? NDArray.empty(wShape, x.dtype, x.device) : null;
  be.layerNormBackward(
    g.array.compact(), x.array.compact(), w ? w.array.compact() : null, p.saved.mean, p.saved.rstd,
    gx, gw, gb, outer, size,
  );
  const t = (a: NDArray | null) => (a ? new Tensor(a) : null);
  return [t(gx), ...(w ? [t(gw)] : []), ...(b ? [t(gb)] : [])];
}

/** Differentiable normalized input and 1/std (recomputed from x, for higher-order derivatives). */
function lnStats(x: Tensor, axes: number[], eps: number): { xhat: Tensor; rstd: Tensor } {
  const d = sub(x, mean(x, axes, true));
  const rstd = rsqrt(add(mean(mul(d, d), axes, true), eps));
  return { xhat: mul(d, rstd), rstd };
}

/**
 * layer normalization over the last k dims: y = xhat * w + b, xhat = (x - mean) * rstd. vjp:
 * gx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)) with gh = g * w; gw = g * xhat and gb = g
 * (summed over the leading dims by the engine).
 */
export const layerNormOp: OpDef<LayerNormP> = defineOp<LayerNormP>({
  name: 'layerNorm',
  differentiable: true,
  forward: (inputs, p) => layerNormNd(inputs, p),
  vjp: (g, { inputs, params: p }) => {
    const { x, w, b } = splitInputs(inputs, p);
    const fused = layerNormVjpNd(g, x, w, b, p);
    if (fused) return fused;
    const axes = lastAxes(x.ndim, p.k);
    let st: { xhat: Tensor; rstd: Tensor };
    if (p.saved && plainBackward()) {
      // a plain backward: the forward's statistics are constants here
      const rstd = new Tensor(p.saved.rstd);
      st = { xhat: mul(sub(x, new Tensor(p.saved.mean)), rstd), rstd };
    } else {
      st = lnStats(x, axes, p.eps);
    }
    const { xhat, rstd } = st;
    let gx: Tensor | null = null;
    if (x.requiresGrad) {
      const gh = w ? mul(g, w) : g;
      gx = mul(sub(sub(gh, mean(gh, axes, true)), mul(xhat, mean(mul(gh, xhat), axes, true))), rstd);
    }
    const grads: (Tensor | null)[] = [gx];
    if (w) grads.push(w.requiresGrad ? mul(g, xhat) : null);
    if (b) grads.push(b.requiresGrad ? g : null);
    return grads;
  },
  jvp: (tangents, { inputs, params: p }) => {
    const { x, w } = splitInputs(inputs, p);
    const t = splitInputs(tangents, p);
    const axes = lastAxes(x.ndim, p.k);
    const { xhat, rstd } = lnStats(x, axes, p.eps);
    let r: Tensor | null = null;
    if (t.x) {
      const dxhat = mul(sub(sub(t.x, mean(t.x, axes, true)), mul(xhat, mean(mul(t.x, xhat), axes, true))), rstd);
      r = w ? mul(dxhat, w) : dxhat;
    }
    if (t.w) r = r ? add(r, mul(xhat, t.w)) : mul(xhat, t.w);
    if (t.b) r = r ? add(r, t.b) : t.b;
    return r;
  },
});

/**
 * The layerNorm primitive over the last `k` dims of `x` with optional weight and bias (shaped as
 * those dims, one dtype and device with x). Argument checks are the caller's (nn/functional.ts).
 */
export function layerNormPrim(x: Tensor, k: number, weight: Tensor | null, bias: Tensor | null, eps: number): Tensor {
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return apply(layerNormOp, inputs, { k, eps, hasWeight: weight !== null, hasBias: bias !== null, saved: null });
}

// ---------------------------------------------------------------- batchNorm (batch statistics)

/** The running statistics a training batchNorm replaces, and the new arrays it computed. */
export interface BatchNormRunningP {
  mean: NDArray;
  var: NDArray;
  momentum: number;
  /** Filled by the forward: the updated statistics (the caller stores them in its buffers). */
  meanOut: NDArray | null;
  varOut: NDArray | null;
}

interface BatchNormP {
  eps: number;
  hasWeight: boolean;
  hasBias: boolean;
  running: BatchNormRunningP | null;
  /** Per-channel mean and 1/std from the forward (shape (C)), reused by a plain backward. */
  saved: { mean: NDArray; rstd: NDArray } | null;
}

/** (n, c, inner) of an (N, C, *) input. */
function bnSpec(shape: readonly number[], eps: number): BatchNormSpec {
  const c = shape[1]!;
  return { n: shape[0]!, c, inner: prod(shape.slice(2)), eps };
}

/** The statistics' broadcast shape (1, C, 1, ...). */
const channelShape = (shape: readonly number[]): number[] => shape.map((d, i) => (i === 1 ? d : 1));
/** Every axis but the channel axis 1. */
const nonChannelAxes = (ndim: number): number[] => Array.from({ length: ndim }, (_, i) => i).filter((i) => i !== 1);

function splitBn<T>(inputs: readonly T[], p: BatchNormP): { x: T; w: T | null; b: T | null } {
  return { x: inputs[0]!, w: p.hasWeight ? inputs[1]! : null, b: p.hasBias ? inputs[p.hasWeight ? 2 : 1]! : null };
}

function batchNormNd(inputs: NDArray[], p: BatchNormP): NDArray {
  const { x, w, b } = splitBn(inputs, p);
  const sp = bnSpec(x.shape, p.eps);
  const m = sp.n * sp.inner;
  const r = p.running;
  const f = (v: number) => (x.dtype === 'float32' ? Math.fround(v) : v);
  const keep = f(1 - (r?.momentum ?? 0));
  const mom = f(r?.momentum ?? 0);
  const unbias = f(m / (m - 1));
  const be = x.backend;
  if (be.batchNorm) {
    const out = NDArray.empty(x.shape, x.dtype, x.device);
    const stat = () => NDArray.empty([sp.c], x.dtype, x.device);
    const mu = stat();
    const v = stat();
    const rstd = stat();
    const running = r ? { mean: r.mean.compact(), var: r.var.compact(), meanOut: stat(), varOut: stat(), keep, momentum: mom, unbias } : null;
    be.batchNorm(x.compact(), w ? w.compact() : null, b ? b.compact() : null, out, mu, v, rstd, sp, running);
    p.saved = { mean: mu, rstd };
    if (r) {
      r.meanOut = running!.meanOut;
      r.varOut = running!.varOut;
    }
    return out;
  }
  // the composite of array kernels (the same arithmetic, op by op)
  const axes = nonChannelAxes(x.ndim);
  const cs = channelShape(x.shape);
  const n = scalar(x, m);
  const mu = binaryNd('div', reduceNd('sum', x, axes, true), n);
  const d = binaryNd('sub', x, mu);
  const v = binaryNd('div', reduceNd('sum', binaryNd('mul', d, d), axes, true), n);
  const rstd = unaryNd('rsqrt', binaryNd('add', v, scalar(x, p.eps)));
  let y = binaryNd('mul', d, rstd);
  if (w) y = binaryNd('mul', y, w.reshape(cs));
  if (b) y = binaryNd('add', y, b.reshape(cs));
  p.saved = { mean: mu.reshape([sp.c]), rstd: rstd.reshape([sp.c]) };
  if (r) {
    const scale = (a: NDArray, s: number) => binaryNd('mul', a, scalar(a, s));
    r.meanOut = binaryNd('add', scale(r.mean, keep), scale(p.saved.mean, mom));
    r.varOut = binaryNd('add', scale(r.var, keep), scale(scale(v.reshape([sp.c]), unbias), mom));
  }
  return y;
}

/** The fused batchNorm vjp (Backend.batchNormBackward) when it applies, else null. */
function batchNormVjpNd(g: Tensor, x: Tensor, w: Tensor | null, b: Tensor | null, p: BatchNormP): (Tensor | null)[] | null {
  const be = x.array.backend;
  if (!be.batchNormBackward || !p.saved || !plainBackward() || g.dtype !== x.dtype || g.device !== x.device) return null;
  const sp = bnSpec(x.shape, p.eps);
  const stat = (need: boolean | undefined) => (need ? NDArray.empty([sp.c], x.dtype, x.device) : null);
  const gx = x.requiresGrad ? NDArray.empty(x.shape, x.dtype, x.device) : null;
  const gw = stat(w?.requiresGrad);
  const gb = stat(b?.requiresGrad);
  be.batchNormBackward(g.array.compact(), x.array.compact(), w ? w.array.compact() : null, p.saved.mean, p.saved.rstd, gx, gw, gb, sp);
  const t = (a: NDArray | null) => (a ? new Tensor(a) : null);
  return [t(gx), ...(w ? [t(gw)] : []), ...(b ? [t(gb)] : [])];
}

/** Differentiable normalized input and 1/std over every axis but 1 (for higher-order derivatives). */
function bnStats(x: Tensor, eps: number): { xhat: Tensor; rstd: Tensor } {
  const axes = nonChannelAxes(x.ndim);
  const d = sub(x, mean(x, axes, true));
  const rstd = rsqrt(add(mean(mul(d, d), axes, true), eps));
  return { xhat: mul(d, rstd), rstd };
}

/**
 * Batch normalization with batch statistics over every axis but the channel axis 1:
 * y = xhat * w + b, xhat = (x - mean) * rstd (biased variance). vjp with means over the
 * non-channel axes: gx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)), gh = g * w;
 * gw = sum of g * xhat, gb = sum of g.
 */
export const batchNormOp: OpDef<BatchNormP> = defineOp<BatchNormP>({
  name: 'batchNorm',
  differentiable: true,
  forward: (inputs, p) => batchNormNd(inputs, p),
  vjp: (g, { inputs, params: p }) => {
    const { x, w, b } = splitBn(inputs, p);
    const fused = batchNormVjpNd(g, x, w, b, p);
    if (fused) return fused;
    const axes = nonChannelAxes(x.ndim);
    const cs = channelShape(x.shape);
    let st: { xhat: Tensor; rstd: Tensor };
    if (p.saved && plainBackward()) {
      // a plain backward: the forward's statistics are constants here
      const rstd = new Tensor(p.saved.rstd.reshape(cs));
      st = { xhat: mul(sub(x, new Tensor(p.saved.mean.reshape(cs))), rstd), rstd };
    } else {
      st = bnStats(x, p.eps);
    }
    const { xhat, rstd } = st;
    let gx: Tensor | null = null;
    if (x.requiresGrad) {
      const gh = w ? mul(g, reshape(w, cs)) : g;
      gx = mul(sub(sub(gh, mean(gh, axes, true)), mul(xhat, mean(mul(gh, xhat), axes, true))), rstd);
    }
    const grads: (Tensor | null)[] = [gx];
    if (w) grads.push(w.requiresGrad ? sum(mul(g, xhat), axes) : null);
    if (b) grads.push(b.requiresGrad ? sum(g, axes) : null);
    return grads;
  },
  jvp: (tangents, { inputs, params: p }) => {
    const { x, w } = splitBn(inputs, p);
    const t = splitBn(tangents, p);
    const axes = nonChannelAxes(x.ndim);
    const cs = channelShape(x.shape);
    const { xhat, rstd } = bnStats(x, p.eps);
    let r: Tensor | null = null;
    if (t.x) {
      const dxhat = mul(sub(sub(t.x, mean(t.x, axes, true)), mul(xhat, mean(mul(t.x, xhat), axes, true))), rstd);
      r = w ? mul(dxhat, reshape(w, cs)) : dxhat;
    }
    if (t.w) r = r ? add(r, mul(xhat, reshape(t.w, cs))) : mul(xhat, reshape(t.w, cs));
    if (t.b) r = r ? add(r, reshape(t.b, cs)) : reshape(t.b, cs);
    return r;
  },
});

/**
 * The batchNorm primitive with batch statistics on an (N, C, *) float input with optional
 * weight and bias of shape (C) (one dtype and device with x). With `running`, the forward also
 * computes the updated running statistics into `running.meanOut` / `running.varOut`. Argument
 * checks are the caller's (nn/functional.ts).
 */
export function batchNormPrim(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps: number, running: BatchNormRunningP | null): Tensor {
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return apply(batchNormOp, inputs, { eps, hasWeight: weight !== null, hasBias: bias !== null, running, saved: null });
}
