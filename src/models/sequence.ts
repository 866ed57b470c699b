/**
 * Sequence models of the zoo: a temporal convolutional network (dilated causal Conv1d blocks, Bai
 * et al. 2018), an LSTM encoder-decoder (Sutskever et al. 2014) and a bidirectional LSTM tagger.
 * Recurrent models are sequence-first ((L, N) token ids), as needle and torch.nn's defaults.
 */
import { Module } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { Conv1d, Dropout, Embedding, ReLU } from '../nn/layers.js';
import { ModuleList } from '../nn/containers.js';
import { LSTM } from '../nn/recurrent.js';
import { Tensor } from '../autograd/tensor.js';
import { noGrad } from '../autograd/mode.js';
import { add, argmax, cat, eq, logicalOr, maskedFill, pad, relu } from '../ops/primitives.js';
import { full } from '../creation.js';
import { fmt, fmtShape, rangeError, typeError } from '../errors.js';
import type { ModelOptions } from './mlp_resnet.js';

function checkPositiveInt(model: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw rangeError(model, `${name} to be a positive integer`, fmt(v));
  return v;
}

function checkProb(model: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw rangeError(model, `${name} in [0, 1)`, fmt(v));
  return v;
}

function checkIds(model: string, name: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw typeError(model, `a Tensor ${name}`, fmt(x));
  if (x.dtype !== 'int32') throw typeError(model, `int32 ${name}`, x.dtype);
  if (x.ndim !== 2) throw rangeError(model, `${name} of shape (L, N)`, fmtShape(x.shape));
  return x;
}

// ---------------------------------------------------------------- TCN

/** Options of {@link TemporalBlock} and {@link TCN}. */
export interface TCNOptions extends ModelOptions {
  /** Width of every causal convolution. Default 2 (the paper's default). */
  kernelSize?: number;
  /** Dropout after each convolution's ReLU. Default 0. */
  dropout?: number;
}

/**
 * One residual block of a TCN: two dilated causal convolutions (left zero-padding of
 * (kernelSize - 1) * dilation, so output t sees inputs <= t), each followed by ReLU and dropout,
 * plus a residual connection (a 1x1 convolution `downsample` when the channel count changes), then
 * ReLU. The paper's weight normalization is left out.
 *
 * Shape: input (N, inChannels, L) -> output (N, outChannels, L).
 *
 * @example
 * const block = new nd.models.TemporalBlock(3, 8, 2, { kernelSize: 3 });
 * block.forward(nd.randn([4, 3, 50])); // [4, 8, 50]
 */
export class TemporalBlock extends Module {
  conv1: Conv1d;
  drop1: Dropout;
  conv2: Conv1d;
  drop2: Dropout;
  downsample: Conv1d | null;
  act: ReLU;
  readonly kernelSize: number;
  readonly leftPad: number;

  constructor(readonly inChannels: number, readonly outChannels: number, readonly dilation: number, opts: TCNOptions = {}) {
    super();
    const M = 'TemporalBlock';
    checkPositiveInt(M, 'inChannels', inChannels);
    checkPositiveInt(M, 'outChannels', outChannels);
    checkPositiveInt(M, 'dilation', dilation);
    this.kernelSize = checkPositiveInt(M, 'kernelSize', opts.kernelSize ?? 2);
    const p = checkProb(M, 'dropout', opts.dropout ?? 0);
    const o = { dtype: opts.dtype, device: opts.device, generator: opts.generator };
    this.leftPad = (this.kernelSize - 1) * dilation;
    this.conv1 = new Conv1d(inChannels, outChannels, this.kernelSize, { ...o, dilation });
    this.drop1 = new Dropout(p, { generator: opts.generator });
    this.conv2 = new Conv1d(outChannels, outChannels, this.kernelSize, { ...o, dilation });
    this.drop2 = new Dropout(p, { generator: opts.generator });
    this.downsample = inChannels === outChannels ? null : new Conv1d(inChannels, outChannels, 1, o);
    this.act = new ReLU();
  }

  /** A causal convolution: pad on the left only. */
  private causal(conv: Conv1d, x: Tensor): Tensor {
    return conv.forward(this.leftPad > 0 ? pad(x, [this.leftPad, 0]) : x);
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw typeError('TemporalBlock', 'a Tensor input', fmt(x));
    if (x.ndim !== 3 || x.shape[1] !== this.inChannels) {
      throw rangeError('TemporalBlock', `input of shape (N, ${this.inChannels}, L)`, fmtShape(x.shape));
    }
    let y = this.drop1.forward(relu(this.causal(this.conv1, x)));
    y = this.drop2.forward(relu(this.causal(this.conv2, y)));
    const res = this.downsample ? this.downsample.forward(x) : x;
    return this.act.forward(add(y, res));
  }
}

/**
 * A temporal convolutional network (Bai, Kolter & Koltun, 2018): TemporalBlocks with dilations
 * 1, 2, 4, ... and the channel counts `numChannels`, then a 1x1 convolution `head` to
 * `outputSize` channels. Causal: output step t depends on input steps <= t only, over a receptive
 * field of {@link TCN.receptiveField} steps. For sequence-to-one tasks read the last step,
 * `y.get(':', ':', -1)`.
 *
 * Shape: input (N, inputSize, L) -> output (N, outputSize, L).
 *
 * @example
 * const tcn = new nd.models.TCN(2, 1, [16, 16, 16], { kernelSize: 4 });
 * const y = tcn.forward(nd.randn([8, 2, 100]));  // [8, 1, 100]
 * tcn.receptiveField;                            // 1 + 2 * 3 * (1 + 2 + 4) = 43
 */
export class TCN extends Module {
  blocks: ModuleList;
  head: Conv1d;
  readonly kernelSize: number;

  constructor(readonly inputSize: number, readonly outputSize: number, readonly numChannels: readonly number[], opts: TCNOptions = {}) {
    super();
    const M = 'TCN';
    checkPositiveInt(M, 'inputSize', inputSize);
    checkPositiveInt(M, 'outputSize', outputSize);
    if (!Array.isArray(numChannels) || numChannels.length === 0) throw rangeError(M, 'a non-empty list numChannels', fmt(numChannels));
    this.kernelSize = checkPositiveInt(M, 'kernelSize', opts.kernelSize ?? 2);
    const blocks: TemporalBlock[] = [];
    numChannels.forEach((c, i) => {
      checkPositiveInt(M, 'numChannels[i]', c);
      blocks.push(new TemporalBlock(i === 0 ? inputSize : numChannels[i - 1]!, c, 2 ** i, opts));
    });
    this.blocks = new ModuleList(blocks);
    this.head = new Conv1d(numChannels[numChannels.length - 1]!, outputSize, 1, { dtype: opts.dtype, device: opts.device, generator: opts.generator });
  }

  /** Input steps that can reach one output step: 1 + 2 (kernelSize - 1) (2^numBlocks - 1). */
  get receptiveField(): number {
    return 1 + 2 * (this.kernelSize - 1) * (2 ** this.numChannels.length - 1);
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw typeError('TCN', 'a Tensor input', fmt(x));
    if (x.ndim !== 3 || x.shape[1] !== this.inputSize) throw rangeError('TCN', `input of shape (N, ${this.inputSize}, L)`, fmtShape(x.shape));
    let y = x;
    for (const b of this.blocks) y = (b as TemporalBlock).forward(y);
    return this.head.forward(y);
  }
}

// ---------------------------------------------------------------- seq2seq

/** Options of {@link Seq2Seq}. */
export interface Seq2SeqOptions extends ModelOptions {
  /** Layers of the encoder and of the decoder LSTM. Default 1. */
  numLayers?: number;
  /** Dropout on embeddings, between LSTM layers and before the output layer. Default 0. */
  dropout?: number;
}

/** Options of {@link Seq2Seq.greedyDecode}. */
export interface GreedyDecodeOptions {
  /** The start-of-sequence token fed to the decoder first. */
  bos: number;
  /** Tokens to generate. */
  maxLen: number;
  /** When given, a sequence that has produced it keeps producing it (end of sequence). */
  eos?: number;
}

/**
 * An LSTM encoder-decoder (Sutskever, Vinyals & Le, 2014) without attention: the encoder reads
 * the source and its final [h, c] starts the decoder, which predicts the target one token at a
 * time. Train with teacher forcing (`forward(src, tgtIn)` with tgtIn = [bos, y_0, ..., y_{T-2}]);
 * decode with {@link Seq2Seq.greedyDecode}. Submodules: `srcEmbedding`, `encoder`,
 * `tgtEmbedding`, `decoder`, `drop`, `linear`.
 *
 * Shape: src (S, N) int32, tgtIn (T, N) int32 -> logits (T, N, tgtVocab).
 *
 * @example
 * const m = new nd.models.Seq2Seq(12, 12, 16, 32);
 * const src = nd.randint(0, 10, [7, 4]);
 * const logits = m.forward(src, nd.randint(0, 12, [8, 4]));  // [8, 4, 12]
 * const ids = m.greedyDecode(src, { bos: 10, maxLen: 8, eos: 11 });  // [8, 4] int32
 */
export class Seq2Seq extends Module {
  srcEmbedding: Embedding;
  encoder: LSTM;
  tgtEmbedding: Embedding;
  decoder: LSTM;
  drop: Dropout;
  linear: Linear;
  readonly numLayers: number;

  constructor(
    readonly srcVocab: number,
    readonly tgtVocab: number,
    readonly embeddingSize: number,
    readonly hiddenSize: number,
    opts: Seq2SeqOptions = {},
  ) {
    super();
    const M = 'Seq2Seq';
    checkPositiveInt(M, 'srcVocab', srcVocab);
    checkPositiveInt(M, 'tgtVocab', tgtVocab);
    checkPositiveInt(M, 'embeddingSize', embeddingSize);
    checkPositiveInt(M, 'hiddenSize', hiddenSize);
    this.numLayers = checkPositiveInt(M, 'numLayers', opts.numLayers ?? 1);
    const p = checkProb(M, 'dropout', opts.dropout ?? 0);
    const o = { dtype: opts.dtype, device: opts.device, generator: opts.generator };
    this.srcEmbedding = new Embedding(srcVocab, embeddingSize, o);
    this.encoder = new LSTM(embeddingSize, hiddenSize, { ...o, numLayers: this.numLayers, dropout: p });
    this.tgtEmbedding = new Embedding(tgtVocab, embeddingSize, o);
    this.decoder = new LSTM(embeddingSize, hiddenSize, { ...o, numLayers: this.numLayers, dropout: p });
    this.drop = new Dropout(p, { generator: opts.generator });
    this.linear = new Linear(hiddenSize, tgtVocab, o);
  }

  /** The encoder's final state [h, c], each (numLayers, N, hiddenSize). */
  encode(src: Tensor): [Tensor, Tensor] {
    checkIds('Seq2Seq', 'src', src);
    const [, state] = this.encoder.forward(this.drop.forward(this.srcEmbedding.forward(src)));
    return state;
  }

  /** One or more decoder steps from `state`: [logits (T, N, tgtVocab), new state]. */
  decode(tgtIn: Tensor, state: [Tensor, Tensor]): [Tensor, [Tensor, Tensor]] {
    checkIds('Seq2Seq', 'tgtIn', tgtIn);
    const [out, next] = this.decoder.forward(this.drop.forward(this.tgtEmbedding.forward(tgtIn)), state);
    return [this.linear.forward(this.drop.forward(out)), next];
  }

  forward(src: Tensor, tgtIn: Tensor): Tensor {
    checkIds('Seq2Seq', 'src', src);
    checkIds('Seq2Seq', 'tgtIn', tgtIn);
    if (src.shape[1] !== tgtIn.shape[1]) {
      throw rangeError('Seq2Seq', `tgtIn with the batch size of src ${src.shape[1]}`, fmtShape(tgtIn.shape));
    }
    return this.decode(tgtIn, this.encode(src))[0];
  }

  /**
   * Greedy decoding without gradients: starts from `bos` and feeds back the most likely token
   * for `maxLen` steps. Returns (maxLen, N) int32 ids.
   */
  greedyDecode(src: Tensor, opts: GreedyDecodeOptions): Tensor {
    const M = 'Seq2Seq.greedyDecode';
    checkIds(M, 'src', src);
    checkPositiveInt(M, 'maxLen', opts.maxLen);
    for (const k of ['bos', 'eos'] as const) {
      const v = opts[k];
      if (v !== undefined && (!Number.isInteger(v) || v < 0 || v >= this.tgtVocab)) {
        throw rangeError(M, `${k} in [0, ${this.tgtVocab - 1}]`, fmt(v));
      }
    }
    return noGrad(() => {
      const N = src.shape[1]!;
      let state = this.encode(src);
      let tok = full([1, N], opts.bos, { dtype: 'int32', device: src.device });
      const outs: Tensor[] = [];
      let done: Tensor | null = null;
      for (let t = 0; t < opts.maxLen; t++) {
        const [logits, next] = this.decode(tok, state);
        state = next;
        let pred = argmax(logits, -1); // (1, N)
        if (opts.eos !== undefined) {
          if (done) pred = maskedFill(pred, done, opts.eos);
          const isEos = eq(pred, opts.eos);
          done = done ? logicalOr(done, isEos) : isEos;
        }
        outs.push(pred);
        tok = pred;
      }
      return cat(outs, 0);
    });
  }
}

// ---------------------------------------------------------------- tagger

/** Options of {@link BiLSTMTagger}. */
export interface BiLSTMTaggerOptions extends ModelOptions {
  /** LSTM layers. Default 1. */
  numLayers?: number;
  /** Dropout on embeddings, between layers and before the output layer. Default 0. */
  dropout?: number;
  /** Read both directions (default true); false gives the left-to-right baseline. */
  bidirectional?: boolean;
}

/**
 * A sequence tagger: Embedding -> (bidirectional) LSTM -> Linear to one score per tag for every
 * token. With `bidirectional` (the default) each token's tag can depend on the whole sequence;
 * the forward and backward outputs are concatenated (2 * hiddenSize features).
 *
 * Shape: x (L, N) int32 -> logits (L, N, numTags).
 *
 * @example
 * const tagger = new nd.models.BiLSTMTagger(20, 4, 16, 32);
 * const logits = tagger.forward(nd.randint(0, 20, [12, 8]));  // [12, 8, 4]
 */
export class BiLSTMTagger extends Module {
  embedding: Embedding;
  lstm: LSTM;
  drop: Dropout;
  linear: Linear;
  readonly bidirectional: boolean;

  constructor(
    readonly vocabSize: number,
    readonly numTags: number,
    readonly embeddingSize: number,
    readonly hiddenSize: number,
    opts: BiLSTMTaggerOptions = {},
  ) {
    super();
    const M = 'BiLSTMTagger';
    checkPositiveInt(M, 'vocabSize', vocabSize);
    checkPositiveInt(M, 'numTags', numTags);
    checkPositiveInt(M, 'embeddingSize', embeddingSize);
    checkPositiveInt(M, 'hiddenSize', hiddenSize);
    const numLayers = checkPositiveInt(M, 'numLayers', opts.numLayers ?? 1);
    const p = checkProb(M, 'dropout', opts.dropout ?? 0);
    this.bidirectional = opts.bidirectional ?? true;
    const o = { dtype: opts.dtype, device: opts.device, generator: opts.generator };
    this.embedding = new Embedding(vocabSize, embeddingSize, o);
    this.lstm = new LSTM(embeddingSize, hiddenSize, { ...o, numLayers, dropout: p, bidirectional: this.bidirectional });
    this.drop = new Dropout(p, { generator: opts.generator });
    this.linear = new Linear((this.bidirectional ? 2 : 1) * hiddenSize, numTags, o);
  }

  forward(x: Tensor): Tensor {
    checkIds('BiLSTMTagger', 'input', x);
    const [out] = this.lstm.forward(this.drop.forward(this.embedding.forward(x)));
    return this.linear.forward(this.drop.forward(out));
  }
}
