#!/usr/bin/python3
"""Writes PyTorch reference values for the higher-order autograd tests (test/autograd.test.ts).

Run with Debian's python3-torch:  /usr/bin/python3 tools/gen_autograd_fixtures.py
Everything is float64 and seeded. Output: test/fixtures/autograd.json with
  hvp: [{name, x: {shape, data}, v: {...}, params: {name: {shape, data}}, value, hvp: {...}}]
       Hessian-vector products of scalar functions (torch.autograd.functional.hvp)
  jvp: [{name, primals: [...], tangents: [...], params, out: {...}, jvp: {...}}]
       Jacobian-vector products (torch.autograd.functional.jvp)
The function names are matched by the test, which rebuilds each function with needle-ts ops.
"""
import json
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'test', 'fixtures', 'autograd.json')

torch.manual_seed(20240611)
D = torch.float64


def enc(t):
    t = t.detach()
    return {'shape': list(t.shape), 'data': t.reshape(-1).tolist()}


def randn(*shape):
    return torch.randn(*shape, dtype=D)


# ---------------------------------------------------------------- scalar functions for HVPs

W_tanh = randn(4, 3)
W1 = randn(5, 3) * 0.8
b1 = randn(5) * 0.3
W2 = randn(2, 5) * 0.8
b2 = randn(2) * 0.3

HVP_CASES = [
    # name, function, x, params (as the test needs them)
    ('sum_tanh_Wx_sq', lambda x: torch.sum(torch.tanh(W_tanh @ x) ** 2), randn(3), {'W': W_tanh}),
    ('logsumexp_x_sq', lambda x: torch.logsumexp(x * x, dim=0), randn(5), {}),
    ('sum_softmax_x_times_x', lambda x: torch.sum(torch.softmax(x, dim=0) * x), randn(6), {}),
    (
        'mlp_sigmoid',
        lambda x: torch.sum(torch.sigmoid(W2 @ torch.sigmoid(W1 @ x + b1) + b2) ** 2),
        randn(3),
        {'W1': W1, 'b1': b1, 'W2': W2, 'b2': b2},
    ),
    ('sum_exp_sin_x_over_1_plus_x_sq', lambda x: torch.sum(torch.exp(torch.sin(x)) / (1 + x * x)), randn(4), {}),
]

# ---------------------------------------------------------------- functions for JVPs

W_soft = randn(4, 3)

JVP_CASES = [
    ('softmax_Wx', lambda x: torch.softmax(W_soft @ x, dim=0), [randn(3)], {'W': W_soft}),
    ('sin_x_times_y_plus_exp_x', lambda x, y: torch.sin(x) * y + torch.exp(x), [randn(2, 3), randn(2, 3)], {}),
    ('matmul_AB', lambda a, b: a @ b, [randn(2, 3), randn(3, 4)], {}),
    ('log_softmax_rows', lambda x: torch.log_softmax(x, dim=1), [randn(3, 4)], {}),
    ('gelu_times_tanh', lambda x, y: torch.nn.functional.gelu(x) * torch.tanh(y), [randn(5), randn(5)], {}),
    ('broadcast_add_div', lambda x, y: (x + y) / (1 + y * y), [randn(3, 1), randn(4)], {}),
]


def main():
    hvps = []
    for name, f, x, params in HVP_CASES:
        v = randn(*x.shape)
        value, hv = torch.autograd.functional.hvp(f, x, v)
        hvps.append({
            'name': name,
            'x': enc(x),
            'v': enc(v),
            'params': {k: enc(p) for k, p in params.items()},
            'value': value.item(),
            'hvp': enc(hv),
        })
    jvps = []
    for name, f, primals, params in JVP_CASES:
        tangents = [randn(*p.shape) for p in primals]
        out, jv = torch.autograd.functional.jvp(f, tuple(primals), tuple(tangents))
        jvps.append({
            'name': name,
            'primals': [enc(p) for p in primals],
            'tangents': [enc(t) for t in tangents],
            'params': {k: enc(p) for k, p in params.items()},
            'out': enc(out),
            'jvp': enc(jv),
        })
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as fh:
        json.dump({'generator': 'tools/gen_autograd_fixtures.py', 'torch': torch.__version__, 'hvp': hvps, 'jvp': jvps}, fh, indent=1)
        fh.write('\n')
    print(f'wrote {OUT}: {len(hvps)} hvp cases, {len(jvps)} jvp cases')


if __name__ == '__main__':
    main()
