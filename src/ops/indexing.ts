/**
 * Tensor indexing with PyTorch semantics: integers drop their dim, slices keep it (steps and
 * negative indices allowed; strings like "1:-1:2" or ":" are accepted), `null` inserts a new
 * axis, "..." fills the remaining dims, and one int32 tensor index selects entries along its dim.
 * `setItem` writes in place through the same views.
 */
import { Tensor } from '../autograd/tensor.js';
import { isGradEnabled } from '../autograd/mode.js';
import { NDArray, type SliceSpec } from '../ndarray/ndarray.js';
import { fmtShape, GraphError, rangeError, typeError } from '../errors.js';
import { indexSelect } from './index_ops.js';
import { reshape, slice } from './shape.js';
import { describe } from './util.js';

/** One index item. */
export type Index = number | string | null | SliceSpec | Tensor;

/** Parses "start:stop:step" (any part may be empty). */
function parseSliceString(s: string): SliceSpec {
  const parts = s.split(':');
  if (parts.length < 2 || parts.length > 3) throw typeError('getitem', 'a slice string like "1:5:2"', JSON.stringify(s));
  const num = (p: string | undefined) => {
    if (p === undefined || p.trim() === '') return null;
    const v = Number(p);
    if (!Number.isInteger(v)) throw typeError('getitem', 'integer slice bounds', JSON.stringify(s));
    return v;
  };
  return { start: num(parts[0]), stop: num(parts[1]), step: num(parts[2]) };
}

interface Plan {
  specs: SliceSpec[];
  /** Output shape entries: a source dim kept, or 'new' for an inserted axis. */
  outDims: (number | 'new')[];
  tensorIndex: { srcDim: number; index: Tensor } | null;
}

function plan(op: string, shape: readonly number[], items: readonly Index[]): Plan {
  const consuming = items.filter((it) => it !== null && it !== '...').length;
  if (items.filter((it) => it === '...').length > 1) throw rangeError(op, 'at most one "..."', `${items.length} items`);
  if (consuming > shape.length) {
    throw rangeError(op, `at most ${shape.length} indices for a ${shape.length}-d tensor`, String(consuming));
  }
  const specs: SliceSpec[] = shape.map(() => ({}));
  const outDims: (number | 'new')[] = [];
  let tensorIndex: Plan['tensorIndex'] = null;
  let d = 0;
  for (const it of items) {
    if (it === '...') {
      const fill = shape.length - consuming;
      for (let k = 0; k < fill; k++) outDims.push(d++);
    } else if (it === null) {
      outDims.push('new');
    } else if (typeof it === 'number') {
      const n = shape[d]!;
      if (!Number.isInteger(it) || it < -n || it >= n) {
        throw rangeError(op, `index in [${-n}, ${n - 1}] for dim ${d} of size ${n}`, String(it));
      }
      const i = it < 0 ? it + n : it;
      specs[d] = { start: i, stop: i + 1 };
      d++;
    } else if (typeof it === 'string') {
      specs[d] = parseSliceString(it);
      outDims.push(d++);
    } else if (it instanceof Tensor) {
      if (it.dtype !== 'int32') throw typeError(op, 'a tensor index of dtype int32', it.dtype);
      if (tensorIndex) throw typeError(op, 'at most one tensor index', 'two');
      tensorIndex = { srcDim: d, index: it };
      outDims.push(d++);
    } else if (typeof it === 'object') {
      specs[d] = it;
      outDims.push(d++);
    } else {
      throw typeError(op, 'indices that are integers, slices, null, "..." or int32 tensors', describe(it));
    }
  }
  while (d < shape.length) outDims.push(d++);
  return { specs, outDims, tensorIndex };
}

/** x[...items] with PyTorch semantics (a view unless a tensor index is used). */
export function getItem(x: Tensor, ...items: Index[]): Tensor {
  const p = plan('getitem', x.shape, items);
  let y = slice(x, p.specs);
  const shape = p.outDims.map((d) => (d === 'new' ? 1 : y.shape[d]!));
  y = reshape(y, shape);
  if (p.tensorIndex) {
    const pos = p.outDims.indexOf(p.tensorIndex.srcDim);
    const idx = wrapIndex(p.tensorIndex.index, y.shape[pos]!, p.tensorIndex.srcDim);
    const flat = indexSelect(y, pos, reshape(idx, [idx.size]));
    y = reshape(flat, [...flat.shape.slice(0, pos), ...idx.shape, ...flat.shape.slice(pos + 1)]);
  }
  return y;
}

/** Negative entries of an int32 index count from the end (PyTorch); out-of-range ones throw. */
function wrapIndex(idx: Tensor, n: number, dim: number): Tensor {
  const vals = idx.dataSync();
  let wrap = false;
  for (let i = 0; i < vals.length; i++) {
    const v = vals[i]!;
    if (v < -n || v >= n) throw rangeError('getitem', `index values in [${-n}, ${n - 1}] for dim ${dim} of size ${n}`, String(v));
    if (v < 0) wrap = true;
  }
  if (!wrap) return idx;
  const w = new Int32Array(vals.length);
  for (let i = 0; i < vals.length; i++) w[i] = vals[i]! < 0 ? vals[i]! + n : vals[i]!;
  return new Tensor(NDArray.fromData(w, idx.shape, 'int32', idx.device));
}

/** The NDArray view selected by `items` (no tensor indices). */
export function viewOf(a: NDArray, items: readonly Index[]): NDArray {
  const p = plan('setitem', a.shape, items);
  if (p.tensorIndex) throw typeError('setitem', 'integer, slice, null or "..." indices', 'a tensor index');
  const v = a.slice(p.specs);
  const keep = p.outDims.filter((d): d is number => d !== 'new');
  const dropped = a.shape.map((_, i) => i).filter((i) => !keep.includes(i));
  return v.squeeze(dropped.filter((i) => v.shape[i] === 1));
}

/**
 * In-place x[...items] = value (a tensor broadcastable to the selection, or a scalar). Allowed on
 * tensors outside the graph, or inside noGrad (as PyTorch's rule for leaves).
 */
export function setItem(x: Tensor, items: readonly Index[], value: Tensor | number): void {
  if ((x.requiresGrad || x.node) && isGradEnabled()) {
    throw new GraphError('setitem: an in-place write to a tensor that requires grad must run inside noGrad');
  }
  const v = viewOf(x.array, items);
  if (typeof value === 'number') v.assign(value);
  else if (value instanceof Tensor) {
    // leading size-1 dims of the value beyond the selection's rank are dropped (as PyTorch)
    let a = value.array;
    let k = 0;
    while (k < a.ndim - v.ndim && a.shape[k] === 1) k++;
    if (k > 0) a = a.squeeze(Array.from({ length: k }, (_, i) => i));
    const off = v.ndim - a.ndim;
    if (off < 0 || a.shape.some((d, i) => d !== 1 && d !== v.shape[off + i])) {
      throw rangeError('setitem', `a value broadcastable to the selection's shape ${fmtShape(v.shape)}`, fmtShape(value.shape));
    }
    v.assign(a);
  }
  else throw typeError('setitem', 'a Tensor or a number', describe(value));
}
