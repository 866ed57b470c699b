/**
 * Transformer layers, stacks and the full model (torch.nn.TransformerEncoderLayer,
 * TransformerDecoderLayer, TransformerEncoder, TransformerDecoder, Transformer of PyTorch 1.13,
 * camelCased), built from MultiheadAttention, Linear, LayerNorm and Dropout, with PyTorch's
 * submodule names so that state dicts load directly (`layers.0.self_attn.in_proj_weight`, `layers.0.linear1.weight`, ...).
 */
import { Module } from './module.js';
import { ModuleList } from './containers.js';
import { Linear, type LayerOptions } from './linear.js';
import { Dropout, LayerNorm } from './layers.js';
import { MultiheadAttention, generateSquareSubsequentMask, type AttentionArgNames } from './attention.js';
import type { Tensor } from '../autograd/tensor.js';
import { fmt, fmtShape, rangeError, typeError } from '../errors.js';
import { expectTensor } from '../ops/util.js';
import { add, relu } from '../ops/primitives.js';
import { gelu } from '../functional/activation.js';
import { uniformTensor } from '../random.js';

/** Constructor options of the Transformer layers (PyTorch's keyword arguments, camelCased). */
export interface TransformerLayerOptions extends LayerOptions {
  /** Hidden size of the feedforward block. Default 2048. */
  dimFeedforward?: number;
  /** Dropout probability (attention weights, residual branches, feedforward). Default 0.1. */
  dropout?: number;
  /** Feedforward activation: 'relu' (default), 'gelu' (exact, erf), or a function. */
  activation?: 'relu' | 'gelu' | ((x: Tensor) => Tensor);
  /** LayerNorm eps. Default 1e-5. */
  layerNormEps?: number;
  /** Inputs (N, S, E) instead of (S, N, E). Default false. */
  batchFirst?: boolean;
  /** Pre-norm: LayerNorm before each block instead of after the residual sum. Default false. */
  normFirst?: boolean;
}

/** Options of {@link TransformerEncoderLayer.forward}. */
export interface TransformerEncoderLayerForwardOptions {
  /** Attention mask (S, S) or (N * nhead, S, S): bool (true = may not attend) or float (added). */
  srcMask?: Tensor | null;
  /** (N, S) or (S): bool (true = padding, ignored as a key) or float (added). */
  srcKeyPaddingMask?: Tensor | null;
  /** Causal self-attention (built when `srcMask` is absent; a hint when present). */
  isCausal?: boolean;
}

/** Options of {@link TransformerDecoderLayer.forward}. */
export interface TransformerDecoderLayerForwardOptions {
  /** Self-attention mask (T, T) or (N * nhead, T, T). */
  tgtMask?: Tensor | null;
  /** Cross-attention mask (T, S) or (N * nhead, T, S). */
  memoryMask?: Tensor | null;
  /** (N, T) or (T). */
  tgtKeyPaddingMask?: Tensor | null;
  /** (N, S) or (S). */
  memoryKeyPaddingMask?: Tensor | null;
  /** Causal self-attention (built when `tgtMask` is absent). */
  tgtIsCausal?: boolean;
  /** Causal cross-attention (built when `memoryMask` is absent). */
  memoryIsCausal?: boolean;
}

function checkPositiveInt(layer: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw rangeError(layer, `${name} to be a positive integer`, fmt(v));
  return v;
}

function activationFn(layer: string, a: TransformerLayerOptions['activation']): (x: Tensor) => Tensor {
  if (a === undefined || a === 'relu') return relu;
  if (a === 'gelu') return (x) => gelu(x);
  if (typeof a === 'function') return a;
  throw typeError(layer, 'activation "relu", "gelu" or a function', fmt(a));
}

/** Copies values and training flags of `src` into `dst` (a module of the same structure). */
function copyInto<M extends Module>(dst: M, src: Module): M {
  dst.loadStateDict(src.stateDict());
  const mods = src.modules();
  dst.modules().forEach((m, i) => (m.training = mods[i]!.training));
  return dst;
}

function checkInput(layer: string, name: string, x: unknown, dModel: number, batchFirst: boolean): Tensor {
  const t = expectTensor(layer, name, x);
  if ((t.ndim !== 2 && t.ndim !== 3) || t.shape[t.ndim - 1] !== dModel) {
    const lay = batchFirst ? `(N, S, ${dModel}) or (S, ${dModel})` : `(S, N, ${dModel}) or (S, ${dModel})`;
    throw rangeError(layer, `${name} of shape ${lay}`, fmtShape(t.shape));
  }
  return t;
}

/**
 * One Transformer encoder layer (torch.nn.TransformerEncoderLayer): self-attention and a
 * feedforward block (linear1 -> activation -> dropout -> linear2), each with dropout, a residual
 * connection and LayerNorm. Post-norm by default (x = norm1(x + sa(x)); x = norm2(x + ff(x)));
 * `normFirst` gives pre-norm (x = x + sa(norm1(x)); x = x + ff(norm2(x))).
 *
 * Submodules as PyTorch: self_attn, linear1, dropout, linear2, norm1, norm2, dropout1, dropout2.
 *
 * Shape: src (S, N, dModel), or (N, S, dModel) with `batchFirst`, or (S, dModel) -> the same shape.
 *
 * @example
 * const layer = new nd.nn.TransformerEncoderLayer(16, 4, { dimFeedforward: 32, batchFirst: true });
 * const y = layer.forward(nd.randn([2, 5, 16])); // [2, 5, 16]
 */
export class TransformerEncoderLayer extends Module {
  selfAttn: MultiheadAttention;
  linear1: Linear;
  dropout: Dropout;
  linear2: Linear;
  norm1: LayerNorm;
  norm2: LayerNorm;
  dropout1: Dropout;
  dropout2: Dropout;
  readonly normFirst: boolean;
  readonly batchFirst: boolean;
  private readonly activation: (x: Tensor) => Tensor;
  private readonly names: AttentionArgNames;

  constructor(readonly dModel: number, readonly nhead: number, readonly options: TransformerLayerOptions = {}) {
    super();
    const L = 'TransformerEncoderLayer';
    checkPositiveInt(L, 'dModel', dModel);
    const ff = checkPositiveInt(L, 'dimFeedforward', options.dimFeedforward ?? 2048);
    const p = options.dropout ?? 0.1;
    const o = { dtype: options.dtype, device: options.device, generator: options.generator };
    this.batchFirst = options.batchFirst ?? false;
    this.selfAttn = new MultiheadAttention(dModel, nhead, { ...o, dropout: p, batchFirst: this.batchFirst });
    this.linear1 = new Linear(dModel, ff, o);
    this.dropout = new Dropout(p, { generator: o.generator });
    this.linear2 = new Linear(ff, dModel, o);
    this.normFirst = options.normFirst ?? false;
    const ln = { eps: options.layerNormEps ?? 1e-5, dtype: o.dtype, device: o.device };
    this.norm1 = new LayerNorm(dModel, ln);
    this.norm2 = new LayerNorm(dModel, ln);
    this.dropout1 = new Dropout(p, { generator: o.generator });
    this.dropout2 = new Dropout(p, { generator: o.generator });
    this.activation = activationFn(L, options.activation);
    this.names = { op: L, query: 'src', key: 'src', value: 'src', attnMask: 'srcMask', keyPaddingMask: 'srcKeyPaddingMask' };
  }

  forward(src: Tensor, opts: TransformerEncoderLayerForwardOptions = {}): Tensor {
    let x = checkInput(this.names.op, 'src', src, this.dModel, this.batchFirst);
    const sa = (t: Tensor) => {
      const [y] = this.selfAttn.attention(t, t, t, {
        attnMask: opts.srcMask, keyPaddingMask: opts.srcKeyPaddingMask, isCausal: opts.isCausal, needWeights: false,
      }, this.names);
      return this.dropout1.forward(y);
    };
    if (this.normFirst) {
      x = add(x, sa(this.norm1.forward(x)));
      x = add(x, this.ff(this.norm2.forward(x)));
    } else {
      x = this.norm1.forward(add(x, sa(x)));
      x = this.norm2.forward(add(x, this.ff(x)));
    }
    return x;
  }

  private ff(x: Tensor): Tensor {
    return this.dropout2.forward(this.linear2.forward(this.dropout.forward(this.activation(this.linear1.forward(x)))));
  }

  /** A new layer with the same configuration and copies of the current values (PyTorch's deepcopy). */
  clone(): TransformerEncoderLayer {
    return copyInto(new TransformerEncoderLayer(this.dModel, this.nhead, this.options), this);
  }

  override extraRepr(): string {
    return `dModel=${this.dModel}, nhead=${this.nhead}${this.normFirst ? ', normFirst=true' : ''}`;
  }
}

/**
 * One Transformer decoder layer (torch.nn.TransformerDecoderLayer): masked self-attention over
 * the target, cross-attention (`multihead_attn`) from the target to the encoder's memory, and a
 * feedforward block, each with dropout, a residual connection and LayerNorm (post-norm by
 * default, pre-norm with `normFirst`).
 *
 * Submodules as PyTorch: self_attn, multihead_attn, linear1, dropout, linear2, norm1, norm2,
 * norm3, dropout1, dropout2, dropout3.
 *
 * Shape: tgt (T, N, dModel), memory (S, N, dModel) (batch first with `batchFirst`; or unbatched
 * (T, dModel), (S, dModel)) -> the shape of tgt.
 *
 * @example
 * const dec = new nd.nn.TransformerDecoderLayer(16, 4, { dimFeedforward: 32 });
 * const tgt = nd.randn([6, 2, 16]);
 * const memory = nd.randn([9, 2, 16]);
 * const y = dec.forward(tgt, memory, { tgtMask: nd.nn.generateSquareSubsequentMask(6) }); // [6, 2, 16]
 */
export class TransformerDecoderLayer extends Module {
  selfAttn: MultiheadAttention;
  multiheadAttn: MultiheadAttention;
  linear1: Linear;
  dropout: Dropout;
  linear2: Linear;
  norm1: LayerNorm;
  norm2: LayerNorm;
  norm3: LayerNorm;
  dropout1: Dropout;
  dropout2: Dropout;
  dropout3: Dropout;
  readonly normFirst: boolean;
  readonly batchFirst: boolean;
  private readonly activation: (x: Tensor) => Tensor;

  constructor(readonly dModel: number, readonly nhead: number, readonly options: TransformerLayerOptions = {}) {
    super();
    const L = 'TransformerDecoderLayer';
    checkPositiveInt(L, 'dModel', dModel);
    const ff = checkPositiveInt(L, 'dimFeedforward', options.dimFeedforward ?? 2048);
    const p = options.dropout ?? 0.1;
    const o = { dtype: options.dtype, device: options.device, generator: options.generator };
    this.batchFirst = options.batchFirst ?? false;
    this.selfAttn = new MultiheadAttention(dModel, nhead, { ...o, dropout: p, batchFirst: this.batchFirst });
    this.multiheadAttn = new MultiheadAttention(dModel, nhead, { ...o, dropout: p, batchFirst: this.batchFirst });
    this.linear1 = new Linear(dModel, ff, o);
    this.dropout = new Dropout(p, { generator: o.generator });
    this.linear2 = new Linear(ff, dModel, o);
    this.normFirst = options.normFirst ?? false;
    const ln = { eps: options.layerNormEps ?? 1e-5, dtype: o.dtype, device: o.device };
    this.norm1 = new LayerNorm(dModel, ln);
    this.norm2 = new LayerNorm(dModel, ln);
    this.norm3 = new LayerNorm(dModel, ln);
    this.dropout1 = new Dropout(p, { generator: o.generator });
    this.dropout2 = new Dropout(p, { generator: o.generator });
    this.dropout3 = new Dropout(p, { generator: o.generator });
    this.activation = activationFn(L, options.activation);
  }

  forward(tgt: Tensor, memory: Tensor, opts: TransformerDecoderLayerForwardOptions = {}): Tensor {
    const L = 'TransformerDecoderLayer';
    let x = checkInput(L, 'tgt', tgt, this.dModel, this.batchFirst);
    const mem = checkInput(L, 'memory', memory, this.dModel, this.batchFirst);
    if (mem.ndim !== x.ndim) throw rangeError(L, `memory of ${x.ndim} dims like tgt`, fmtShape(mem.shape));
    const sa = (t: Tensor) => {
      const [y] = this.selfAttn.attention(t, t, t, {
        attnMask: opts.tgtMask, keyPaddingMask: opts.tgtKeyPaddingMask, isCausal: opts.tgtIsCausal, needWeights: false,
      }, { op: L, query: 'tgt', key: 'tgt', value: 'tgt', attnMask: 'tgtMask', keyPaddingMask: 'tgtKeyPaddingMask' });
      return this.dropout1.forward(y);
    };
    const ca = (t: Tensor) => {
      const [y] = this.multiheadAttn.attention(t, mem, mem, {
        attnMask: opts.memoryMask, keyPaddingMask: opts.memoryKeyPaddingMask, isCausal: opts.memoryIsCausal, needWeights: false,
      }, { op: L, query: 'tgt', key: 'memory', value: 'memory', attnMask: 'memoryMask', keyPaddingMask: 'memoryKeyPaddingMask' });
      return this.dropout2.forward(y);
    };
    const ff = (t: Tensor) =>
      this.dropout3.forward(this.linear2.forward(this.dropout.forward(this.activation(this.linear1.forward(t)))));
    if (this.normFirst) {
      x = add(x, sa(this.norm1.forward(x)));
      x = add(x, ca(this.norm2.forward(x)));
      x = add(x, ff(this.norm3.forward(x)));
    } else {
      x = this.norm1.forward(add(x, sa(x)));
      x = this.norm2.forward(add(x, ca(x)));
      x = this.norm3.forward(add(x, ff(x)));
    }
    return x;
  }

  /** A new layer with the same configuration and copies of the current values (PyTorch's deepcopy). */
  clone(): TransformerDecoderLayer {
    return copyInto(new TransformerDecoderLayer(this.dModel, this.nhead, this.options), this);
  }

  override extraRepr(): string {
    return `dModel=${this.dModel}, nhead=${this.nhead}${this.normFirst ? ', normFirst=true' : ''}`;
  }
}

/** A layer to repeat: a layer (cloned numLayers times, as PyTorch) or a factory called per index. */
export type LayerSource<M extends Module> = M | ((index: number) => M);

function buildLayers<M extends Module>(op: string, kind: new (...a: never[]) => M, layer: LayerSource<M>, numLayers: number): ModuleList {
  if (typeof numLayers !== 'number' || !Number.isInteger(numLayers) || numLayers < 1) {
    throw rangeError(op, 'numLayers to be a positive integer', fmt(numLayers));
  }
  const list: Module[] = [];
  for (let i = 0; i < numLayers; i++) {
    let m: unknown;
    if (layer instanceof kind) m = (layer as unknown as { clone(): M }).clone();
    else if (typeof layer === 'function') m = layer(i);
    else throw typeError(op, `a ${kind.name} or a factory (index) => layer`, fmt(layer));
    if (!(m instanceof Module)) throw typeError(op, `the factory to return a Module at ${i}`, fmt(m));
    list.push(m);
  }
  return new ModuleList(list);
}

function checkNorm(op: string, norm: unknown): Module | null {
  if (norm === undefined || norm === null) return null;
  if (!(norm instanceof Module)) throw typeError(op, 'norm to be a Module or null', fmt(norm));
  return norm;
}

/**
 * A stack of encoder layers (torch.nn.TransformerEncoder), then an optional final `norm`. Given
 * a layer, the stack holds numLayers copies of it (same configuration and the same initial values,
 * like PyTorch's deepcopy; the given layer itself is not used); given a factory `(i) => layer`,
 * each layer is the factory's (e.g. independently initialized).
 *
 * Parameter keys as PyTorch: `layers.0.self_attn.in_proj_weight`, ..., `norm.weight`.
 *
 * Shape: src (S, N, E), or (N, S, E) with the layers' `batchFirst`, or (S, E) -> the same shape.
 *
 * @example
 * const layer = new nd.nn.TransformerEncoderLayer(16, 4, { dimFeedforward: 32 });
 * const enc = new nd.nn.TransformerEncoder(layer, 2, { norm: new nd.nn.LayerNorm(16) });
 * const y = enc.forward(nd.randn([5, 2, 16]), { mask: nd.nn.generateSquareSubsequentMask(5) });
 */
export class TransformerEncoder extends Module {
  layers: ModuleList;
  norm: Module | null;

  constructor(encoderLayer: LayerSource<TransformerEncoderLayer>, readonly numLayers: number, opts: { norm?: Module | null } = {}) {
    super();
    this.layers = buildLayers('TransformerEncoder', TransformerEncoderLayer, encoderLayer, numLayers);
    this.norm = checkNorm('TransformerEncoder', opts.norm);
  }

  forward(src: Tensor, opts: { mask?: Tensor | null; srcKeyPaddingMask?: Tensor | null; isCausal?: boolean } = {}): Tensor {
    let x = src;
    for (const layer of this.layers) {
      x = (layer as TransformerEncoderLayer).forward(x, { srcMask: opts.mask, srcKeyPaddingMask: opts.srcKeyPaddingMask, isCausal: opts.isCausal });
    }
    return this.norm ? (this.norm.forward as (t: Tensor) => Tensor)(x) : x;
  }
}

/**
 * A stack of decoder layers (torch.nn.TransformerDecoder), each attending to the same `memory`,
 * then an optional final `norm`. Layers are copies of the given layer (PyTorch's deepcopy) or
 * come from a factory `(i) => layer`.
 *
 * Shape: tgt (T, N, E), memory (S, N, E) (batch first with the layers' `batchFirst`) -> the
 * shape of tgt.
 *
 * @example
 * const layer = new nd.nn.TransformerDecoderLayer(16, 4, { dimFeedforward: 32 });
 * const dec = new nd.nn.TransformerDecoder(layer, 2);
 * const y = dec.forward(nd.randn([6, 2, 16]), nd.randn([9, 2, 16]), { tgtIsCausal: true }); // [6, 2, 16]
 */
export class TransformerDecoder extends Module {
  layers: ModuleList;
  norm: Module | null;

  constructor(decoderLayer: LayerSource<TransformerDecoderLayer>, readonly numLayers: number, opts: { norm?: Module | null } = {}) {
    super();
    this.layers = buildLayers('TransformerDecoder', TransformerDecoderLayer, decoderLayer, numLayers);
    this.norm = checkNorm('TransformerDecoder', opts.norm);
  }

  forward(tgt: Tensor, memory: Tensor, opts: TransformerDecoderLayerForwardOptions = {}): Tensor {
    let x = tgt;
    for (const layer of this.layers) x = (layer as TransformerDecoderLayer).forward(x, memory, opts);
    return this.norm ? (this.norm.forward as (t: Tensor) => Tensor)(x) : x;
  }
}

/** Options of {@link Transformer}: PyTorch's arguments (all have defaults), camelCased. */
export interface TransformerOptions extends TransformerLayerOptions {
  /** Features of the model. Default 512. */
  dModel?: number;
  /** Attention heads. Default 8. */
  nhead?: number;
  /** Default 6. */
  numEncoderLayers?: number;
  /** Default 6. */
  numDecoderLayers?: number;
  /** Used instead of the built TransformerEncoder (called as `forward(src, { mask, srcKeyPaddingMask, isCausal })`). */
  customEncoder?: Module;
  /** Used instead of the built TransformerDecoder (called as `forward(tgt, memory, opts)`). */
  customDecoder?: Module;
}

/** Options of {@link Transformer.forward}. */
export interface TransformerForwardOptions extends TransformerDecoderLayerForwardOptions {
  srcMask?: Tensor | null;
  srcKeyPaddingMask?: Tensor | null;
  /** Causal encoder self-attention. */
  srcIsCausal?: boolean;
}

/**
 * The encoder-decoder Transformer (torch.nn.Transformer): a TransformerEncoder of
 * `numEncoderLayers` layers with a final LayerNorm, and a TransformerDecoder of
 * `numDecoderLayers` layers with a final LayerNorm. As PyTorch, every parameter with more than one
 * dim is then re-initialized Xavier-uniform. Keys: `encoder.layers.0.self_attn.in_proj_weight`,
 * ..., `encoder.norm.weight`, `decoder.layers.0.multihead_attn.in_proj_weight`, ...
 * No embedding, positional encoding or output projection is included (as PyTorch).
 *
 * Shape: src (S, N, dModel), tgt (T, N, dModel) (batch first with `batchFirst`; or unbatched
 * (S, dModel), (T, dModel)) -> (T, N, dModel).
 *
 * @example
 * const model = new nd.nn.Transformer({ dModel: 16, nhead: 4, numEncoderLayers: 2, numDecoderLayers: 2, dimFeedforward: 32 });
 * const src = nd.randn([10, 2, 16]);
 * const tgt = nd.randn([7, 2, 16]);
 * const y = model.forward(src, tgt, { tgtMask: nd.nn.Transformer.generateSquareSubsequentMask(7) }); // [7, 2, 16]
 */
export class Transformer extends Module {
  encoder: Module;
  decoder: Module;
  readonly dModel: number;
  readonly nhead: number;
  readonly batchFirst: boolean;

  /** PyTorch's static helper; the same as {@link generateSquareSubsequentMask}. */
  static generateSquareSubsequentMask = generateSquareSubsequentMask;

  constructor(opts: TransformerOptions = {}) {
    super();
    const L = 'Transformer';
    this.dModel = checkPositiveInt(L, 'dModel', opts.dModel ?? 512);
    this.nhead = checkPositiveInt(L, 'nhead', opts.nhead ?? 8);
    this.batchFirst = opts.batchFirst ?? false;
    const { dModel: _d, nhead: _h, numEncoderLayers, numDecoderLayers, customEncoder, customDecoder, ...layerOpts } = opts;
    const ln = { eps: opts.layerNormEps ?? 1e-5, dtype: opts.dtype, device: opts.device };
    if (customEncoder !== undefined && !(customEncoder instanceof Module)) throw typeError(L, 'customEncoder to be a Module', fmt(customEncoder));
    if (customDecoder !== undefined && !(customDecoder instanceof Module)) throw typeError(L, 'customDecoder to be a Module', fmt(customDecoder));
    this.encoder = customEncoder ?? new TransformerEncoder(new TransformerEncoderLayer(this.dModel, this.nhead, layerOpts), numEncoderLayers ?? 6, {
      norm: new LayerNorm(this.dModel, ln),
    });
    this.decoder = customDecoder ?? new TransformerDecoder(new TransformerDecoderLayer(this.dModel, this.nhead, layerOpts), numDecoderLayers ?? 6, {
      norm: new LayerNorm(this.dModel, ln),
    });
    for (const p of this.parameters()) {
      if (p.ndim < 2) continue;
      // xavier_uniform_: fan_in = size(1) * receptive field, fan_out = size(0) * receptive field
      const receptive = p.shape.slice(2).reduce((a, b) => a * b, 1);
      const a = Math.sqrt(6 / ((p.shape[1]! + p.shape[0]!) * receptive));
      p.array = uniformTensor(p.shape, -a, a, { dtype: p.dtype, device: p.device, generator: opts.generator }).array;
    }
  }

  forward(src: Tensor, tgt: Tensor, opts: TransformerForwardOptions = {}): Tensor {
    const L = 'Transformer';
    expectTensor(L, 'src', src);
    expectTensor(L, 'tgt', tgt);
    if (src.ndim === 3 && tgt.ndim === 3) {
      const b = this.batchFirst ? 0 : 1;
      if (src.shape[b] !== tgt.shape[b]) throw rangeError(L, 'src and tgt with one batch size', `${fmtShape(src.shape)} and ${fmtShape(tgt.shape)}`);
    }
    if (src.shape[src.ndim - 1] !== this.dModel || tgt.shape[tgt.ndim - 1] !== this.dModel) {
      throw rangeError(L, `src and tgt with dModel ${this.dModel} features`, `${fmtShape(src.shape)} and ${fmtShape(tgt.shape)}`);
    }
    const memory = (this.encoder.forward as (s: Tensor, o: object) => Tensor)(src, {
      mask: opts.srcMask, srcKeyPaddingMask: opts.srcKeyPaddingMask, isCausal: opts.srcIsCausal,
    });
    const { srcMask: _m, srcKeyPaddingMask: _k, srcIsCausal: _c, ...decOpts } = opts;
    return (this.decoder.forward as (t: Tensor, m: Tensor, o: object) => Tensor)(tgt, memory, decOpts);
  }

  override extraRepr(): string {
    return `dModel=${this.dModel}, nhead=${this.nhead}`;
  }
}
