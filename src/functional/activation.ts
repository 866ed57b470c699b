/**
 * Activations: composites built from primitives (no backward of their own, so every derivative
 * order comes from the primitives' rules), and softmax / logSoftmax, whose primitives (with fused
 * backend fast paths) live in src/ops/fused.ts.
 */
import type { Tensor } from '../autograd/tensor.js';
import { isFloating } from '../ndarray/dtype.js';
import { normAxis } from '../ndarray/shape.js';
import { rangeError, typeError } from '../errors.js';
import {
  add, cast, div, erf, exp, gt, log1p, mul, neg, tanh, where, pow,
} from '../ops/primitives.js';
import { softmaxPrim } from '../ops/fused.js';
import { expectTensor } from '../ops/util.js';
import { bernoulliMask, scaledBernoulliMask, type Generator } from '../random.js';

function floatInput(op: string, x: Tensor): Tensor {
  expectTensor(op, 'input', x);
  return isFloating(x.dtype) ? x : cast(x, 'float32');
}

/**
 * softmax along `dim`, stable: exp(x - max) / sum. A primitive (src/ops/fused.ts) that runs the
 * backend's fused kernel where it has one; integer inputs are cast to float32.
 */
export function softmax(x: Tensor, dim = -1): Tensor {
  x = floatInput('softmax', x);
  return softmaxPrim(x, normAxis('softmax', dim, x.ndim), false);
}

/**
 * log(softmax(x)) along `dim`, computed as (x - max) - log(sum(exp(x - max))). A primitive
 * (src/ops/fused.ts) that runs the backend's fused kernel where it has one.
 */
export function logSoftmax(x: Tensor, dim = -1): Tensor {
  x = floatInput('logSoftmax', x);
  return softmaxPrim(x, normAxis('logSoftmax', dim, x.ndim), true);
}

/** LeakyReLU: x for x > 0, slope * x otherwise. */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  x = floatInput('leakyRelu', x);
  if (typeof negativeSlope !== 'number') throw typeError('leakyRelu', 'a numeric negativeSlope', typeof negativeSlope);
  return where(gt(x, 0), x, mul(x, negativeSlope));
}

/**
 * GELU. `approximate: 'none'` (default) is x * Phi(x) with the exact erf; 'tanh' is the tanh
 * approximation, as torch.nn.functional.gelu.
 */
export function gelu(x: Tensor, opts: { approximate?: 'none' | 'tanh' } = {}): Tensor {
  x = floatInput('gelu', x);
  const mode = opts.approximate ?? 'none';
  if (mode === 'tanh') {
    const inner = mul(add(x, mul(pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
    return mul(mul(x, 0.5), add(tanh(inner), 1));
  }
  if (mode !== 'none') throw typeError('gelu', 'approximate of "none" or "tanh"', String(mode));
  return mul(mul(x, 0.5), add(erf(mul(x, Math.SQRT1_2)), 1));
}

/**
 * Softplus: log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (PyTorch).
 * Computed from two overflow-free smooth branches, exact to every order.
 */
export function softplus(x: Tensor, opts: { beta?: number; threshold?: number } = {}): Tensor {
  x = floatInput('softplus', x);
  const beta = opts.beta ?? 1;
  const threshold = opts.threshold ?? 20;
  const z = mul(x, beta);
  // Two smooth branches, each fed only the inputs it is used for (exp never sees a positive
  // argument, so no overflow and no 0 * inf in the unselected branch's gradient):
  // z > 0: z + log1p(exp(-z)); z <= 0: log1p(exp(z)). Exact to every order, also at z = 0.
  const pos = gt(z, 0);
  const zp = where(pos, z, 0);
  const zn = where(pos, 0, z);
  const sp = div(where(pos, add(zp, log1p(exp(neg(zp)))), log1p(exp(zn))), beta);
  return where(gt(z, threshold), x, sp);
}

/**
 * Dropout primitive: zeroes each element with probability p (mask from the seeded generator)
 * and scales the survivors by 1/(1-p). Identity when `training` is false or p is 0.
 */
export function dropout(x: Tensor, p = 0.5, opts: { training?: boolean; generator?: Generator } = {}): Tensor {
  expectTensor('dropout', 'input', x);
  if (typeof p !== 'number') throw typeError('dropout', 'a numeric probability p', typeof p);
  if (!(p >= 0 && p <= 1)) throw rangeError('dropout', 'a probability p in [0, 1]', String(p));
  if (opts.training === false || p === 0) return x;
  if (p === 1) return mul(x, 0);
  const o = { dtype: x.dtype, device: x.device, generator: opts.generator };
  // a float input takes the scaled mask straight from the generator (the same values as the
  // 0/1 mask times 1/(1-p) rounded to its dtype, one op fewer)
  if (isFloating(x.dtype)) return mul(x, scaledBernoulliMask(x.shape, 1 - p, 1 / (1 - p), o));
  return mul(x, mul(bernoulliMask(x.shape, 1 - p, o), 1 / (1 - p)));
}
