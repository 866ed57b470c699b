/**
 * The linear layer's primitive, y = x W^T + b (torch.nn.functional.linear), as one op instead of
 * transpose + matmul + broadcast add: the forward is one matrix product of the input's rows with
 * W read transposed and one broadcast add of the bias; the vjp gives the weight gradient in the
 * weight's own layout (g^T x, no transposed copy) and the bias gradient as a column sum. Both
 * rules are written with differentiable Tensor ops, so every derivative order stays exact.
 */
import { apply, defineOp, type OpDef } from '../autograd/op.js';
import type { Tensor } from '../autograd/tensor.js';
import { binaryNd, matmulNd } from '../ndarray/compute.js';
import { prod } from '../ndarray/shape.js';
import { add } from './elementwise.js';
import { matmul, mT } from './linalg.js';
import { sum } from './reduce.js';
import { reshape } from './shape.js';

interface LinearP {
  hasBias: boolean;
}

/** The input's leading dims flattened: (m, in). */
const rows = (x: Tensor): Tensor => (x.ndim === 2 ? x : reshape(x, [prod(x.shape.slice(0, -1)), x.shape[x.ndim - 1]!]));

export const linearOp: OpDef<LinearP> = defineOp<LinearP>({
  name: 'linear',
  differentiable: true,
  forward: ([x, w, b]) => {
    const lead = x!.shape.slice(0, -1);
    const x2 = x!.ndim === 2 ? x! : x!.reshape([prod(lead), x!.shape[x!.ndim - 1]!]);
    let y = matmulNd(x2, w!.permute([1, 0]));
    if (b) y = binaryNd('add', y, b);
    return x!.ndim === 2 ? y : y.reshape([...lead, w!.shape[0]!]);
  },
  vjp: (g, { inputs, params }) => {
    const [x, w, b] = inputs as [Tensor, Tensor, Tensor | undefined];
    const g2 = rows(g);
    const grads: (Tensor | null)[] = [
      x.requiresGrad ? reshape(matmul(g2, w), x.shape) : null,
      w.requiresGrad ? matmul(mT(g2), rows(x)) : null,
    ];
    if (params.hasBias) grads.push(b!.requiresGrad ? sum(g2, 0) : null);
    return grads;
  },
  jvp: ([tx, tw, tb], { inputs }) => {
    const [x, w] = inputs as [Tensor, Tensor];
    let r = tx ? matmul(tx, mT(w)) : null;
    if (tw) r = r ? add(r, matmul(x, mT(tw))) : matmul(x, mT(tw));
    if (tb) r = r ? add(r, tb) : tb;
    return r;
  },
});

/**
 * x W^T + b for an input of at least 2 dims (*, in), a weight (out, in) and an optional bias
 * (out), all of one floating dtype and device, none empty. Argument checks are the caller's.
 */
export function linearPrim(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  return apply(linearOp, bias ? [x, weight, bias] : [x, weight], { hasBias: bias !== null });
}

/** Whether {@link linearPrim} takes these operands (else the matmul + add composite does). */
export function linearFits(x: Tensor, weight: Tensor, bias: Tensor | null): boolean {
  const same = (t: Tensor) => t.dtype === x.dtype && t.device === x.device;
  return x.ndim >= 2 && x.size > 0 && weight.size > 0 && same(weight) && (!bias || same(bias)) && (x.dtype === 'float32' || x.dtype === 'float64');
}
