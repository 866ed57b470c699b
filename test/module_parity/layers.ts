/** needle-ts side of tools/module_cases/layers.py. */
import * as nd from '../../src/index.js';
import type { ModuleTable } from './harness.js';

const nn = nd.nn;

function convOpts(a: any, dtype: nd.DType) {
  return { stride: a.stride ?? 1, padding: a.padding ?? 0, dilation: a.dilation ?? 1, groups: a.groups ?? 1, bias: a.bias ?? true, dtype };
}

function poolOpts(a: any) {
  return { stride: a.stride ?? null, padding: a.padding ?? 0, dilation: a.dilation ?? 1, countIncludePad: a.cip ?? true };
}

function smallResNet(a: any, dtype: nd.DType): nd.nn.Module {
  const c = a.c as number;
  const { ConvBN } = nd.models;
  return new nn.Sequential(
    new ConvBN(3, c, 3, 2, { dtype }),
    new nn.Residual(new nn.Sequential(new ConvBN(c, c, 3, 1, { dtype }), new ConvBN(c, c, 3, 1, { dtype }))),
    new ConvBN(c, 2 * c, 3, 2, { dtype }),
    new nn.Flatten(),
    new nn.Linear(2 * c * 4, 5, { dtype }),
    new nn.ReLU(),
    new nn.Linear(5, 3, { dtype }),
  );
}

export const LAYERS: ModuleTable = {
  LayerNorm: { build: (a, dtype) => new nn.LayerNorm(a.shape, { eps: a.eps ?? 1e-5, elementwiseAffine: a.affine ?? true, dtype }) },
  Dropout: { build: (a) => new nn.Dropout(a.p) },
  Flatten: { build: (a) => new nn.Flatten(a.start ?? 1, a.end ?? -1) },
  Unflatten: { build: (a) => new nn.Unflatten(a.dim, a.sizes) },
  ReLU: { build: () => new nn.ReLU() },
  LeakyReLU: { build: (a) => new nn.LeakyReLU(a.slope ?? 0.01) },
  GELU: { build: (a) => new nn.GELU(a.approximate ?? 'none') },
  Tanh: { build: () => new nn.Tanh() },
  Sigmoid: { build: () => new nn.Sigmoid() },
  Softmax: { build: (a) => new nn.Softmax(a.dim) },
  LogSoftmax: { build: (a) => new nn.LogSoftmax(a.dim) },
  Residual: { build: (a, dtype) => new nn.Residual(new nn.Sequential(new nn.Linear(a.dim, a.dim, { dtype }), new nn.Tanh())) },
  BatchNorm1d: {
    build: (a, dtype) => new nn.BatchNorm1d(a.C, { eps: a.eps ?? 1e-5, momentum: a.momentum === undefined ? 0.1 : a.momentum, affine: a.affine ?? true, trackRunningStats: a.track ?? true, dtype }),
  },
  BatchNorm2d: {
    build: (a, dtype) => new nn.BatchNorm2d(a.C, { eps: a.eps ?? 1e-5, momentum: a.momentum === undefined ? 0.1 : a.momentum, affine: a.affine ?? true, trackRunningStats: a.track ?? true, dtype }),
  },
  Embedding: { build: (a, dtype) => new nn.Embedding(a.n, a.d, { paddingIdx: a.pad ?? null, dtype }) },
  Conv1d: { build: (a, dtype) => new nn.Conv1d(a.in, a.out, a.k, convOpts(a, dtype)) },
  Conv2d: { build: (a, dtype) => new nn.Conv2d(a.in, a.out, a.k, convOpts(a, dtype)) },
  MaxPool1d: { build: (a) => new nn.MaxPool1d(a.k, poolOpts(a)) },
  MaxPool2d: { build: (a) => new nn.MaxPool2d(a.k, poolOpts(a)) },
  AvgPool1d: { build: (a) => new nn.AvgPool1d(a.k, poolOpts(a)) },
  AvgPool2d: { build: (a) => new nn.AvgPool2d(a.k, poolOpts(a)) },
  AdaptiveAvgPool2d: { build: (a) => new nn.AdaptiveAvgPool2d(a.out) },
  MLPResNet: {
    build: (a, dtype) => new nd.models.MLPResNet(a.dim, a.hidden, a.blocks, a.classes, a.norm === 'layer' ? nn.LayerNorm : nn.BatchNorm1d, a.drop, { dtype }),
  },
  SmallResNet: { build: smallResNet },
};
