/**
 * The CLI's model registry: CLI name -> how to build the model, which data it trains on, and its
 * default hyperparameters. To add a zoo model to `needle-ts train`, add one entry to MODELS.
 *
 * Image models see Fashion-MNIST-style data: x (N, 784) ('flat') or (N, 1, 28, 28) ('grid')
 * float32 in [0, 1], labels (N) int32, and return logits (N, classes).
 * Text models see character ids: x (N, T) int32 and return logits (N, T, vocabSize), directly or
 * through `forward` (an adapter for models with another layout, e.g. needle's sequence-first LMs).
 * `build` receives the config stored in checkpoints, so `eval` and `sample` rebuild the model.
 */
import * as nd from '../index.js';
import type { ImageLayout } from './data.js';

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
}

/** What `build` receives (and checkpoints store in `extra.meta.config`). */
export interface ModelConfig {
  /** Image models: number of classes. */
  classes?: number;
  /** Text models: vocabulary size and window length. */
  vocabSize?: number;
  seqLen?: number;
}

/** One CLI model. */
export interface ModelEntry {
  /** One line for `--help` and `info`. */
  description: string;
  task: 'image' | 'text';
  /** Image models: input layout (default 'flat'). */
  input?: ImageLayout;
  /** The default --dataset. */
  dataset: string;
  defaults: TrainDefaults;
  build(config: ModelConfig): nd.nn.Module;
  /** Text models with another layout: (N, T) int32 ids -> logits (N, T, V). */
  forward?(model: nd.nn.Module, x: nd.Tensor): nd.Tensor;
}

const imageDefaults: TrainDefaults = { epochs: 10, batchSize: 100, lr: 1e-3, optimizer: 'adam' };
const textDefaults: TrainDefaults = { epochs: 5, batchSize: 32, lr: 3e-3, optimizer: 'adam', seqLen: 64 };

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
function lmForward(model: nd.nn.Module, x: nd.Tensor): nd.Tensor {
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
