/**
 * Shape primitives (reshape, permute, expand, slice and its adjoint embed, flip, cat) and the
 * composites built on them (squeeze, unsqueeze, flatten, transpose, stack, split, chunk, pad,
 * dilate, undilate). Views never copy: forward runs on NDArray views.
 */
import { apply, defineOp, type OpDef } from '../autograd/op.js';
import { Tensor } from '../autograd/tensor.js';
import { embedNd } from '../ndarray/compute.js';
import { NDArray, resolveSlice, type SliceSpec } from '../ndarray/ndarray.js';
import { broadcastShapes, inferShape, normAxis, shapesEqual } from '../ndarray/shape.js';
import { fmtShape, rangeError, typeError } from '../errors.js';
import { reduceOps } from './reduce.js';
import { cast } from './elementwise.js';
import { describe, promote, expectTensor, zerosLikeT } from './util.js';

// ---------------------------------------------------------------- reshape / permute / expand

export const reshapeOp: OpDef<{ shape: number[] }> = defineOp<{ shape: number[] }>({
  name: 'reshape',
  differentiable: true,
  forward: ([a], p) => a!.reshape(p.shape),
  vjp: (g, { inputs }) => [reshape(g, inputs[0]!.shape)],
  jvp: ([t], { params }) => (t ? reshape(t, params.shape) : null),
});

/** Reshape (`-1` infers one dim): a view when the input is compact, else a copy. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  expectTensor('reshape', 'input', x);
  if (!Array.isArray(shape)) throw typeError('reshape', 'shape to be an array', String(shape));
  const s = inferShape('reshape', shape, x.size, x.shape);
  if (shapesEqual(s, x.shape)) return x;
  return apply(reshapeOp, [x], { shape: s });
}

/** Like reshape, but an error for non-compact inputs (torch.Tensor.view). */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  expectTensor('view', 'input', x);
  const s = inferShape('view', shape, x.size, x.shape);
  if (!x.array.isCompact()) {
    throw rangeError('view', 'a contiguous tensor (use reshape to copy)', `strides ${fmtShape(x.array.strides)}`);
  }
  return reshape(x, s);
}

export const permuteOp: OpDef<{ axes: number[] }> = defineOp<{ axes: number[] }>({
  name: 'permute',
  differentiable: true,
  forward: ([a], p) => a!.permute(p.axes),
  vjp: (g, { params }) => {
    const inv = new Array<number>(params.axes.length);
    params.axes.forEach((a, i) => (inv[a] = i));
    return [permute(g, inv)];
  },
  jvp: ([t], { params }) => (t ? permute(t, params.axes) : null),
});

/** Reorders dims (a view). */
export function permute(x: Tensor, axes: readonly number[]): Tensor {
  expectTensor('permute', 'input', x);
  if (axes.length !== x.ndim) throw rangeError('permute', `dims of length ${x.ndim}`, fmtShape(axes));
  const norm = axes.map((a) => normAxis('permute', a, x.ndim));
  if (new Set(norm).size !== norm.length) throw rangeError('permute', 'a permutation of the dims', fmtShape(axes));
  if (norm.every((a, i) => a === i)) return x;
  return apply(permuteOp, [x], { axes: norm });
}

/** Swaps two dims (a view). */
export function transpose(x: Tensor, d0: number, d1: number): Tensor {
  expectTensor('transpose', 'input', x);
  const a = normAxis('transpose', d0, x.ndim);
  const b = normAxis('transpose', d1, x.ndim);
  const axes = Array.from({ length: x.ndim }, (_, i) => i);
  axes[a] = b;
  axes[b] = a;
  return permute(x, axes);
}

export const expandOp: OpDef<{ shape: number[] }> = defineOp<{ shape: number[] }>({
  name: 'expand',
  differentiable: true,
  forward: ([a], p) => a!.broadcastTo(p.shape),
  vjp: (g, { inputs }) => [sumToShape(g, inputs[0]!.shape)],
  jvp: ([t], { params }) => (t ? expand(t, params.shape) : null),
});

/** Broadcasts to `shape` (a stride-0 view); `-1` keeps a dim (torch.expand). */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  expectTensor('expand', 'input', x);
  const off = shape.length - x.ndim;
  if (off < 0) throw rangeError('expand', `a shape of at least ${x.ndim} dims`, fmtShape(shape));
  const s = shape.map((d, i) => (d === -1 && i >= off ? x.shape[i - off]! : d));
  if (s.some((d) => !Number.isInteger(d) || d < 0)) {
    throw rangeError('expand', 'sizes that are non-negative integers (-1 only for existing dims)', fmtShape(shape));
  }
  if (shapesEqual(s, x.shape)) return x;
  // each existing dim must equal the target or be 1 (broadcastShapes alone would also accept shrinking)
  if (!shapesEqual(broadcastShapes('expand', x.shape, s), s)) {
    throw rangeError('expand', `a shape that ${fmtShape(x.shape)} can expand to`, fmtShape(shape));
  }
  return apply(expandOp, [x], { shape: s });
}

/** Broadcasts to `shape` (torch.broadcast_to). */
export const broadcastTo = expand;

/** Sums `g` down to `shape` over broadcast dims (the adjoint of expand). */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  if (lead < 0) throw rangeError('sumToShape', `a gradient of at least ${shape.length} dims`, fmtShape(g.shape));
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead) axes.push(i);
    else if (shape[i - lead] === 1 && g.shape[i] !== 1) axes.push(i);
    else if (shape[i - lead] !== g.shape[i]) throw rangeError('sumToShape', `a shape broadcastable to ${fmtShape(g.shape)}`, fmtShape(shape));
  }
  const s = axes.length > 0 ? apply(reduceOps.sum, [g], { axes, keepdim: true }) : g;
  return reshape(s, shape);
}

// ---------------------------------------------------------------- slice / embed / flip

interface SliceP {
  /** One resolved spec per dim. */
  specs: { start: number; step: number; length: number }[];
}

function sliceView(a: NDArray, specs: SliceP['specs']): NDArray {
  const shape = a.shape.slice();
  const strides = a.strides.slice();
  let offset = a.offset;
  specs.forEach((s, i) => {
    offset += s.start * a.strides[i]!;
    shape[i] = s.length;
    strides[i] = a.strides[i]! * s.step;
  });
  return a.asStrided(shape, strides, offset);
}

export const sliceOp: OpDef<SliceP> = defineOp<SliceP>({
  name: 'slice',
  differentiable: true,
  forward: ([a], p) => sliceView(a!, p.specs),
  vjp: (g, { inputs, params }) => [apply(embedOp, [g], { shape: inputs[0]!.shape.slice(), specs: params.specs, fill: 0 })],
  jvp: ([t], { params }) => (t ? apply(sliceOp, [t], params) : null),
});

export const embedOp: OpDef<SliceP & { shape: number[]; fill: number }> = defineOp<SliceP & { shape: number[]; fill: number }>({
  name: 'embed',
  differentiable: true,
  forward: ([a], p) => embedNd(a!, p.shape, (out) => sliceView(out, p.specs), p.fill),
  vjp: (g, { params }) => [apply(sliceOp, [g], { specs: params.specs })],
  jvp: ([t], { params }) => (t ? apply(embedOp, [t], { ...params, fill: 0 }) : null),
});

/** Basic slicing: one start/stop/step spec per leading dim (negative indices wrap). A view. */
export function slice(x: Tensor, specs: readonly SliceSpec[]): Tensor {
  expectTensor('slice', 'input', x);
  if (specs.length > x.ndim) throw rangeError('slice', `at most ${x.ndim} slices`, String(specs.length));
  const full = x.shape.map((n, i) => resolveSlice(specs[i] ?? {}, n));
  if (full.every((s, i) => s.start === 0 && s.step === 1 && s.length === x.shape[i])) return x;
  return apply(sliceOp, [x], { specs: full });
}

/**
 * Places `x` into a new tensor of `shape` filled with `fill`, at the positions selected by
 * `specs` (the adjoint of slice; pad and dilate are built on it).
 */
export function embed(x: Tensor, shape: readonly number[], specs: readonly SliceSpec[], fill = 0): Tensor {
  const full = shape.map((n, i) => resolveSlice(specs[i] ?? {}, n));
  if (full.some((s, i) => s.length !== x.shape[i]) || x.ndim !== shape.length) {
    throw rangeError('embed', `a region of shape ${fmtShape(full.map((s) => s.length))}`, fmtShape(x.shape));
  }
  return apply(embedOp, [x], { shape: shape.slice(), specs: full, fill });
}

export const flipOp: OpDef<{ axes: number[] }> = defineOp<{ axes: number[] }>({
  name: 'flip',
  differentiable: true,
  forward: ([a], p) => a!.flip(p.axes),
  vjp: (g, { params }) => [flip(g, params.axes)],
  jvp: ([t], { params }) => (t ? flip(t, params.axes) : null),
});

/** Reverses the order along `dims` (a view with negative strides). */
export function flip(x: Tensor, dims: number | readonly number[]): Tensor {
  expectTensor('flip', 'input', x);
  const axes = (typeof dims === 'number' ? [dims] : dims).map((d) => normAxis('flip', d, x.ndim));
  return apply(flipOp, [x], { axes });
}

// ---------------------------------------------------------------- squeeze / unsqueeze / flatten

/** Removes size-1 dims (all, or those given; non-1 dims given are left alone, as PyTorch). */
export function squeeze(x: Tensor, dim?: number | readonly number[]): Tensor {
  expectTensor('squeeze', 'input', x);
  return reshape(x, x.array.squeeze(dim).shape);
}

/** Inserts a size-1 dim at `dim`. */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  expectTensor('unsqueeze', 'input', x);
  const d = normAxis('unsqueeze', dim, x.ndim + 1);
  const s = x.shape.slice();
  s.splice(d, 0, 1);
  return reshape(x, s);
}

/** Flattens dims startDim..endDim into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  expectTensor('flatten', 'input', x);
  if (x.ndim === 0) return reshape(x, [1]);
  const a = normAxis('flatten', startDim, x.ndim);
  const b = normAxis('flatten', endDim, x.ndim);
  if (a > b) throw rangeError('flatten', 'startDim <= endDim', `${startDim} > ${endDim}`);
  const s = [...x.shape.slice(0, a), x.shape.slice(a, b + 1).reduce((p, d) => p * d, 1), ...x.shape.slice(b + 1)];
  return reshape(x, s);
}

/** Splits one dim into `sizes` (torch.unflatten). */
export function unflatten(x: Tensor, dim: number, sizes: readonly number[]): Tensor {
  const d = normAxis('unflatten', dim, x.ndim);
  const inner = inferShape('unflatten', sizes, x.shape[d]!, [x.shape[d]!]);
  return reshape(x, [...x.shape.slice(0, d), ...inner, ...x.shape.slice(d + 1)]);
}

// ---------------------------------------------------------------- cat / stack / split

export const catOp: OpDef<{ axis: number }> = defineOp<{ axis: number }>({
  name: 'cat',
  differentiable: true,
  forward: (arrs, p) => {
    const shape = arrs[0]!.shape.slice();
    shape[p.axis] = arrs.reduce((s, a) => s + a.shape[p.axis]!, 0);
    const out = NDArray.empty(shape, arrs[0]!.dtype, arrs[0]!.device);
    let at = 0;
    for (const a of arrs) {
      const n = a.shape[p.axis]!;
      const specs = shape.map((_, i) => (i === p.axis ? { start: at, stop: at + n } : {}));
      out.slice(specs).assign(a);
      at += n;
    }
    return out;
  },
  vjp: (g, { inputs, params }) => {
    let at = 0;
    return inputs.map((x) => {
      const n = x.shape[params.axis]!;
      const r = narrow(g, params.axis, at, n);
      at += n;
      return r;
    });
  },
  jvp: (ts, { inputs, params }) => {
    if (ts.every((t) => t === null)) return null;
    return cat(ts.map((t, i) => t ?? zerosLikeT(inputs[i]!)), params.axis);
  },
});

/** Concatenates along `dim`; shapes must match elsewhere; dtypes promote. */
export function cat(xs: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw typeError('cat', 'a non-empty array of tensors', Array.isArray(xs) ? 'an empty array' : describe(xs));
  xs.forEach((x, i) => expectTensor('cat', `tensors[${i}]`, x));
  const first = xs[0]!;
  const axis = normAxis('cat', dim, first.ndim);
  for (const x of xs) {
    if (x.ndim !== first.ndim || x.shape.some((d: number, i: number) => i !== axis && d !== first.shape[i])) {
      throw rangeError('cat', `tensors matching ${fmtShape(first.shape)} except in dim ${axis}`, fmtShape(x.shape));
    }
    if (x.device !== first.device) throw typeError('cat', `tensors on one device (${first.device})`, x.device);
  }
  const dt = promote('cat', [...xs]);
  return apply(catOp, xs.map((x) => cast(x, dt)), { axis });
}

/** Stacks along a new dim. */
export function stack(xs: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw typeError('stack', 'a non-empty array of tensors', Array.isArray(xs) ? 'an empty array' : describe(xs));
  const first = xs[0]!;
  xs.forEach((x, i) => {
    expectTensor('stack', `tensors[${i}]`, x);
    if (!shapesEqual(x.shape, first.shape)) throw rangeError('stack', `tensors of one shape ${fmtShape(first.shape)}`, fmtShape(x.shape));
  });
  const d = normAxis('stack', dim, first.ndim + 1);
  return cat(xs.map((x) => unsqueeze(x, d)), d);
}

/** The slice [start, start + length) along `dim` (torch.narrow). */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  expectTensor('narrow', 'input', x);
  const d = normAxis('narrow', dim, x.ndim);
  if (!Number.isInteger(start) || !Number.isInteger(length)) {
    throw typeError('narrow', 'integer start and length', `start ${start}, length ${length}`);
  }
  if (start < 0 || length < 0 || start + length > x.shape[d]!) {
    throw rangeError('narrow', `start and length within dim ${d} of size ${x.shape[d]}`, `start ${start}, length ${length}`);
  }
  return slice(x, x.shape.map((_, i) => (i === d ? { start, stop: start + length } : {})));
}

/**
 * Splits into pieces along `dim`: an integer is the size of each piece (the last may be
 * smaller), an array lists the sizes (torch.split).
 */
export function split(x: Tensor, sizes: number | readonly number[], dim = 0): Tensor[] {
  expectTensor('split', 'input', x);
  const d = normAxis('split', dim, x.ndim);
  const n = x.shape[d]!;
  let list: number[];
  if (typeof sizes === 'number') {
    if (!Number.isInteger(sizes) || sizes <= 0) throw rangeError('split', 'a positive split size', String(sizes));
    list = [];
    for (let at = 0; at < n; at += sizes) list.push(Math.min(sizes, n - at));
    if (n === 0) list = [0];
  } else {
    list = sizes.slice();
    if (list.some((v) => !Number.isInteger(v) || v < 0)) throw rangeError('split', 'non-negative integer sizes', fmtShape(list));
    const total = list.reduce((a, b) => a + b, 0);
    if (total !== n) throw rangeError('split', `sizes summing to ${n} (dim ${d})`, `sum ${total}`);
  }
  let at = 0;
  return list.map((len) => {
    const r = narrow(x, d, at, len);
    at += len;
    return r;
  });
}

/** Splits into `chunks` pieces of size ceil(n / chunks) along `dim` (torch.chunk). */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks <= 0) throw rangeError('chunk', 'a positive number of chunks', String(chunks));
  const d = normAxis('chunk', dim, x.ndim);
  return split(x, Math.max(1, Math.ceil(x.shape[d]! / chunks)), d);
}

// ---------------------------------------------------------------- pad / dilate

/**
 * Constant padding, torch.nn.functional.pad order: `pad` lists (before, after) pairs starting from
 * the LAST dim. Negative amounts crop.
 */
export function pad(x: Tensor, padding: readonly number[], value = 0): Tensor {
  expectTensor('pad', 'input', x);
  if (padding.length % 2 !== 0 || padding.length / 2 > x.ndim) {
    throw rangeError('pad', `an even number of pad sizes, at most ${2 * x.ndim}`, fmtShape(padding));
  }
  let y = x;
  const cropSpecs: SliceSpec[] = x.shape.map((): SliceSpec => ({}));
  const shape = x.shape.slice();
  const specs: SliceSpec[] = x.shape.map(() => ({}));
  let needEmbed = false;
  let needCrop = false;
  for (let k = 0; k < padding.length / 2; k++) {
    const d = x.ndim - 1 - k;
    const before = padding[2 * k]!;
    const after = padding[2 * k + 1]!;
    if (!Number.isInteger(before) || !Number.isInteger(after)) throw typeError('pad', 'integer pad sizes', fmtShape(padding));
    const cb = Math.max(0, -before);
    const ca = Math.max(0, -after);
    if (cb + ca > 0) {
      if (cb + ca > x.shape[d]!) throw rangeError('pad', `crop within dim ${d} of size ${x.shape[d]}`, `${cb + ca}`);
      cropSpecs[d] = { start: cb, stop: x.shape[d]! - ca };
      needCrop = true;
    }
    const pb = Math.max(0, before);
    const pa = Math.max(0, after);
    shape[d] = x.shape[d]! - cb - ca + pb + pa;
    specs[d] = { start: pb, stop: pb + x.shape[d]! - cb - ca };
    if (pb + pa > 0) needEmbed = true;
  }
  if (needCrop) y = slice(y, cropSpecs);
  if (needEmbed) y = embed(y, shape, specs, value);
  return y;
}

/** Inserts `dilation` zeros between elements along `axes` (needle's dilate). */
export function dilate(x: Tensor, axes: readonly number[], dilation: number): Tensor {
  expectTensor('dilate', 'input', x);
  if (!Number.isInteger(dilation) || dilation < 0) throw rangeError('dilate', 'a non-negative integer dilation', String(dilation));
  if (dilation === 0) return x;
  const ax = axes.map((a) => normAxis('dilate', a, x.ndim));
  const shape = x.shape.map((d, i) => (ax.includes(i) ? d * (dilation + 1) : d));
  const specs = x.shape.map((_, i) => (ax.includes(i) ? { step: dilation + 1 } : {}));
  return embed(x, shape, specs, 0);
}

/** Keeps every (dilation+1)-th element along `axes` (needle's undilate; the adjoint of dilate). */
export function undilate(x: Tensor, axes: readonly number[], dilation: number): Tensor {
  expectTensor('undilate', 'input', x);
  if (!Number.isInteger(dilation) || dilation < 0) throw rangeError('undilate', 'a non-negative integer dilation', String(dilation));
  const ax = axes.map((a) => normAxis('undilate', a, x.ndim));
  return slice(x, x.shape.map((_, i) => (ax.includes(i) ? { step: dilation + 1 } : {})));
}

// ---------------------------------------------------------------- contiguous / clone

export const cloneOp: OpDef<undefined> = defineOp<undefined>({
  name: 'clone',
  differentiable: true,
  forward: ([a]) => a!.clone(),
  vjp: (g) => [g],
  jvp: ([t]) => t,
});

/** A compact copy (differentiable identity). */
export function clone(x: Tensor): Tensor {
  expectTensor('clone', 'input', x);
  return apply(cloneOp, [x], undefined);
}

/** `x` itself when compact, else a compact copy. */
export function contiguous(x: Tensor): Tensor {
  expectTensor('contiguous', 'input', x);
  return x.array.isCompact() ? x : clone(x);
}
