/** needle-ts side of tools/cases/nn.py: convolution, pooling and the sliding-window primitives. */
import * as nd from '../../src/api.js';
import type { OpTable } from './check.js';

type P = Record<string, any>;
const T = (xs: nd.Tensor[]) => xs[0]!;
const conv = (p: P): nd.ConvOptions => ({ stride: p.stride, padding: p.padding, dilation: p.dilation, groups: p.groups });

export const NN_OPS: OpTable = {
  conv1d: ([x, w, b], p: P) => nd.conv1d(x!, w!, b ?? null, conv(p)),
  conv2d: ([x, w, b], p: P) => nd.conv2d(x!, w!, b ?? null, conv(p)),
  maxPool1d: (x, p: P) => nd.maxPool1d(T(x), p.k, { stride: p.stride, padding: p.padding, dilation: p.dilation }),
  maxPool2d: (x, p: P) => nd.maxPool2d(T(x), p.k, { stride: p.stride, padding: p.padding, dilation: p.dilation }),
  avgPool1d: (x, p: P) => nd.avgPool1d(T(x), p.k, { stride: p.stride, padding: p.padding, countIncludePad: p.countIncludePad }),
  avgPool2d: (x, p: P) =>
    nd.avgPool2d(T(x), p.k, { stride: p.stride, padding: p.padding, countIncludePad: p.countIncludePad, divisorOverride: p.divisorOverride }),
  unfold: (x, p: P) => nd.unfold(T(x), p.kernel_size, { dilation: p.dilation, padding: p.padding, stride: p.stride }),
  fold: (x, p: P) => nd.fold(T(x), p.output_size, p.kernel_size, { dilation: p.dilation, padding: p.padding, stride: p.stride }),
  im2col: (x, p: P) => nd.im2col(T(x), p.kernel, { stride: p.stride, dilation: p.dilation }),
  col2im: (x, p: P) => nd.col2im(T(x), p.size, p.kernel, { stride: p.stride, dilation: p.dilation }),
};
