/** Index-based ops: gather and its adjoint scatterAdd (primitives), indexSelect, oneHot, maskedFill, tril/triu. */
import { apply, defineOp, type OpDef } from '../autograd/op.js';
import { Tensor } from '../autograd/tensor.js';
import { gatherNd, scatterAddNd } from '../ndarray/compute.js';
import { normAxis } from '../ndarray/shape.js';
import { fmtShape, rangeError, typeError } from '../errors.js';
import { cast, eq, ge, le, sub, where } from './elementwise.js';
import { expand, reshape } from './shape.js';
import { expectTensor, zerosLikeT, type TensorLike } from './util.js';
import { arange } from '../creation.js';

export const gatherOp: OpDef<{ dim: number }> = defineOp<{ dim: number }>({
  name: 'gather',
  differentiable: true,
  forward: ([src, index], p) => gatherNd(src!, p.dim, index!),
  vjp: (g, { inputs, params }) => [
    apply(scatterAddOp, [zerosLikeT(inputs[0]!), inputs[1]!, g], params),
    null,
  ],
  jvp: ([t], { inputs, params }) => (t ? apply(gatherOp, [t, inputs[1]!], params) : null),
});

export const scatterAddOp: OpDef<{ dim: number }> = defineOp<{ dim: number }>({
  name: 'scatterAdd',
  differentiable: true,
  forward: ([base, index, src], p) => scatterAddNd(base!, p.dim, index!, src!),
  vjp: (g, { inputs, params }) => [g, null, inputs[2]!.requiresGrad ? apply(gatherOp, [g, inputs[1]!], params) : null],
  jvp: ([tb, , ts], { inputs, params }) => {
    if (!tb && !ts) return null;
    return apply(scatterAddOp, [tb ?? zerosLikeT(inputs[0]!), inputs[1]!, ts ?? zerosLikeT(inputs[2]!)], params);
  },
});

function checkIndex(op: string, index: unknown): Tensor {
  expectTensor(op, 'index', index);
  const t = index as Tensor;
  if (t.dtype !== 'int32') throw typeError(op, 'index of dtype int32', t.dtype);
  return t;
}

/** torch.gather: out[i][j] = x[i][index[i][j]] for dim 1 (index has x's shape except along dim). */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  expectTensor('gather', 'input', x);
  checkIndex('gather', index);
  return apply(gatherOp, [x, index], { dim: normAxis('gather', dim, x.ndim) });
}

/** Out-of-place torch.scatter_add: x with src added at index along dim. */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  expectTensor('scatterAdd', 'input', x);
  checkIndex('scatterAdd', index);
  expectTensor('scatterAdd', 'src', src);
  return apply(scatterAddOp, [x, index, cast(src, x.dtype)], { dim: normAxis('scatterAdd', dim, x.ndim) });
}

/** Selects entries along `dim` by a 1-D int32 index (torch.index_select). */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  expectTensor('indexSelect', 'input', x);
  checkIndex('indexSelect', index);
  if (index.ndim > 1) throw rangeError('indexSelect', 'a 0-D or 1-D index', fmtShape(index.shape));
  const d = normAxis('indexSelect', dim, x.ndim);
  const n = index.size;
  const size = x.shape[d]!;
  for (const v of index.dataSync()) {
    if (v < 0 || v >= size) throw rangeError('indexSelect', `index values in [0, ${size - 1}] for dim ${d}`, String(v));
  }
  const shape = x.shape.map((s, i) => (i === d ? n : s));
  const idxShape = x.shape.map((_, i) => (i === d ? n : 1));
  const full = new Tensor(reshape(index, idxShape).array.broadcastTo(shape));
  return gather(x, d, full);
}

/** One-hot encoding of int32 class indices: shape [..., numClasses], dtype int32 (as PyTorch). */
export function oneHot(index: Tensor, numClasses = -1, opts: { dtype?: 'int32' | 'float32' | 'float64' } = {}): Tensor {
  checkIndex('oneHot', index);
  const data = index.dataSync();
  let maxv = -1;
  for (const v of data) {
    if (v < 0) throw rangeError('oneHot', 'non-negative class indices', String(v));
    maxv = Math.max(maxv, v);
  }
  const n = numClasses < 0 ? maxv + 1 : numClasses;
  if (maxv >= n) throw rangeError('oneHot', `class indices below numClasses=${n}`, String(maxv));
  const classes = arange(n, undefined, 1, { device: index.device });
  const r = eq(reshape(index, [...index.shape, 1]), classes);
  return cast(r, opts.dtype ?? 'int32');
}

/** x where mask is false, `value` where it is true (broadcasting mask). */
export function maskedFill(x: Tensor, mask: Tensor, value: TensorLike): Tensor {
  expectTensor('maskedFill', 'input', x);
  expectTensor('maskedFill', 'mask', mask);
  if (mask.dtype !== 'bool') throw typeError('maskedFill', 'mask of dtype bool', mask.dtype);
  const v = value instanceof Tensor ? cast(value, x.dtype) : value;
  return where(mask, v, x);
}

function triMask(op: string, x: Tensor, diagonal: number, lower: boolean): Tensor {
  expectTensor(op, 'input', x);
  if (x.ndim < 2) throw rangeError(op, 'a tensor of at least 2 dims', fmtShape(x.shape));
  if (!Number.isInteger(diagonal)) throw typeError(op, 'an integer diagonal', String(diagonal));
  const r = x.shape[x.ndim - 2]!;
  const c = x.shape[x.ndim - 1]!;
  const rows = reshape(arange(r, undefined, 1, { device: x.device }), [r, 1]);
  const cols = reshape(arange(c, undefined, 1, { device: x.device }), [1, c]);
  const d = sub(cols, rows);
  return lower ? le(d, diagonal) : ge(d, diagonal);
}

/** Lower triangle (elements with col - row <= diagonal), zeros elsewhere. */
export function tril(x: Tensor, diagonal = 0): Tensor {
  return where(triMask('tril', x, diagonal, true), x, 0);
}

/** Upper triangle (elements with col - row >= diagonal), zeros elsewhere. */
export function triu(x: Tensor, diagonal = 0): Tensor {
  return where(triMask('triu', x, diagonal, false), x, 0);
}

