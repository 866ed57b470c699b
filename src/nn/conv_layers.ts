/**
 * Convolution and pooling layers (torch.nn.Conv1d/2d, MaxPool1d/2d, AvgPool1d/2d,
 * AdaptiveAvgPool2d), NCHW. Their forwards call the composites of src/functional/conv.ts;
 * re-exported by layers.ts.
 */
import { Module, Parameter } from './module.js';
import type { Tensor } from '../autograd/tensor.js';
import { fmt, fmtShape, rangeError, typeError } from '../errors.js';
import { expectTensor } from '../ops/util.js';
import {
  avgPool1d, avgPool2d, conv1d, conv2d, maxPool1d, maxPool2d,
  type AvgPoolOptions, type IntOrTuple, type MaxPoolOptions,
} from '../functional/conv.js';
import { intTuple } from '../ops/conv.js';
import { uniformTensor } from '../random.js';
import type { LayerOptions } from './linear.js';
import { adaptiveAvgPool2d, type AdaptiveSize } from './functional.js';
import { asLayer } from './layer_util.js';

const SPATIAL = ['L', 'H, W'];

/** Checks an (N, C, *spatial) or (C, *spatial) input with C = `channels`. */
function checkInput(layer: string, x: Tensor, ns: number, channels: number | null): void {
  expectTensor(layer, 'input', x);
  const c = x.ndim === ns + 2 ? x.shape[1] : x.shape[0];
  if ((x.ndim !== ns + 1 && x.ndim !== ns + 2) || (channels !== null && c !== channels)) {
    const C = channels === null ? 'C' : String(channels);
    throw rangeError(layer, `input of shape (N, ${C}, ${SPATIAL[ns - 1]}) or (${C}, ${SPATIAL[ns - 1]})`, fmtShape(x.shape));
  }
}

/** Options of {@link Conv1d} and {@link Conv2d}. */
export interface ConvLayerOptions extends LayerOptions {
  /** Step of the sliding window. Default 1. */
  stride?: IntOrTuple;
  /** Zero padding (int or per spatial dim), or 'same' / 'valid'. Default 0. */
  padding?: IntOrTuple | 'same' | 'valid';
  /** Spacing between kernel elements. Default 1. */
  dilation?: IntOrTuple;
  /** Blocked connections; inChannels and outChannels must be divisible by it. Default 1. */
  groups?: number;
  /** Learn an additive bias. Default true. */
  bias?: boolean;
  /** Only 'zeros' (the default) is supported. */
  paddingMode?: 'zeros';
}

abstract class ConvNd extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[] | 'same' | 'valid';
  readonly dilation: number[];
  readonly groups: number;

  protected abstract readonly layer: string;

  constructor(layer: string, readonly inChannels: number, readonly outChannels: number, kernelSize: IntOrTuple, ns: number, opts: ConvLayerOptions) {
    super();
    for (const [n, v] of [['inChannels', inChannels], ['outChannels', outChannels]] as const) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw rangeError(layer, `${n} to be a positive integer`, fmt(v));
    }
    this.kernelSize = intTuple(layer, 'kernelSize', kernelSize, ns, 1);
    this.stride = intTuple(layer, 'stride', opts.stride ?? 1, ns, 1);
    this.dilation = intTuple(layer, 'dilation', opts.dilation ?? 1, ns, 1);
    const p = opts.padding ?? 0;
    if (p === 'same' || p === 'valid') {
      if (p === 'same' && this.stride.some((s) => s !== 1)) throw typeError(layer, "stride 1 with padding 'same'", `stride ${fmt(this.stride)}`);
      this.padding = p;
    } else if (typeof p === 'string') {
      throw typeError(layer, "padding of 'same', 'valid', an integer or a tuple", fmt(p));
    } else {
      this.padding = intTuple(layer, 'padding', p, ns, 0);
    }
    if ((opts.paddingMode ?? 'zeros') !== 'zeros') throw typeError(layer, "paddingMode 'zeros'", fmt(opts.paddingMode));
    this.groups = opts.groups ?? 1;
    if (!Number.isInteger(this.groups) || this.groups < 1) throw rangeError(layer, 'groups to be a positive integer', fmt(this.groups));
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw rangeError(layer, `inChannels and outChannels divisible by groups ${this.groups}`, `${inChannels} and ${outChannels}`);
    }
    const fanIn = (inChannels / this.groups) * this.kernelSize.reduce((a, b) => a * b, 1);
    const bound = 1 / Math.sqrt(fanIn);
    const o = { dtype: opts.dtype, device: opts.device, generator: opts.generator };
    this.weight = new Parameter(uniformTensor([outChannels, inChannels / this.groups, ...this.kernelSize], -bound, bound, o));
    this.bias = opts.bias === false ? null : new Parameter(uniformTensor([outChannels], -bound, bound, o));
  }

  override extraRepr(): string {
    const pad = typeof this.padding === 'string' ? `'${this.padding}'` : fmtShape(this.padding);
    return `${this.inChannels}, ${this.outChannels}, kernelSize=${fmtShape(this.kernelSize)}, stride=${fmtShape(this.stride)}, padding=${pad}, dilation=${fmtShape(this.dilation)}, groups=${this.groups}, bias=${this.bias !== null}`;
  }
}

/**
 * 1-D convolution (torch.nn.Conv1d; cross-correlation). Weight (outChannels,
 * inChannels / groups, kernelSize) and bias (outChannels) are initialized
 * U(-1/sqrt(fanIn), 1/sqrt(fanIn)) with fanIn = inChannels / groups * kernelSize, as PyTorch
 * (kaiming_uniform with a = sqrt(5)).
 *
 * Shape: input (N, C_in, L) or (C_in, L) -> output (N, C_out, L_out) or (C_out, L_out) with
 * L_out = floor((L + 2 * padding - dilation * (kernelSize - 1) - 1) / stride) + 1.
 *
 * @example
 * const conv = new nd.nn.Conv1d(4, 8, 3, { padding: 1 });
 * conv.forward(nd.randn([2, 4, 16])); // [2, 8, 16]
 */
export class Conv1d extends ConvNd {
  protected readonly layer = 'Conv1d';

  constructor(inChannels: number, outChannels: number, kernelSize: IntOrTuple, opts: ConvLayerOptions = {}) {
    super('Conv1d', inChannels, outChannels, kernelSize, 1, opts);
  }

  forward(x: Tensor): Tensor {
    checkInput('Conv1d', x, 1, this.inChannels);
    const opts = { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups };
    return asLayer('Conv1d', 'conv1d', () => conv1d(x, this.weight, this.bias, opts));
  }
}

/**
 * 2-D convolution over NCHW input (torch.nn.Conv2d; cross-correlation). Weight (outChannels,
 * inChannels / groups, kH, kW) and bias (outChannels) initialized
 * U(-1/sqrt(fanIn), 1/sqrt(fanIn)) with fanIn = inChannels / groups * kH * kW, as PyTorch.
 *
 * Shape: input (N, C_in, H, W) or (C_in, H, W) -> output (N, C_out, H_out, W_out) or
 * (C_out, H_out, W_out) with H_out = floor((H + 2 * padding[0] - dilation[0] * (kH - 1) - 1) /
 * stride[0]) + 1 and W_out alike.
 *
 * @example
 * const conv = new nd.nn.Conv2d(3, 16, 3, { stride: 2, padding: 1 });
 * conv.forward(nd.randn([8, 3, 32, 32])); // [8, 16, 16, 16]
 */
export class Conv2d extends ConvNd {
  protected readonly layer = 'Conv2d';

  constructor(inChannels: number, outChannels: number, kernelSize: IntOrTuple, opts: ConvLayerOptions = {}) {
    super('Conv2d', inChannels, outChannels, kernelSize, 2, opts);
  }

  forward(x: Tensor): Tensor {
    checkInput('Conv2d', x, 2, this.inChannels);
    const opts = { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups };
    return asLayer('Conv2d', 'conv2d', () => conv2d(x, this.weight, this.bias, opts));
  }
}

// ---------------------------------------------------------------- pooling

type PoolFn<O> = (x: Tensor, k: IntOrTuple, o: O) => Tensor;

abstract class PoolNd<O extends MaxPoolOptions | AvgPoolOptions> extends Module {
  readonly opts: O;

  protected constructor(
    private readonly layer: string,
    private readonly op: string,
    private readonly ns: number,
    private readonly fn: PoolFn<O>,
    readonly kernelSize: IntOrTuple,
    strideOrOpts: IntOrTuple | O | undefined,
  ) {
    super();
    const o = strideOrOpts === undefined ? ({} as O) : typeof strideOrOpts === 'number' || Array.isArray(strideOrOpts) ? ({ stride: strideOrOpts } as O) : (strideOrOpts as O);
    intTuple(layer, 'kernelSize', kernelSize, ns, 1);
    if (o.ceilMode) throw typeError(layer, 'ceilMode false (ceilMode is not supported)', 'true');
    this.opts = o;
  }

  forward(x: Tensor): Tensor {
    checkInput(this.layer, x, this.ns, null);
    return asLayer(this.layer, this.op, () => this.fn(x, this.kernelSize, this.opts));
  }

  override extraRepr(): string {
    return `kernelSize=${fmt(this.kernelSize)}, stride=${fmt(this.opts.stride ?? this.kernelSize)}, padding=${fmt(this.opts.padding ?? 0)}`;
  }
}

/**
 * 1-D max pooling (torch.nn.MaxPool1d). The second argument is the stride (default: the kernel
 * size) or an options object `{ stride, padding, dilation }`. Tied maxima share the gradient
 * (PyTorch routes it to one of them); `ceilMode` and `returnIndices` are not supported.
 *
 * Shape: input (N, C, L) or (C, L) -> (N, C, L_out) or (C, L_out) with
 * L_out = floor((L + 2 * padding - dilation * (kernelSize - 1) - 1) / stride) + 1.
 *
 * @example
 * new nd.nn.MaxPool1d(2).forward(nd.randn([1, 3, 8])); // [1, 3, 4]
 */
export class MaxPool1d extends PoolNd<MaxPoolOptions> {
  constructor(kernelSize: IntOrTuple, strideOrOpts?: IntOrTuple | MaxPoolOptions) {
    super('MaxPool1d', 'maxPool1d', 1, maxPool1d, kernelSize, strideOrOpts);
  }
}

/**
 * 2-D max pooling over NCHW input (torch.nn.MaxPool2d); see {@link MaxPool1d}.
 *
 * Shape: input (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out) or (C, H_out, W_out) with
 * H_out = floor((H + 2 * padding[0] - dilation[0] * (kH - 1) - 1) / stride[0]) + 1, W_out alike.
 *
 * @example
 * new nd.nn.MaxPool2d(2).forward(nd.randn([1, 3, 8, 8])); // [1, 3, 4, 4]
 */
export class MaxPool2d extends PoolNd<MaxPoolOptions> {
  constructor(kernelSize: IntOrTuple, strideOrOpts?: IntOrTuple | MaxPoolOptions) {
    super('MaxPool2d', 'maxPool2d', 2, maxPool2d, kernelSize, strideOrOpts);
  }
}

/**
 * 1-D average pooling (torch.nn.AvgPool1d). The second argument is the stride (default: the
 * kernel size) or `{ stride, padding, countIncludePad }`; `ceilMode` is not supported.
 *
 * Shape: input (N, C, L) or (C, L) -> (N, C, L_out) or (C, L_out) with
 * L_out = floor((L + 2 * padding - kernelSize) / stride) + 1.
 *
 * @example
 * new nd.nn.AvgPool1d(2).forward(nd.randn([1, 3, 8])); // [1, 3, 4]
 */
export class AvgPool1d extends PoolNd<AvgPoolOptions> {
  constructor(kernelSize: IntOrTuple, strideOrOpts?: IntOrTuple | AvgPoolOptions) {
    super('AvgPool1d', 'avgPool1d', 1, avgPool1d, kernelSize, strideOrOpts);
  }
}

/**
 * 2-D average pooling over NCHW input (torch.nn.AvgPool2d); options as {@link AvgPool1d} plus
 * `divisorOverride`.
 *
 * Shape: input (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out) or (C, H_out, W_out) with
 * H_out = floor((H + 2 * padding[0] - kH) / stride[0]) + 1, W_out alike.
 *
 * @example
 * new nd.nn.AvgPool2d(2).forward(nd.randn([1, 3, 8, 8])); // [1, 3, 4, 4]
 */
export class AvgPool2d extends PoolNd<AvgPoolOptions> {
  constructor(kernelSize: IntOrTuple, strideOrOpts?: IntOrTuple | AvgPoolOptions) {
    super('AvgPool2d', 'avgPool2d', 2, avgPool2d, kernelSize, strideOrOpts);
  }
}

/**
 * Adaptive 2-D average pooling (torch.nn.AdaptiveAvgPool2d): output cell i of a dim of input size
 * n averages the window [floor(i n / out), ceil((i + 1) n / out)). `outputSize` is an int, a pair,
 * or a pair with null entries (keep that input size).
 *
 * Shape: input (N, C, H, W) or (C, H, W) -> (N, C, outH, outW) or (C, outH, outW).
 *
 * @example
 * new nd.nn.AdaptiveAvgPool2d(1).forward(nd.randn([2, 64, 7, 7])); // [2, 64, 1, 1]
 */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: AdaptiveSize) {
    super();
    const sizes = Array.isArray(outputSize) ? outputSize : [outputSize];
    if ((Array.isArray(outputSize) && sizes.length !== 2) || sizes.some((s) => s !== null && (typeof s !== 'number' || !Number.isInteger(s) || s < 1))) {
      throw rangeError('AdaptiveAvgPool2d', 'outputSize of a positive integer or a pair of positive integers (or null)', fmt(outputSize));
    }
  }

  forward(x: Tensor): Tensor {
    checkInput('AdaptiveAvgPool2d', x, 2, null);
    return asLayer('AdaptiveAvgPool2d', 'adaptiveAvgPool2d', () => adaptiveAvgPool2d(x, this.outputSize));
  }

  override extraRepr(): string {
    return `outputSize=${fmt(this.outputSize)}`;
  }
}
