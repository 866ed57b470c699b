"""Module cases: src/nn/loss.ts (CrossEntropyLoss, NLLLoss, MSELoss, L1Loss, HuberLoss, BCELoss,
BCEWithLogitsLoss). Class weights and pos_weight are buffers in PyTorch, so they travel in the
state dict. FORWARD functions transform inputs inside the forward (the needle-ts table repeats the
transform): sigmoid for BCE probabilities, and remapping class 1 to -100 to exercise the default
ignore_index.
"""
import torch
import torch.nn as nn


def _w(a, n):
    return (torch.rand(n) + 0.5) if n else None


def _ce(a):
    return nn.CrossEntropyLoss(weight=_w(a, a.get('weight')), ignore_index=a.get('ignore', -100),
                               reduction=a.get('reduction', 'mean'), label_smoothing=a.get('smoothing', 0.0))


def _nll(a):
    return nn.NLLLoss(weight=_w(a, a.get('weight')), ignore_index=a.get('ignore', -100), reduction=a.get('reduction', 'mean'))


def _bcel(a):
    return nn.BCEWithLogitsLoss(weight=_w(a, a.get('weight')), reduction=a.get('reduction', 'mean'),
                                pos_weight=_w(a, a.get('pos_weight')))


BUILD = {
    'CrossEntropyLoss': _ce,
    'NLLLoss': _nll,
    'MSELoss': lambda a: nn.MSELoss(reduction=a.get('reduction', 'mean')),
    'L1Loss': lambda a: nn.L1Loss(reduction=a.get('reduction', 'mean')),
    'HuberLoss': lambda a: nn.HuberLoss(reduction=a.get('reduction', 'mean'), delta=a.get('delta', 1.0)),
    'BCELoss': lambda a: nn.BCELoss(weight=_w(a, a.get('weight')), reduction=a.get('reduction', 'mean')),
    'BCEWithLogitsLoss': _bcel,
}


def _long(t):
    return t.long() if t.dtype == torch.int32 else t


def _classes(m, xs, a):
    # PyTorch 1.13 wants int64 class indices; the fixture stores them as int32
    return m(xs[0], _long(xs[1]))


def _ignore_ones(m, xs, a):
    t = xs[1].masked_fill(xs[1] == 1, -100)
    return m(xs[0], _long(t))


def _bce_probs(m, xs, a):
    return m(torch.sigmoid(xs[0]), torch.sigmoid(xs[1]))


def _bce_hard(m, xs, a):
    return m(torch.sigmoid(xs[0]), xs[1].to(xs[0].dtype))


FORWARD = {'CrossEntropyLoss': _classes, 'NLLLoss': _classes, 'ignore_ones': _ignore_ones, 'bce_probs': _bce_probs, 'bce_hard': _bce_hard}

N = 'normal'
I5 = 'int:0:5'

CASES = [
    # CrossEntropyLoss, class-index targets
    {'id': 'CE/basic', 'ctor': 'CrossEntropyLoss', 'args': {}, 'inputs': [([4, 5], N), ([4], I5, 'int32')]},
    {'id': 'CE/eval', 'ctor': 'CrossEntropyLoss', 'args': {}, 'mode': 'eval', 'inputs': [([4, 5], N), ([4], I5, 'int32')]},
    {'id': 'CE/sum', 'ctor': 'CrossEntropyLoss', 'args': {'reduction': 'sum'}, 'inputs': [([4, 5], N), ([4], I5, 'int32')]},
    {'id': 'CE/none', 'ctor': 'CrossEntropyLoss', 'args': {'reduction': 'none'}, 'inputs': [([6, 5], N), ([6], I5, 'int32')]},
    {'id': 'CE/weight', 'ctor': 'CrossEntropyLoss', 'args': {'weight': 5}, 'inputs': [([6, 5], N), ([6], I5, 'int32')]},
    {'id': 'CE/weight-none', 'ctor': 'CrossEntropyLoss', 'args': {'weight': 5, 'reduction': 'none'}, 'inputs': [([6, 5], N), ([6], I5, 'int32')]},
    {'id': 'CE/ignore', 'ctor': 'CrossEntropyLoss', 'args': {'ignore': 2}, 'inputs': [([8, 5], N), ([8], I5, 'int32')]},
    {'id': 'CE/ignore-default', 'ctor': 'CrossEntropyLoss', 'forward': 'ignore_ones', 'args': {'weight': 5}, 'inputs': [([8, 5], N), ([8], I5, 'int32')]},
    {'id': 'CE/smoothing', 'ctor': 'CrossEntropyLoss', 'args': {'smoothing': 0.1}, 'inputs': [([6, 5], N), ([6], I5, 'int32')]},
    {'id': 'CE/smoothing-weight-ignore', 'ctor': 'CrossEntropyLoss', 'args': {'smoothing': 0.2, 'weight': 5, 'ignore': 3}, 'inputs': [([8, 5], N), ([8], I5, 'int32')]},
    {'id': 'CE/smoothing-ignore-sum', 'ctor': 'CrossEntropyLoss', 'args': {'smoothing': 0.2, 'ignore': 3, 'reduction': 'sum'}, 'inputs': [([8, 5], N), ([8], I5, 'int32')]},
    {'id': 'CE/smoothing-none', 'ctor': 'CrossEntropyLoss', 'args': {'smoothing': 0.3, 'weight': 5, 'reduction': 'none', 'ignore': 0}, 'inputs': [([6, 5], N), ([6], I5, 'int32')]},
    {'id': 'CE/kdim', 'ctor': 'CrossEntropyLoss', 'args': {}, 'inputs': [([2, 5, 3, 2], N), ([2, 3, 2], I5, 'int32')]},
    {'id': 'CE/kdim-weight-none', 'ctor': 'CrossEntropyLoss', 'args': {'weight': 5, 'reduction': 'none'}, 'inputs': [([2, 5, 4], N), ([2, 4], I5, 'int32')]},
    {'id': 'CE/unbatched', 'ctor': 'CrossEntropyLoss', 'args': {}, 'inputs': [([5], N), ([], I5, 'int32')]},
    {'id': 'CE/batch1', 'ctor': 'CrossEntropyLoss', 'args': {}, 'inputs': [([1, 5], N), ([1], I5, 'int32')]},
    {'id': 'CE/one-class', 'ctor': 'CrossEntropyLoss', 'args': {}, 'inputs': [([3, 1], N), ([3], 'int:0:1', 'int32')]},
    {'id': 'CE/f64', 'ctor': 'CrossEntropyLoss', 'args': {'smoothing': 0.1, 'weight': 5}, 'dtype': 'float64', 'inputs': [([4, 5], N, 'float64'), ([4], I5, 'int32')]},
    # CrossEntropyLoss, class-probability targets
    {'id': 'CE/probs', 'ctor': 'CrossEntropyLoss', 'args': {}, 'inputs': [([4, 5], N), ([4, 5], 'pos')]},
    {'id': 'CE/probs-smoothing-weight', 'ctor': 'CrossEntropyLoss', 'args': {'smoothing': 0.2, 'weight': 5}, 'inputs': [([4, 5], N), ([4, 5], 'pos')]},
    {'id': 'CE/probs-kdim-none', 'ctor': 'CrossEntropyLoss', 'args': {'reduction': 'none'}, 'mode': 'eval', 'inputs': [([2, 5, 3], N), ([2, 5, 3], 'pos')]},
    {'id': 'CE/probs-sum', 'ctor': 'CrossEntropyLoss', 'args': {'reduction': 'sum'}, 'inputs': [([3, 4], N), ([3, 4], 'pos')]},
    # NLLLoss
    {'id': 'NLL/basic', 'ctor': 'NLLLoss', 'args': {}, 'inputs': [([4, 5], N), ([4], I5, 'int32')]},
    {'id': 'NLL/weight-ignore', 'ctor': 'NLLLoss', 'args': {'weight': 5, 'ignore': 1}, 'mode': 'eval', 'inputs': [([8, 5], N), ([8], I5, 'int32')]},
    {'id': 'NLL/none', 'ctor': 'NLLLoss', 'args': {'reduction': 'none', 'weight': 5}, 'inputs': [([6, 5], N), ([6], I5, 'int32')]},
    {'id': 'NLL/sum-kdim', 'ctor': 'NLLLoss', 'args': {'reduction': 'sum'}, 'inputs': [([2, 5, 3], N), ([2, 3], I5, 'int32')]},
    {'id': 'NLL/unbatched', 'ctor': 'NLLLoss', 'args': {}, 'inputs': [([5], N), ([], I5, 'int32')]},
    {'id': 'NLL/f64', 'ctor': 'NLLLoss', 'args': {'weight': 5}, 'dtype': 'float64', 'inputs': [([4, 5], N, 'float64'), ([4], I5, 'int32')]},
    # regression
    {'id': 'MSE/mean', 'ctor': 'MSELoss', 'args': {}, 'inputs': [([3, 4], N), ([3, 4], N)]},
    {'id': 'MSE/sum', 'ctor': 'MSELoss', 'args': {'reduction': 'sum'}, 'mode': 'eval', 'inputs': [([5], N), ([5], N)]},
    {'id': 'MSE/none', 'ctor': 'MSELoss', 'args': {'reduction': 'none'}, 'inputs': [([2, 3], N), ([2, 3], N)]},
    {'id': 'MSE/len1', 'ctor': 'MSELoss', 'args': {}, 'inputs': [([1], N), ([1], N)]},
    {'id': 'MSE/f64', 'ctor': 'MSELoss', 'args': {}, 'dtype': 'float64', 'inputs': [([3, 2], N, 'float64'), ([3, 2], N, 'float64')]},
    {'id': 'L1/mean', 'ctor': 'L1Loss', 'args': {}, 'inputs': [([3, 4], N), ([3, 4], N)]},
    {'id': 'L1/sum', 'ctor': 'L1Loss', 'args': {'reduction': 'sum'}, 'mode': 'eval', 'inputs': [([5], N), ([5], N)]},
    {'id': 'L1/none', 'ctor': 'L1Loss', 'args': {'reduction': 'none'}, 'inputs': [([2, 3], N), ([2, 3], N)]},
    {'id': 'Huber/mean', 'ctor': 'HuberLoss', 'args': {}, 'inputs': [([4, 5], N), ([4, 5], N)]},
    {'id': 'Huber/delta', 'ctor': 'HuberLoss', 'args': {'delta': 0.5, 'reduction': 'sum'}, 'inputs': [([4, 5], N), ([4, 5], N)]},
    {'id': 'Huber/none', 'ctor': 'HuberLoss', 'args': {'delta': 2.0, 'reduction': 'none'}, 'mode': 'eval', 'inputs': [([6], N), ([6], N)]},
    {'id': 'Huber/f64', 'ctor': 'HuberLoss', 'args': {'delta': 0.7}, 'dtype': 'float64', 'inputs': [([3, 3], N, 'float64'), ([3, 3], N, 'float64')]},
    # binary cross-entropy
    {'id': 'BCE/probs', 'ctor': 'BCELoss', 'forward': 'bce_probs', 'args': {}, 'inputs': [([4, 3], N), ([4, 3], N)]},
    {'id': 'BCE/hard', 'ctor': 'BCELoss', 'forward': 'bce_hard', 'args': {'reduction': 'sum'}, 'mode': 'eval', 'inputs': [([4, 3], N), ([4, 3], 'int:0:2', 'int32')]},
    {'id': 'BCE/weight-none', 'ctor': 'BCELoss', 'forward': 'bce_hard', 'args': {'weight': 3, 'reduction': 'none'}, 'inputs': [([4, 3], N), ([4, 3], 'int:0:2', 'int32')]},
    {'id': 'BCE/len1', 'ctor': 'BCELoss', 'forward': 'bce_hard', 'args': {}, 'inputs': [([1], N), ([1], 'int:0:2', 'int32')]},
    {'id': 'BCE/f64', 'ctor': 'BCELoss', 'forward': 'bce_probs', 'args': {}, 'dtype': 'float64', 'inputs': [([3, 2], N, 'float64'), ([3, 2], N, 'float64')]},
    {'id': 'BCEWithLogits/basic', 'ctor': 'BCEWithLogitsLoss', 'args': {}, 'inputs': [([4, 3], N), ([4, 3], 'unit')]},
    {'id': 'BCEWithLogits/large', 'ctor': 'BCEWithLogitsLoss', 'args': {'reduction': 'sum'}, 'inputs': [([6], 'large'), ([6], 'unit')]},
    {'id': 'BCEWithLogits/posweight', 'ctor': 'BCEWithLogitsLoss', 'args': {'pos_weight': 3}, 'mode': 'eval', 'inputs': [([4, 3], N), ([4, 3], 'unit')]},
    {'id': 'BCEWithLogits/weight-posweight-none', 'ctor': 'BCEWithLogitsLoss', 'args': {'weight': 3, 'pos_weight': 3, 'reduction': 'none'}, 'inputs': [([2, 4, 3], N), ([2, 4, 3], 'unit')]},
    {'id': 'BCEWithLogits/f64', 'ctor': 'BCEWithLogitsLoss', 'args': {'pos_weight': 2}, 'dtype': 'float64', 'inputs': [([3, 2], N, 'float64'), ([3, 2], 'unit', 'float64')]},
]
