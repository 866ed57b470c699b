/** needle-ts side of tools/module_cases/losses.py. */
import * as nd from '../../src/index.js';
import type { ModuleTable } from './harness.js';

const nn = nd.nn;

/** A placeholder buffer of the right shape (values come from PyTorch's state dict). */
const w = (n: number | undefined, dtype: nd.DType) => (n ? nd.ones([n], { dtype }) : null);

export const LOSSES: ModuleTable = {
  CrossEntropyLoss: {
    build: (a, dtype) => new nn.CrossEntropyLoss({ weight: w(a.weight, dtype), ignoreIndex: a.ignore ?? -100, reduction: a.reduction ?? 'mean', labelSmoothing: a.smoothing ?? 0 }),
  },
  NLLLoss: { build: (a, dtype) => new nn.NLLLoss({ weight: w(a.weight, dtype), ignoreIndex: a.ignore ?? -100, reduction: a.reduction ?? 'mean' }) },
  MSELoss: { build: (a) => new nn.MSELoss({ reduction: a.reduction ?? 'mean' }) },
  L1Loss: { build: (a) => new nn.L1Loss({ reduction: a.reduction ?? 'mean' }) },
  HuberLoss: { build: (a) => new nn.HuberLoss({ reduction: a.reduction ?? 'mean', delta: a.delta ?? 1 }) },
  BCELoss: { build: (a, dtype) => new nn.BCELoss({ weight: w(a.weight, dtype), reduction: a.reduction ?? 'mean' }) },
  BCEWithLogitsLoss: {
    build: (a, dtype) => new nn.BCEWithLogitsLoss({ weight: w(a.weight, dtype), posWeight: w(a.pos_weight, dtype), reduction: a.reduction ?? 'mean' }),
  },
  // forward transforms of tools/module_cases/losses.py
  ignore_ones: {
    build: () => new nn.Identity(),
    forward: (m: nd.nn.CrossEntropyLoss, [x, t]) => m.forward(x!, nd.where(nd.eq(t!, 1), -100, t!)),
  },
  bce_probs: { build: () => new nn.Identity(), forward: (m: nd.nn.BCELoss, [x, t]) => m.forward(nd.sigmoid(x!), nd.sigmoid(t!)) },
  bce_hard: { build: () => new nn.Identity(), forward: (m: nd.nn.BCELoss, [x, t]) => m.forward(nd.sigmoid(x!), nd.cast(t!, x!.dtype)) },
};
