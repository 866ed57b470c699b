"""Module cases: containers and Linear (the other areas live in their own files)."""
import torch.nn as nn

BUILD = {
    'Linear': lambda a: nn.Linear(a['in'], a['out'], bias=a.get('bias', True)),
    'Identity': lambda a: nn.Identity(),
    'MLP': lambda a: nn.Sequential(nn.Linear(a['in'], a['hidden']), nn.Linear(a['hidden'], a['out'])),
}

CASES = [
    {'id': 'Linear/basic', 'ctor': 'Linear', 'args': {'in': 5, 'out': 3}, 'inputs': [([4, 5], 'normal')]},
    {'id': 'Linear/nobias', 'ctor': 'Linear', 'args': {'in': 5, 'out': 3, 'bias': False}, 'inputs': [([2, 7, 5], 'normal')]},
    {'id': 'Linear/batch1', 'ctor': 'Linear', 'args': {'in': 1, 'out': 1}, 'inputs': [([1, 1], 'normal')]},
    {'id': 'Linear/vector', 'ctor': 'Linear', 'args': {'in': 4, 'out': 2}, 'inputs': [([4], 'normal')]},
    {'id': 'Linear/f64', 'ctor': 'Linear', 'args': {'in': 3, 'out': 2}, 'dtype': 'float64', 'inputs': [([2, 3], 'normal', 'float64')]},
    {'id': 'Identity', 'ctor': 'Identity', 'args': {}, 'inputs': [([2, 3], 'normal')]},
    {'id': 'Sequential/mlp', 'ctor': 'MLP', 'args': {'in': 4, 'hidden': 6, 'out': 2}, 'inputs': [([3, 4], 'normal')]},
]
