/**
 * Gradient clipping (torch.nn.utils.clip_grad_norm_ / clip_grad_value_). Both change the `.grad`
 * of the given parameters in place (the grad Tensor objects are kept; their arrays are replaced).
 */
import { Tensor } from '../autograd/tensor.js';
import { noGrad } from '../autograd/mode.js';
import { NDArray } from '../ndarray/ndarray.js';
import { abs, add, cast, clamp, div, max, mul, ne, pow, sqrt, stack, sum } from '../ops/primitives.js';
import { rangeError, typeError } from '../errors.js';

function paramList(name: string, params: Tensor | Iterable<Tensor>): Tensor[] {
  if (params instanceof Tensor) return [params];
  if (params === null || typeof params !== 'object' || typeof (params as Iterable<Tensor>)[Symbol.iterator] !== 'function') {
    throw typeError(name, 'a Tensor or an iterable of Tensors', String(params));
  }
  const list = Array.from(params);
  list.forEach((p, i) => {
    if (!(p instanceof Tensor)) throw typeError(name, `parameters[${i}] to be a Tensor`, String(p));
  });
  return list;
}

/** The p-norm of all elements of `g` (p = Infinity: max |g|; p = 0: number of non-zeros). */
function pNorm(g: Tensor, p: number): Tensor {
  if (p === Infinity) return max(abs(g));
  if (p === 0) return sum(cast(ne(g, 0), g.dtype));
  if (p === 1) return sum(abs(g));
  if (p === 2) return sqrt(sum(mul(g, g)));
  return pow(sum(pow(abs(g), p)), 1 / p);
}

/**
 * Scales the gradients of `params` so that their total `normType`-norm (over all gradients
 * together, as one vector) is at most `maxNorm`: every grad is multiplied by
 * min(1, maxNorm / (total + 1e-6)). Returns the total norm before clipping as a 0-d Tensor.
 * normType may be any p >= 0 or Infinity (the max norm). With `errorIfNonfinite`, a NaN or
 * infinite total norm is an error and no gradient changes.
 *
 * @example
 * loss.backward();
 * const norm = nd.optim.clipGradNorm_(model.parameters(), 1.0);
 * opt.step();
 */
export function clipGradNorm_(
  params: Tensor | Iterable<Tensor>,
  maxNorm: number,
  normType = 2,
  opts: { errorIfNonfinite?: boolean } = {},
): Tensor {
  const name = 'clipGradNorm_';
  const list = paramList(name, params);
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm)) throw typeError(name, 'maxNorm must be a number', String(maxNorm));
  if (typeof normType !== 'number' || !(normType >= 0)) throw rangeError(name, 'normType must be >= 0 or Infinity', String(normType));
  const grads = list.map((p) => p.grad).filter((g): g is Tensor => g !== null);
  if (grads.length === 0) return new Tensor(NDArray.full([], 0, 'float32'));
  return noGrad(() => {
    const total = pNorm(stack(grads.map((g) => pNorm(g, normType))), normType);
    if (opts.errorIfNonfinite && !Number.isFinite(total.item())) {
      throw rangeError(name, `a finite total norm of order ${normType} (errorIfNonfinite)`, String(total.item()));
    }
    const coef = clamp(div(maxNorm, add(total, 1e-6)), null, 1);
    for (const g of grads) {
      g.array = mul(g, coef).array;
      g.node = null;
    }
    return total;
  });
}

/**
 * Clamps every gradient of `params` elementwise to [-clipValue, clipValue].
 *
 * @example
 * nd.optim.clipGradValue_(model.parameters(), 0.5);
 */
export function clipGradValue_(params: Tensor | Iterable<Tensor>, clipValue: number): void {
  const name = 'clipGradValue_';
  const list = paramList(name, params);
  if (typeof clipValue !== 'number') throw typeError(name, 'clipValue must be a number', String(clipValue));
  if (!(clipValue >= 0)) throw rangeError(name, 'clipValue must be >= 0', String(clipValue));
  noGrad(() => {
    for (const p of list) {
      const g = p.grad;
      if (!g) continue;
      g.array = clamp(g, -clipValue, clipValue).array;
      g.node = null;
    }
  });
}
