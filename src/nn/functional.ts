/**
 * `nd.nn.functional`: stateless forms of the layers (torch.nn.functional), composites of
 * src/ops and src/functional only (no backward of their own, so every derivative order comes from
 * the primitives). The losses live in loss.ts and are re-exported here.
 */
import { Tensor } from '../autograd/tensor.js';
import { isFloating } from '../ndarray/dtype.js';
import { fmt, fmtShape, rangeError, typeError } from '../errors.js';
import { expectTensor } from '../ops/util.js';
import {
  add, cat, div, eq, indexSelect, matmul, mean, mul, reshape, rsqrt, slice, sub, sum, where,
} from '../ops/primitives.js';
import { mT } from '../ops/linalg.js';
import { linearFits, linearPrim } from '../ops/linear.js';
import { batchNormPrim, layerNormPrim } from '../ops/fused.js';
import { noGrad } from '../autograd/mode.js';

export {
  softmax, logSoftmax, gelu, softplus, leakyRelu, dropout,
} from '../functional/activation.js';
export {
  conv1d, conv2d, maxPool1d, maxPool2d, avgPool1d, avgPool2d, unfold, fold,
} from '../functional/conv.js';
export {
  crossEntropy, nllLoss, mseLoss, l1Loss, binaryCrossEntropy, binaryCrossEntropyWithLogits, huberLoss,
  l1Penalty, l2Penalty,
} from './loss.js';
export type { Reduction, CrossEntropyOptions, NLLLossOptions, BCEOptions, BCEWithLogitsOptions } from './loss.js';

function floatTensor(op: string, name: string, x: unknown): Tensor {
  const t = expectTensor(op, name, x);
  if (!isFloating(t.dtype)) throw typeError(op, `a floating-point ${name}`, t.dtype);
  return t;
}

/**
 * y = x W^T + b (torch.nn.functional.linear).
 *
 * Shape: input (*, in), weight (out, in), bias (out) -> (*, out).
 */
export function linear(input: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  floatTensor('linear', 'input', input);
  floatTensor('linear', 'weight', weight);
  if (weight.ndim !== 2) throw rangeError('linear', 'a 2-D weight (out, in)', fmtShape(weight.shape));
  if (input.ndim < 1 || input.shape[input.ndim - 1] !== weight.shape[1]) {
    throw rangeError('linear', `input of shape (*, ${weight.shape[1]})`, fmtShape(input.shape));
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== weight.shape[0])) {
    throw rangeError('linear', `a bias of shape [${weight.shape[0]}]`, fmtShape(bias.shape));
  }
  if (linearFits(input, weight, bias)) return linearPrim(input, weight, bias);
  const y = matmul(input, mT(weight));
  return bias ? add(y, bias) : y;
}

/** @internal Normalizes `normalizedShape` (int or list) and checks it against the input's trailing dims. */
export function normalizedDims(op: string, x: Tensor, normalizedShape: number | readonly number[]): number[] {
  const ns = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  const k = ns.length;
  if (x.ndim < k || ns.some((d, i) => x.shape[x.ndim - k + i] !== d)) {
    throw rangeError(op, `input of shape (*, ${ns.join(', ')})`, fmtShape(x.shape));
  }
  return ns.map((_, i) => x.ndim - k + i);
}

/**
 * Layer normalization (torch.nn.functional.layer_norm): over the last `normalizedShape.length`
 * dims, y = (x - mean) / sqrt(var + eps) * weight + bias with the biased variance. A primitive
 * (src/ops/fused.ts) that runs the backend's fused kernel where it has one.
 *
 * Shape: input (*, ...normalizedShape); weight and bias normalizedShape; output as input.
 */
export function layerNorm(
  input: Tensor,
  normalizedShape: number | readonly number[],
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps = 1e-5,
): Tensor {
  floatTensor('layerNorm', 'input', input);
  const dims = normalizedDims('layerNorm', input, normalizedShape);
  const ns = dims.map((d) => input.shape[d]!);
  for (const [name, p] of [['weight', weight], ['bias', bias]] as const) {
    if (p && fmtShape(p.shape) !== fmtShape(ns)) throw rangeError('layerNorm', `${name} of shape ${fmtShape(ns)}`, fmtShape(p.shape));
  }
  const same = (p: Tensor | null) => !p || (p.dtype === input.dtype && p.device === input.device);
  if (same(weight) && same(bias)) return layerNormPrim(input, dims.length, weight, bias, eps);
  // mixed dtypes (promotion) or devices (the usual error): the composite
  const mu = mean(input, dims, true);
  const d = sub(input, mu);
  const v = mean(mul(d, d), dims, true);
  let y = mul(d, rsqrt(add(v, eps)));
  if (weight) y = mul(y, weight);
  if (bias) y = add(y, bias);
  return y;
}

/** Options of {@link batchNorm}. */
export interface BatchNormOptions {
  /** Use batch statistics (and update the running ones). Default false, as torch. */
  training?: boolean;
  /** Weight of the new batch statistic in the running average. Default 0.1. */
  momentum?: number;
  eps?: number;
}

/**
 * Batch normalization (torch.nn.functional.batch_norm) over every dim but the channel dim 1.
 * In training (or without running statistics) it normalizes with the batch mean and the biased
 * batch variance and, when running statistics are given, replaces them (not in place: the tensors
 * in `runningMean` / `runningVar` get new arrays) with
 * (1 - momentum) * running + momentum * batch, using the unbiased batch variance, as PyTorch.
 * In evaluation it normalizes with the running statistics.
 *
 * Shape: input (N, C) or (N, C, *); runningMean, runningVar, weight, bias (C); output as input.
 */
export function batchNorm(
  input: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  opts: BatchNormOptions = {},
): Tensor {
  floatTensor('batchNorm', 'input', input);
  if (input.ndim < 2) throw rangeError('batchNorm', 'input of shape (N, C, *)', fmtShape(input.shape));
  const C = input.shape[1]!;
  for (const [name, p] of [['runningMean', runningMean], ['runningVar', runningVar], ['weight', weight], ['bias', bias]] as const) {
    if (p && (p.ndim !== 1 || p.shape[0] !== C)) throw rangeError('batchNorm', `${name} of shape [${C}]`, fmtShape(p.shape));
  }
  const training = opts.training ?? false;
  const momentum = opts.momentum ?? 0.1;
  const eps = opts.eps ?? 1e-5;
  const axes = input.shape.map((_, i) => i).filter((i) => i !== 1);
  const bshape = input.shape.map((d, i) => (i === 1 ? d : 1));
  let mu: Tensor;
  let v: Tensor;
  if (training || !runningMean || !runningVar) {
    const n = input.size / C;
    if (training && n <= 1) {
      throw rangeError('batchNorm', 'more than 1 value per channel when training', `input of shape ${fmtShape(input.shape)}`);
    }
    const update = training && (runningMean !== null || runningVar !== null);
    const same = (p: Tensor | null) => !p || (p.dtype === input.dtype && p.device === input.device);
    if (input.size > 0 && same(weight) && same(bias) && (!update || (runningMean && runningVar && same(runningMean) && same(runningVar)))) {
      // the primitive (a fused kernel where the backend has one); the same arithmetic as below
      const running = update ? { mean: runningMean!.array, var: runningVar!.array, momentum, meanOut: null, varOut: null } : null;
      const y = batchNormPrim(input, weight, bias, eps, running);
      if (running) {
        runningMean!.array = running.meanOut!;
        runningVar!.array = running.varOut!;
      }
      return y;
    }
    mu = mean(input, axes, true);
    const d = sub(input, mu);
    v = div(sum(mul(d, d), axes, true), n);
    if (training && (runningMean || runningVar)) {
      noGrad(() => {
        if (runningMean) {
          const bm = reshape(mu.detach(), [C]);
          runningMean.array = add(mul(runningMean, 1 - momentum), mul(bm, momentum)).array;
        }
        if (runningVar) {
          const bv = mul(reshape(v.detach(), [C]), n / (n - 1));
          runningVar.array = add(mul(runningVar, 1 - momentum), mul(bv, momentum)).array;
        }
      });
    }
  } else {
    mu = reshape(runningMean, bshape);
    v = reshape(runningVar, bshape);
  }
  let y = mul(sub(input, mu), rsqrt(add(v, eps)));
  if (weight) y = mul(y, reshape(weight, bshape));
  if (bias) y = add(y, reshape(bias, bshape));
  return y;
}

/**
 * Embedding lookup (torch.nn.functional.embedding): rows of `weight` selected by the int32
 * `input`. With `paddingIdx`, the gradient of that row is zero (the row itself is returned as is).
 *
 * Shape: input (*) int32; weight (numEmbeddings, embeddingDim); output (*, embeddingDim).
 */
export function embedding(input: Tensor, weight: Tensor, opts: { paddingIdx?: number | null } = {}): Tensor {
  expectTensor('embedding', 'input', input);
  expectTensor('embedding', 'weight', weight);
  if (input.dtype !== 'int32') throw typeError('embedding', 'an int32 input of indices', input.dtype);
  if (weight.ndim !== 2) throw rangeError('embedding', 'a 2-D weight (numEmbeddings, embeddingDim)', fmtShape(weight.shape));
  const n = weight.shape[0]!;
  const idx = input.dataSync();
  for (const i of idx) {
    if (i < 0 || i >= n) throw rangeError('embedding', `indices in [0, ${n - 1}]`, String(i));
  }
  const flat = reshape(input, [input.size]);
  let rows = indexSelect(weight, 0, flat);
  let p = opts.paddingIdx ?? null;
  if (p !== null) {
    if (p < 0) p += n;
    // the padding rows keep their values but pass no gradient back to the weight
    const mask = reshape(eq(flat, p), [input.size, 1]);
    rows = where(mask, rows.detach(), rows);
  }
  return reshape(rows, [...input.shape, weight.shape[1]!]);
}

/** An output size per spatial dim (null keeps the input size). */
export type AdaptiveSize = number | null | readonly (number | null)[];

function adaptiveDim(x: Tensor, dim: number, out: number): Tensor {
  const n = x.shape[dim]!;
  const parts: Tensor[] = [];
  for (let i = 0; i < out; i++) {
    const start = Math.floor((i * n) / out);
    const end = Math.ceil(((i + 1) * n) / out);
    const specs = x.shape.map((_, d) => (d === dim ? { start, stop: end } : {}));
    parts.push(mean(slice(x, specs), dim, true));
  }
  return parts.length === 1 ? parts[0]! : cat(parts, dim);
}

/**
 * Adaptive average pooling (torch.nn.functional.adaptive_avg_pool2d): output cell i of a dim of
 * input size n averages the input window [floor(i n / out), ceil((i + 1) n / out)). Built from
 * slices, means and cat (the pooling is separable).
 *
 * Shape: input (N, C, H, W) or (C, H, W); output (N, C, outH, outW) or (C, outH, outW).
 */
export function adaptiveAvgPool2d(input: Tensor, outputSize: AdaptiveSize): Tensor {
  floatTensor('adaptiveAvgPool2d', 'input', input);
  if (input.ndim !== 3 && input.ndim !== 4) {
    throw rangeError('adaptiveAvgPool2d', 'a 3-D (C, H, W) or 4-D (N, C, H, W) input', `shape ${fmtShape(input.shape)}`);
  }
  const sizes = Array.isArray(outputSize) ? outputSize : [outputSize, outputSize];
  if (sizes.length !== 2) throw rangeError('adaptiveAvgPool2d', 'an outputSize of 2 values', fmt(outputSize));
  const h = input.ndim - 2;
  const out = sizes.map((s, i) => (s === null ? input.shape[h + i]! : s));
  for (const o of out) {
    if (typeof o !== 'number' || !Number.isInteger(o) || o < 1) throw rangeError('adaptiveAvgPool2d', 'positive integer output sizes', fmt(outputSize));
  }
  return adaptiveDim(adaptiveDim(input, h, out[0]!), h + 1, out[1]!);
}

// attention: torch.nn.functional.scaled_dot_product_attention (src/functional/attention.ts)
export { scaledDotProductAttention, attentionWithWeights } from '../functional/attention.js';
