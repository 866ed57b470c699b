/**
 * Attention layers: MultiheadAttention (torch.nn.MultiheadAttention of PyTorch 1.13, with the
 * same parameter layout and state-dict keys), the causal-mask helper
 * generateSquareSubsequentMask, and positional encodings (SinusoidalPositionalEncoding,
 * LearnedPositionalEncoding). The Transformer layers and stacks live in transformer.ts.
 * The attention itself is the composite of src/functional/attention.ts.
 */
import { Module, Parameter } from './module.js';
import { Linear, type LayerOptions } from './linear.js';
import { Dropout } from './layers.js';
import { Tensor } from '../autograd/tensor.js';
import { isFloating, type DType } from '../ndarray/dtype.js';
import { NDArray } from '../ndarray/ndarray.js';
import { getDefaultDevice } from '../ndarray/backend.js';
import { fmt, fmtShape, rangeError, typeError } from '../errors.js';
import { expectTensor } from '../ops/util.js';
import {
  add, cast, cat, div, expand, matmul, narrow, pad, permute, reshape, squeeze, sum, transpose, unsqueeze,
} from '../ops/primitives.js';
import { mT } from '../ops/linalg.js';
import { zeros } from '../creation.js';
import { additiveMask, attendCore, causalMask } from '../functional/attention.js';
import { randn, uniformTensor, type Generator } from '../random.js';

function checkPositiveInt(layer: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw rangeError(layer, `${name} to be a positive integer`, fmt(v));
  return v;
}

function checkProb(layer: string, name: string, p: unknown): number {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw rangeError(layer, `${name} to be a probability in [0, 1]`, fmt(p));
  return p;
}

/**
 * The float causal mask of PyTorch's `nn.Transformer.generate_square_subsequent_mask`: shape
 * (sz, sz), -inf above the diagonal (the future) and 0 on and below it. Pass it as `attnMask`,
 * `srcMask` or `tgtMask`.
 *
 * @example
 * const m = nd.nn.generateSquareSubsequentMask(3);
 * // [[0, -inf, -inf], [0, 0, -inf], [0, 0, 0]]
 */
export function generateSquareSubsequentMask(sz: number, opts: { dtype?: DType; device?: string } = {}): Tensor {
  if (typeof sz !== 'number' || !Number.isInteger(sz) || sz < 0) throw rangeError('generateSquareSubsequentMask', 'sz to be a non-negative integer', fmt(sz));
  const dtype = opts.dtype ?? 'float32';
  if (!isFloating(dtype)) throw typeError('generateSquareSubsequentMask', 'a floating-point dtype', dtype);
  return additiveMask(causalMask(sz, sz, opts.device), dtype);
}

// ---------------------------------------------------------------- MultiheadAttention

/** Constructor options of {@link MultiheadAttention} (PyTorch's keyword arguments, camelCased). */
export interface MultiheadAttentionOptions extends LayerOptions {
  /** Dropout probability on the attention weights (training mode only). Default 0. */
  dropout?: number;
  /** Biases of the input and output projections. Default true. */
  bias?: boolean;
  /** Learned bias rows `bias_k`, `bias_v` (1, 1, E) appended to the key and value sequences. Default false. */
  addBiasKv?: boolean;
  /** Appends a row of zeros to the (projected) key and value sequences. Default false. */
  addZeroAttn?: boolean;
  /** Features of the key. Default embedDim. */
  kdim?: number;
  /** Features of the value. Default embedDim. */
  vdim?: number;
  /** Inputs and output are (N, L, E) instead of (L, N, E). Default false. */
  batchFirst?: boolean;
}

/** Options of {@link MultiheadAttention.forward}. */
export interface MultiheadAttentionForwardOptions {
  /** (N, S) or (S) for unbatched input. Bool: `true` marks keys to ignore (padding). Float: added to the scores. */
  keyPaddingMask?: Tensor | null;
  /** Return the attention weights. Default true. */
  needWeights?: boolean;
  /**
   * (L, S), broadcast over the batch, or (N * numHeads, L, S) (index n * numHeads + h), or
   * (numHeads, L, S) for unbatched input. Bool: `true` marks pairs that may NOT attend. Float:
   * added to the scores.
   */
  attnMask?: Tensor | null;
  /** Average the returned weights over the heads. Default true. */
  averageAttnWeights?: boolean;
  /**
   * Causal attention: query i sees keys j <= i. Without `attnMask` the causal mask is built;
   * with one, `attnMask` is used as given (PyTorch 2's "hint" meaning). Default false.
   */
  isCausal?: boolean;
}

/** Argument names used in error messages (layers built on MultiheadAttention rename them). */
export interface AttentionArgNames {
  op: string;
  query: string;
  key: string;
  value: string;
  attnMask: string;
  keyPaddingMask: string;
}

const MHA_NAMES: AttentionArgNames = {
  op: 'MultiheadAttention', query: 'query', key: 'key', value: 'value', attnMask: 'attnMask', keyPaddingMask: 'keyPaddingMask',
};

/**
 * Multi-head attention (torch.nn.MultiheadAttention): projects query, key and value, splits them
 * into `numHeads` heads of embedDim / numHeads features, runs scaled dot-product attention in each
 * head and projects the concatenated heads with `outProj`.
 *
 * Parameters as PyTorch: `in_proj_weight` (3E, E) (Xavier-uniform) when kdim = vdim = embedDim,
 * else `q_proj_weight` (E, E), `k_proj_weight` (E, kdim), `v_proj_weight` (E, vdim);
 * `in_proj_bias` (3E) (zeros); `out_proj` a Linear(E, E) (bias zeros); `bias_k`, `bias_v`
 * (1, 1, E) with `addBiasKv`. So a PyTorch state dict loads directly.
 *
 * `forward(query, key, value, opts)` returns `[output, weights]`; weights is null when
 * `needWeights` is false, averaged over heads by default.
 *
 * Shape (L target length, S source length, N batch, E embedDim):
 * - query (L, N, E), or (N, L, E) with `batchFirst`, or (L, E) unbatched
 * - key (S, N, kdim), value (S, N, vdim) in the same layout
 * - output like the query; weights (N, L, S) averaged or (N, numHeads, L, S) per head
 *   ((L, S) / (numHeads, L, S) unbatched)
 *
 * @example
 * const mha = new nd.nn.MultiheadAttention(16, 4, { batchFirst: true });
 * const x = nd.randn([2, 5, 16]);
 * const [y, w] = mha.forward(x, x, x); // y [2, 5, 16], w [2, 5, 5]
 * const [yc] = mha.forward(x, x, x, { isCausal: true, needWeights: false });
 */
export class MultiheadAttention extends Module {
  readonly embedDim: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly kdim: number;
  readonly vdim: number;
  /** Dropout probability on the attention weights. */
  readonly dropout: number;
  readonly batchFirst: boolean;
  readonly addZeroAttn: boolean;
  inProjWeight: Parameter | null = null;
  qProjWeight: Parameter | null = null;
  kProjWeight: Parameter | null = null;
  vProjWeight: Parameter | null = null;
  inProjBias: Parameter | null = null;
  biasK: Parameter | null = null;
  biasV: Parameter | null = null;
  outProj: Linear;
  private readonly generator: Generator | undefined;

  constructor(embedDim: number, numHeads: number, opts: MultiheadAttentionOptions = {}) {
    super();
    const L = 'MultiheadAttention';
    this.embedDim = checkPositiveInt(L, 'embedDim', embedDim);
    this.numHeads = checkPositiveInt(L, 'numHeads', numHeads);
    if (embedDim % numHeads !== 0) throw rangeError(L, 'embedDim divisible by numHeads', `embedDim ${embedDim}, numHeads ${numHeads}`);
    this.headDim = embedDim / numHeads;
    this.kdim = opts.kdim === undefined ? embedDim : checkPositiveInt(L, 'kdim', opts.kdim);
    this.vdim = opts.vdim === undefined ? embedDim : checkPositiveInt(L, 'vdim', opts.vdim);
    this.dropout = checkProb(L, 'dropout', opts.dropout ?? 0);
    this.batchFirst = opts.batchFirst ?? false;
    this.addZeroAttn = opts.addZeroAttn ?? false;
    this.generator = opts.generator;
    const o = { dtype: opts.dtype, device: opts.device, generator: opts.generator };
    const E = embedDim;
    const xavier = (rows: number, cols: number) => {
      const a = Math.sqrt(6 / (rows + cols));
      return new Parameter(uniformTensor([rows, cols], -a, a, o));
    };
    if (this.kdim === E && this.vdim === E) {
      this.inProjWeight = xavier(3 * E, E);
    } else {
      this.qProjWeight = xavier(E, E);
      this.kProjWeight = xavier(E, this.kdim);
      this.vProjWeight = xavier(E, this.vdim);
    }
    const bias = opts.bias ?? true;
    if (bias) this.inProjBias = new Parameter(zeros([3 * E], { dtype: opts.dtype, device: opts.device }));
    if (opts.addBiasKv) {
      // xavier_normal_ of a (1, 1, E) tensor: fan_in = fan_out = E, std = sqrt(1 / E)
      const std = Math.sqrt(1 / E);
      this.biasK = new Parameter(randn([1, 1, E], o).mul(std));
      this.biasV = new Parameter(randn([1, 1, E], o).mul(std));
    }
    this.outProj = new Linear(E, E, { ...o, bias });
    if (bias && this.outProj.bias) this.outProj.bias = new Parameter(zeros([E], { dtype: opts.dtype, device: opts.device }));
  }

  /** Attention of `query` over `key`/`value`; returns `[output, weights | null]` (see the class doc). */
  forward(query: Tensor, key: Tensor, value: Tensor, opts: MultiheadAttentionForwardOptions = {}): [Tensor, Tensor | null] {
    return this.attention(query, key, value, opts, MHA_NAMES);
  }

  /** forward with the argument names used in error messages (for layers built on this one). */
  attention(query: Tensor, key: Tensor, value: Tensor, opts: MultiheadAttentionForwardOptions, names: AttentionArgNames): [Tensor, Tensor | null] {
    const op = names.op;
    for (const [n, t] of [[names.query, query], [names.key, key], [names.value, value]] as const) {
      expectTensor(op, n, t);
      if (!isFloating(t.dtype)) throw typeError(op, `a floating-point ${n}`, t.dtype);
    }
    const E = this.embedDim;
    const H = this.numHeads;
    const batched = query.ndim === 3;
    const lay = (seq: string, f: number | string) => (this.batchFirst ? `(N, ${seq}, ${f}) or (${seq}, ${f})` : `(${seq}, N, ${f}) or (${seq}, ${f})`);
    if (query.ndim !== 2 && query.ndim !== 3) throw rangeError(op, `${names.query} of shape ${lay('L', E)}`, fmtShape(query.shape));
    if (query.shape[query.ndim - 1] !== E) throw rangeError(op, `${names.query} of shape ${lay('L', E)}`, fmtShape(query.shape));
    const want = batched ? '3-D' : '2-D';
    for (const [n, t, f] of [[names.key, key, this.kdim], [names.value, value, this.vdim]] as const) {
      if (t.ndim !== query.ndim || t.shape[t.ndim - 1] !== f) {
        throw rangeError(op, `${n} of shape ${batched ? lay('S', f).split(' or ')[0] : `(S, ${f})`} (${want} like ${names.query})`, fmtShape(t.shape));
      }
    }
    // to batch-first (N, L, E) internally
    let q = query;
    let k = key;
    let v = value;
    if (!batched) {
      q = unsqueeze(q, 0);
      k = unsqueeze(k, 0);
      v = unsqueeze(v, 0);
    } else if (!this.batchFirst) {
      q = transpose(q, 0, 1);
      k = key === query ? q : transpose(k, 0, 1);
      v = value === key ? k : transpose(v, 0, 1);
    }
    const n = q.shape[0]!;
    const l = q.shape[1]!;
    const s0 = k.shape[1]!;
    if (k.shape[0] !== n || v.shape[0] !== n || v.shape[1] !== s0) {
      throw rangeError(op, `${names.key} and ${names.value} with ${names.query}'s batch size ${n} and one sequence length`, `${fmtShape(key.shape)} and ${fmtShape(value.shape)}`);
    }

    // masks, checked against the shapes before bias_k / zero-attention columns
    const kpm = opts.keyPaddingMask ?? null;
    let attnMask = opts.attnMask ?? null;
    if (kpm !== null) {
      expectTensor(op, names.keyPaddingMask, kpm);
      checkMaskDtype(op, names.keyPaddingMask, kpm);
      const ok = batched ? kpm.ndim === 2 && kpm.shape[0] === n && kpm.shape[1] === s0 : kpm.ndim === 1 && kpm.shape[0] === s0;
      if (!ok) throw rangeError(op, `${names.keyPaddingMask} of shape ${batched ? `(${n}, ${s0})` : `(${s0})`}`, fmtShape(kpm.shape));
    }
    if (attnMask !== null) {
      expectTensor(op, names.attnMask, attnMask);
      checkMaskDtype(op, names.attnMask, attnMask);
      const nh = batched ? n * H : H;
      const ok2 = attnMask.ndim === 2 && attnMask.shape[0] === l && attnMask.shape[1] === s0;
      const ok3 = attnMask.ndim === 3 && attnMask.shape[0] === nh && attnMask.shape[1] === l && attnMask.shape[2] === s0;
      if (!ok2 && !ok3) throw rangeError(op, `${names.attnMask} of shape (${l}, ${s0}) or (${nh}, ${l}, ${s0})`, fmtShape(attnMask.shape));
    } else if (opts.isCausal) {
      attnMask = causalMask(l, s0, q.device);
    }

    // input projections
    const w = this.inProjWeight;
    const b = this.inProjBias;
    const part = (t: Tensor, i: number) => narrow(t, 0, i * E, E);
    const wq = w ? part(w, 0) : this.qProjWeight!;
    const wk = w ? part(w, 1) : this.kProjWeight!;
    const wv = w ? part(w, 2) : this.vProjWeight!;
    let qp = project(q, wq, b ? part(b, 0) : null);
    let kp = project(k, wk, b ? part(b, 1) : null);
    let vp = project(v, wv, b ? part(b, 2) : null);

    // masks to additive form, shaped to broadcast against the scores (N, H, L, S)
    let kpmB: Tensor | null = kpm === null ? null : reshape(kpm, [n, 1, 1, s0]);
    let amB: Tensor | null = attnMask === null ? null : attnMask.ndim === 2 ? reshape(attnMask, [1, 1, l, s0]) : reshape(attnMask, [n, H, l, s0]);
    const extend = () => {
      if (kpmB) kpmB = pad(kpmB, [0, 1], 0);
      if (amB) amB = pad(amB, [0, 1], 0);
    };
    if (this.biasK && this.biasV) {
      kp = cat([kp, expand(this.biasK, [n, 1, E])], 1);
      vp = cat([vp, expand(this.biasV, [n, 1, E])], 1);
      extend();
    }
    // split heads: (N, T, E) -> (N, H, T, D)
    const D = this.headDim;
    const heads = (t: Tensor) => permute(reshape(t, [n, t.shape[1]!, H, D]), [0, 2, 1, 3]);
    qp = heads(qp);
    kp = heads(kp);
    vp = heads(vp);
    if (this.addZeroAttn) {
      const z = zeros([n, H, 1, D], { dtype: kp.dtype, device: kp.device });
      kp = cat([kp, z], 2);
      vp = cat([vp, z], 2);
      extend();
    }
    let bias: Tensor | null = null;
    for (const m of [amB, kpmB]) {
      if (m === null) continue;
      const a = m.dtype === 'bool' ? additiveMask(m, qp.dtype) : m.dtype === qp.dtype ? m : cast(m, qp.dtype);
      bias = bias === null ? a : add(bias, a);
    }

    const p = this.training ? this.dropout : 0;
    const [out, weights] = attendCore(qp, kp, vp, bias, Math.sqrt(D), p, this.generator);
    // (N, H, L, D) -> (N, L, E) -> out_proj
    let y = this.outProj.forward(reshape(permute(out, [0, 2, 1, 3]), [n, l, E]));
    if (!batched) y = squeeze(y, 0);
    else if (!this.batchFirst) y = transpose(y, 0, 1);
    if (opts.needWeights === false) return [y, null];
    let wts = opts.averageAttnWeights === false ? weights : div(sum(weights, 1), H);
    if (!batched) wts = squeeze(wts, 0);
    return [y, wts];
  }

  override extraRepr(): string {
    const extra = [
      this.kdim !== this.embedDim ? `kdim=${this.kdim}` : '',
      this.vdim !== this.embedDim ? `vdim=${this.vdim}` : '',
      this.dropout ? `dropout=${this.dropout}` : '',
      this.batchFirst ? 'batchFirst=true' : '',
    ].filter((x) => x);
    return [`embedDim=${this.embedDim}`, `numHeads=${this.numHeads}`, ...extra].join(', ');
  }
}

function project(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
  const y = matmul(x, mT(w));
  return b ? add(y, b) : y;
}

function checkMaskDtype(op: string, name: string, m: Tensor): void {
  if (m.dtype !== 'bool' && !isFloating(m.dtype)) throw typeError(op, `${name} of dtype bool or float`, m.dtype);
}

// ---------------------------------------------------------------- positional encodings

/** Options of the positional encodings. */
export interface PositionalEncodingOptions extends LayerOptions {
  /** Dropout applied after adding the encoding (training mode). Default 0. */
  dropout?: number;
  /** Input (N, S, E) instead of (S, N, E). Default false (the Transformer layers' default). */
  batchFirst?: boolean;
}

/** Adds rows 0..S-1 of `table` (maxLen, E) to x in the layout of `batchFirst`. */
function addPositions(layer: string, x: Tensor, table: Tensor, batchFirst: boolean): Tensor {
  expectTensor(layer, 'input', x);
  const [maxLen, E] = table.shape as [number, number];
  const layout = batchFirst ? `(N, S, ${E}) or (S, ${E})` : `(S, N, ${E}) or (S, ${E})`;
  if ((x.ndim !== 2 && x.ndim !== 3) || x.shape[x.ndim - 1] !== E) throw rangeError(layer, `input of shape ${layout}`, fmtShape(x.shape));
  const seqDim = x.ndim === 3 && batchFirst ? 1 : 0;
  const S = x.shape[seqDim]!;
  if (S > maxLen) throw rangeError(layer, `a sequence length of at most maxLen ${maxLen}`, `${S} (input ${fmtShape(x.shape)})`);
  let pe = narrow(table, 0, 0, S);
  if (x.ndim === 3 && !batchFirst) pe = reshape(pe, [S, 1, E]);
  return add(x, pe);
}

/**
 * The sinusoidal positional encoding of "Attention Is All You Need" (as PyTorch's tutorial
 * `PositionalEncoding`): adds pe[pos, 2i] = sin(pos / 10000^(2i / dModel)) and
 * pe[pos, 2i + 1] = cos(pos / 10000^(2i / dModel)) to the input, then applies dropout. The table
 * (maxLen, dModel), computed in float64, is the non-persistent buffer `pe` (not in the state
 * dict). Odd dModel works (the last column is a sine).
 *
 * Shape: input (S, N, dModel), or (N, S, dModel) with `batchFirst`, or (S, dModel) -> the same
 * shape; S <= maxLen.
 *
 * @example
 * const pos = new nd.nn.SinusoidalPositionalEncoding(16, { maxLen: 100, batchFirst: true });
 * const y = pos.forward(nd.zeros([2, 10, 16])); // [2, 10, 16]: the table's first 10 rows
 */
export class SinusoidalPositionalEncoding extends Module {
  readonly dModel: number;
  readonly maxLen: number;
  readonly batchFirst: boolean;
  dropout: Dropout;
  declare readonly pe: Tensor;

  constructor(dModel: number, opts: PositionalEncodingOptions & { maxLen?: number } = {}) {
    super();
    const L = 'SinusoidalPositionalEncoding';
    this.dModel = checkPositiveInt(L, 'dModel', dModel);
    this.maxLen = checkPositiveInt(L, 'maxLen', opts.maxLen ?? 5000);
    this.batchFirst = opts.batchFirst ?? false;
    this.dropout = new Dropout(checkProb(L, 'dropout', opts.dropout ?? 0), { generator: opts.generator });
    const data = new Float64Array(this.maxLen * dModel);
    for (let i = 0; i < dModel; i += 2) {
      const freq = Math.exp(-i * (Math.log(10000) / dModel));
      for (let pos = 0; pos < this.maxLen; pos++) {
        data[pos * dModel + i] = Math.sin(pos * freq);
        if (i + 1 < dModel) data[pos * dModel + i + 1] = Math.cos(pos * freq);
      }
    }
    const table = new Tensor(NDArray.fromData(data, [this.maxLen, dModel], opts.dtype ?? 'float32', opts.device ?? getDefaultDevice()));
    this.registerBuffer('pe', table, { persistent: false });
  }

  forward(x: Tensor): Tensor {
    return this.dropout.forward(addPositions('SinusoidalPositionalEncoding', x, this.pe, this.batchFirst));
  }

  override extraRepr(): string {
    return `dModel=${this.dModel}, maxLen=${this.maxLen}${this.batchFirst ? ', batchFirst=true' : ''}`;
  }
}

/**
 * A learned positional encoding (needle's): an Embedding-like table `weight` (maxLen, dModel),
 * initialized N(0, 1) as nn.Embedding, whose first S rows are added to the input, then dropout.
 *
 * Shape: input (S, N, dModel), or (N, S, dModel) with `batchFirst`, or (S, dModel) -> the same
 * shape; S <= maxLen. Parameter `weight` (maxLen, dModel).
 *
 * @example
 * const pos = new nd.nn.LearnedPositionalEncoding(64, 16, { batchFirst: true });
 * const y = pos.forward(nd.randn([2, 10, 16])); // [2, 10, 16]
 */
export class LearnedPositionalEncoding extends Module {
  readonly batchFirst: boolean;
  weight: Parameter;
  dropout: Dropout;

  constructor(readonly maxLen: number, readonly dModel: number, opts: PositionalEncodingOptions = {}) {
    super();
    const L = 'LearnedPositionalEncoding';
    checkPositiveInt(L, 'maxLen', maxLen);
    checkPositiveInt(L, 'dModel', dModel);
    this.batchFirst = opts.batchFirst ?? false;
    this.weight = new Parameter(randn([maxLen, dModel], { dtype: opts.dtype, device: opts.device, generator: opts.generator }));
    this.dropout = new Dropout(checkProb(L, 'dropout', opts.dropout ?? 0), { generator: opts.generator });
  }

  forward(x: Tensor): Tensor {
    return this.dropout.forward(addPositions('LearnedPositionalEncoding', x, this.weight, this.batchFirst));
  }

  override extraRepr(): string {
    return `maxLen=${this.maxLen}, dModel=${this.dModel}${this.batchFirst ? ', batchFirst=true' : ''}`;
  }
}
