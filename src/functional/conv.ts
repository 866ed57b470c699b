/**
 * Convolution and pooling composites (torch.nn.functional semantics): im2col (zero padding
 * implicit; max pooling pads with -Infinity first) -> a grouped, batched matmul or a reduction ->
 * reshape. They have no backward of their own: every derivative order comes from the rules of
 * im2col/col2im, matmul, pad, max and sum. The one exception is a fast path: convolution with
 * groups = 1 on a backend with window kernels is the `conv` primitive of ops/conv.ts (im2col +
 * GEMM in chunks of samples), whose rules are written with those same primitives.
 *
 * The input gradient of a convolution is col2im (fold) of weight^T @ grad; this equals the textbook
 * form "convolution of the stride-dilated output gradient with the flipped, transposed kernel"
 * (test/conv.test.ts checks the identity).
 */
import type { Tensor } from '../autograd/tensor.js';
import { isFloating } from '../ndarray/dtype.js';
import { prod } from '../ndarray/shape.js';
import { fmt, fmtShape, rangeError, typeError } from '../errors.js';
import { add, div, im2col, col2im, matmul, max, pad, permute, reshape, sum } from '../ops/primitives.js';
import { ones } from '../creation.js';
import { convolve, intTuple, windowCount } from '../ops/conv.js';
import { describe, expectTensor } from '../ops/util.js';
import { Tensor as T } from '../autograd/tensor.js';

/** An integer for every spatial dim, or one integer per spatial dim. */
export type IntOrTuple = number | readonly number[];

/** Options of {@link conv1d} and {@link conv2d} (torch.nn.functional.conv*d's keyword arguments). */
export interface ConvOptions {
  /** Step of the sliding window. Default 1. */
  stride?: IntOrTuple;
  /**
   * Zero padding on both sides of every spatial dim (int or tuple), or `'valid'` (no padding) or
   * `'same'` (output size = input size; stride 1 only; an odd total padding d * (k - 1) puts the
   * extra element on the right/bottom, as PyTorch). Default 0.
   */
  padding?: IntOrTuple | 'same' | 'valid';
  /** Spacing between kernel elements. Default 1. */
  dilation?: IntOrTuple;
  /** Blocked connections: input and output channels are split into `groups` groups. Default 1. */
  groups?: number;
}

const SPATIAL = ['L', 'H, W', 'D, H, W'];
const KDIMS = ['kL', 'kH, kW', 'kD, kH, kW'];

function floatInput(op: string, name: string, x: Tensor): void {
  if (!isFloating(x.dtype)) throw typeError(op, `a floating-point ${name}`, x.dtype);
}

/** Checks the rank: (C, *spatial) unbatched or (N, C, *spatial). */
function checkRank(op: string, x: Tensor, ns: number): void {
  if (x.ndim !== ns + 1 && x.ndim !== ns + 2) {
    throw rangeError(op, `a ${ns + 1}-D (C, ${SPATIAL[ns - 1]}) or ${ns + 2}-D (N, C, ${SPATIAL[ns - 1]}) input`, `shape ${fmtShape(x.shape)}`);
  }
}

/** Checks the rank and adds the batch dim to an unbatched input. */
function batched(op: string, x: Tensor, ns: number): { x: Tensor; unbatched: boolean } {
  checkRank(op, x, ns);
  return x.ndim === ns + 1 ? { x: reshape(x, [1, ...x.shape]), unbatched: true } : { x, unbatched: false };
}

/** F.pad's list (last dim first) from per-dim before/after amounts. */
function padList(before: readonly number[], after: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = before.length - 1; i >= 0; i--) out.push(before[i]!, after[i]!);
  return out;
}

/** Checks that every (dilated) kernel fits its padded input dim. */
function checkFits(op: string, x: Tensor, ns: number, kernel: readonly number[], dilation: readonly number[], before: readonly number[], after: readonly number[]): void {
  const spatial = x.shape.slice(x.ndim - ns);
  spatial.forEach((n, i) => {
    const span = dilation[i]! * (kernel[i]! - 1) + 1;
    const padded = n + before[i]! + after[i]!;
    if (span > padded) {
      throw rangeError(
        op,
        `a (dilated) kernel size of at most the padded input size ${padded} in spatial dim ${i}`,
        `${span} (input ${fmtShape(x.shape)}, kernel ${fmtShape(kernel)}, padding ${fmtShape(before)})`,
      );
    }
  });
}

function convNd(op: string, ns: number, input: Tensor, weight: Tensor, biasOrOpts: Tensor | ConvOptions | null | undefined, maybeOpts: ConvOptions | undefined): Tensor {
  expectTensor(op, 'input', input);
  expectTensor(op, 'weight', weight);
  let bias: Tensor | null = null;
  let opts: ConvOptions = maybeOpts ?? {};
  if (biasOrOpts instanceof T) bias = biasOrOpts;
  else if (biasOrOpts !== null && biasOrOpts !== undefined) {
    if (typeof biasOrOpts !== 'object' || Array.isArray(biasOrOpts) || maybeOpts !== undefined) {
      throw typeError(op, 'bias to be a Tensor or null', describe(biasOrOpts));
    }
    opts = biasOrOpts;
  }
  if (typeof opts !== 'object' || opts === null) throw typeError(op, 'an options object', describe(opts));
  floatInput(op, 'input', input);
  if (weight.dtype !== input.dtype) throw typeError(op, `weight of the input's dtype ${input.dtype}`, weight.dtype);
  if (bias && bias.dtype !== input.dtype) throw typeError(op, `bias of the input's dtype ${input.dtype}`, bias.dtype);
  const { x, unbatched } = batched(op, input, ns);
  if (weight.ndim !== ns + 2) {
    throw rangeError(op, `a ${ns + 2}-D weight (out, in / groups, ${KDIMS[ns - 1]})`, `shape ${fmtShape(weight.shape)}`);
  }
  const groups = opts.groups ?? 1;
  if (typeof groups !== 'number' || !Number.isInteger(groups)) throw typeError(op, 'groups to be an integer', fmt(groups));
  if (groups < 1) throw rangeError(op, 'groups to be positive', String(groups));
  const N = x.shape[0]!;
  const C = x.shape[1]!;
  const O = weight.shape[0]!;
  const kernel = weight.shape.slice(2);
  if (weight.shape[1]! * groups !== C) {
    throw rangeError(
      op,
      `input channels (weight.shape[1] * groups = ${weight.shape[1]} * ${groups} = ${weight.shape[1]! * groups}) must match input.shape[1]`,
      `${C} (input ${fmtShape(input.shape)}, weight ${fmtShape(weight.shape)})`,
    );
  }
  if (O % groups !== 0) {
    throw rangeError(op, `out channels (weight.shape[0]) divisible by groups ${groups}`, `${O} (weight ${fmtShape(weight.shape)})`);
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== O)) {
    throw rangeError(op, `a bias of shape [${O}] (weight.shape[0])`, fmtShape(bias.shape));
  }
  const stride = intTuple(op, 'stride', opts.stride ?? 1, ns, 1);
  const dilation = intTuple(op, 'dilation', opts.dilation ?? 1, ns, 1);
  const p = opts.padding ?? 0;
  let before: number[];
  let after: number[];
  if (p === 'valid') {
    before = after = new Array<number>(ns).fill(0);
  } else if (p === 'same') {
    if (stride.some((s) => s !== 1)) throw typeError(op, "stride 1 with padding 'same'", `stride ${fmt(stride)}`);
    const total = kernel.map((k, i) => dilation[i]! * (k - 1));
    before = total.map((t) => Math.floor(t / 2));
    after = total.map((t, i) => t - before[i]!);
  } else if (typeof p === 'string') {
    throw typeError(op, "padding of 'same', 'valid', an integer or a tuple", fmt(p));
  } else {
    before = after = intTuple(op, 'padding', p, ns, 0);
  }
  checkFits(op, x, ns, kernel, dilation, before, after);
  // implicit zero padding: the window kernels read the unpadded input (no padded copy)
  const padding = before.map((b, i): [number, number] => [b, after[i]!]);
  // groups = 1 on a backend with window kernels: the convolution primitive (im2col + GEMM chunk
  // by chunk, no batch-sized columns); otherwise the composite im2col -> matmul
  let y = groups === 1 ? convolve(x, weight, { stride, dilation, padding }) : null; // (N, O, *out)
  if (y === null) {
    const cols = im2col(x, kernel, { stride, dilation, padding }); // (N, C, *out, *kernel)
    const out = cols.shape.slice(2, 2 + ns);
    // (N, C, *kernel, *out) is the compact layout of im2col's buffer: this permute + reshape is free
    const kAxes = kernel.map((_, i) => 2 + ns + i);
    const oAxes = out.map((_, i) => 2 + i);
    const colsK = permute(cols, [0, 1, ...kAxes, ...oAxes]);
    const K = (C / groups) * prod(kernel);
    const P = prod(out);
    if (groups === 1) {
      y = matmul(reshape(weight, [O, K]), reshape(colsK, [N, K, P])); // (N, O, P)
    } else {
      y = matmul(reshape(weight, [groups, O / groups, K]), reshape(colsK, [N, groups, K, P])); // (N, G, O / G, P)
    }
    y = reshape(y, [N, O, ...out]);
  }
  const out = y.shape.slice(2);
  if (bias) y = add(y, reshape(bias, [O, ...out.map(() => 1)]));
  return unbatched ? reshape(y, y.shape.slice(1)) : y;
}

/**
 * 1-D convolution (cross-correlation, as torch.nn.functional.conv1d), built as
 * im2col -> (grouped, batched) matmul -> reshape. `bias` may be omitted or null; the options
 * may also be passed third: `conv1d(x, w, { stride: 2 })`.
 *
 * Shape:
 * - input: (N, C_in, L) or unbatched (C_in, L)
 * - weight: (C_out, C_in / groups, kL)
 * - bias: (C_out)
 * - output: (N, C_out, L_out) or (C_out, L_out), with
 *   L_out = floor((L + padLeft + padRight - dilation * (kL - 1) - 1) / stride) + 1.
 *
 * Errors: RangeError for a wrong input or weight rank, mismatched channels
 * (weight.shape[1] * groups != C_in), C_out not divisible by groups, a wrong bias shape, or a kernel
 * larger than the padded input; TypeError for non-tensors, integer inputs, mismatched dtypes, an
 * unknown padding string or `padding: 'same'` with stride > 1.
 */
export function conv1d(input: Tensor, weight: Tensor, bias?: Tensor | ConvOptions | null, opts?: ConvOptions): Tensor {
  return convNd('conv1d', 1, input, weight, bias, opts);
}

/**
 * 2-D convolution (cross-correlation, as torch.nn.functional.conv2d), NCHW, built as
 * im2col -> (grouped, batched) matmul -> reshape; see {@link ConvOptions} for stride,
 * padding (int, pair, 'same', 'valid'), dilation and groups. `bias` may be omitted or null; the
 * options may also be passed third: `conv2d(x, w, { padding: 1 })`.
 *
 * Shape:
 * - input: (N, C_in, H, W) or unbatched (C_in, H, W)
 * - weight: (C_out, C_in / groups, kH, kW)
 * - bias: (C_out)
 * - output: (N, C_out, H_out, W_out) or (C_out, H_out, W_out), with
 *   H_out = floor((H + padTop + padBottom - dilation[0] * (kH - 1) - 1) / stride[0]) + 1 and W_out alike.
 *
 * Errors: as {@link conv1d}.
 */
export function conv2d(input: Tensor, weight: Tensor, bias?: Tensor | ConvOptions | null, opts?: ConvOptions): Tensor {
  return convNd('conv2d', 2, input, weight, bias, opts);
}

// ---------------------------------------------------------------- pooling

/** Options shared by the pooling functions. */
export interface PoolOptions {
  /** Step of the window; default (null/undefined/[]) the kernel size, as PyTorch. */
  stride?: IntOrTuple | null;
  /** Implicit padding on both sides, at most half the kernel size. Default 0. */
  padding?: IntOrTuple;
  /** Only `false` (the default) is supported: output sizes use floor. */
  ceilMode?: boolean;
}

/** Options of {@link maxPool1d} / {@link maxPool2d}. */
export interface MaxPoolOptions extends PoolOptions {
  /** Spacing between window elements. Default 1. */
  dilation?: IntOrTuple;
}

/** Options of {@link avgPool1d} / {@link avgPool2d}. */
export interface AvgPoolOptions extends PoolOptions {
  /** Count padded zeros in the divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
  /** Divide by this instead of the window size (avgPool2d only in PyTorch; accepted by both here). */
  divisorOverride?: number | null;
}

function poolNd(op: string, kind: 'max' | 'avg', ns: number, input: Tensor, kernelSize: IntOrTuple, opts: MaxPoolOptions & AvgPoolOptions): Tensor {
  expectTensor(op, 'input', input);
  if (typeof opts !== 'object' || opts === null) throw typeError(op, 'an options object', describe(opts));
  floatInput(op, 'input', input);
  checkRank(op, input, ns); // im2col works on any leading dims: no batch dim needed
  const kernel = intTuple(op, 'kernelSize', kernelSize, ns, 1);
  const s = opts.stride;
  const stride = s === null || s === undefined || (Array.isArray(s) && s.length === 0) ? kernel : intTuple(op, 'stride', s, ns, 1);
  const padding = intTuple(op, 'padding', opts.padding ?? 0, ns, 0);
  const dilation = kind === 'max' ? intTuple(op, 'dilation', opts.dilation ?? 1, ns, 1) : new Array<number>(ns).fill(1);
  if (opts.ceilMode !== undefined && opts.ceilMode !== false) throw typeError(op, 'ceilMode false (ceil mode is not supported)', fmt(opts.ceilMode));
  if (padding.some((p, i) => p > Math.floor(kernel[i]! / 2))) {
    throw rangeError(op, `padding of at most half the kernel size ${fmtShape(kernel)}`, fmtShape(padding));
  }
  checkFits(op, input, ns, kernel, dilation, padding, padding);
  // max pads with -Infinity (explicitly); avg with zeros (implicit in im2col)
  const cols = kind === 'max'
    ? im2col(pad(input, padList(padding, padding), -Infinity), kernel, { stride, dilation })
    : im2col(input, kernel, { stride, padding });
  const axes = kernel.map((_, i) => cols.ndim - ns + i);
  if (kind === 'max') return max(cols, axes);
  const total = sum(cols, axes);
  const override = opts.divisorOverride;
  if (override !== null && override !== undefined) {
    if (typeof override !== 'number' || !Number.isInteger(override)) throw typeError(op, 'divisorOverride to be an integer', fmt(override));
    if (override === 0) throw rangeError(op, 'a non-zero divisorOverride', '0');
    return div(total, override);
  }
  if (opts.countIncludePad ?? true) return div(total, prod(kernel));
  // the number of real (unpadded) elements in each window: a constant
  const spatial = input.shape.slice(input.ndim - ns);
  const counts = sum(im2col(ones(spatial, { dtype: input.dtype, device: input.device }), kernel, { stride, padding }), axes.map((a) => a - cols.ndim + 2 * ns));
  return div(total, counts);
}

/**
 * 1-D max pooling (torch.nn.functional.max_pool1d): the maximum of every window; padding is
 * implicit -Infinity. The gradient of a window goes to its maximum; where several elements tie for
 * the maximum it is split evenly among them (the rule of {@link max}), whereas PyTorch routes it to
 * one index. Inputs without ties (any continuous random input) get PyTorch's gradient.
 * `ceilMode: true` and `return_indices` are not supported.
 *
 * Shape: input (N, C, L) or (C, L); output (N, C, L_out) or (C, L_out) with
 * L_out = floor((L + 2 * padding - dilation * (kernelSize - 1) - 1) / stride) + 1.
 *
 * Errors: RangeError for a wrong rank, padding above half the kernel, or a kernel larger than the
 * padded input; TypeError for integer inputs or `ceilMode: true`.
 */
export function maxPool1d(input: Tensor, kernelSize: IntOrTuple, opts: MaxPoolOptions = {}): Tensor {
  return poolNd('maxPool1d', 'max', 1, input, kernelSize, opts);
}

/**
 * 2-D max pooling (torch.nn.functional.max_pool2d), NCHW; see {@link maxPool1d} for the padding,
 * tie and ceilMode notes.
 *
 * Shape: input (N, C, H, W) or (C, H, W); output (N, C, H_out, W_out) or (C, H_out, W_out) with
 * H_out = floor((H + 2 * padding[0] - dilation[0] * (kH - 1) - 1) / stride[0]) + 1, W_out alike.
 */
export function maxPool2d(input: Tensor, kernelSize: IntOrTuple, opts: MaxPoolOptions = {}): Tensor {
  return poolNd('maxPool2d', 'max', 2, input, kernelSize, opts);
}

/**
 * 1-D average pooling (torch.nn.functional.avg_pool1d): the mean of every window with implicit
 * zero padding. `countIncludePad` (default true, as PyTorch) counts the padded zeros in the divisor;
 * false divides by the number of real elements. `ceilMode: true` is not supported.
 *
 * Shape: input (N, C, L) or (C, L); output (N, C, L_out) or (C, L_out) with
 * L_out = floor((L + 2 * padding - kernelSize) / stride) + 1.
 */
export function avgPool1d(input: Tensor, kernelSize: IntOrTuple, opts: AvgPoolOptions = {}): Tensor {
  return poolNd('avgPool1d', 'avg', 1, input, kernelSize, opts);
}

/**
 * 2-D average pooling (torch.nn.functional.avg_pool2d), NCHW; see {@link avgPool1d}.
 * `divisorOverride` replaces the divisor.
 *
 * Shape: input (N, C, H, W) or (C, H, W); output (N, C, H_out, W_out) or (C, H_out, W_out) with
 * H_out = floor((H + 2 * padding[0] - kH) / stride[0]) + 1, W_out alike.
 */
export function avgPool2d(input: Tensor, kernelSize: IntOrTuple, opts: AvgPoolOptions = {}): Tensor {
  return poolNd('avgPool2d', 'avg', 2, input, kernelSize, opts);
}

// ---------------------------------------------------------------- torch-style unfold / fold

/** Options of {@link unfold} and {@link fold} (torch.nn.functional.unfold/fold). */
export interface FoldOptions {
  dilation?: IntOrTuple;
  /** Zero padding on both sides of each spatial dim. Default 0. */
  padding?: IntOrTuple;
  stride?: IntOrTuple;
}

function foldParams(op: string, kernelSize: IntOrTuple, opts: FoldOptions) {
  if (typeof opts !== 'object' || opts === null) throw typeError(op, 'an options object', describe(opts));
  return {
    kernel: intTuple(op, 'kernelSize', kernelSize, 2, 1),
    dilation: intTuple(op, 'dilation', opts.dilation ?? 1, 2, 1),
    padding: intTuple(op, 'padding', opts.padding ?? 0, 2, 0),
    stride: intTuple(op, 'stride', opts.stride ?? 1, 2, 1),
  };
}

/**
 * torch.nn.functional.unfold: extracts sliding local blocks of a batched image (im2col with
 * padding) and flattens each block into a column.
 *
 * Shape: input (N, C, H, W) or (C, H, W); output (N, C * kH * kW, L) or (C * kH * kW, L), where
 * L = H_out * W_out is the number of blocks (H_out as for {@link conv2d}) and the column index
 * runs over (c, kh, kw) in row-major order. See {@link im2col} for the (N, C, H_out, W_out, kH, kW)
 * primitive.
 */
export function unfold(input: Tensor, kernelSize: IntOrTuple, opts: FoldOptions = {}): Tensor {
  expectTensor('unfold', 'input', input);
  const p = foldParams('unfold', kernelSize, opts);
  const { x, unbatched } = batched('unfold', input, 2);
  checkFits('unfold', x, 2, p.kernel, p.dilation, p.padding, p.padding);
  const cols = im2col(x, p.kernel, { stride: p.stride, dilation: p.dilation, padding: p.padding });
  const [N, C, oh, ow] = cols.shape as [number, number, number, number];
  const y = reshape(permute(cols, [0, 1, 4, 5, 2, 3]), [N, C * prod(p.kernel), oh * ow]);
  return unbatched ? reshape(y, y.shape.slice(1)) : y;
}

/**
 * torch.nn.functional.fold: the adjoint of {@link unfold} (col2im with padding): sums the columns
 * back into an image of spatial size `outputSize`; overlapping values add up and the padding is
 * cropped.
 *
 * Shape: input (N, C * kH * kW, L) or (C * kH * kW, L) with L the number of blocks of the padded
 * `outputSize`; output (N, C, *outputSize) or (C, *outputSize).
 */
export function fold(input: Tensor, outputSize: IntOrTuple, kernelSize: IntOrTuple, opts: FoldOptions = {}): Tensor {
  expectTensor('fold', 'input', input);
  const p = foldParams('fold', kernelSize, opts);
  const size = intTuple('fold', 'outputSize', outputSize, 2, 1);
  if (input.ndim !== 2 && input.ndim !== 3) {
    throw rangeError('fold', 'a 2-D (C * kH * kW, L) or 3-D (N, C * kH * kW, L) input', `shape ${fmtShape(input.shape)}`);
  }
  const unbatched = input.ndim === 2;
  const x = unbatched ? reshape(input, [1, ...input.shape]) : input;
  const [N, CK, L] = x.shape as [number, number, number];
  const K = prod(p.kernel);
  if (CK % K !== 0) throw rangeError('fold', `input.shape[-2] divisible by the kernel size kH * kW = ${K}`, `${CK} (input ${fmtShape(input.shape)})`);
  const padded = size.map((n, i) => n + 2 * p.padding[i]!);
  const out = padded.map((n, i) => windowCount(n, p.kernel[i]!, p.stride[i]!, p.dilation[i]!));
  if (out.some((o) => o < 1) || prod(out) !== L) {
    throw rangeError('fold', `input.shape[-1] equal to the number of blocks ${out.every((o) => o >= 1) ? prod(out) : 0} for outputSize ${fmtShape(size)}, kernelSize ${fmtShape(p.kernel)}, dilation ${fmtShape(p.dilation)}, padding ${fmtShape(p.padding)}, stride ${fmtShape(p.stride)}`, `${L}`);
  }
  const C = CK / K;
  const cols = permute(reshape(x, [N, C, ...p.kernel, ...out]), [0, 1, 4, 5, 2, 3]);
  const y = col2im(cols, size, p.kernel, { stride: p.stride, dilation: p.dilation, padding: p.padding });
  return unbatched ? reshape(y, y.shape.slice(1)) : y;
}
