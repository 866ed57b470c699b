/** Linear algebra: batched matmul (the primitive), torch.matmul's 1-D/2-D/batched rules, mT, outer. */
import { apply, defineOp, type OpDef } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import { matmulNd } from '../ndarray/compute.js';
import { fmtShape, rangeError } from '../errors.js';
import { add, cast } from './elementwise.js';
import { reshape, squeeze, transpose, unsqueeze } from './shape.js';
import { expectTensor, promote } from './util.js';

export const matmulOp: OpDef<undefined> = defineOp<undefined>({
  name: 'matmul',
  differentiable: true,
  forward: ([a, b]) => matmulNd(a!, b!),
  vjp: (g, { inputs }) => {
    const [a, b] = inputs as [Tensor, Tensor];
    return [a.requiresGrad ? mm(g, mT(b)) : null, b.requiresGrad ? mm(mT(a), g) : null];
  },
  jvp: ([ta, tb], { inputs }) => {
    const [a, b] = inputs as [Tensor, Tensor];
    const l = ta ? mm(ta, b) : null;
    const r = tb ? mm(a, tb) : null;
    return l && r ? add(l, r) : l ?? r;
  },
});

/** The primitive: (..., m, k) @ (..., k, n) with broadcast batch dims. */
function mm(a: Tensor, b: Tensor): Tensor {
  return apply(matmulOp, [a, b], undefined);
}

/**
 * Matrix product with torch.matmul semantics: 1-D @ 1-D is a dot product, a 1-D left operand is
 * a row vector and a 1-D right operand a column vector (the added dim is removed after), and
 * batch dims broadcast.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  expectTensor('matmul', 'input', a);
  expectTensor('matmul', 'other', b);
  if (a.ndim === 0 || b.ndim === 0) {
    throw rangeError('matmul', 'both arguments to have at least 1 dim', `${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`);
  }
  const ka = a.shape[a.ndim - 1]!;
  const kb = b.ndim === 1 ? b.shape[0]! : b.shape[b.ndim - 2]!;
  if (ka !== kb) throw rangeError('matmul', 'inner dimensions must match', `${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`);
  const dt = promote('matmul', [a, b]);
  let A = cast(a, dt);
  let B = cast(b, dt);
  const vecA = A.ndim === 1;
  const vecB = B.ndim === 1;
  if (vecA) A = unsqueeze(A, 0);
  if (vecB) B = unsqueeze(B, 1);
  let out = mm(A, B);
  if (vecA && vecB) return reshape(out, []);
  if (vecA) out = squeeze(out, -2);
  if (vecB) out = squeeze(out, -1);
  return out;
}

/** Swaps the last two dims (torch's .mT). */
export function mT(x: Tensor): Tensor {
  expectTensor('mT', 'input', x);
  if (x.ndim < 2) throw rangeError('mT', 'a tensor of at least 2 dims', fmtShape(x.shape));
  return transpose(x, -2, -1);
}

/** Outer product of two 1-D tensors. */
export function outer(a: Tensor, b: Tensor): Tensor {
  expectTensor('outer', 'input', a);
  expectTensor('outer', 'vec2', b);
  if (a.ndim !== 1 || b.ndim !== 1) throw rangeError('outer', 'two 1-D tensors', `${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  return mm(unsqueeze(a, 1), unsqueeze(cast(b, promote('outer', [a, b])), 0));
}
