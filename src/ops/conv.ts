/**
 * Sliding windows: the two linear primitives convolution and pooling are built on.
 *
 * - {@link im2col} (op `im2col`, "unfold") gathers every window of the trailing spatial dims into
 *   new dims: (N, C, *spatial) -> (N, C, *out, *kernel). Its forward is ONE strided view (strides
 *   `stride * s` for the window position, `dilation * s` for the offset inside the window) and one
 *   compact.
 * - {@link col2im} (op `col2im`, "fold") is its adjoint: it sums every window back into place
 *   (overlapping windows accumulate). Its forward loops over kernel offsets, adding one strided
 *   view at a time; windows that cannot overlap are scattered in one assignment.
 *
 * Each is the other's vjp, and (both being linear) each is its own jvp, so every derivative order
 * of conv and pooling comes from these two rules. The torch-style `unfold`/`fold` (with padding and
 * the (N, C * prod(kernel), L) layout) are composites in functional/conv.ts.
 */
import { apply, defineOp, type OpDef } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import { binaryNd } from '../ndarray/compute.js';
import { NDArray } from '../ndarray/ndarray.js';
import { prod } from '../ndarray/shape.js';
import { fmt, fmtShape, rangeError, typeError } from '../errors.js';
import { expectTensor } from './util.js';

/** Window geometry, one entry per spatial dim (the trailing dims of the input). */
export interface WindowParams {
  kernel: number[];
  stride: number[];
  dilation: number[];
}

interface FoldParams extends WindowParams {
  /** The spatial sizes of the folded (col2im) output = of the unfolded (im2col) input. */
  spatial: number[];
}

/** Number of window positions along one dim (the floor formula of PyTorch, no padding). */
export function windowCount(size: number, kernel: number, stride: number, dilation: number): number {
  return Math.floor((size - dilation * (kernel - 1) - 1) / stride) + 1;
}

function outSizes(spatial: readonly number[], p: WindowParams): number[] {
  return spatial.map((n, i) => windowCount(n, p.kernel[i]!, p.stride[i]!, p.dilation[i]!));
}

/** The gather: (lead, *spatial) -> (lead, *out, *kernel), stored compact as (lead, *kernel, *out). */
function unfoldForward(a: NDArray, p: WindowParams): NDArray {
  const ns = p.kernel.length;
  const lead = a.ndim - ns;
  const out = outSizes(a.shape.slice(lead), p);
  const leadShape = a.shape.slice(0, lead);
  const leadStrides = a.strides.slice(0, lead);
  const sp = a.strides.slice(lead);
  // kernel dims before window-position dims, so that the compact copy is already in the
  // (C * prod(kernel), L) order matmul wants; the returned permuted view has the documented shape
  const view = a.asStrided(
    [...leadShape, ...p.kernel, ...out],
    [...leadStrides, ...sp.map((s, i) => s * p.dilation[i]!), ...sp.map((s, i) => s * p.stride[i]!)],
    a.offset,
  );
  const c = view.compact();
  const axes = Array.from({ length: lead }, (_, i) => i);
  for (let i = 0; i < ns; i++) axes.push(lead + ns + i);
  for (let i = 0; i < ns; i++) axes.push(lead + i);
  return c.permute(axes);
}

/** The scatter-add: (lead, *out, *kernel) -> (lead, *spatial). */
function foldForward(cols: NDArray, p: FoldParams): NDArray {
  const ns = p.kernel.length;
  const lead = cols.ndim - 2 * ns;
  const leadShape = cols.shape.slice(0, lead);
  const out = cols.shape.slice(lead, lead + ns);
  const res = NDArray.full([...leadShape, ...p.spatial], 0, cols.dtype, cols.device);
  if (res.size === 0 || cols.size === 0) return res;
  const rs = res.strides.slice(lead);
  const leadStrides = res.strides.slice(0, lead);
  // windows that never overlap (span < stride, a 1-wide kernel, or a single window): one scatter
  const disjoint = out.every((o, i) => o === 1 || p.kernel[i] === 1 || p.dilation[i]! * (p.kernel[i]! - 1) < p.stride[i]!);
  if (disjoint) {
    const dst = res.asStrided(
      [...leadShape, ...out, ...p.kernel],
      [...leadStrides, ...rs.map((s, i) => s * p.stride[i]!), ...rs.map((s, i) => s * p.dilation[i]!)],
      0,
    );
    dst.assign(cols);
    return res;
  }
  const winShape = [...leadShape, ...out];
  const winStrides = [...leadStrides, ...rs.map((s, i) => s * p.stride[i]!)];
  const srcStrides = cols.strides.slice(0, lead + ns);
  const ks = cols.strides.slice(lead + ns);
  const K = prod(p.kernel);
  const idx = new Array<number>(ns).fill(0);
  for (let k = 0; k < K; k++) {
    let dstOff = 0;
    let srcOff = cols.offset;
    for (let i = 0; i < ns; i++) {
      dstOff += idx[i]! * p.dilation[i]! * rs[i]!;
      srcOff += idx[i]! * ks[i]!;
    }
    const dst = res.asStrided(winShape, winStrides, dstOff);
    const src = cols.asStrided(winShape, srcStrides, srcOff);
    // the first offset lands on zeros: a plain copy
    dst.assign(k === 0 ? src : binaryNd('add', dst, src));
    for (let i = ns - 1; i >= 0; i--) {
      if (++idx[i]! < p.kernel[i]!) break;
      idx[i] = 0;
    }
  }
  return res;
}

export const im2colOp: OpDef<WindowParams> = defineOp<WindowParams>({
  name: 'im2col',
  differentiable: true,
  forward: ([a], p) => unfoldForward(a!, p),
  vjp: (g, { inputs, params }) => {
    const x = inputs[0]!;
    return [apply(col2imOp, [g], { ...params, spatial: x.shape.slice(x.ndim - params.kernel.length) })];
  },
  jvp: ([t], { params }) => (t ? apply(im2colOp, [t], params) : null),
});

export const col2imOp: OpDef<FoldParams> = defineOp<FoldParams>({
  name: 'col2im',
  differentiable: true,
  forward: ([a], p) => foldForward(a!, p),
  vjp: (g, { params }) => [apply(im2colOp, [g], { kernel: params.kernel, stride: params.stride, dilation: params.dilation })],
  jvp: ([t], { params }) => (t ? apply(col2imOp, [t], params) : null),
});

/**
 * Normalizes an int-or-tuple argument to one positive (or non-negative) integer per spatial dim.
 * TypeError for the wrong kind, RangeError for wrong lengths and values.
 */
export function intTuple(op: string, name: string, v: unknown, n: number, min: number): number[] {
  const list = typeof v === 'number' ? new Array<number>(n).fill(v) : v;
  if (!Array.isArray(list) || list.some((x) => typeof x !== 'number' || !Number.isInteger(x))) {
    throw typeError(op, `${name} to be an integer or a tuple of ${n} integers`, fmt(v));
  }
  if (list.length !== n) throw rangeError(op, `${name} with ${n} ${n === 1 ? 'entry' : 'entries'}`, fmt(v));
  if (list.some((x: number) => x < min)) throw rangeError(op, `${name} of integers >= ${min}`, fmt(v));
  return list as number[];
}

/** Options of {@link im2col} and {@link col2im}: int (all spatial dims) or one per spatial dim. */
export interface WindowOptions {
  /** Step between window positions. Default 1. */
  stride?: number | readonly number[];
  /** Spacing between the elements of a window. Default 1. */
  dilation?: number | readonly number[];
}

function windowParams(op: string, kernelSize: number | readonly number[], opts: WindowOptions, ns: number | null): WindowParams {
  const n = ns ?? (typeof kernelSize === 'number' ? 1 : (kernelSize as readonly number[]).length);
  if (n < 1) throw rangeError(op, 'at least one spatial dim in kernelSize', fmt(kernelSize));
  return {
    kernel: intTuple(op, 'kernelSize', kernelSize, n, 1),
    stride: intTuple(op, 'stride', opts.stride ?? 1, n, 1),
    dilation: intTuple(op, 'dilation', opts.dilation ?? 1, n, 1),
  };
}

/**
 * Sliding windows over the trailing `kernelSize.length` dims (im2col as a strided view): every
 * window of size `kernelSize` (elements `dilation` apart, windows `stride` apart) becomes its own
 * entry. No padding (pad first). Linear; its adjoint is {@link col2im}.
 *
 * The result is a view with the documented shape over a compact buffer laid out as
 * (*lead, *kernel, *out), so that moving the kernel dims in front of the window dims and flattening
 * them (the matmul layout of convolution) copies nothing.
 *
 * Shape: input (*lead, *spatial) with spatial dims L_i; output (*lead, *out, *kernel) with
 * out_i = floor((L_i - dilation_i * (kernel_i - 1) - 1) / stride_i) + 1. A number for
 * kernelSize means one spatial dim.
 * For example, an (N, C, H, W) input with kernelSize [3, 3] gives (N, C, H - 2, W - 2, 3, 3).
 */
export function im2col(x: Tensor, kernelSize: number | readonly number[], opts: WindowOptions = {}): Tensor {
  expectTensor('im2col', 'input', x);
  const p = windowParams('im2col', kernelSize, opts, null);
  const ns = p.kernel.length;
  if (x.ndim < ns) throw rangeError('im2col', `an input of at least ${ns} dims`, fmtShape(x.shape));
  const spatial = x.shape.slice(x.ndim - ns);
  spatial.forEach((n, i) => {
    const span = p.dilation[i]! * (p.kernel[i]! - 1) + 1;
    if (span > n) {
      throw rangeError('im2col', `a (dilated) kernel of size at most the input size ${n} in spatial dim ${i}`, `${span} (input ${fmtShape(x.shape)})`);
    }
  });
  return apply(im2colOp, [x], p);
}

/**
 * The adjoint of {@link im2col} (col2im): sums every window back into a tensor of spatial size
 * `outputSize`; elements covered by several windows receive the sum of their entries, elements
 * covered by none are 0. Linear.
 *
 * Shape: input (*lead, *out, *kernel) with out_i the window counts of `outputSize` (see
 * {@link im2col}); output (*lead, *outputSize).
 */
export function col2im(
  cols: Tensor,
  outputSize: number | readonly number[],
  kernelSize: number | readonly number[],
  opts: WindowOptions = {},
): Tensor {
  expectTensor('col2im', 'input', cols);
  const p = windowParams('col2im', kernelSize, opts, null);
  const ns = p.kernel.length;
  const spatial = intTuple('col2im', 'outputSize', outputSize, ns, 1);
  if (cols.ndim < 2 * ns) throw rangeError('col2im', `an input of at least ${2 * ns} dims`, fmtShape(cols.shape));
  const out = outSizes(spatial, p);
  const lead = cols.ndim - 2 * ns;
  const expect = [...out, ...p.kernel];
  if (out.some((o) => o < 1) || expect.some((d, i) => d !== cols.shape[lead + i])) {
    throw rangeError('col2im', `trailing dims ${fmtShape(expect)} (window counts, then kernel) for outputSize ${fmtShape(spatial)}`, fmtShape(cols.shape));
  }
  return apply(col2imOp, [cols], { ...p, spatial });
}
