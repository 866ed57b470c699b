/**
 * Layers without recurrence or attention: normalization, dropout, activations, shape helpers,
 * Residual, Embedding, convolution and pooling (torch.nn semantics, camelCased). Each forward
 * calls a stateless function of `nn.functional` or `src/functional`.
 */
import { Module, Parameter } from './module.js';
import type { Tensor } from '../autograd/tensor.js';
import { add, flatten, relu, sigmoid, tanh, unflatten } from '../ops/primitives.js';
import { noGrad } from '../autograd/mode.js';
import { NDArray } from '../ndarray/ndarray.js';
import { fmt, fmtShape, rangeError, typeError } from '../errors.js';
import { expectTensor } from '../ops/util.js';
import { full, ones, zeros } from '../creation.js';
import { dropout, gelu, leakyRelu, logSoftmax, softmax } from '../functional/activation.js';
import { randn, type Generator } from '../random.js';
import { normAxis } from '../ndarray/shape.js';
import type { LayerOptions } from './linear.js';
import { batchNorm, embedding, layerNorm, normalizedDims } from './functional.js';
import { asLayer } from './layer_util.js';

export {
  Conv1d, Conv2d, MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d, AdaptiveAvgPool2d,
} from './conv_layers.js';
export type { ConvLayerOptions } from './conv_layers.js';

function checkProb(layer: string, p: number): void {
  if (typeof p !== 'number') throw typeError(layer, 'a numeric probability p', fmt(p));
  if (!(p >= 0 && p <= 1)) throw rangeError(layer, 'a probability p in [0, 1]', fmt(p));
}

function checkPositiveInt(layer: string, name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw rangeError(layer, `${name} to be a positive integer`, fmt(v));
}

// ---------------------------------------------------------------- normalization

/** Options of {@link LayerNorm}. */
export interface LayerNormOptions extends Omit<LayerOptions, 'generator'> {
  /** Added to the variance. Default 1e-5. */
  eps?: number;
  /** Learnable per-element weight (ones) and bias (zeros). Default true. */
  elementwiseAffine?: boolean;
  /** With `elementwiseAffine`, whether to learn a bias. Default true. */
  bias?: boolean;
}

/**
 * Layer normalization (torch.nn.LayerNorm): normalizes over the last `normalizedShape.length`
 * dims with the mean and the biased variance, y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias.
 * Weight is initialized to ones and bias to zeros. Same in train and eval mode.
 *
 * Shape: input (*, ...normalizedShape) -> output of the same shape. Parameters `weight` and
 * `bias` have shape normalizedShape.
 *
 * @example
 * const ln = new nd.nn.LayerNorm(8);
 * const y = ln.forward(nd.randn([4, 10, 8])); // [4, 10, 8], each row mean 0, variance 1
 */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  weight: Parameter | null;
  bias: Parameter | null;

  constructor(normalizedShape: number | readonly number[], opts: LayerNormOptions = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    for (const d of this.normalizedShape) checkPositiveInt('LayerNorm', 'normalizedShape', d);
    this.eps = opts.eps ?? 1e-5;
    this.elementwiseAffine = opts.elementwiseAffine ?? true;
    const o = { dtype: opts.dtype, device: opts.device };
    this.weight = this.elementwiseAffine ? new Parameter(ones(this.normalizedShape, o)) : null;
    this.bias = this.elementwiseAffine && opts.bias !== false ? new Parameter(zeros(this.normalizedShape, o)) : null;
  }

  forward(x: Tensor): Tensor {
    expectTensor('LayerNorm', 'input', x);
    normalizedDims('LayerNorm', x, this.normalizedShape);
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    return `${fmtShape(this.normalizedShape)}, eps=${this.eps}, elementwiseAffine=${this.elementwiseAffine}`;
  }
}

// ---------------------------------------------------------------- dropout

/**
 * Dropout (torch.nn.Dropout): in training mode zeroes each element with probability `p` and
 * scales the rest by 1 / (1 - p); in eval mode returns its input. The mask comes from
 * `opts.generator` (default: the global seeded generator), so `nd.manualSeed` makes it
 * reproducible (the masks differ from PyTorch's).
 *
 * Shape: any -> the same shape.
 *
 * @example
 * const drop = new nd.nn.Dropout(0.1);
 * const y = drop.forward(nd.ones([2, 5])); // entries 0 or 1/0.9
 * drop.eval(); // now the identity
 */
export class Dropout extends Module {
  readonly generator: Generator | undefined;

  constructor(readonly p = 0.5, opts: { generator?: Generator } = {}) {
    super();
    checkProb('Dropout', p);
    this.generator = opts.generator;
  }

  forward(x: Tensor): Tensor {
    expectTensor('Dropout', 'input', x);
    return dropout(x, this.p, { training: this.training, generator: this.generator });
  }

  override extraRepr(): string {
    return `p=${this.p}`;
  }
}

/** Options of {@link BatchNorm1d} and {@link BatchNorm2d}. */
export interface BatchNormOptions extends Omit<LayerOptions, 'generator'> {
  /** Added to the variance. Default 1e-5. */
  eps?: number;
  /** Weight of each batch in the running averages; null = cumulative moving average. Default 0.1. */
  momentum?: number | null;
  /** Learnable per-channel weight (ones) and bias (zeros). Default true. */
  affine?: boolean;
  /** Keep running_mean / running_var / num_batches_tracked buffers. Default true. */
  trackRunningStats?: boolean;
}

/** Shared implementation of BatchNorm1d/2d: `ranks` are the accepted input ranks. */
abstract class BatchNormBase extends Module {
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  weight: Parameter | null;
  bias: Parameter | null;
  declare runningMean: Tensor | null;
  declare runningVar: Tensor | null;
  declare numBatchesTracked: Tensor | null;

  protected abstract readonly layer: string;
  protected abstract readonly ranks: readonly number[];
  protected abstract readonly layout: string;

  constructor(readonly numFeatures: number, opts: BatchNormOptions) {
    super();
    checkPositiveInt(new.target.name, 'numFeatures', numFeatures);
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    this.affine = opts.affine ?? true;
    this.trackRunningStats = opts.trackRunningStats ?? true;
    const o = { dtype: opts.dtype, device: opts.device };
    this.weight = this.affine ? new Parameter(ones([numFeatures], o)) : null;
    this.bias = this.affine ? new Parameter(zeros([numFeatures], o)) : null;
    if (this.trackRunningStats) {
      this.registerBuffer('runningMean', zeros([numFeatures], o));
      this.registerBuffer('runningVar', ones([numFeatures], o));
      this.registerBuffer('numBatchesTracked', full([], 0, { dtype: 'int32', device: opts.device }));
    } else {
      this.registerBuffer('runningMean', null);
      this.registerBuffer('runningVar', null);
      this.registerBuffer('numBatchesTracked', null);
    }
  }

  /** Resets the running statistics (mean 0, variance 1, count 0). */
  resetRunningStats(): void {
    if (!this.trackRunningStats) return;
    noGrad(() => {
      this.runningMean!.array = zeros([this.numFeatures], { dtype: this.runningMean!.dtype, device: this.runningMean!.device }).array;
      this.runningVar!.array = ones([this.numFeatures], { dtype: this.runningVar!.dtype, device: this.runningVar!.device }).array;
      this.numBatchesTracked!.array = full([], 0, { dtype: 'int32', device: this.numBatchesTracked!.device }).array;
    });
  }

  forward(x: Tensor): Tensor {
    expectTensor(this.layer, 'input', x);
    if (!this.ranks.includes(x.ndim) || x.shape[1] !== this.numFeatures) {
      throw rangeError(this.layer, `input of shape ${this.layout.replaceAll('C', String(this.numFeatures))}`, fmtShape(x.shape));
    }
    const track = this.training && this.trackRunningStats;
    // momentum null: the cumulative average over the batches seen so far (this one included)
    const factor = this.momentum ?? (track ? 1 / (this.numBatchesTracked!.item() + 1) : 0);
    // without running statistics (trackRunningStats false) batch statistics are used in both modes
    const opts = { training: this.training || !this.trackRunningStats, momentum: factor, eps: this.eps };
    const y = asLayer(this.layer, 'batchNorm', () => batchNorm(x, this.runningMean, this.runningVar, this.weight, this.bias, opts));
    if (track) {
      const nbt = this.numBatchesTracked!;
      noGrad(() => {
        nbt.array = add(nbt, 1).array;
      });
    }
    return y;
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}`;
  }
}

/**
 * Batch normalization over a 2-D or 3-D input (torch.nn.BatchNorm1d). In training mode it
 * normalizes each channel with the batch mean and the biased batch variance and updates the
 * running statistics with the unbiased batch variance:
 * running = (1 - momentum) * running + momentum * batch (momentum null: the cumulative average
 * 1 / numBatchesTracked); in eval mode it normalizes with the running statistics.
 * Buffers (state-dict keys): `running_mean`, `running_var`, `num_batches_tracked` (int32 here;
 * PyTorch stores int64: loading converts).
 *
 * Shape: input (N, C) or (N, C, L) with C = numFeatures -> output of the same shape.
 *
 * @example
 * const bn = new nd.nn.BatchNorm1d(16);
 * const y = bn.forward(nd.randn([32, 16])); // [32, 16]
 * bn.eval(); // now uses bn.runningMean / bn.runningVar
 */
export class BatchNorm1d extends BatchNormBase {
  protected readonly layer = 'BatchNorm1d';
  protected readonly ranks = [2, 3];
  protected readonly layout = '(N, C) or (N, C, L)';

  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super(numFeatures, opts);
  }
}

/**
 * Batch normalization over a 4-D NCHW input (torch.nn.BatchNorm2d): statistics per channel over
 * (N, H, W). See {@link BatchNorm1d} for the running statistics and buffers.
 *
 * Shape: input (N, C, H, W) with C = numFeatures -> output of the same shape.
 *
 * @example
 * const bn = new nd.nn.BatchNorm2d(3);
 * const y = bn.forward(nd.randn([8, 3, 32, 32])); // [8, 3, 32, 32]
 */
export class BatchNorm2d extends BatchNormBase {
  protected readonly layer = 'BatchNorm2d';
  protected readonly ranks = [4];
  protected readonly layout = '(N, C, H, W)';

  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super(numFeatures, opts);
  }
}

// ---------------------------------------------------------------- activations

/**
 * max(x, 0) elementwise (torch.nn.ReLU).
 *
 * Shape: any -> the same shape.
 *
 * @example
 * new nd.nn.ReLU().forward(nd.tensor([-1, 2])); // [0, 2]
 */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    expectTensor('ReLU', 'input', x);
    return relu(x);
  }
}

/**
 * x for x > 0, negativeSlope * x otherwise (torch.nn.LeakyReLU).
 *
 * Shape: any -> the same shape.
 *
 * @example
 * new nd.nn.LeakyReLU(0.1).forward(nd.tensor([-1, 2])); // [-0.1, 2]
 */
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
    if (typeof negativeSlope !== 'number') throw typeError('LeakyReLU', 'a numeric negativeSlope', fmt(negativeSlope));
  }

  forward(x: Tensor): Tensor {
    expectTensor('LeakyReLU', 'input', x);
    return leakyRelu(x, this.negativeSlope);
  }

  override extraRepr(): string {
    return `negativeSlope=${this.negativeSlope}`;
  }
}

/**
 * Gaussian error linear unit (torch.nn.GELU): x * Phi(x) with the exact erf
 * (`approximate = 'none'`, default) or the tanh approximation (`'tanh'`).
 *
 * Shape: any -> the same shape.
 *
 * @example
 * const act = new nd.nn.GELU('tanh');
 * act.forward(nd.randn([2, 3])); // [2, 3]
 */
export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
    if (approximate !== 'none' && approximate !== 'tanh') throw typeError('GELU', 'approximate of "none" or "tanh"', fmt(approximate));
  }

  forward(x: Tensor): Tensor {
    expectTensor('GELU', 'input', x);
    return gelu(x, { approximate: this.approximate });
  }

  override extraRepr(): string {
    return `approximate=${this.approximate}`;
  }
}

/**
 * Hyperbolic tangent elementwise (torch.nn.Tanh).
 *
 * Shape: any -> the same shape.
 *
 * @example
 * new nd.nn.Tanh().forward(nd.tensor([0, 1])); // [0, 0.7616]
 */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    expectTensor('Tanh', 'input', x);
    return tanh(x);
  }
}

/**
 * Logistic sigmoid 1 / (1 + e^-x) elementwise (torch.nn.Sigmoid).
 *
 * Shape: any -> the same shape.
 *
 * @example
 * new nd.nn.Sigmoid().forward(nd.tensor([0])); // [0.5]
 */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    expectTensor('Sigmoid', 'input', x);
    return sigmoid(x);
  }
}

/**
 * softmax along `dim` (torch.nn.Softmax). PyTorch's deprecated implicit dim is not supported:
 * `dim` defaults to -1.
 *
 * Shape: any -> the same shape; slices along `dim` sum to 1.
 *
 * @example
 * new nd.nn.Softmax(1).forward(nd.randn([4, 10])); // rows sum to 1
 */
export class Softmax extends Module {
  constructor(readonly dim = -1) {
    super();
  }

  forward(x: Tensor): Tensor {
    expectTensor('Softmax', 'input', x);
    normAxis('Softmax', this.dim, x.ndim);
    return softmax(x, this.dim);
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/**
 * log(softmax(x)) along `dim` (torch.nn.LogSoftmax), computed as x - logsumexp(x). `dim`
 * defaults to -1.
 *
 * Shape: any -> the same shape.
 *
 * @example
 * new nd.nn.LogSoftmax(1).forward(nd.randn([4, 10])); // [4, 10]
 */
export class LogSoftmax extends Module {
  constructor(readonly dim = -1) {
    super();
  }

  forward(x: Tensor): Tensor {
    expectTensor('LogSoftmax', 'input', x);
    normAxis('LogSoftmax', this.dim, x.ndim);
    return logSoftmax(x, this.dim);
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

// ---------------------------------------------------------------- shape helpers and Residual

/**
 * Flattens dims startDim..endDim into one (torch.nn.Flatten; defaults keep the batch dim).
 *
 * Shape: input (*, S_start, ..., S_end, *) -> (*, S_start * ... * S_end, *).
 *
 * @example
 * new nd.nn.Flatten().forward(nd.zeros([32, 1, 5, 5])); // [32, 25]
 */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
  }

  forward(x: Tensor): Tensor {
    expectTensor('Flatten', 'input', x);
    const a = normAxis('Flatten', this.startDim, x.ndim);
    const b = normAxis('Flatten', this.endDim, x.ndim);
    if (a > b) throw rangeError('Flatten', `startDim <= endDim for input of shape ${fmtShape(x.shape)}`, `${this.startDim} > ${this.endDim}`);
    return flatten(x, a, b);
  }

  override extraRepr(): string {
    return `startDim=${this.startDim}, endDim=${this.endDim}`;
  }
}

/**
 * Splits dim `dim` into `unflattenedSize` (torch.nn.Unflatten; one entry may be -1).
 *
 * Shape: input (*, S_dim, *) -> (*, ...unflattenedSize, *) where prod(unflattenedSize) = S_dim.
 *
 * @example
 * new nd.nn.Unflatten(1, [2, 5]).forward(nd.zeros([3, 10])); // [3, 2, 5]
 */
export class Unflatten extends Module {
  readonly unflattenedSize: number[];

  constructor(readonly dim: number, unflattenedSize: readonly number[]) {
    super();
    if (!Array.isArray(unflattenedSize)) throw typeError('Unflatten', 'unflattenedSize to be an array of integers', fmt(unflattenedSize));
    this.unflattenedSize = [...unflattenedSize];
  }

  forward(x: Tensor): Tensor {
    expectTensor('Unflatten', 'input', x);
    const d = normAxis('Unflatten', this.dim, x.ndim);
    const known = this.unflattenedSize.filter((s) => s !== -1).reduce((p, s) => p * s, 1);
    const nInfer = this.unflattenedSize.filter((s) => s === -1).length;
    const ok = nInfer === 0 ? known === x.shape[d] : nInfer === 1 && known > 0 && x.shape[d]! % known === 0;
    if (!ok) {
      throw rangeError('Unflatten', `dim ${this.dim} of size prod(${fmtShape(this.unflattenedSize)})`, `input of shape ${fmtShape(x.shape)}`);
    }
    return unflatten(x, d, this.unflattenedSize);
  }

  override extraRepr(): string {
    return `dim=${this.dim}, unflattenedSize=${fmtShape(this.unflattenedSize)}`;
  }
}

/**
 * needle's Residual: fn(x) + x. `fn` is registered as the child `fn`
 * (state-dict keys `fn.<...>`).
 *
 * Shape: input of any shape that `fn` preserves -> the same shape.
 *
 * @example
 * const block = new nd.nn.Residual(new nd.nn.Sequential(new nd.nn.Linear(8, 8), new nd.nn.ReLU()));
 * block.forward(nd.randn([4, 8])); // [4, 8]
 */
export class Residual extends Module {
  constructor(readonly fn: Module) {
    super();
    if (!(fn instanceof Module)) throw typeError('Residual', 'fn to be a Module', fmt(fn));
  }

  forward(x: Tensor): Tensor {
    expectTensor('Residual', 'input', x);
    const y = (this.fn.forward as (a: Tensor) => Tensor)(x);
    if (fmtShape(y.shape) !== fmtShape(x.shape)) {
      throw rangeError('Residual', `fn(x) of the input's shape ${fmtShape(x.shape)}`, fmtShape(y.shape));
    }
    return add(y, x);
  }
}

// ---------------------------------------------------------------- embedding

/** Options of {@link Embedding}. */
export interface EmbeddingOptions extends LayerOptions {
  /** Index whose row is initialized to zeros and receives no gradient (negative counts from the end). */
  paddingIdx?: number | null;
}

/**
 * A lookup table of `numEmbeddings` vectors of size `embeddingDim` (torch.nn.Embedding), weight
 * initialized N(0, 1). With `paddingIdx`, that row starts at zero and gets no gradient.
 *
 * Shape: input (*) of int32 indices in [0, numEmbeddings) -> output (*, embeddingDim).
 *
 * @example
 * const emb = new nd.nn.Embedding(10, 3, { paddingIdx: 0 });
 * emb.forward(nd.tensor([[1, 2], [0, 9]], { dtype: 'int32' })); // [2, 2, 3]
 */
export class Embedding extends Module {
  weight: Parameter;
  readonly paddingIdx: number | null;

  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, opts: EmbeddingOptions = {}) {
    super();
    checkPositiveInt('Embedding', 'numEmbeddings', numEmbeddings);
    checkPositiveInt('Embedding', 'embeddingDim', embeddingDim);
    let p = opts.paddingIdx ?? null;
    if (p !== null) {
      if (!Number.isInteger(p) || p < -numEmbeddings || p >= numEmbeddings) {
        throw rangeError('Embedding', `paddingIdx in [${-numEmbeddings}, ${numEmbeddings - 1}]`, fmt(p));
      }
      if (p < 0) p += numEmbeddings;
    }
    this.paddingIdx = p;
    const w = randn([numEmbeddings, embeddingDim], { dtype: opts.dtype, device: opts.device, generator: opts.generator });
    if (p !== null) {
      const data = Float64Array.from(w.dataSync());
      data.fill(0, p * embeddingDim, (p + 1) * embeddingDim);
      this.weight = new Parameter(NDArray.fromData(data, w.shape, w.dtype, w.device));
    } else {
      this.weight = new Parameter(w);
    }
  }

  forward(x: Tensor): Tensor {
    expectTensor('Embedding', 'input', x);
    if (x.dtype !== 'int32') throw typeError('Embedding', 'an int32 input of indices', x.dtype);
    return asLayer('Embedding', 'embedding', () => embedding(x, this.weight, { paddingIdx: this.paddingIdx }));
  }

  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx === null ? '' : `, paddingIdx=${this.paddingIdx}`}`;
  }
}
