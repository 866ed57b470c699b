/**
 * Scaled dot-product attention as a composite of primitives (matmul, softmax, dropout), so every
 * derivative order comes from the primitives' rules. MultiheadAttention (src/nn/attention.ts)
 * turns its masks into one additive mask and calls {@link attendCore}.
 */
import type { Tensor } from '../autograd/tensor.js';
import { isFloating } from '../ndarray/dtype.js';
import { broadcastShapes } from '../ndarray/shape.js';
import { fmt, fmtShape, rangeError, typeError } from '../errors.js';
import { expectTensor } from '../ops/util.js';
import { add, cast, div, gt, logicalNot, matmul, reshape, where } from '../ops/primitives.js';
import { mT } from '../ops/linalg.js';
import { arange } from '../creation.js';
import { dropout, softmax } from './activation.js';
import type { Generator } from '../random.js';

/** Options of {@link scaledDotProductAttention} and {@link attentionWithWeights}. */
export interface AttentionOptions {
  /**
   * Broadcastable to (..., L, S). A bool mask marks with `true` the pairs that TAKE PART in
   * attention (PyTorch's `F.scaled_dot_product_attention` convention; MultiheadAttention's is the
   * opposite); a float mask is added to the scores. Default none.
   */
  attnMask?: Tensor | null;
  /** Dropout probability on the attention weights (applied whenever > 0). Default 0. */
  dropoutP?: number;
  /** Causal masking: query i attends to keys j <= i (top-left aligned). Not with `attnMask`. */
  isCausal?: boolean;
  /** Score scale. Default 1 / sqrt(E). */
  scale?: number;
  /** Generator of the dropout mask (default: the global seeded generator). */
  generator?: Generator;
}

function floatArg(op: string, name: string, x: unknown): Tensor {
  const t = expectTensor(op, name, x);
  if (!isFloating(t.dtype)) throw typeError(op, `a floating-point ${name}`, t.dtype);
  return t;
}

/**
 * The boolean causal mask (L, S) with `true` where key j is in the future of query i (j > i),
 * i.e. the positions to hide.
 */
export function causalMask(l: number, s: number, device?: string): Tensor {
  const o = device === undefined ? {} : { device };
  const rows = reshape(arange(l, undefined, 1, o), [l, 1]);
  const cols = reshape(arange(s, undefined, 1, o), [1, s]);
  return gt(cols, rows);
}

/** A bool "hide" mask (true = masked) as an additive float mask of `dtype`: -inf where true, else 0. */
export function additiveMask(hide: Tensor, dtype: Tensor['dtype']): Tensor {
  return cast(where(hide, -Infinity, 0), dtype);
}

/**
 * Attention with its weights: softmax(q k^T * scale + mask) (then dropout), times v. Returns
 * `[output, weights]`. The same arguments and checks as {@link scaledDotProductAttention}.
 *
 * Shape: query (..., L, E), key (..., S, E), value (..., S, Ev), batch dims broadcast ->
 * output (..., L, Ev), weights (..., L, S).
 */
export function attentionWithWeights(query: Tensor, key: Tensor, value: Tensor, opts: AttentionOptions = {}): [Tensor, Tensor] {
  return attend('attentionWithWeights', query, key, value, opts);
}

/**
 * Scaled dot-product attention (torch.nn.functional.scaled_dot_product_attention of PyTorch 2):
 * softmax(q k^T / sqrt(E) + mask) v, with optional dropout on the weights. A composite, so it is
 * differentiable to every order.
 *
 * Shape: query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev). Leading (batch,
 * head) dims broadcast as in matmul. `attnMask` broadcasts to (..., L, S).
 *
 * @example
 * const q = nd.randn([2, 4, 5, 8]); // (batch, heads, L, E)
 * const k = nd.randn([2, 4, 6, 8]);
 * const v = nd.randn([2, 4, 6, 8]);
 * const y = nd.scaledDotProductAttention(q, k, v); // [2, 4, 5, 8]
 * const c = nd.scaledDotProductAttention(q, q, q, { isCausal: true }); // no peeking ahead
 */
export function scaledDotProductAttention(query: Tensor, key: Tensor, value: Tensor, opts: AttentionOptions = {}): Tensor {
  return attend('scaledDotProductAttention', query, key, value, opts)[0];
}

function attend(op: string, query: Tensor, key: Tensor, value: Tensor, opts: AttentionOptions): [Tensor, Tensor] {
  const q = floatArg(op, 'query', query);
  const k = floatArg(op, 'key', key);
  const v = floatArg(op, 'value', value);
  for (const [n, t] of [['query', q], ['key', k], ['value', v]] as const) {
    if (t.ndim < 2) throw rangeError(op, `${n} of shape (..., seq, features)`, fmtShape(t.shape));
  }
  const e = q.shape[q.ndim - 1]!;
  const l = q.shape[q.ndim - 2]!;
  const s = k.shape[k.ndim - 2]!;
  if (k.shape[k.ndim - 1] !== e) throw rangeError(op, `key of shape (..., S, ${e}) like the query's last dim`, fmtShape(k.shape));
  if (v.shape[v.ndim - 2] !== s) throw rangeError(op, `value of shape (..., ${s}, Ev) like the key's sequence length`, fmtShape(v.shape));
  const scale = opts.scale;
  if (scale !== undefined && (typeof scale !== 'number' || !Number.isFinite(scale) || scale === 0)) {
    throw typeError(op, 'a finite non-zero number scale', fmt(scale));
  }
  const p = opts.dropoutP ?? 0;
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw rangeError(op, 'dropoutP in [0, 1]', fmt(p));
  const mask = opts.attnMask ?? null;
  if (mask !== null && opts.isCausal) throw rangeError(op, 'either attnMask or isCausal', 'both');

  const batch = tryBroadcast(q.shape.slice(0, -2), k.shape.slice(0, -2), v.shape.slice(0, -2));
  if (batch === null) {
    throw rangeError(op, 'query, key and value batch dims that broadcast', `${fmtShape(q.shape)}, ${fmtShape(k.shape)}, ${fmtShape(v.shape)}`);
  }
  const scoreShape = [...batch, l, s];
  let bias: Tensor | null = null;
  if (mask !== null) {
    expectTensor(op, 'attnMask', mask);
    const b = tryBroadcast(mask.shape, scoreShape);
    if (b === null || b.length !== scoreShape.length || b.some((d, i) => d !== scoreShape[i])) {
      throw rangeError(op, `attnMask broadcastable to ${fmtShape(scoreShape)}`, fmtShape(mask.shape));
    }
    if (mask.dtype === 'bool') bias = additiveMask(logicalNot(mask), q.dtype);
    else if (isFloating(mask.dtype)) bias = mask.dtype === q.dtype ? mask : cast(mask, q.dtype);
    else throw typeError(op, 'attnMask of dtype bool or float', mask.dtype);
  } else if (opts.isCausal) {
    bias = additiveMask(causalMask(l, s, q.device), q.dtype);
  }
  return attendCore(q, k, v, bias, scale === undefined ? Math.sqrt(e) : 1 / scale, p, opts.generator);
}

function tryBroadcast(...shapes: (readonly number[])[]): number[] | null {
  try {
    return broadcastShapes('attention', ...shapes);
  } catch {
    return null;
  }
}

/**
 * The unchecked core: weights = softmax((q / divisor) k^T + bias), then dropout(p) on the
 * weights, output = weights v. Returns [output, weights after dropout] as PyTorch 1.13's
 * multi_head_attention_forward (q is divided before the product, as there).
 */
export function attendCore(
  q: Tensor, k: Tensor, v: Tensor, bias: Tensor | null, divisor: number, p: number, generator?: Generator,
): [Tensor, Tensor] {
  const qs = divisor === 1 ? q : div(q, divisor);
  let scores = matmul(qs, mT(k));
  if (bias !== null) scores = add(bias, scores);
  let w = softmax(scores, -1);
  if (p > 0) w = dropout(w, p, { training: true, generator });
  return [matmul(w, v), w];
}
