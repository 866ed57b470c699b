/**
 * Convolutional networks for 1x28x28 images (MNIST, Fashion-MNIST): a small two-block CNN and
 * needle's ResNet9 layout adapted to one input channel.
 */
import { Sequential } from '../nn/containers.js';
import { Linear } from '../nn/linear.js';
import { Conv2d, MaxPool2d } from '../nn/conv_layers.js';
import { BatchNorm2d, Flatten, ReLU, Residual } from '../nn/layers.js';
import { fmt, rangeError } from '../errors.js';
import type { ModelOptions } from './mlp_resnet.js';
import { ConvBN } from './resnet9.js';

/** Options of {@link SmallCNN}. */
export interface SmallCNNOptions extends ModelOptions {
  /** Input channels. Default 1. */
  inChannels?: number;
  /** Channels of the two conv blocks. Default [16, 32]. */
  channels?: [number, number];
  /** Width of the hidden fully-connected layer; 0 maps the features straight to the logits. Default 0. */
  hidden?: number;
  /** Number of classes. Default 10. */
  numClasses?: number;
  /** Input height and width (divisible by 4). Default 28. */
  imageSize?: number;
}

function checkPositive(model: string, name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw rangeError(model, `${name} to be a positive integer`, fmt(v));
}

/**
 * A small CNN for 28x28 images: two blocks of Conv2d(3x3, padding 1) + MaxPool2d(2) +
 * BatchNorm2d + ReLU, then Flatten and a linear head (optionally through one hidden ReLU layer):
 *
 * Sequential(Conv2d(inChannels, c1, 3, padding 1), MaxPool2d(2), BatchNorm2d(c1), ReLU,
 * Conv2d(c1, c2, 3, padding 1), MaxPool2d(2), BatchNorm2d(c2), ReLU, Flatten,
 * [Linear(c2 * 7 * 7, hidden), ReLU,] Linear(., numClasses)).
 *
 * Pooling comes before the normalization so that BatchNorm and ReLU run on a quarter of the
 * activations (about 20% less time per step on the cpu backend than conv-BN-ReLU-pool). Max
 * pooling commutes with ReLU and with BatchNorm's per-channel affine map where its scale is
 * positive; only the batch statistics differ (taken over the pooled activations).
 *
 * With the defaults (1 -> 16 -> 32 channels, no hidden layer) it has 20,586 parameters
 * (convolutions 160 + 4,640, BatchNorm scales and shifts 32 + 64, head 15,690); `hidden: 128`
 * gives 207,018. One 28x28 image costs about 2.1 MFLOP forward (2.5 with `hidden: 128`).
 *
 * Shape: input (N, inChannels, H, W) with H = W = imageSize -> logits (N, numClasses).
 *
 * @example
 * const model = new nd.models.SmallCNN({ hidden: 128 });
 * model.forward(nd.randn([2, 1, 28, 28])); // [2, 10]
 */
export class SmallCNN extends Sequential {
  constructor(opts: SmallCNNOptions = {}) {
    const inChannels = opts.inChannels ?? 1;
    const [c1, c2] = opts.channels ?? [16, 32];
    const hidden = opts.hidden ?? 0;
    const numClasses = opts.numClasses ?? 10;
    const size = opts.imageSize ?? 28;
    checkPositive('SmallCNN', 'inChannels', inChannels);
    checkPositive('SmallCNN', 'channels[0]', c1);
    checkPositive('SmallCNN', 'channels[1]', c2);
    checkPositive('SmallCNN', 'numClasses', numClasses);
    if (!Number.isInteger(hidden) || hidden < 0) throw rangeError('SmallCNN', 'hidden to be a non-negative integer', fmt(hidden));
    if (!Number.isInteger(size) || size < 4 || size % 4 !== 0) throw rangeError('SmallCNN', 'imageSize to be a positive multiple of 4', fmt(size));
    const lo: ModelOptions = { dtype: opts.dtype, device: opts.device, generator: opts.generator };
    const bo = { dtype: opts.dtype, device: opts.device };
    const feat = c2 * (size / 4) * (size / 4);
    const head = hidden > 0 ? [new Linear(feat, hidden, lo), new ReLU(), new Linear(hidden, numClasses, lo)] : [new Linear(feat, numClasses, lo)];
    super(
      new Conv2d(inChannels, c1, 3, { padding: 1, ...lo }),
      new MaxPool2d(2),
      new BatchNorm2d(c1, bo),
      new ReLU(),
      new Conv2d(c1, c2, 3, { padding: 1, ...lo }),
      new MaxPool2d(2),
      new BatchNorm2d(c2, bo),
      new ReLU(),
      new Flatten(),
      ...head,
    );
  }
}

/**
 * needle's ResNet9 layout (see {@link ResNet9}) for 1x28x28 images: the first ConvBN takes one
 * channel instead of three, everything else is unchanged. The spatial size shrinks
 * 28 -> 7 -> 4 -> 2 -> 1 through the strided ConvBNs (7x7 stride 4, then three 3x3 stride 2),
 * so the same 128-wide head applies. 430,378 parameters (ResNet9's 431,946 less the 1,568
 * first-layer weights of the two dropped input channels).
 *
 * Sequential(ConvBN(inChannels, 16, 7, 4), ConvBN(16, 32, 3, 2),
 * Residual(ConvBN(32, 32, 3, 1), ConvBN(32, 32, 3, 1)), ConvBN(32, 64, 3, 2),
 * ConvBN(64, 128, 3, 2), Residual(ConvBN(128, 128, 3, 1), ConvBN(128, 128, 3, 1)), Flatten,
 * Linear(128, 128), ReLU, Linear(128, numClasses)).
 *
 * Shape: input (N, inChannels, 28, 28) -> logits (N, numClasses). (Any size from 25 to 32
 * reaches 1x1 too.)
 *
 * @example
 * const model = new nd.models.ResNet9MNIST();
 * model.forward(nd.randn([2, 1, 28, 28])); // [2, 10]
 * model.numParameters; // 430378
 */
export class ResNet9MNIST extends Sequential {
  constructor(opts: ModelOptions & { inChannels?: number; numClasses?: number } = {}) {
    const inChannels = opts.inChannels ?? 1;
    const numClasses = opts.numClasses ?? 10;
    checkPositive('ResNet9MNIST', 'inChannels', inChannels);
    checkPositive('ResNet9MNIST', 'numClasses', numClasses);
    const o: ModelOptions = { dtype: opts.dtype, device: opts.device, generator: opts.generator };
    super(
      new ConvBN(inChannels, 16, 7, 4, o),
      new ConvBN(16, 32, 3, 2, o),
      new Residual(new Sequential(new ConvBN(32, 32, 3, 1, o), new ConvBN(32, 32, 3, 1, o))),
      new ConvBN(32, 64, 3, 2, o),
      new ConvBN(64, 128, 3, 2, o),
      new Residual(new Sequential(new ConvBN(128, 128, 3, 1, o), new ConvBN(128, 128, 3, 1, o))),
      new Flatten(),
      new Linear(128, 128, o),
      new ReLU(),
      new Linear(128, numClasses, o),
    );
  }
}
