/** needle's MLP-ResNet (homework 2). */
import { Sequential } from '../nn/containers.js';
import type { Module } from '../nn/module.js';
import { Linear, type LayerOptions } from '../nn/linear.js';
import { BatchNorm1d, Dropout, ReLU, Residual } from '../nn/layers.js';
import { fmt, rangeError, typeError } from '../errors.js';

/** Options shared by the models: dtype, device and the generator used for initialization. */
export type ModelOptions = LayerOptions;

/** A normalization layer constructor taking the feature count (BatchNorm1d, LayerNorm, ...). */
export type NormFactory = new (dim: number, opts: { dtype?: ModelOptions['dtype']; device?: string }) => Module;

function checkDim(model: string, name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw rangeError(model, `${name} to be a positive integer`, fmt(v));
}

/**
 * needle's residual block: Sequential(Residual(Sequential(Linear(dim, hiddenDim), norm(hiddenDim),
 * ReLU, Dropout(dropProb), Linear(hiddenDim, dim), norm(dim))), ReLU).
 *
 * Shape: input (N, dim) -> output (N, dim).
 *
 * @example
 * const block = new nd.models.ResidualBlock(16, 8);
 * block.forward(nd.randn([4, 16])); // [4, 16]
 */
export class ResidualBlock extends Sequential {
  constructor(dim: number, hiddenDim: number, norm: NormFactory = BatchNorm1d, dropProb = 0.1, opts: ModelOptions = {}) {
    checkDim('ResidualBlock', 'dim', dim);
    checkDim('ResidualBlock', 'hiddenDim', hiddenDim);
    if (typeof norm !== 'function') throw typeError('ResidualBlock', 'norm to be a layer constructor', fmt(norm));
    const no = { dtype: opts.dtype, device: opts.device };
    super(
      new Residual(
        new Sequential(
          new Linear(dim, hiddenDim, opts),
          new norm(hiddenDim, no),
          new ReLU(),
          new Dropout(dropProb, { generator: opts.generator }),
          new Linear(hiddenDim, dim, opts),
          new norm(dim, no),
        ),
      ),
      new ReLU(),
    );
  }
}

/**
 * needle's MLP-ResNet (homework 2): Sequential(Linear(dim, hiddenDim), ReLU,
 * numBlocks x ResidualBlock(hiddenDim, hiddenDim / 2 (floor), norm, dropProb),
 * Linear(hiddenDim, numClasses)). With the defaults and dim 784 (MNIST) it has 110,860 parameters.
 *
 * Shape: input (N, dim) -> logits (N, numClasses).
 *
 * @example
 * const model = new nd.models.MLPResNet(784, 100, 3, 10);
 * model.forward(nd.randn([8, 784])); // [8, 10]
 */
export class MLPResNet extends Sequential {
  constructor(
    dim: number,
    hiddenDim = 100,
    numBlocks = 3,
    numClasses = 10,
    norm: NormFactory = BatchNorm1d,
    dropProb = 0.1,
    opts: ModelOptions = {},
  ) {
    checkDim('MLPResNet', 'dim', dim);
    checkDim('MLPResNet', 'hiddenDim', hiddenDim);
    checkDim('MLPResNet', 'numClasses', numClasses);
    if (!Number.isInteger(numBlocks) || numBlocks < 0) throw rangeError('MLPResNet', 'numBlocks to be a non-negative integer', fmt(numBlocks));
    if (hiddenDim < 2) throw rangeError('MLPResNet', 'hiddenDim of at least 2 (the blocks use hiddenDim / 2)', fmt(hiddenDim));
    const blocks: Module[] = [];
    for (let i = 0; i < numBlocks; i++) blocks.push(new ResidualBlock(hiddenDim, Math.floor(hiddenDim / 2), norm, dropProb, opts));
    super(new Linear(dim, hiddenDim, opts), new ReLU(), ...blocks, new Linear(hiddenDim, numClasses, opts));
  }
}
