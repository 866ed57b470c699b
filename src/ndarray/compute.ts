/**
 * Array-level compute: the glue between NDArray views and backend kernels. Broadcasting, the
 * size-1 scalar fast path, moving reduced dims last and batching matmul happen here, so kernels
 * only ever see compact buffers, except the optional strided members (Backend.binaryStrided for
 * broadcast operands, Backend.reduceAxis for reduced dims in the middle), which spare those
 * copies where a backend has them. Compact copies made here are freed as soon as the kernel ran.
 * No autograd in this file.
 */
import { fmtShape, rangeError, typeError } from '../errors.js';
import { COMPARISON_OPS, type BinaryOp, type ReduceOp, type UnaryOp } from './backend.js';
import type { DType } from './dtype.js';
import { NDArray } from './ndarray.js';
import { broadcastShapes, compactStrides, normAxes, prod, shapesEqual } from './shape.js';

function sameDevice(op: string, ...xs: NDArray[]): void {
  const d = xs[0]!.device;
  for (const x of xs) {
    if (x.device !== d) throw typeError(op, `all tensors on one device (${d})`, x.device);
  }
}

/** Elementwise unary kernel; `isnan`/`logicalNot` produce bool. */
export function unaryNd(op: UnaryOp, a: NDArray): NDArray {
  const outDtype: DType = op === 'isnan' || op === 'logicalNot' ? 'bool' : a.dtype;
  const c = a.compact();
  const out = NDArray.empty(a.shape, outDtype, a.device);
  a.backend.unary(op, c, out, out.size);
  freeTemp(c, a);
  return out;
}

/** Elementwise binary kernel with broadcasting; inputs must share a dtype. */
export function binaryNd(op: BinaryOp, a: NDArray, b: NDArray): NDArray {
  sameDevice(op, a, b);
  if (a.dtype !== b.dtype) throw typeError(op, `inputs of one dtype (${a.dtype})`, b.dtype);
  const shape = broadcastShapes(op, a.shape, b.shape);
  const outDtype: DType = COMPARISON_OPS.has(op) ? 'bool' : a.dtype;
  const out = NDArray.empty(shape, outDtype, a.device);
  const n = out.size;
  if (n === 0) return out;
  const be = a.backend;
  if (b.size === 1 && shapesEqual(a.shape, shape)) {
    be.binaryScalar(op, a.compact(), b.item(), out, n, false);
  } else if (a.size === 1 && shapesEqual(b.shape, shape)) {
    be.binaryScalar(op, b.compact(), a.item(), out, n, true);
  } else {
    const av = shapesEqual(a.shape, shape) ? a : a.broadcastTo(shape);
    const bv = shapesEqual(b.shape, shape) ? b : b.broadcastTo(shape);
    const aDense = av.isCompact();
    const bDense = bv.isCompact();
    // broadcast or strided operands: the backend's strided kernel reads them in place
    if ((!aDense || !bDense) && be.binaryStrided?.(op, av, bv, out, n)) return out;
    const ac = aDense ? av : av.compact();
    const bc = bDense ? bv : bv.compact();
    be.binary(op, ac, bc, out, n);
    freeTemp(ac, av);
    freeTemp(bc, bv);
  }
  return out;
}

/**
 * Frees `tmp`, an array an op made for its own use (it never leaves the op), at once instead of
 * leaving it to the garbage collector: unless it is null or shares its storage with one of `keep`
 * (a `compact()` that returned its input, or a view of it). Safe on every backend: the wasm and cpu
 * kernels have finished when they return, and the cuda backend reuses a freed block only for
 * launches issued later on its one stream.
 */
export function freeTemp(tmp: NDArray | null, ...keep: NDArray[]): void {
  if (tmp === null || keep.some((k) => k.storage === tmp.storage)) return;
  tmp.backend.free(tmp.storage);
}

/** where(cond, a, b) with broadcasting; a and b share a dtype, cond is bool. */
export function whereNd(cond: NDArray, a: NDArray, b: NDArray): NDArray {
  sameDevice('where', cond, a, b);
  if (cond.dtype !== 'bool') throw typeError('where', 'condition of dtype bool', cond.dtype);
  if (a.dtype !== b.dtype) throw typeError('where', `inputs of one dtype (${a.dtype})`, b.dtype);
  const shape = broadcastShapes('where', cond.shape, a.shape, b.shape);
  const out = NDArray.empty(shape, a.dtype, a.device);
  const views = [cond, a, b].map((x) => x.broadcastTo(shape));
  const [cc, ac, bc] = views.map((v) => v.compact()) as [NDArray, NDArray, NDArray];
  a.backend.where(cc, ac, bc, out, out.size);
  freeTemp(cc, views[0]!);
  freeTemp(ac, views[1]!);
  freeTemp(bc, views[2]!);
  return out;
}

/** Reduction over `axes` (all when null). arg* reductions take exactly one axis (or all). */
export function reduceNd(op: ReduceOp, a: NDArray, axes: readonly number[] | null, keepdim: boolean): NDArray {
  const nd = a.ndim;
  const red = normAxes(op, axes, nd);
  const keep = Array.from({ length: nd }, (_, i) => i).filter((i) => !red.includes(i));
  const outShape = keepdim ? a.shape.map((d, i) => (red.includes(i) ? 1 : d)) : keep.map((i) => a.shape[i]!);
  const size = prod(red.map((i) => a.shape[i]!));
  const outer = prod(keep.map((i) => a.shape[i]!));
  const isArg = op === 'argmax' || op === 'argmin';
  if (size === 0 && op !== 'sum' && op !== 'prod') {
    throw rangeError(op, 'a non-empty reduction (the op has no identity)', `shape ${fmtShape(a.shape)}`);
  }
  const out = NDArray.empty(outShape, isArg ? 'int32' : a.dtype, a.device);
  if (outer === 0) return out;
  if (size === 0) {
    a.backend.fill(out, out.size, op === 'prod' ? 1 : 0);
    return out;
  }
  const perm = a.permute([...keep, ...red]);
  if (!perm.isCompact() && a.backend.reduceAxis && a.isCompact()) {
    // the reduced dims adjacent in a compact input: reduce the middle axis of (outer, size,
    // inner) where it lies instead of moving it last (a transposed copy)
    const inner = middleAxis(a.shape, red);
    if (inner > 1) {
      a.backend.reduceAxis(op, a, out, outer / inner, size, inner);
      return out;
    }
  }
  const moved = perm.compact();
  a.backend.reduce(op, moved, out, outer, size);
  freeTemp(moved, perm);
  return out;
}

/**
 * When the reduced axes `red` are one run of adjacent dims once size-1 dims are ignored, the
 * number of elements after them (the `inner` of (outer, size, inner)); else 0.
 */
function middleAxis(shape: readonly number[], red: readonly number[]): number {
  let phase = 0; // 0: before the reduced run, 1: in it, 2: after it
  let inner = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    if (d === 1) continue;
    const r = red.includes(i);
    if (phase === 0 && r) phase = 1;
    else if (phase === 1 && !r) phase = 2;
    else if (phase === 2 && r) return 0;
    if (phase === 2) inner *= d;
  }
  return phase === 0 ? 0 : inner;
}

/** Dtype conversion. */
export function castNd(a: NDArray, dtype: DType): NDArray {
  return a.astype(dtype);
}

/** True when the batch dims (all but the last two) of `x` are row-major over blocks of `inner`. */
function batchCompact(x: NDArray, inner: number): boolean {
  let expect = inner;
  for (let i = x.ndim - 3; i >= 0; i--) {
    if (x.shape[i] === 1) continue;
    if (x.strides[i] !== expect) return false;
    expect *= x.shape[i]!;
  }
  return true;
}

/** How a matrix operand is laid out for the kernel: compact, or the transpose of compact. */
function matLayout(x: NDArray): { arr: NDArray; trans: boolean } {
  const nd = x.ndim;
  const r = x.shape[nd - 2]!;
  const c = x.shape[nd - 1]!;
  const sr = x.strides[nd - 2]!;
  const sc = x.strides[nd - 1]!;
  if ((sc === 1 || c === 1) && (sr === c || r === 1) && batchCompact(x, r * c)) return { arr: x, trans: false };
  if ((sr === 1 || r === 1) && (sc === r || c === 1) && batchCompact(x, r * c) && r > 1 && c > 1) {
    return { arr: x, trans: true };
  }
  return { arr: x.compact(), trans: false };
}

/** Batched matrix product of (..., m, k) and (..., k, n) with broadcast batch dims. */
export function matmulNd(a: NDArray, b: NDArray): NDArray {
  sameDevice('matmul', a, b);
  if (a.ndim < 2 || b.ndim < 2) throw rangeError('matmul', 'inputs of at least 2 dims', `${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`);
  if (a.dtype !== b.dtype) throw typeError('matmul', `inputs of one dtype (${a.dtype})`, b.dtype);
  const m = a.shape[a.ndim - 2]!;
  const k = a.shape[a.ndim - 1]!;
  const k2 = b.shape[b.ndim - 2]!;
  const n = b.shape[b.ndim - 1]!;
  if (k !== k2) throw rangeError('matmul', 'inner dimensions must match', `${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`);
  if (a.ndim === 2 && b.ndim === 2) {
    // plain matrices (the common case): no batch shapes to broadcast
    const out = NDArray.empty([m, n], a.dtype, a.device);
    if (m === 0 || n === 0) return out;
    const A = matLayout(a);
    const B = matLayout(b);
    a.backend.matmul(A.arr, B.arr, out, { batch: 1, m, n, k, transA: A.trans, transB: B.trans, strideA: 0, strideB: 0 });
    return out;
  }
  const batchShape = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = prod(batchShape);
  const out = NDArray.empty([...batchShape, m, n], a.dtype, a.device);
  if (out.size === 0) return out;
  const A = matOperand(a, batchShape, m, k);
  const B = matOperand(b, batchShape, k, n);
  a.backend.matmul(A.arr, B.arr, out, {
    batch, m, n, k, transA: A.trans, transB: B.trans, strideA: A.stride, strideB: B.stride,
  });
  return out;
}

/**
 * One batched operand of matmulNd as the kernel wants it: its layout, and the element stride
 * between consecutive batch matrices (0 when one matrix is broadcast over the whole batch).
 */
function matOperand(
  x: NDArray, batchShape: readonly number[], r: number, c: number,
): { arr: NDArray; trans: boolean; stride: number } {
  const fullyBroadcast = prod(x.shape.slice(0, -2)) === 1;
  const base = fullyBroadcast ? x.asStrided([r, c], x.strides.slice(-2)) : x.broadcastTo([...batchShape, r, c]);
  const lay = matLayout(base);
  return { arr: lay.arr, trans: lay.trans, stride: fullyBroadcast ? 0 : r * c };
}

function axisSpec(shape: readonly number[], dim: number, idxDim: number) {
  return { outer: prod(shape.slice(0, dim)), inner: prod(shape.slice(dim + 1)), dim: shape[dim]!, idxDim };
}

/**
 * torch.gather along `dim`: out[..., j, ...] = src[..., index[..., j, ...], ...]. The index must
 * have src's shape except along `dim` (a simplification of torch's "index.size(d) <= src.size(d)").
 */
export function gatherNd(src: NDArray, dim: number, index: NDArray): NDArray {
  if (index.dtype !== 'int32') throw typeError('gather', 'index of dtype int32', index.dtype);
  const ishape = index.shape;
  if (ishape.length !== src.ndim || ishape.some((d, i) => i !== dim && d !== src.shape[i])) {
    throw rangeError('gather', `index of shape ${fmtShape(src.shape)} except along dim ${dim}`, fmtShape(ishape));
  }
  checkIndexRange('gather', index, src.shape[dim]!);
  const out = NDArray.empty(ishape, src.dtype, src.device);
  if (out.size === 0) return out;
  src.backend.gather(src.compact(), index.compact(), out, axisSpec(src.shape, dim, ishape[dim]!));
  return out;
}

/** out = base (copied) with src[..., j, ...] added at index[..., j, ...] along `dim`. */
export function scatterAddNd(base: NDArray, dim: number, index: NDArray, src: NDArray): NDArray {
  if (index.dtype !== 'int32') throw typeError('scatterAdd', 'index of dtype int32', index.dtype);
  if (!shapesEqual(index.shape, src.shape)) {
    throw rangeError('scatterAdd', `src of the index's shape ${fmtShape(index.shape)}`, fmtShape(src.shape));
  }
  if (index.ndim !== base.ndim || index.shape.some((d, i) => i !== dim && d !== base.shape[i])) {
    throw rangeError('scatterAdd', `index of shape ${fmtShape(base.shape)} except along dim ${dim}`, fmtShape(index.shape));
  }
  checkIndexRange('scatterAdd', index, base.shape[dim]!);
  const out = base.clone();
  if (index.size === 0) return out;
  base.backend.scatterAdd(out, index.compact(), src.astype(base.dtype).compact(), axisSpec(base.shape, dim, index.shape[dim]!));
  return out;
}

function checkIndexRange(op: string, index: NDArray, n: number): void {
  const data = index.dataSync();
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < 0 || v >= n) throw rangeError(op, `index values in [0, ${n - 1}]`, String(v));
  }
}

/** A compact array of `shape` filled with `value` whose regions given by `place` hold `src`. */
export function embedNd(src: NDArray, shape: readonly number[], place: (view: NDArray) => NDArray, fill: number): NDArray {
  const out = NDArray.full(shape, fill, src.dtype, src.device);
  place(out).assign(src);
  return out;
}

export { compactStrides };
