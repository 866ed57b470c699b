"""Module cases: recurrent layers (RNNCell, LSTMCell, GRUCell, RNN, LSTM, GRU).

Args use the needle-ts option names (camelCase); BUILD maps them to torch's keywords. Initial
states, when given, are extra inputs (so their gradients are compared too): RNN/GRU/cells take
(x, h0); LSTM and LSTMCell take (x, h0, c0). Outputs are flattened as torch returns them:
RNN/GRU -> [output, h_n], LSTM -> [output, h_n, c_n], LSTMCell -> [h, c].
Dropout between layers is only exercised where it is inactive (eval mode, or p = 0), since the
masks cannot match torch's.
"""
import torch.nn as nn


def full(cls, a, **extra):
    return cls(a['input'], a['hidden'], num_layers=a.get('numLayers', 1), bias=a.get('bias', True),
               batch_first=a.get('batchFirst', False), dropout=a.get('dropout', 0.0),
               bidirectional=a.get('bidirectional', False), **extra)


BUILD = {
    'RNNCell': lambda a: nn.RNNCell(a['input'], a['hidden'], bias=a.get('bias', True), nonlinearity=a.get('nonlinearity', 'tanh')),
    'LSTMCell': lambda a: nn.LSTMCell(a['input'], a['hidden'], bias=a.get('bias', True)),
    'GRUCell': lambda a: nn.GRUCell(a['input'], a['hidden'], bias=a.get('bias', True)),
    'RNN': lambda a: full(nn.RNN, a, nonlinearity=a.get('nonlinearity', 'tanh')),
    'LSTM': lambda a: full(nn.LSTM, a),
    'GRU': lambda a: full(nn.GRU, a),
}


def lstm_forward(m, xs, a):
    return m(xs[0], (xs[1], xs[2]) if len(xs) > 1 else None)


FORWARD = {'LSTM': lstm_forward, 'LSTMCell': lstm_forward}

N = 'normal'


def seq(L, N_, F, a):
    """Input shape for a full-sequence case: (L, N, F), (N, L, F) with batchFirst, (L, F) if N_ is None."""
    if N_ is None:
        return [L, F]
    return [N_, L, F] if a.get('batchFirst') else [L, N_, F]


def state(a, N_):
    k = a.get('numLayers', 1) * (2 if a.get('bidirectional') else 1)
    return [k, a['hidden']] if N_ is None else [k, N_, a['hidden']]


def full_case(ctor, cid, a, L, N_, with_state=False, mode='train', dtype='float32'):
    ins = [(seq(L, N_, a['input'], a), N, dtype)]
    if with_state:
        ins.append((state(a, N_), N, dtype))
        if ctor == 'LSTM':
            ins.append((state(a, N_), N, dtype))
    c = {'id': '%s/%s' % (ctor, cid), 'ctor': ctor, 'args': a, 'inputs': ins, 'mode': mode}
    if dtype != 'float32':
        c['dtype'] = dtype
    return c


def cell_case(ctor, cid, a, N_, with_state=False, dtype='float32'):
    shp = (lambda f: [f]) if N_ is None else (lambda f: [N_, f])
    ins = [(shp(a['input']), N, dtype)]
    if with_state:
        ins.append((shp(a['hidden']), N, dtype))
        if ctor == 'LSTMCell':
            ins.append((shp(a['hidden']), N, dtype))
    c = {'id': '%s/%s' % (ctor, cid), 'ctor': ctor, 'args': a, 'inputs': ins}
    if dtype != 'float32':
        c['dtype'] = dtype
    return c


CASES = []
for cell in ('RNNCell', 'LSTMCell', 'GRUCell'):
    CASES += [
        cell_case(cell, 'basic', {'input': 4, 'hidden': 5}, 3),
        cell_case(cell, 'state', {'input': 4, 'hidden': 5}, 3, with_state=True),
        cell_case(cell, 'nobias', {'input': 3, 'hidden': 4, 'bias': False}, 2, with_state=True),
        cell_case(cell, 'unbatched', {'input': 4, 'hidden': 3}, None, with_state=True),
        cell_case(cell, 'unbatched_nostate', {'input': 4, 'hidden': 3}, None),
        cell_case(cell, 'size1', {'input': 1, 'hidden': 1}, 1, with_state=True),
        cell_case(cell, 'f64', {'input': 3, 'hidden': 4}, 2, with_state=True, dtype='float64'),
    ]
CASES += [
    cell_case('RNNCell', 'relu', {'input': 4, 'hidden': 5, 'nonlinearity': 'relu'}, 3, with_state=True),
]

for m in ('RNN', 'LSTM', 'GRU'):
    CASES += [
        full_case(m, 'basic', {'input': 4, 'hidden': 5}, 6, 3),
        full_case(m, 'state', {'input': 4, 'hidden': 5}, 5, 2, with_state=True),
        full_case(m, 'two_layers', {'input': 2, 'hidden': 3, 'numLayers': 2}, 5, 2, with_state=True),
        full_case(m, 'bidirectional', {'input': 2, 'hidden': 3, 'bidirectional': True}, 5, 2),
        full_case(m, 'bidirectional_two_layers_state', {'input': 2, 'hidden': 3, 'numLayers': 2, 'bidirectional': True}, 4, 3, with_state=True),
        full_case(m, 'batch_first', {'input': 2, 'hidden': 3, 'batchFirst': True}, 5, 2, with_state=True),
        full_case(m, 'batch_first_bidirectional', {'input': 2, 'hidden': 3, 'batchFirst': True, 'bidirectional': True, 'numLayers': 2}, 4, 2),
        full_case(m, 'nobias', {'input': 2, 'hidden': 3, 'bias': False, 'numLayers': 2}, 5, 2, with_state=True),
        full_case(m, 'unbatched', {'input': 3, 'hidden': 4}, 5, None),
        full_case(m, 'unbatched_state_bidirectional', {'input': 2, 'hidden': 3, 'numLayers': 2, 'bidirectional': True, 'batchFirst': True}, 4, None, with_state=True),
        full_case(m, 'seq1', {'input': 2, 'hidden': 3, 'numLayers': 2}, 1, 2, with_state=True),
        full_case(m, 'size1', {'input': 1, 'hidden': 1}, 1, 1, with_state=True),
        full_case(m, 'batch1_hidden1', {'input': 2, 'hidden': 1, 'bidirectional': True}, 6, 1),
        full_case(m, 'eval_dropout', {'input': 2, 'hidden': 3, 'numLayers': 3, 'dropout': 0.5}, 5, 2, with_state=True, mode='eval'),
        full_case(m, 'train_dropout0', {'input': 2, 'hidden': 3, 'numLayers': 2, 'dropout': 0.0, 'bidirectional': True}, 5, 2),
        full_case(m, 'f64', {'input': 2, 'hidden': 3, 'numLayers': 2, 'bidirectional': True}, 4, 2, with_state=True, dtype='float64'),
        full_case(m, 'long', {'input': 2, 'hidden': 3}, 40, 2, with_state=True, dtype='float64'),
    ]
CASES += [
    full_case('RNN', 'relu', {'input': 4, 'hidden': 5, 'nonlinearity': 'relu', 'numLayers': 2}, 5, 3, with_state=True),
    full_case('RNN', 'relu_bidirectional', {'input': 2, 'hidden': 3, 'nonlinearity': 'relu', 'bidirectional': True}, 5, 2),
]
