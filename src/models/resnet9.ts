/** needle's ResNet9 (homework 4) for 32x32 RGB images (CIFAR-10). */
import { Sequential } from '../nn/containers.js';
import { Linear } from '../nn/linear.js';
import { BatchNorm2d, Conv2d, Flatten, ReLU, Residual } from '../nn/layers.js';
import type { ModelOptions } from './mlp_resnet.js';

/**
 * needle's ConvBN block: Sequential(Conv2d(inChannels, outChannels, kernelSize, stride,
 * padding = kernelSize // 2), BatchNorm2d(outChannels), ReLU).
 *
 * Shape: input (N, inChannels, H, W) -> (N, outChannels, H_out, W_out) with
 * H_out = floor((H + 2 * (k // 2) - k) / stride) + 1.
 *
 * @example
 * const block = new nd.models.ConvBN(3, 16, 3, 1);
 * block.forward(nd.randn([2, 3, 8, 8])); // [2, 16, 8, 8]
 */
export class ConvBN extends Sequential {
  constructor(inChannels: number, outChannels: number, kernelSize: number, stride = 1, opts: ModelOptions = {}) {
    super(
      new Conv2d(inChannels, outChannels, kernelSize, { stride, padding: Math.floor(kernelSize / 2), ...opts }),
      new BatchNorm2d(outChannels, { dtype: opts.dtype, device: opts.device }),
      new ReLU(),
    );
  }
}

/**
 * needle's ResNet9 (homework 4): ConvBN(3, 16, 7, 4), ConvBN(16, 32, 3, 2),
 * Residual(ConvBN(32, 32, 3, 1), ConvBN(32, 32, 3, 1)), ConvBN(32, 64, 3, 2),
 * ConvBN(64, 128, 3, 2), Residual(ConvBN(128, 128, 3, 1), ConvBN(128, 128, 3, 1)), Flatten,
 * Linear(128, 128), ReLU, Linear(128, 10): 431,946 parameters. The spatial size shrinks
 * 32 -> 8 -> 4 -> 2 -> 1, so the input must be 32x32 (more exactly, any size that reaches 1x1).
 *
 * Shape: input (N, 3, 32, 32) -> logits (N, 10).
 *
 * @example
 * const model = new nd.models.ResNet9();
 * model.forward(nd.randn([2, 3, 32, 32])); // [2, 10]
 */
export class ResNet9 extends Sequential {
  constructor(opts: ModelOptions = {}) {
    super(
      new ConvBN(3, 16, 7, 4, opts),
      new ConvBN(16, 32, 3, 2, opts),
      new Residual(new Sequential(new ConvBN(32, 32, 3, 1, opts), new ConvBN(32, 32, 3, 1, opts))),
      new ConvBN(32, 64, 3, 2, opts),
      new ConvBN(64, 128, 3, 2, opts),
      new Residual(new Sequential(new ConvBN(128, 128, 3, 1, opts), new ConvBN(128, 128, 3, 1, opts))),
      new Flatten(),
      new Linear(128, 128, opts),
      new ReLU(),
      new Linear(128, 10, opts),
    );
  }
}
