/**
 * needle's word-level language model (homework 4): embedding -> sequence model (RNN, LSTM, GRU or a
 * causal Transformer) -> linear layer to the vocabulary. Sequence-first like needle and PyTorch's
 * word_language_model example: token ids (L, N) in, logits (L * N, vocab) out.
 */
import { Module } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { Dropout, Embedding, LayerNorm } from '../nn/layers.js';
import { GRU, LSTM, RNN } from '../nn/recurrent.js';
import { TransformerEncoder, TransformerEncoderLayer } from '../nn/transformer.js';
import { LearnedPositionalEncoding, SinusoidalPositionalEncoding } from '../nn/attention.js';
import { Tensor } from '../autograd/tensor.js';
import { noGrad } from '../autograd/mode.js';
import { uniform_ } from '../random.js';
import { fmt, fmtShape, rangeError, typeError } from '../errors.js';
import type { ModelOptions } from './mlp_resnet.js';

/** The sequence models a {@link LanguageModel} can use. */
export type SeqModelKind = 'rnn' | 'lstm' | 'gru' | 'transformer';

/**
 * A language model's recurrent state: h (numLayers, N, hiddenSize) for RNN and GRU, [h, c] for
 * LSTM, null for the Transformer (which keeps no state between calls).
 */
export type LMState = Tensor | [Tensor, Tensor] | null;

function checkPositiveInt(model: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw rangeError(model, `${name} to be a positive integer`, fmt(v));
  return v;
}

function checkProb(model: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw rangeError(model, `${name} in [0, 1)`, fmt(v));
  return v;
}

/** Options of {@link CausalTransformer}. */
export interface CausalTransformerOptions extends ModelOptions {
  /** Encoder layers. Default 1. */
  numLayers?: number;
  /** Attention heads; must divide dModel. Default 4 (1 when dModel is not divisible by 4). */
  nhead?: number;
  /** Dropout in the layers and after the positional encoding. Default 0.1. */
  dropout?: number;
  /**
   * 'sinusoidal' (the default, as PyTorch's word_language_model) or 'learned' (needle's table,
   * initialized N(0, 1)) positions.
   */
  positional?: 'learned' | 'sinusoidal';
  /** Pre-norm layers plus a final LayerNorm (needle's variant, default true); false: PyTorch's post-norm. */
  normFirst?: boolean;
  /** 'relu' (default) or 'gelu' in the feedforward blocks. */
  activation?: 'relu' | 'gelu';
}

/**
 * A decoder-only (GPT-style) Transformer body: positional encoding, `numLayers` causally masked
 * TransformerEncoderLayers and, with `normFirst`, a final LayerNorm. Position i attends to
 * positions j <= i only, so an output never depends on later inputs. Sequence-first, and its
 * `forward` has the recurrent layers' signature so {@link LanguageModel} can use either.
 *
 * Shape: input (L, N, dModel) with L <= maxLen -> [output (L, N, dModel), null].
 *
 * @example
 * const body = new nd.models.CausalTransformer(32, 64, 16, { numLayers: 2, nhead: 4 });
 * const [y] = body.forward(nd.randn([10, 3, 32])); // [10, 3, 32]
 */
export class CausalTransformer extends Module {
  pos: LearnedPositionalEncoding | SinusoidalPositionalEncoding;
  encoder: TransformerEncoder;
  norm: LayerNorm | null;
  readonly numLayers: number;

  constructor(readonly dModel: number, readonly dimFeedforward: number, readonly maxLen: number, opts: CausalTransformerOptions = {}) {
    super();
    const M = 'CausalTransformer';
    checkPositiveInt(M, 'dModel', dModel);
    checkPositiveInt(M, 'dimFeedforward', dimFeedforward);
    checkPositiveInt(M, 'maxLen', maxLen);
    this.numLayers = checkPositiveInt(M, 'numLayers', opts.numLayers ?? 1);
    const nhead = checkPositiveInt(M, 'nhead', opts.nhead ?? (dModel % 4 === 0 ? 4 : 1));
    if (dModel % nhead !== 0) throw rangeError(M, `nhead dividing dModel ${dModel}`, fmt(nhead));
    const dropout = checkProb(M, 'dropout', opts.dropout ?? 0.1);
    const o = { dtype: opts.dtype, device: opts.device, generator: opts.generator };
    const positional = opts.positional ?? 'sinusoidal';
    if (positional === 'learned') {
      this.pos = new LearnedPositionalEncoding(maxLen, dModel, { ...o, dropout });
    } else if (positional === 'sinusoidal') {
      this.pos = new SinusoidalPositionalEncoding(dModel, { maxLen, dropout, dtype: o.dtype, device: o.device });
    } else {
      throw typeError(M, 'positional "learned" or "sinusoidal"', fmt(positional));
    }
    const normFirst = opts.normFirst ?? true;
    const activation = opts.activation ?? 'relu';
    this.encoder = new TransformerEncoder(
      () => new TransformerEncoderLayer(dModel, nhead, { ...o, dimFeedforward, dropout, normFirst, activation }),
      this.numLayers,
    );
    this.norm = normFirst ? new LayerNorm(dModel, { dtype: o.dtype, device: o.device }) : null;
  }

  forward(x: Tensor, _h: LMState = null): [Tensor, null] {
    if (!(x instanceof Tensor)) throw typeError('CausalTransformer', 'a Tensor input', fmt(x));
    if (x.ndim !== 3 || x.shape[2] !== this.dModel || x.shape[0]! > this.maxLen) {
      throw rangeError('CausalTransformer', `input of shape (L, N, ${this.dModel}) with L <= ${this.maxLen}`, fmtShape(x.shape));
    }
    let y = this.encoder.forward(this.pos.forward(x), { isCausal: true });
    if (this.norm) y = this.norm.forward(y);
    return [y, null];
  }
}

/** Options of {@link LanguageModel}. */
export interface LanguageModelOptions extends ModelOptions {
  /** Stacked layers of the sequence model. Default 1. */
  numLayers?: number;
  /** 'rnn' (needle's default), 'lstm', 'gru' or 'transformer'. */
  seqModel?: SeqModelKind;
  /** Longest input the Transformer accepts (its positional table). Default 40 (needle's). */
  seqLen?: number;
  /**
   * Dropout on the embeddings, between recurrent layers and on the sequence model's output (and in
   * the Transformer's layers). Default 0.
   */
  dropout?: number;
  /**
   * Share the embedding matrix with the output layer (Press & Wolf, 2017). Needs the sequence
   * model's output size (hiddenSize, or embeddingSize for the Transformer) to equal embeddingSize.
   * Default false.
   */
  tieWeights?: boolean;
  /** Transformer heads (see {@link CausalTransformerOptions.nhead}). */
  nhead?: number;
  /** Transformer positions, 'sinusoidal' (default) or 'learned'. */
  positional?: 'learned' | 'sinusoidal';
  /** Transformer pre-norm (default true) or post-norm. */
  normFirst?: boolean;
  /** Transformer feedforward activation, 'relu' (default) or 'gelu'. */
  activation?: 'relu' | 'gelu';
}

/**
 * needle's LanguageModel (homework 4): Embedding(outputSize, embeddingSize) -> sequence model ->
 * Linear to outputSize logits. The sequence model is an RNN, LSTM or GRU with `hiddenSize` units
 * and `numLayers` layers, or a {@link CausalTransformer} of width embeddingSize whose feedforward
 * blocks have `hiddenSize` units (needle's convention). The embedding and the output layer's
 * weight are initialized U(-0.1, 0.1) and the output bias to zero (PyTorch's word_language_model
 * example); with `tieWeights` they are one parameter (state-dict keys `embedding.weight` and
 * `linear.weight` both present, as PyTorch). Submodules: `embedding`, `seqModel` (key
 * `seq_model`), `linear`.
 *
 * Recurrent models carry state between calls (truncated backpropagation through time: pass the
 * returned state, detached with {@link detachState}, to the next call). The Transformer is
 * causal, so logits at position t depend on tokens 0..t only; its token embeddings are scaled by
 * sqrt(embeddingSize) before the positional encoding is added (Vaswani et al.; PyTorch's
 * word_language_model), so tokens and positions start at comparable magnitudes. Dropout (the
 * `dropout` option) applies to the embeddings and to the sequence model's output.
 *
 * Shape: x (L, N) int32 token ids (L <= seqLen for the Transformer), h an {@link LMState} or
 * omitted (zeros) -> [logits (L * N, outputSize), row t * N + n for position t of sequence n;
 * the new state].
 *
 * @example
 * const lm = new nd.models.LanguageModel(32, 1000, 64, { seqModel: 'lstm', numLayers: 2 });
 * const x = nd.randint(0, 1000, [20, 4]);             // (L, N)
 * const [logits, h] = lm.forward(x);                  // logits [80, 1000]
 * const [next] = lm.forward(x, nd.models.detachState(h));
 */
export class LanguageModel extends Module {
  embedding: Embedding;
  drop: Dropout;
  seqModel: RNN | LSTM | GRU | CausalTransformer;
  linear: Linear;
  readonly seqModelKind: SeqModelKind;
  readonly numLayers: number;
  readonly seqLen: number;

  constructor(
    readonly embeddingSize: number,
    readonly outputSize: number,
    readonly hiddenSize: number,
    opts: LanguageModelOptions = {},
  ) {
    super();
    const M = 'LanguageModel';
    checkPositiveInt(M, 'embeddingSize', embeddingSize);
    checkPositiveInt(M, 'outputSize', outputSize);
    checkPositiveInt(M, 'hiddenSize', hiddenSize);
    this.numLayers = checkPositiveInt(M, 'numLayers', opts.numLayers ?? 1);
    this.seqLen = checkPositiveInt(M, 'seqLen', opts.seqLen ?? 40);
    const dropout = checkProb(M, 'dropout', opts.dropout ?? 0);
    const kind = opts.seqModel ?? 'rnn';
    const o = { dtype: opts.dtype, device: opts.device, generator: opts.generator };
    this.embedding = new Embedding(outputSize, embeddingSize, o);
    this.drop = new Dropout(dropout, { generator: opts.generator });
    const rnnOpts = { ...o, numLayers: this.numLayers, dropout };
    let outSize = hiddenSize;
    switch (kind) {
      case 'rnn':
        this.seqModel = new RNN(embeddingSize, hiddenSize, rnnOpts);
        break;
      case 'lstm':
        this.seqModel = new LSTM(embeddingSize, hiddenSize, rnnOpts);
        break;
      case 'gru':
        this.seqModel = new GRU(embeddingSize, hiddenSize, rnnOpts);
        break;
      case 'transformer':
        this.seqModel = new CausalTransformer(embeddingSize, hiddenSize, this.seqLen, {
          ...o,
          numLayers: this.numLayers,
          dropout,
          nhead: opts.nhead,
          positional: opts.positional,
          normFirst: opts.normFirst,
          activation: opts.activation,
        });
        outSize = embeddingSize;
        break;
      default:
        throw typeError(M, 'seqModel "rnn", "lstm", "gru" or "transformer"', fmt(kind));
    }
    this.seqModelKind = kind;
    this.linear = new Linear(outSize, outputSize, o);
    noGrad(() => {
      uniform_(this.embedding.weight, -0.1, 0.1, { generator: opts.generator });
      uniform_(this.linear.weight, -0.1, 0.1, { generator: opts.generator });
      uniform_(this.linear.bias!, 0, 0);
    });
    if (opts.tieWeights) {
      if (outSize !== embeddingSize) {
        throw rangeError(M, `tieWeights with an output size equal to embeddingSize ${embeddingSize}`, String(outSize));
      }
      this.linear.weight = this.embedding.weight;
    }
  }

  /**
   * The sequence model's output before the output layer: [features (L, N, hiddenSize) (the
   * Transformer: embeddingSize), the new state]. `forward` is `linear(features)` reshaped.
   */
  features(x: Tensor, h: LMState = null): [Tensor, LMState] {
    const M = 'LanguageModel';
    if (!(x instanceof Tensor)) throw typeError(M, 'a Tensor of token ids', fmt(x));
    if (x.dtype !== 'int32') throw typeError(M, 'int32 token ids', x.dtype);
    if (x.ndim !== 2) throw rangeError(M, 'token ids of shape (L, N)', fmtShape(x.shape));
    if (this.seqModelKind === 'transformer' && x.shape[0]! > this.seqLen) {
      throw rangeError(M, `a sequence length of at most seqLen ${this.seqLen}`, fmtShape(x.shape));
    }
    let e = this.embedding.forward(x);
    if (this.seqModelKind === 'transformer') e = e.mul(Math.sqrt(this.embeddingSize));
    e = this.drop.forward(e);
    let out: Tensor;
    let state: LMState;
    const m = this.seqModel;
    if (m instanceof LSTM) {
      if (h !== null && !Array.isArray(h)) throw typeError(M, 'an LSTM state [h, c]', fmt(h));
      [out, state] = m.forward(e, h as [Tensor, Tensor] | null);
    } else if (m instanceof CausalTransformer) {
      [out, state] = m.forward(e);
    } else {
      if (Array.isArray(h)) throw typeError(M, `a ${this.seqModelKind.toUpperCase()} state tensor h`, 'a pair');
      [out, state] = m.forward(e, h as Tensor | null);
    }
    return [this.drop.forward(out), state];
  }

  forward(x: Tensor, h: LMState = null): [Tensor, LMState] {
    const [f, state] = this.features(x, h);
    const [L, N, H] = f.shape as [number, number, number];
    return [this.linear.forward(f.reshape([L * N, H])), state];
  }

  override extraRepr(): string {
    return `seqModel=${this.seqModelKind}, vocab=${this.outputSize}, embedding=${this.embeddingSize}, hidden=${this.hiddenSize}, numLayers=${this.numLayers}`;
  }
}

/**
 * Detaches a recurrent state from the graph that made it (PyTorch's `repackage_hidden`), so
 * truncated backpropagation through time stops at the batch boundary. null stays null.
 *
 * @example
 * let h: nd.models.LMState = null;
 * [logits, h] = lm.forward(x, nd.models.detachState(h));
 */
export function detachState(h: LMState): LMState {
  if (h === null) return null;
  if (Array.isArray(h)) return [h[0].detach(), h[1].detach()];
  return h.detach();
}
