"""Module cases: src/nn/layers.ts (norms, dropout, activations, shape helpers, Residual, Embedding,
convolution, pooling) and the models of src/models (MLPResNet, ConvBN blocks).

BatchNorm's num_batches_tracked is converted to int32 here (needle-ts stores int32; torch int64).
Where PyTorch initializes affine weights to ones/zeros and running statistics to 0/1, BUILD
randomizes them (under the case seed) so that the gradients and eval paths are not trivial.
"""
import torch
import torch.nn as nn


def _bn_state(m, randomize=True):
    """Randomizes BatchNorm affine/running state and makes num_batches_tracked int32."""
    for mod in m.modules():
        if isinstance(mod, nn.modules.batchnorm._BatchNorm):
            with torch.no_grad():
                if randomize and mod.affine:
                    mod.weight.normal_(1.0, 0.3)
                    mod.bias.normal_(0.0, 0.3)
                if randomize and mod.track_running_stats:
                    mod.running_mean.normal_()
                    mod.running_var.uniform_(0.5, 2.0)
                    mod.num_batches_tracked.fill_(3)
            if mod.track_running_stats:
                mod.num_batches_tracked = mod.num_batches_tracked.to(torch.int32)
    return m


def _ln(a):
    m = nn.LayerNorm(a['shape'], eps=a.get('eps', 1e-5), elementwise_affine=a.get('affine', True))
    if a.get('affine', True):
        with torch.no_grad():
            m.weight.normal_(1.0, 0.3)
            m.bias.normal_(0.0, 0.3)
    return m


def _bn(cls):
    def build(a):
        m = cls(a['C'], eps=a.get('eps', 1e-5), momentum=a.get('momentum', 0.1), affine=a.get('affine', True),
                track_running_stats=a.get('track', True))
        return _bn_state(m, a.get('randomize', True))
    return build


def _emb(a):
    return nn.Embedding(a['n'], a['d'], padding_idx=a.get('pad'))


def _conv(cls):
    def build(a):
        return cls(a['in'], a['out'], a['k'], stride=a.get('stride', 1), padding=a.get('padding', 0),
                   dilation=a.get('dilation', 1), groups=a.get('groups', 1), bias=a.get('bias', True))
    return build


class Residual(nn.Module):
    """needle's Residual: fn(x) + x."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x) + x


def residual_block(dim, hidden, norm, drop):
    return nn.Sequential(
        Residual(nn.Sequential(nn.Linear(dim, hidden), norm(hidden), nn.ReLU(), nn.Dropout(drop),
                               nn.Linear(hidden, dim), norm(dim))),
        nn.ReLU())


def mlp_resnet(a):
    norm = nn.BatchNorm1d if a.get('norm', 'batch') == 'batch' else nn.LayerNorm
    dim, hidden, n, classes, drop = a['dim'], a['hidden'], a['blocks'], a['classes'], a['drop']
    m = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(),
                      *[residual_block(hidden, hidden // 2, norm, drop) for _ in range(n)],
                      nn.Linear(hidden, classes))
    return _bn_state(m)


def conv_bn(a_in, a_out, k, s):
    return nn.Sequential(nn.Conv2d(a_in, a_out, k, stride=s, padding=k // 2), nn.BatchNorm2d(a_out), nn.ReLU())


def small_resnet(a):
    """A narrow ResNet9-shaped network: the same blocks at widths that keep the fixture small."""
    c = a['c']
    m = nn.Sequential(conv_bn(3, c, 3, 2), Residual(nn.Sequential(conv_bn(c, c, 3, 1), conv_bn(c, c, 3, 1))),
                      conv_bn(c, 2 * c, 3, 2), nn.Flatten(), nn.Linear(2 * c * 4, 5), nn.ReLU(), nn.Linear(5, 3))
    return _bn_state(m)


BUILD = {
    'LayerNorm': _ln,
    'Dropout': lambda a: nn.Dropout(a['p']),
    'Flatten': lambda a: nn.Flatten(a.get('start', 1), a.get('end', -1)),
    'Unflatten': lambda a: nn.Unflatten(a['dim'], a['sizes']),
    'ReLU': lambda a: nn.ReLU(),
    'LeakyReLU': lambda a: nn.LeakyReLU(a.get('slope', 0.01)),
    'GELU': lambda a: nn.GELU(approximate=a.get('approximate', 'none')),
    'Tanh': lambda a: nn.Tanh(),
    'Sigmoid': lambda a: nn.Sigmoid(),
    'Softmax': lambda a: nn.Softmax(a['dim']),
    'LogSoftmax': lambda a: nn.LogSoftmax(a['dim']),
    'Residual': lambda a: Residual(nn.Sequential(nn.Linear(a['dim'], a['dim']), nn.Tanh())),
    'BatchNorm1d': _bn(nn.BatchNorm1d),
    'BatchNorm2d': _bn(nn.BatchNorm2d),
    'Embedding': _emb,
    'Conv1d': _conv(nn.Conv1d),
    'Conv2d': _conv(nn.Conv2d),
    'MaxPool1d': lambda a: nn.MaxPool1d(a['k'], stride=a.get('stride'), padding=a.get('padding', 0), dilation=a.get('dilation', 1)),
    'MaxPool2d': lambda a: nn.MaxPool2d(a['k'], stride=a.get('stride'), padding=a.get('padding', 0), dilation=a.get('dilation', 1)),
    'AvgPool1d': lambda a: nn.AvgPool1d(a['k'], stride=a.get('stride'), padding=a.get('padding', 0), count_include_pad=a.get('cip', True)),
    'AvgPool2d': lambda a: nn.AvgPool2d(a['k'], stride=a.get('stride'), padding=a.get('padding', 0), count_include_pad=a.get('cip', True)),
    'AdaptiveAvgPool2d': lambda a: nn.AdaptiveAvgPool2d(tuple(a['out']) if isinstance(a['out'], list) else a['out']),
    'MLPResNet': mlp_resnet,
    'SmallResNet': small_resnet,
}

N, U, D = 'normal', 'unit', 'distinct'

CASES = [
    # LayerNorm
    {'id': 'LayerNorm/basic', 'ctor': 'LayerNorm', 'args': {'shape': [4]}, 'inputs': [([3, 4], N)]},
    {'id': 'LayerNorm/2d', 'ctor': 'LayerNorm', 'args': {'shape': [3, 4]}, 'inputs': [([2, 3, 4], N)]},
    {'id': 'LayerNorm/eval', 'ctor': 'LayerNorm', 'args': {'shape': [5]}, 'mode': 'eval', 'inputs': [([2, 2, 5], N)]},
    {'id': 'LayerNorm/noaffine', 'ctor': 'LayerNorm', 'args': {'shape': [6], 'affine': False, 'eps': 1e-3}, 'inputs': [([2, 6], N)]},
    {'id': 'LayerNorm/hidden1', 'ctor': 'LayerNorm', 'args': {'shape': [1]}, 'inputs': [([3, 1], N)]},
    {'id': 'LayerNorm/batch1', 'ctor': 'LayerNorm', 'args': {'shape': [4]}, 'inputs': [([1, 4], N)]},
    {'id': 'LayerNorm/f64', 'ctor': 'LayerNorm', 'args': {'shape': [4]}, 'dtype': 'float64', 'inputs': [([3, 4], N, 'float64')]},
    # Dropout (random masks cannot match: p = 0 in train, p = 0.5 in eval)
    {'id': 'Dropout/p0-train', 'ctor': 'Dropout', 'args': {'p': 0.0}, 'inputs': [([3, 4], N)]},
    {'id': 'Dropout/eval', 'ctor': 'Dropout', 'args': {'p': 0.5}, 'mode': 'eval', 'inputs': [([3, 4], N)]},
    # shape helpers and activations
    {'id': 'Flatten/default', 'ctor': 'Flatten', 'args': {}, 'inputs': [([2, 3, 4, 5], N)]},
    {'id': 'Flatten/all', 'ctor': 'Flatten', 'args': {'start': 0, 'end': -1}, 'inputs': [([2, 3, 4], N)]},
    {'id': 'Flatten/middle', 'ctor': 'Flatten', 'args': {'start': 1, 'end': 2}, 'mode': 'eval', 'inputs': [([2, 3, 4, 5], N)]},
    {'id': 'Unflatten', 'ctor': 'Unflatten', 'args': {'dim': 1, 'sizes': [2, 3]}, 'inputs': [([4, 6], N)]},
    {'id': 'Unflatten/infer', 'ctor': 'Unflatten', 'args': {'dim': -1, 'sizes': [-1, 2]}, 'inputs': [([3, 4], N)]},
    {'id': 'ReLU', 'ctor': 'ReLU', 'args': {}, 'inputs': [([3, 5], N)]},
    {'id': 'ReLU/eval-len1', 'ctor': 'ReLU', 'args': {}, 'mode': 'eval', 'inputs': [([1], N)]},
    {'id': 'LeakyReLU', 'ctor': 'LeakyReLU', 'args': {'slope': 0.2}, 'inputs': [([3, 5], N)]},
    {'id': 'LeakyReLU/default', 'ctor': 'LeakyReLU', 'args': {}, 'mode': 'eval', 'inputs': [([4], N)]},
    {'id': 'GELU', 'ctor': 'GELU', 'args': {}, 'inputs': [([3, 5], N)]},
    {'id': 'GELU/tanh', 'ctor': 'GELU', 'args': {'approximate': 'tanh'}, 'inputs': [([3, 5], N)]},
    {'id': 'GELU/f64', 'ctor': 'GELU', 'args': {}, 'dtype': 'float64', 'inputs': [([2, 3], N, 'float64')]},
    {'id': 'Tanh', 'ctor': 'Tanh', 'args': {}, 'inputs': [([3, 5], N)]},
    {'id': 'Sigmoid', 'ctor': 'Sigmoid', 'args': {}, 'mode': 'eval', 'inputs': [([3, 5], N)]},
    {'id': 'Softmax/dim1', 'ctor': 'Softmax', 'args': {'dim': 1}, 'inputs': [([3, 5], N)]},
    {'id': 'Softmax/dim0-len1', 'ctor': 'Softmax', 'args': {'dim': 0}, 'inputs': [([1, 4], N)]},
    {'id': 'LogSoftmax', 'ctor': 'LogSoftmax', 'args': {'dim': -1}, 'inputs': [([2, 3, 5], N)]},
    {'id': 'LogSoftmax/f64', 'ctor': 'LogSoftmax', 'args': {'dim': 1}, 'dtype': 'float64', 'inputs': [([3, 4], N, 'float64')]},
    {'id': 'Residual', 'ctor': 'Residual', 'args': {'dim': 4}, 'inputs': [([3, 4], N)]},
    {'id': 'Residual/eval-batch1', 'ctor': 'Residual', 'args': {'dim': 1}, 'mode': 'eval', 'inputs': [([1, 1], N)]},
    # BatchNorm1d
    {'id': 'BatchNorm1d/train', 'ctor': 'BatchNorm1d', 'args': {'C': 4}, 'inputs': [([8, 4], N)]},
    {'id': 'BatchNorm1d/train-3d', 'ctor': 'BatchNorm1d', 'args': {'C': 3}, 'inputs': [([4, 3, 5], N)]},
    {'id': 'BatchNorm1d/eval', 'ctor': 'BatchNorm1d', 'args': {'C': 4}, 'mode': 'eval', 'inputs': [([5, 4], N)]},
    {'id': 'BatchNorm1d/eval-3d', 'ctor': 'BatchNorm1d', 'args': {'C': 3}, 'mode': 'eval', 'inputs': [([2, 3, 4], N)]},
    {'id': 'BatchNorm1d/cumulative', 'ctor': 'BatchNorm1d', 'args': {'C': 4, 'momentum': None}, 'inputs': [([6, 4], N)]},
    {'id': 'BatchNorm1d/momentum', 'ctor': 'BatchNorm1d', 'args': {'C': 2, 'momentum': 0.3, 'eps': 1e-3}, 'inputs': [([5, 2], N)]},
    {'id': 'BatchNorm1d/noaffine', 'ctor': 'BatchNorm1d', 'args': {'C': 4, 'affine': False}, 'inputs': [([6, 4], N)]},
    {'id': 'BatchNorm1d/notrack-train', 'ctor': 'BatchNorm1d', 'args': {'C': 4, 'track': False}, 'inputs': [([6, 4], N)]},
    {'id': 'BatchNorm1d/notrack-eval', 'ctor': 'BatchNorm1d', 'args': {'C': 4, 'track': False}, 'mode': 'eval', 'inputs': [([6, 4], N)]},
    {'id': 'BatchNorm1d/batch2', 'ctor': 'BatchNorm1d', 'args': {'C': 3}, 'inputs': [([2, 3], N)]},
    {'id': 'BatchNorm1d/hidden1', 'ctor': 'BatchNorm1d', 'args': {'C': 1}, 'inputs': [([5, 1], N)]},
    {'id': 'BatchNorm1d/len1', 'ctor': 'BatchNorm1d', 'args': {'C': 3}, 'inputs': [([4, 3, 1], N)]},
    {'id': 'BatchNorm1d/batch1-eval', 'ctor': 'BatchNorm1d', 'args': {'C': 3}, 'mode': 'eval', 'inputs': [([1, 3], N)]},
    {'id': 'BatchNorm1d/f64', 'ctor': 'BatchNorm1d', 'args': {'C': 3}, 'dtype': 'float64', 'inputs': [([6, 3], N, 'float64')]},
    # BatchNorm2d
    {'id': 'BatchNorm2d/train', 'ctor': 'BatchNorm2d', 'args': {'C': 3}, 'inputs': [([4, 3, 5, 5], N)]},
    {'id': 'BatchNorm2d/eval', 'ctor': 'BatchNorm2d', 'args': {'C': 3}, 'mode': 'eval', 'inputs': [([2, 3, 4, 4], N)]},
    {'id': 'BatchNorm2d/cumulative', 'ctor': 'BatchNorm2d', 'args': {'C': 2, 'momentum': None}, 'inputs': [([3, 2, 3, 3], N)]},
    {'id': 'BatchNorm2d/batch1', 'ctor': 'BatchNorm2d', 'args': {'C': 2}, 'inputs': [([1, 2, 3, 4], N)]},
    {'id': 'BatchNorm2d/notrack', 'ctor': 'BatchNorm2d', 'args': {'C': 2, 'track': False, 'affine': False}, 'mode': 'eval', 'inputs': [([2, 2, 3, 3], N)]},
    {'id': 'BatchNorm2d/f64', 'ctor': 'BatchNorm2d', 'args': {'C': 2}, 'dtype': 'float64', 'inputs': [([2, 2, 3, 3], N, 'float64')]},
    # Embedding
    {'id': 'Embedding', 'ctor': 'Embedding', 'args': {'n': 10, 'd': 3}, 'inputs': [([2, 5], 'int:0:10', 'int32')]},
    {'id': 'Embedding/padding', 'ctor': 'Embedding', 'args': {'n': 5, 'd': 4, 'pad': 0}, 'inputs': [([3, 6], 'int:0:5', 'int32')]},
    {'id': 'Embedding/padding-neg', 'ctor': 'Embedding', 'args': {'n': 4, 'd': 2, 'pad': -1}, 'mode': 'eval', 'inputs': [([8], 'int:0:4', 'int32')]},
    {'id': 'Embedding/len1', 'ctor': 'Embedding', 'args': {'n': 1, 'd': 1}, 'inputs': [([1, 1], 'int:0:1', 'int32')]},
    {'id': 'Embedding/f64', 'ctor': 'Embedding', 'args': {'n': 6, 'd': 3}, 'dtype': 'float64', 'inputs': [([4], 'int:0:6', 'int32')]},
    # Conv1d
    {'id': 'Conv1d/basic', 'ctor': 'Conv1d', 'args': {'in': 3, 'out': 4, 'k': 3}, 'inputs': [([2, 3, 10], N)]},
    {'id': 'Conv1d/stride-pad', 'ctor': 'Conv1d', 'args': {'in': 2, 'out': 3, 'k': 3, 'stride': 2, 'padding': 1}, 'inputs': [([2, 2, 9], N)]},
    {'id': 'Conv1d/dilation-groups', 'ctor': 'Conv1d', 'args': {'in': 4, 'out': 6, 'k': 2, 'dilation': 2, 'groups': 2}, 'mode': 'eval', 'inputs': [([1, 4, 7], N)]},
    {'id': 'Conv1d/same-nobias', 'ctor': 'Conv1d', 'args': {'in': 2, 'out': 2, 'k': 4, 'padding': 'same', 'bias': False}, 'inputs': [([2, 2, 6], N)]},
    {'id': 'Conv1d/len1', 'ctor': 'Conv1d', 'args': {'in': 1, 'out': 1, 'k': 1}, 'inputs': [([1, 1, 1], N)]},
    {'id': 'Conv1d/unbatched', 'ctor': 'Conv1d', 'args': {'in': 2, 'out': 3, 'k': 2}, 'inputs': [([2, 5], N)]},
    # Conv2d
    {'id': 'Conv2d/basic', 'ctor': 'Conv2d', 'args': {'in': 3, 'out': 4, 'k': 3}, 'inputs': [([2, 3, 6, 6], N)]},
    {'id': 'Conv2d/stride-pad', 'ctor': 'Conv2d', 'args': {'in': 2, 'out': 3, 'k': [3, 2], 'stride': [2, 1], 'padding': [1, 0]}, 'inputs': [([2, 2, 7, 5], N)]},
    {'id': 'Conv2d/groups', 'ctor': 'Conv2d', 'args': {'in': 4, 'out': 4, 'k': 3, 'groups': 4, 'padding': 1}, 'mode': 'eval', 'inputs': [([1, 4, 5, 5], N)]},
    {'id': 'Conv2d/same-dilation', 'ctor': 'Conv2d', 'args': {'in': 2, 'out': 2, 'k': 2, 'padding': 'same', 'dilation': 2}, 'inputs': [([1, 2, 5, 5], N)]},
    {'id': 'Conv2d/nobias-k1', 'ctor': 'Conv2d', 'args': {'in': 3, 'out': 2, 'k': 1, 'bias': False}, 'inputs': [([2, 3, 1, 1], N)]},
    {'id': 'Conv2d/unbatched', 'ctor': 'Conv2d', 'args': {'in': 2, 'out': 2, 'k': 3, 'padding': 1}, 'inputs': [([2, 4, 4], N)]},
    {'id': 'Conv2d/f64', 'ctor': 'Conv2d', 'args': {'in': 2, 'out': 2, 'k': 3, 'stride': 2}, 'dtype': 'float64', 'inputs': [([1, 2, 5, 5], N, 'float64')]},
    # pooling (distinct inputs: no ties in max)
    {'id': 'MaxPool1d', 'ctor': 'MaxPool1d', 'args': {'k': 2}, 'inputs': [([2, 3, 8], D)]},
    {'id': 'MaxPool1d/stride-pad', 'ctor': 'MaxPool1d', 'args': {'k': 3, 'stride': 2, 'padding': 1}, 'mode': 'eval', 'inputs': [([1, 2, 7], D)]},
    {'id': 'MaxPool1d/len1', 'ctor': 'MaxPool1d', 'args': {'k': 1}, 'inputs': [([1, 1, 1], D)]},
    {'id': 'MaxPool2d', 'ctor': 'MaxPool2d', 'args': {'k': 2}, 'inputs': [([2, 2, 4, 6], D)]},
    {'id': 'MaxPool2d/stride-pad-dil', 'ctor': 'MaxPool2d', 'args': {'k': 3, 'stride': 2, 'padding': 1, 'dilation': 1}, 'inputs': [([1, 2, 7, 7], D)]},
    {'id': 'MaxPool2d/unbatched', 'ctor': 'MaxPool2d', 'args': {'k': [2, 3], 'stride': [1, 2]}, 'mode': 'eval', 'inputs': [([2, 4, 7], D)]},
    {'id': 'AvgPool1d', 'ctor': 'AvgPool1d', 'args': {'k': 2}, 'inputs': [([2, 3, 8], N)]},
    {'id': 'AvgPool1d/pad-nocount', 'ctor': 'AvgPool1d', 'args': {'k': 3, 'stride': 2, 'padding': 1, 'cip': False}, 'inputs': [([1, 2, 7], N)]},
    {'id': 'AvgPool2d', 'ctor': 'AvgPool2d', 'args': {'k': 2}, 'mode': 'eval', 'inputs': [([2, 2, 4, 6], N)]},
    {'id': 'AvgPool2d/pad', 'ctor': 'AvgPool2d', 'args': {'k': 3, 'stride': 2, 'padding': 1}, 'inputs': [([1, 2, 5, 5], N)]},
    {'id': 'AvgPool2d/pad-nocount', 'ctor': 'AvgPool2d', 'args': {'k': 3, 'stride': 2, 'padding': 1, 'cip': False}, 'inputs': [([1, 2, 5, 5], N)]},
    {'id': 'AdaptiveAvgPool2d/1', 'ctor': 'AdaptiveAvgPool2d', 'args': {'out': 1}, 'inputs': [([2, 3, 5, 7], N)]},
    {'id': 'AdaptiveAvgPool2d/uneven', 'ctor': 'AdaptiveAvgPool2d', 'args': {'out': [2, 3]}, 'inputs': [([2, 3, 5, 7], N)]},
    {'id': 'AdaptiveAvgPool2d/upsample', 'ctor': 'AdaptiveAvgPool2d', 'args': {'out': [5, 4]}, 'mode': 'eval', 'inputs': [([1, 2, 3, 3], N)]},
    {'id': 'AdaptiveAvgPool2d/none', 'ctor': 'AdaptiveAvgPool2d', 'args': {'out': [3, None]}, 'inputs': [([2, 7, 4], N)]},
    {'id': 'AdaptiveAvgPool2d/f64', 'ctor': 'AdaptiveAvgPool2d', 'args': {'out': [3, 2]}, 'dtype': 'float64', 'inputs': [([1, 1, 7, 5], N, 'float64')]},
    # models
    {'id': 'MLPResNet/train', 'ctor': 'MLPResNet', 'args': {'dim': 6, 'hidden': 8, 'blocks': 2, 'classes': 3, 'drop': 0.0}, 'inputs': [([5, 6], N)]},
    {'id': 'MLPResNet/eval', 'ctor': 'MLPResNet', 'args': {'dim': 6, 'hidden': 8, 'blocks': 2, 'classes': 3, 'drop': 0.1}, 'mode': 'eval', 'inputs': [([5, 6], N)]},
    {'id': 'MLPResNet/layernorm', 'ctor': 'MLPResNet', 'args': {'dim': 4, 'hidden': 6, 'blocks': 1, 'classes': 2, 'drop': 0.0, 'norm': 'layer'}, 'inputs': [([3, 4], N)]},
    {'id': 'SmallResNet/train', 'ctor': 'SmallResNet', 'args': {'c': 4}, 'inputs': [([2, 3, 8, 8], N)]},
    {'id': 'SmallResNet/eval', 'ctor': 'SmallResNet', 'args': {'c': 4}, 'mode': 'eval', 'inputs': [([2, 3, 8, 8], N)]},
]
