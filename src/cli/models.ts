/**
 * The CLI's model registry: CLI name -> how to build the model, which data it trains on, and its
 * default hyperparameters. To add a zoo model to `needle-ts train`, add one entry to MODELS.
 *
 * Image models see Fashion-MNIST-style data: x (N, 784) ('flat') or (N, 1, 28, 28) ('grid')
 * float32 in [0, 1], labels (N) int32, and return logits (N, classes).
 * Text models see character ids: x (N, T) int32 and return logits (N, T, vocabSize), directly or
 * through `forward` (an adapter for models with another layout, e.g. needle's sequence-first LMs).
 * Sequence models train on one synthetic task each (src/cli/sequence.ts): batches are
 * [input, target, ...] batch-first, and `forward` adapts them to the model's layout.
 * A model fitted without an optimizer (Newton's method) has `solve`, which `train` runs instead
 * of nd.train.fit.
 * `build` receives the config stored in checkpoints, so `eval` and `sample` rebuild the model.
 */
import * as nd from '../index.js';
import type { CliIO } from './common.js';
import type { ImageData, ImageLayout } from './data.js';
import { binaryImageData, PooledLogistic, solveNewton } from './newton.js';

/** Optimizers the CLI builds by name. */
export const OPTIMIZERS = ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** Training hyperparameters (CLI flags override; entries give their own defaults). */
export interface TrainDefaults {
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: OptimizerName;
  /** Omitted: the optimizer's default (0; AdamW 0.01). */
  weightDecay?: number;
  /** Learning-rate schedule over the epochs (default 'none'). */
  schedule?: 'none' | 'cosine';
  /** Text models: characters per training window. */
  seqLen?: number;
  /** Clip the total gradient norm to this value (default: no clipping). */
  clipGrad?: number;
}

/** What a model learns from: images, character text, or a synthetic sequence task. */
export type Task = 'image' | 'text' | 'sequence';

/** What `build` receives (and checkpoints store in `extra.meta.config`). */
export interface ModelConfig {
  /** Image models: number of classes. */
  classes?: number;
  /** Text models: vocabulary size and window length (sequence models: token count, length). */
  vocabSize?: number;
  seqLen?: number;
  /** newton-logistic: the two classes it separates (label 0, label 1). */
  pair?: [number, number];
}

/** What `solve` receives: the parsed flags and where to write. */
export interface SolveContext {
  /** `needle-ts train`, for messages. */
  cmd: string;
  /** The CLI model name. */
  name: string;
  entry: ModelEntry;
  flags: Readonly<Record<string, string | number | boolean>>;
  outDir: string;
  io: CliIO;
  /** performance.now() at the start of the command. */
  t0: number;
}

/** One CLI model. */
export interface ModelEntry {
  /** One line for `--help` and `info`. */
  description: string;
  task: Task;
  /** Image models: input layout (default 'flat'). */
  input?: ImageLayout;
  /** The default --dataset. */
  dataset: string;
  /** The --dataset values it accepts (default: every data set of its task). */
  datasets?: readonly string[];
  defaults: TrainDefaults;
  build(config: ModelConfig): nd.nn.Module;
  /**
   * Models with another layout: a batch [input, target, ...] -> the output the loss compares with
   * batch[1] (text models: (N, T) int32 ids -> logits (N, T, V)).
   */
  forward?(model: nd.nn.Module, batch: readonly nd.Tensor[]): nd.Tensor;
  /** Fits the model without an optimizer (instead of nd.train.fit); returns the exit code. */
  solve?(ctx: SolveContext): Promise<number>;
  /** Image models on part of a data set: the split they see (e.g. two classes, relabeled 0 and 1). */
  imageData?(data: ImageData, config: ModelConfig): ImageData;
}

const imageDefaults: TrainDefaults = { epochs: 10, batchSize: 100, lr: 1e-3, optimizer: 'adam' };
const textDefaults: TrainDefaults = { epochs: 5, batchSize: 32, lr: 3e-3, optimizer: 'adam', seqLen: 64 };
/** As the zoo scripts: Adam, cosine decay over all steps to lr / 20, gradient norm clipped at 1. */
const sequenceDefaults: TrainDefaults = { epochs: 1, batchSize: 64, lr: 3e-3, optimizer: 'adam', schedule: 'cosine', clipGrad: 1 };

/** Character-level bigram model: logits of the next character from the current one alone. */
class Bigram extends nd.nn.Module {
  table: nd.nn.Embedding;
  constructor(vocabSize: number) {
    super();
    this.table = new nd.nn.Embedding(vocabSize, vocabSize);
  }
  forward(x: nd.Tensor): nd.Tensor {
    return this.table.forward(x);
  }
}

/** Adapter for nd.models.LanguageModel (sequence-first, logits (T * N, V)). */
function lmForward(model: nd.nn.Module, batch: readonly nd.Tensor[]): nd.Tensor {
  const x = batch[0]!;
  const [n, t] = x.shape as [number, number];
  const [logits] = (model as nd.models.LanguageModel).forward(x.transpose(0, 1).contiguous());
  return logits.reshape([t, n, -1]).transpose(0, 1);
}

function languageModel(kind: nd.models.SeqModelKind): ModelEntry {
  const transformer = kind === 'transformer';
  return {
    description: `character-level ${transformer ? 'causal Transformer (2 layers, width 64)' : `${kind.toUpperCase()} (embedding 64, hidden 128)`} language model (nd.models.LanguageModel)`,
    task: 'text',
    dataset: 'moby-dick',
    defaults: { ...textDefaults, lr: transformer ? 1e-3 : 3e-3 },
    build: (c) => new nd.models.LanguageModel(64, c.vocabSize!, transformer ? 128 : 128, { seqModel: kind, numLayers: transformer ? 2 : 1, seqLen: c.seqLen!, dropout: transformer ? 0.1 : 0 }),
    forward: lmForward,
  };
}

/** CLI name -> model. Add a line here to make a zoo model trainable from the CLI. */
export const MODELS: Record<string, ModelEntry> = {
  'mlp-resnet': {
    description: "needle's MLP-ResNet (784-100, 3 residual blocks, 110,860 parameters) on 28x28 images",
    task: 'image',
    input: 'flat',
    dataset: 'fashion-mnist',
    defaults: { ...imageDefaults, schedule: 'cosine' },
    build: (c) => new nd.models.MLPResNet(784, 100, 3, c.classes ?? 10),
  },
  resnet9: {
    description: "needle's ResNet9 for 1x28x28 images (nd.models.ResNet9MNIST, 430,378 parameters; slow on CPU)",
    task: 'image',
    input: 'grid',
    dataset: 'fashion-mnist',
    defaults: { ...imageDefaults, epochs: 2 },
    build: (c) => new nd.models.ResNet9MNIST({ numClasses: c.classes ?? 10 }),
  },
  'small-cnn': {
    description: 'a two-block CNN for 1x28x28 images (nd.models.SmallCNN, 20,586 parameters)',
    task: 'image',
    input: 'grid',
    dataset: 'fashion-mnist',
    defaults: { ...imageDefaults, epochs: 3 },
    build: (c) => new nd.models.SmallCNN({ numClasses: c.classes ?? 10 }),
  },
  'softmax-regression': {
    description: 'multinomial logistic regression on 784 pixels (nd.models.SoftmaxRegression)',
    task: 'image',
    input: 'flat',
    dataset: 'fashion-mnist',
    defaults: { ...imageDefaults, epochs: 5 },
    build: (c) => new nd.models.SoftmaxRegression(784, c.classes ?? 10),
  },
  'two-layer-net': { description: 'the two-layer ReLU network of homework 0, 784-256-classes (nd.models.TwoLayerNet)', task: 'image', input: 'flat', dataset: 'fashion-mnist', defaults: imageDefaults, build: (c) => new nd.models.TwoLayerNet(784, 256, c.classes ?? 10) },
  rff: { description: 'random Fourier features (2,000 cosine features, sigma 5) and a linear head (nd.models.RandomFourierFeatures)', task: 'image', input: 'flat', dataset: 'fashion-mnist', defaults: { ...imageDefaults, lr: 1e-2 }, build: (c) => new nd.models.RandomFourierFeatures(784, 2000, c.classes ?? 10, { sigma: 5 }) },
  bigram: {
    description: 'character bigram language model (one embedding table), the smallest baseline',
    task: 'text',
    dataset: 'moby-dick',
    defaults: { ...textDefaults, lr: 1e-2, epochs: 2 },
    build: (c) => new Bigram(c.vocabSize!),
  },
  'rnn-lm': languageModel('rnn'),
  'lstm-lm': languageModel('lstm'),
  'gru-lm': languageModel('gru'),
  'transformer-lm': languageModel('transformer'),
  tcn: {
    description: 'temporal convolutional network (4 blocks x 24 channels, kernel 6, receptive field 151) on the adding problem (nd.models.TCN)',
    task: 'sequence',
    dataset: 'adding',
    datasets: ['adding'],
    defaults: { ...sequenceDefaults, epochs: 1, batchSize: 32, lr: 4e-3 },
    build: () => new nd.models.TCN(2, 1, [24, 24, 24, 24], { kernelSize: 6 }),
    // the prediction is the output at the last step: (N, 2, T) -> (N)
    forward: (m, b) => (m as nd.models.TCN).forward(b[0]!).get(':', 0, -1),
  },
  seq2seq: {
    description: 'LSTM encoder-decoder (embedding 32, hidden 128) reversing digit strings of length 5-10 (nd.models.Seq2Seq)',
    task: 'sequence',
    dataset: 'digit-reversal',
    datasets: ['digit-reversal'],
    defaults: { ...sequenceDefaults, epochs: 1, batchSize: 64, lr: 3e-3 },
    build: (c) => new nd.models.Seq2Seq(10, c.vocabSize ?? 12, 32, 128),
    // batch [src (N, L), tgtOut (N, L + 1), tgtIn (N, L + 1)] -> logits (N, L + 1, V), teacher forced
    forward: (m, b) => (m as nd.models.Seq2Seq).forward(b[0]!.transpose(0, 1).contiguous(), b[2]!.transpose(0, 1).contiguous()).transpose(0, 1),
  },
  'bilstm-tagger': {
    description: 'bidirectional LSTM tagger (embedding 16, hidden 64 per direction) on occurrence tagging (nd.models.BiLSTMTagger)',
    task: 'sequence',
    dataset: 'occurrence-tags',
    datasets: ['occurrence-tags'],
    defaults: { ...sequenceDefaults, epochs: 1, batchSize: 64, lr: 5e-3 },
    build: (c) => new nd.models.BiLSTMTagger(c.vocabSize ?? 10, 4, 16, 64),
    // (N, L) -> logits (N, L, 4)
    forward: (m, b) => (m as nd.models.BiLSTMTagger).forward(b[0]!.transpose(0, 1).contiguous()).transpose(0, 1),
  },
  'newton-logistic': {
    description: "logistic regression of two digits (default 3 vs 5) on 14x14-pooled pixels, fitted by Newton's method (nd.models.newtonMinimize)",
    task: 'image',
    input: 'flat',
    dataset: 'mnist',
    datasets: ['mnist', 'fashion-mnist', 'synthetic'],
    // epochs: the most Newton steps; weightDecay: the L2 penalty; the rest is unused (no optimizer)
    defaults: { ...imageDefaults, epochs: 20, weightDecay: 0.01 },
    build: () => new PooledLogistic(),
    solve: (ctx) => solveNewton(ctx),
    imageData: (data, config) => binaryImageData(data, config.pair ?? [3, 5]),
  },
};

/** The registry entry for `name`, or undefined. */
export function modelEntry(name: string): ModelEntry | undefined {
  return Object.prototype.hasOwnProperty.call(MODELS, name) ? MODELS[name] : undefined;
}

/** Builds an optimizer by CLI name (weightDecay undefined: the optimizer's default). */
export function makeOptimizer(name: OptimizerName, params: nd.Tensor[], lr: number, weightDecay: number | undefined, momentum: number): nd.optim.Optimizer {
  const wd = weightDecay === undefined ? {} : { weightDecay };
  let opt: unknown;
  switch (name) {
    case 'sgd':
      opt = new nd.optim.SGD(params, { lr, momentum, ...wd });
      break;
    case 'adam':
      opt = new nd.optim.Adam(params, { lr, ...wd });
      break;
    case 'adamw':
      opt = new nd.optim.AdamW(params, { lr, ...wd });
      break;
    case 'rmsprop':
      opt = new nd.optim.RMSprop(params, { lr, momentum, ...wd });
      break;
    case 'adagrad':
      opt = new nd.optim.Adagrad(params, { lr, ...wd });
      break;
  }
  return opt as nd.optim.Optimizer;
}
