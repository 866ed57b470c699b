/**
 * Sliding windows: the two linear primitives convolution and pooling are built on.
 *
 * - {@link im2col} (op `im2col`, "unfold") gathers every window of the trailing spatial dims into
 *   new dims: (N, C, *spatial) -> (N, C, *out, *kernel), with optional implicit zero padding. Its
 *   result is a permuted view of a compact (N, C, *kernel, *out) buffer, the layout the matmul of
 *   convolution reads without a copy.
 * - {@link col2im} (op `col2im`, "fold") is its adjoint: it sums every window back into place
 *   (overlapping windows accumulate; entries in the padding are dropped).
 *
 * Each is the other's vjp, and (both being linear) each is its own jvp, so every derivative order
 * of conv and pooling comes from these two rules. The torch-style `unfold`/`fold` (with the
 * (N, C * prod(kernel), L) layout) are composites in functional/conv.ts.
 *
 * Forward kernels: with one or two spatial dims, a backend's optional `im2col` / `col2im` members
 * (Backend.im2col: one pass that writes the columns straight from the unpadded input; col2im: one
 * pass per output image that sums the kernel offsets in order) do the work when present
 * (col2im: float dtypes); otherwise, and for three or more spatial dims, im2col is one strided
 * view + one compact (of an explicitly padded copy when there is padding) and col2im adds one
 * strided view per kernel offset (a single scatter when windows cannot overlap) into a padded
 * buffer that is then cropped.
 */
import { apply, defineOp, type OpDef } from '../autograd/op.js';
import { Tensor } from '../autograd/tensor.js';
import { isGradEnabled } from '../autograd/mode.js';
import { activeLevels } from '../autograd/dual.js';
import type { Dense, Im2colSpec } from '../ndarray/backend.js';
import { binaryNd, freeTemp, matmulNd } from '../ndarray/compute.js';
import { isFloating } from '../ndarray/dtype.js';
import { NDArray } from '../ndarray/ndarray.js';
import { prod } from '../ndarray/shape.js';
import { fmt, fmtShape, rangeError, typeError } from '../errors.js';
import { expectTensor } from './util.js';
import { add } from './elementwise.js';
import { matmul, mT } from './linalg.js';
import { sum } from './reduce.js';
import { permute, reshape } from './shape.js';
import { winogradBackward, winogradForward, winogradPlan } from './winograd.js';

/** Window geometry, one entry per spatial dim (the trailing dims of the input). */
export interface WindowParams {
  kernel: number[];
  stride: number[];
  dilation: number[];
  /** Implicit zeros before each spatial dim. */
  padBefore: number[];
  /** Implicit zeros after each spatial dim. */
  padAfter: number[];
}

interface FoldParams extends WindowParams {
  /** The spatial sizes of the folded (col2im) output = of the unfolded (im2col) input (unpadded). */
  spatial: number[];
}

/** Number of window positions along one dim (the floor formula of PyTorch, no padding). */
export function windowCount(size: number, kernel: number, stride: number, dilation: number): number {
  return Math.floor((size - dilation * (kernel - 1) - 1) / stride) + 1;
}

/** Window counts of (unpadded) spatial sizes under `p` (padding included). */
function outSizes(spatial: readonly number[], p: WindowParams): number[] {
  return spatial.map((n, i) => windowCount(n + p.padBefore[i]! + p.padAfter[i]!, p.kernel[i]!, p.stride[i]!, p.dilation[i]!));
}

const hasPadding = (p: WindowParams): boolean => p.padBefore.some((v) => v !== 0) || p.padAfter.some((v) => v !== 0);

/**
 * The backend kernels' 2-D geometry for 1 or 2 spatial dims (1-D: images of one row), or null
 * when the windows have more spatial dims.
 */
function spec2d(planes: number, spatial: readonly number[], out: readonly number[], p: WindowParams): Im2colSpec | null {
  const ns = spatial.length;
  if (ns === 2) {
    return {
      planes, h: spatial[0]!, w: spatial[1]!, oh: out[0]!, ow: out[1]!, kh: p.kernel[0]!, kw: p.kernel[1]!,
      sh: p.stride[0]!, sw: p.stride[1]!, dh: p.dilation[0]!, dw: p.dilation[1]!, ph: p.padBefore[0]!, pw: p.padBefore[1]!,
    };
  }
  if (ns === 1) {
    return {
      planes, h: 1, w: spatial[0]!, oh: 1, ow: out[0]!, kh: 1, kw: p.kernel[0]!,
      sh: 1, sw: p.stride[0]!, dh: 1, dw: p.dilation[0]!, ph: 0, pw: p.padBefore[0]!,
    };
  }
  return null;
}

/** The permutation (lead, *out, *kernel) <-> (lead, *kernel, *out) (its own inverse). */
function swapWindowAxes(lead: number, ns: number): number[] {
  const axes = Array.from({ length: lead }, (_, i) => i);
  for (let i = 0; i < ns; i++) axes.push(lead + ns + i);
  for (let i = 0; i < ns; i++) axes.push(lead + i);
  return axes;
}

/** A zero-padded copy of `a` (its trailing spatial dims). */
function padZeros(a: NDArray, p: WindowParams): NDArray {
  const ns = p.kernel.length;
  const lead = a.ndim - ns;
  const shape = a.shape.map((n, i) => (i < lead ? n : n + p.padBefore[i - lead]! + p.padAfter[i - lead]!));
  const res = NDArray.full(shape, 0, a.dtype, a.device);
  const off = p.padBefore.reduce((acc, b, i) => acc + b * res.strides[lead + i]!, 0);
  res.asStrided(a.shape, res.strides, off).assign(a);
  return res;
}

/** The gather: (lead, *spatial) -> (lead, *out, *kernel), stored compact as (lead, *kernel, *out). */
function unfoldForward(a: NDArray, p: WindowParams): NDArray {
  const ns = p.kernel.length;
  const lead = a.ndim - ns;
  const spatial = a.shape.slice(lead);
  const out = outSizes(spatial, p);
  const leadShape = a.shape.slice(0, lead);
  const axes = swapWindowAxes(lead, ns);
  const be = a.backend;
  const spec = be.im2col ? spec2d(prod(leadShape), spatial, out, p) : null;
  if (spec) {
    const c = NDArray.empty([...leadShape, ...p.kernel, ...out], a.dtype, a.device);
    if (c.size > 0) be.im2col!(a.compact(), c, spec);
    return c.permute(axes);
  }
  const src = hasPadding(p) ? padZeros(a, p) : a;
  const sp = src.strides.slice(lead);
  // kernel dims before window-position dims, so that the compact copy is already in the
  // (C * prod(kernel), L) order matmul wants; the returned permuted view has the documented shape
  const view = src.asStrided(
    [...leadShape, ...p.kernel, ...out],
    [...src.strides.slice(0, lead), ...sp.map((s, i) => s * p.dilation[i]!), ...sp.map((s, i) => s * p.stride[i]!)],
    src.offset,
  );
  return view.compact().permute(axes);
}

/** The scatter-add: (lead, *out, *kernel) -> (lead, *spatial). */
function foldForward(cols: NDArray, p: FoldParams): NDArray {
  const ns = p.kernel.length;
  const lead = cols.ndim - 2 * ns;
  const leadShape = cols.shape.slice(0, lead);
  const out = cols.shape.slice(lead, lead + ns);
  const be = cols.backend;
  const spec = be.col2im && isFloating(cols.dtype) ? spec2d(prod(leadShape), p.spatial, out, p) : null;
  if (spec) {
    const res = NDArray.empty([...leadShape, ...p.spatial], cols.dtype, cols.device);
    if (res.size === 0) return res;
    if (cols.size === 0) {
      res.assign(0);
      return res;
    }
    // (lead, *kernel, *out) compact: free when cols is the matmul output of conv's backward
    be.col2im!(cols.permute(swapWindowAxes(lead, ns)).compact(), res, spec);
    return res;
  }
  const padded = p.spatial.map((n, i) => n + p.padBefore[i]! + p.padAfter[i]!);
  const res = NDArray.full([...leadShape, ...padded], 0, cols.dtype, cols.device);
  if (res.size === 0 || cols.size === 0) return crop(res, p);
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
    return crop(res, p);
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
  return crop(res, p);
}

/** The unpadded interior of a padded fold result (compact; `res` itself without padding). */
function crop(res: NDArray, p: FoldParams): NDArray {
  if (!hasPadding(p)) return res;
  const lead = res.ndim - p.kernel.length;
  const off = p.padBefore.reduce((acc, b, i) => acc + b * res.strides[lead + i]!, 0);
  return res.asStrided([...res.shape.slice(0, lead), ...p.spatial], res.strides, off).compact();
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
  vjp: (g, { params }) => {
    const { kernel, stride, dilation, padBefore, padAfter } = params;
    return [apply(im2colOp, [g], { kernel, stride, dilation, padBefore, padAfter })];
  },
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
  /**
   * Implicit zeros around each spatial dim: an int (every side), one int per spatial dim (both
   * sides), or one [before, after] pair per spatial dim. Default 0.
   */
  padding?: number | readonly number[] | readonly (readonly [number, number])[];
}

/** Normalizes {@link WindowOptions.padding} to per-dim before/after amounts (>= 0). */
function paddingPairs(op: string, v: unknown, n: number): { padBefore: number[]; padAfter: number[] } {
  if (Array.isArray(v) && v.length > 0 && v.every((e) => Array.isArray(e))) {
    const pairs = v as unknown[][];
    if (pairs.length !== n || pairs.some((e) => e.length !== 2)) throw rangeError(op, `padding with ${n} [before, after] ${n === 1 ? 'pair' : 'pairs'}`, fmt(v));
    const flat = pairs.flat();
    if (flat.some((x) => typeof x !== 'number' || !Number.isInteger(x))) throw typeError(op, 'padding pairs of integers', fmt(v));
    if ((flat as number[]).some((x) => x < 0)) throw rangeError(op, 'padding of integers >= 0', fmt(v));
    return { padBefore: pairs.map((e) => e[0] as number), padAfter: pairs.map((e) => e[1] as number) };
  }
  const both = intTuple(op, 'padding', v, n, 0);
  return { padBefore: both, padAfter: [...both] };
}

function windowParams(op: string, kernelSize: number | readonly number[], opts: WindowOptions, ns: number | null): WindowParams {
  const n = ns ?? (typeof kernelSize === 'number' ? 1 : (kernelSize as readonly number[]).length);
  if (n < 1) throw rangeError(op, 'at least one spatial dim in kernelSize', fmt(kernelSize));
  return {
    kernel: intTuple(op, 'kernelSize', kernelSize, n, 1),
    stride: intTuple(op, 'stride', opts.stride ?? 1, n, 1),
    dilation: intTuple(op, 'dilation', opts.dilation ?? 1, n, 1),
    ...paddingPairs(op, opts.padding ?? 0, n),
  };
}

/**
 * Sliding windows over the trailing `kernelSize.length` dims (im2col): every window of size
 * `kernelSize` (elements `dilation` apart, windows `stride` apart) of the input, zero-padded by
 * `padding`, becomes its own entry. Linear; its adjoint is {@link col2im}.
 *
 * The result is a view with the documented shape over a compact buffer laid out as
 * (*lead, *kernel, *out), so that moving the kernel dims in front of the window dims and flattening
 * them (the matmul layout of convolution) copies nothing.
 *
 * Shape: input (*lead, *spatial) with spatial dims L_i; output (*lead, *out, *kernel) with
 * out_i = floor((L_i + before_i + after_i - dilation_i * (kernel_i - 1) - 1) / stride_i) + 1. A
 * number for kernelSize means one spatial dim.
 * For example, an (N, C, H, W) input with kernelSize [3, 3] gives (N, C, H - 2, W - 2, 3, 3), and
 * with padding 1 (N, C, H, W, 3, 3).
 */
export function im2col(x: Tensor, kernelSize: number | readonly number[], opts: WindowOptions = {}): Tensor {
  expectTensor('im2col', 'input', x);
  const p = windowParams('im2col', kernelSize, opts, null);
  const ns = p.kernel.length;
  if (x.ndim < ns) throw rangeError('im2col', `an input of at least ${ns} dims`, fmtShape(x.shape));
  const spatial = x.shape.slice(x.ndim - ns);
  spatial.forEach((n, i) => {
    const span = p.dilation[i]! * (p.kernel[i]! - 1) + 1;
    const padded = n + p.padBefore[i]! + p.padAfter[i]!;
    if (span > padded) {
      const what = padded === n ? 'input size' : 'padded input size';
      throw rangeError('im2col', `a (dilated) kernel of size at most the ${what} ${padded} in spatial dim ${i}`, `${span} (input ${fmtShape(x.shape)})`);
    }
  });
  return apply(im2colOp, [x], p);
}

/**
 * The adjoint of {@link im2col} (col2im): sums every window back into a tensor of spatial size
 * `outputSize`; elements covered by several windows receive the sum of their entries, elements
 * covered by none are 0, and entries that fall in the `padding` are dropped. Linear.
 *
 * Shape: input (*lead, *out, *kernel) with out_i the window counts of `outputSize` padded (see
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

// ---------------------------------------------------------------- convolution (groups = 1)

/**
 * Column elements per chunk of samples in the chunked convolution (10 MB of float32): the columns
 * a GEMM reads (or writes) are still in the last-level cache from im2col (or for col2im), no
 * batch-sized column buffer is allocated (nor collected), and the batches stay large enough for
 * the WebAssembly GEMM's thread split. Measured on the issue-#5 conv2d (2 cores, best of many):
 * with the system BLAS 48 ms at 1 or 4 samples a chunk, 54 ms at 8, 56 ms for whole batches;
 * without it 70 ms at 4, 73 ms at 14, 75 ms for whole batches, and 1 clearly slower.
 */
const CHUNK_ELEMENTS = 5 << 19;

/** True in a plain backward pass (no graph recorded, no forward-mode level watching). */
function plainBackward(): boolean {
  return !isGradEnabled() && activeLevels().length === 0;
}

/** A compact array as a Dense operand starting `start` elements in. */
const at = (a: NDArray, start: number): Dense => ({ storage: a.storage, offset: a.offset + start });

/** Sizes of a convolution of x (N, C, *spatial) with w (O, C, *kernel). */
function convGeometry(x: readonly number[], w: readonly number[], p: WindowParams) {
  const ns = p.kernel.length;
  const spatial = x.slice(2);
  const out = outSizes(spatial, p);
  const [N, C, O] = [x[0]!, x[1]!, w[0]!];
  const K = C * prod(p.kernel);
  const P = prod(out);
  return { ns, N, C, O, K, P, spatial, out };
}

/**
 * The chunked kernels apply: a backend with im2col and col2im, a float dtype, one or two spatial
 * dims and no empty dims (the composites handle those).
 */
function chunkSpec(x: NDArray, w: NDArray, p: WindowParams): { spec: Im2colSpec; B: number } | null {
  const be = x.backend;
  if (!be.im2col || !be.col2im || !isFloating(x.dtype) || x.size === 0 || w.size === 0) return null;
  const g = convGeometry(x.shape, w.shape, p);
  const spec = spec2d(g.C, g.spatial, g.out, p);
  if (spec === null || g.P === 0) return null;
  return { spec, B: Math.max(1, Math.min(g.N, Math.floor(CHUNK_ELEMENTS / (g.K * g.P)))) };
}

/** Forward on arrays: y (N, O, *out) = w (O, K) @ im2col(x) (N, K, P), chunk by chunk. */
function convForward(x: NDArray, w: NDArray, p: WindowParams): NDArray {
  const wino = winogradPlan(x, w, p);
  if (wino !== null) return winogradForward(x, w, wino);
  const g = convGeometry(x.shape, w.shape, p);
  const w2 = w.compact().reshape([g.O, g.K]);
  const plan = chunkSpec(x, w, p);
  if (plan === null) {
    const cols = unfoldForward(x, p).permute(swapWindowAxes(2, g.ns)).reshape([g.N, g.K, g.P]);
    return matmulNd(w2, cols).reshape([g.N, g.O, ...g.out]);
  }
  const be = x.backend;
  const xc = x.compact();
  const y = NDArray.empty([g.N, g.O, ...g.out], x.dtype, x.device);
  const cols = NDArray.empty([plan.B, g.K, g.P], x.dtype, x.device);
  const xs = g.C * prod(g.spatial);
  for (let n = 0; n < g.N; n += plan.B) {
    const b = Math.min(plan.B, g.N - n);
    be.im2col!(at(xc, n * xs), cols, { ...plan.spec, planes: b * g.C });
    be.matmul(w2, cols, at(y, n * g.O * g.P), { batch: b, m: g.O, n: g.P, k: g.K, transA: false, transB: false, strideA: 0, strideB: g.K * g.P });
  }
  // this op's own buffers go back to the heap now rather than at a garbage collection
  freeTemp(cols);
  freeTemp(xc, x);
  freeTemp(w2, w);
  return y;
}

/** The plain-backward gradients on arrays, chunk by chunk (null where not wanted). */
function convBackward(g: NDArray, x: NDArray, w: NDArray, p: WindowParams, wantX: boolean, wantW: boolean, plan: { spec: Im2colSpec; B: number }): [NDArray | null, NDArray | null] {
  const s = convGeometry(x.shape, w.shape, p);
  const be = x.backend;
  const gc = g.compact();
  const w2 = w.compact();
  const xc = x.compact();
  const cols = NDArray.empty([plan.B, s.K, s.P], x.dtype, x.device);
  const xs = s.C * prod(s.spatial);
  const gs = s.O * s.P;
  let dx: NDArray | null = null;
  if (wantX) {
    // dcols = w^T (K, O) @ g (O, P) per sample, then summed back into place
    dx = NDArray.empty(x.shape, x.dtype, x.device);
    for (let n = 0; n < s.N; n += plan.B) {
      const b = Math.min(plan.B, s.N - n);
      be.matmul(w2, at(gc, n * gs), cols, { batch: b, m: s.K, n: s.P, k: s.O, transA: true, transB: false, strideA: 0, strideB: gs });
      be.col2im!(cols, at(dx, n * xs), { ...plan.spec, planes: b * s.C });
    }
  }
  let dw: NDArray | null = null;
  if (wantW) {
    // dw = sum over samples of g (O, P) @ cols^T (P, K), the columns recomputed chunk by chunk
    // (cheaper than keeping the batch's columns from the forward) and the samples added in order
    const part = NDArray.empty([plan.B, s.O, s.K], x.dtype, x.device);
    const ok = s.O * s.K;
    for (let n = 0; n < s.N; n += plan.B) {
      const b = Math.min(plan.B, s.N - n);
      be.im2col!(at(xc, n * xs), cols, { ...plan.spec, planes: b * s.C });
      be.matmul(at(gc, n * gs), cols, part, { batch: b, m: s.O, n: s.K, k: s.P, transA: false, transB: true, strideA: gs, strideB: s.K * s.P });
      for (let i = 0; i < b; i++) {
        if (dw === null) {
          dw = NDArray.empty([s.O, s.K], x.dtype, x.device);
          be.compact({ ...at(part, i * ok), shape: [ok], strides: [1] }, dw);
        } else {
          const next = NDArray.empty([s.O, s.K], x.dtype, x.device);
          be.binary('add', dw, at(part, i * ok), next, ok);
          freeTemp(dw);
          dw = next;
        }
      }
    }
    freeTemp(part);
    dw = dw!.reshape(w.shape);
  }
  freeTemp(cols);
  freeTemp(gc, g);
  freeTemp(w2, w);
  freeTemp(xc, x);
  return [dx, dw];
}

/** Gradients with differentiable Tensor ops (im2col, matmul, col2im): any derivative order. */
function convVjpComposite(g: Tensor, x: Tensor, w: Tensor, p: WindowParams): [Tensor | null, Tensor | null] {
  const s = convGeometry(x.shape, w.shape, p);
  const g3 = reshape(g, [s.N, s.O, s.P]);
  const w2 = reshape(w, [s.O, s.K]);
  let dx: Tensor | null = null;
  if (x.requiresGrad) {
    const dcols = reshape(matmul(mT(w2), g3), [s.N, s.C, ...p.kernel, ...s.out]);
    dx = apply(col2imOp, [permute(dcols, swapWindowAxes(2, s.ns))], { ...p, spatial: s.spatial });
  }
  let dw: Tensor | null = null;
  if (w.requiresGrad) {
    const cols = reshape(permute(apply(im2colOp, [x], p), swapWindowAxes(2, s.ns)), [s.N, s.K, s.P]);
    dw = reshape(sum(matmul(g3, mT(cols)), 0), w.shape);
  }
  return [dx, dw];
}

/**
 * The convolution primitive (groups = 1): y = w (O, K) @ im2col(x) per sample, made by
 * {@link convolve} where the backend has the window kernels (Backend.im2col / col2im). The forward
 * and a plain backward (no graph recorded) run chunk by chunk of samples: im2col into a columns
 * buffer of a few MB, then the GEMM (input gradient: GEMM, then col2im; weight gradient: im2col
 * again, then GEMM), so that the columns stay in cache and no (N, C * prod(kernel), L) buffer is
 * allocated or kept for the backward. A backward that records a graph (higher-order derivatives)
 * is written with the differentiable primitives im2col, matmul and col2im; the jvp with the
 * primitive itself (conv is linear in each argument). Float32 3x3 convolutions with stride and
 * dilation 1 on backends with the winograd* members run their forward and plain backward by
 * Winograd F(4x4, 3x3) instead (ops/winograd.ts; `setConvAlgorithm`).
 */
export const convOp: OpDef<WindowParams> = defineOp<WindowParams>({
  name: 'conv',
  differentiable: true,
  forward: ([x, w], p) => convForward(x!, w!, p),
  vjp: (g, { inputs, params }) => {
    const [x, w] = inputs as [Tensor, Tensor];
    const plain = plainBackward() && g.dtype === x.dtype && g.device === x.device;
    const wino = plain ? winogradPlan(x.array, w.array, params) : null;
    if (wino !== null) {
      const [dx, dw] = winogradBackward(g.array, x.array, w.array, wino, x.requiresGrad, w.requiresGrad);
      return [dx && new Tensor(dx), dw && new Tensor(dw)];
    }
    const plan = plain ? chunkSpec(x.array, w.array, params) : null;
    if (plan === null) return convVjpComposite(g, x, w, params);
    const [dx, dw] = convBackward(g.array, x.array, w.array, params, x.requiresGrad, w.requiresGrad, plan);
    return [dx && new Tensor(dx), dw && new Tensor(dw)];
  },
  jvp: ([tx, tw], { inputs, params }) => {
    const [x, w] = inputs as [Tensor, Tensor];
    const a = tx ? apply(convOp, [tx, w], params) : null;
    const b = tw ? apply(convOp, [x, tw], params) : null;
    return a && b ? add(a, b) : a ?? b;
  },
});

/**
 * Convolution of x (N, C, *spatial) with w (O, C, *kernel) (cross-correlation, groups = 1, no
 * bias) by the {@link convOp} primitive: (N, O, *out) with the window counts of {@link im2col}.
 * Returns null where the primitive's chunked kernels do not apply (a backend without
 * Backend.im2col / col2im, three spatial dims, empty dims): callers then build the composite
 * im2col -> matmul, whose backward keeps the forward's columns. Arguments are the caller's to
 * check (functional/conv.ts); `opts` as for {@link im2col}.
 */
export function convolve(x: Tensor, w: Tensor, opts: WindowOptions): Tensor | null {
  const p = windowParams('conv', w.shape.slice(2), opts, w.ndim - 2);
  if (chunkSpec(x.array, w.array, p) === null || x.dtype !== w.dtype || x.device !== w.device) return null;
  return apply(convOp, [x, w], p);
}
