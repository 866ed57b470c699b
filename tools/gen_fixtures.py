#!/usr/bin/python3
"""Writes PyTorch reference values for every op case in tools/cases/*.py.

Run with Debian's python3-torch:  /usr/bin/python3 tools/gen_fixtures.py
Each case module defines CASES (a list of dicts) and TORCH (op name -> fn(inputs, params)).
A case: {"id", "op", "inputs": [(shape, dist, dtype?)...], "params": {...}}.
Input dists: normal, pos (0.5..2), unit (-0.9..0.9), distinct (a permutation of spaced values:
no ties), zeros_some (normal with some exact zeros), int:lo:hi (int32), bool, mask (bool with
the last dim's index 0 False, so no attention row is fully masked).
For every case the fixture holds the inputs, the output, a random cotangent v and the gradient
of every float input, random tangents and the jvp, and a second-order term: the gradient of
sum_i <grad_i, w_i> for random w (a Hessian-vector product through the vjp).
Output: test/fixtures/ops_<module>.json (floats in full precision; nan/inf as strings).
"""
import importlib.util
import json
import math
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, '..', 'test', 'fixtures')
DT = {'float32': torch.float32, 'float64': torch.float64, 'int32': torch.int32, 'bool': torch.bool}


def make_input(spec, gen):
    shape, dist = spec[0], spec[1]
    dtype = spec[2] if len(spec) > 2 else 'float32'
    n = math.prod(shape)
    if dist.startswith('int:'):
        _, lo, hi = dist.split(':')
        return torch.randint(int(lo), int(hi), tuple(shape), generator=gen, dtype=torch.int64).to(torch.int32)
    if dist == 'bool':
        return torch.rand(tuple(shape), generator=gen) > 0.5
    if dist == 'mask':  # attention mask: random bool, but index 0 of the last dim never masked
        m = torch.rand(tuple(shape), generator=gen) > 0.5
        m[..., 0] = False
        return m
    if dist == 'normal':
        x = torch.randn(tuple(shape), generator=gen, dtype=torch.float64)
    elif dist == 'pos':
        x = 0.5 + 1.5 * torch.rand(tuple(shape), generator=gen, dtype=torch.float64)
    elif dist == 'unit':
        x = -0.9 + 1.8 * torch.rand(tuple(shape), generator=gen, dtype=torch.float64)
    elif dist == 'distinct':
        perm = torch.randperm(max(n, 1), generator=gen)[:n].to(torch.float64)
        x = ((perm - n / 2) * 0.37).reshape(tuple(shape))
    elif dist == 'zeros_some':
        x = torch.randn(tuple(shape), generator=gen, dtype=torch.float64)
        mask = torch.rand(tuple(shape), generator=gen) < 0.3
        x = torch.where(mask, torch.zeros_like(x), x)
    elif dist == 'large':
        x = torch.randn(tuple(shape), generator=gen, dtype=torch.float64) * 1e10
    else:
        raise ValueError(dist)
    return x.to(DT[dtype])


def enc(t):
    if t is None:
        return None
    t = t.detach()
    if getattr(t, '_is_zerotensor', lambda: False)():
        t = torch.zeros(t.shape, dtype=t.dtype)  # torch's lazy "efficient zero" tensors
    flat = t.contiguous().reshape(-1).tolist() if t.numel() > 0 else []
    fmt = '%.17g' if t.dtype == torch.float64 else '%.9g'

    def one(v):
        if isinstance(v, bool):
            return 1 if v else 0
        if isinstance(v, int):
            return v
        if math.isnan(v):
            return 'nan'
        if math.isinf(v):
            return 'inf' if v > 0 else '-inf'
        return float(fmt % v)
    return {'shape': list(t.shape), 'dtype': str(t.dtype).replace('torch.', ''), 'data': [one(v) for v in flat]}


def is_float(t):
    return t.dtype in (torch.float32, torch.float64)


def run_case(case, fn, seed):
    gen = torch.Generator().manual_seed(seed)
    params = case.get('params', {})
    xs = [make_input(s, gen) for s in case['inputs']]
    fidx = [i for i, x in enumerate(xs) if is_float(x)]
    leaves = [x.clone().requires_grad_(True) if i in fidx else x for i, x in enumerate(xs)]
    out = fn(leaves, params)
    rec = {'id': case['id'], 'op': case['op'], 'params': params, 'gradcheck': case.get('gradcheck', True),
           'inputs': [enc(x) for x in xs], 'out': enc(out)}
    if not is_float(out) or not out.requires_grad or case.get('forward_only'):
        return rec
    fl = [leaves[i] for i in fidx]
    v = torch.randn(out.shape, generator=gen, dtype=torch.float64).to(out.dtype)
    grads = torch.autograd.grad(out, fl, v, create_graph=True, allow_unused=True)
    rec['cotangent'] = enc(v)
    rec['grads'] = [enc(g) if g is not None else enc(torch.zeros_like(x)) for g, x in zip(grads, fl)]
    # second order: d/dx sum_i <grad_i, w_i>
    ws = [torch.randn(x.shape, generator=gen, dtype=torch.float64).to(x.dtype) for x in fl]
    terms = [(g * w).sum() for g, w in zip(grads, ws) if g is not None and g.requires_grad]
    if terms:
        s = sum(terms)
        gg = torch.autograd.grad(s, fl, allow_unused=True)
    else:
        gg = [None] * len(fl)
    rec['w'] = [enc(w) for w in ws]
    if case.get('torch_second_order') is False:
        rec['ggrads_wrong_in_torch'] = True
    rec['ggrads'] = [enc(g) if g is not None else enc(torch.zeros_like(x)) for g, x in zip(gg, fl)]
    # forward mode
    tans = [torch.randn(x.shape, generator=gen, dtype=torch.float64).to(x.dtype) for x in fl]

    def f(*fxs):
        full = list(xs)
        for k, i in enumerate(fidx):
            full[i] = fxs[k]
        return fn(full, params)
    _, jv = torch.autograd.functional.jvp(f, tuple(x.detach() for x in fl), tuple(tans))
    rec['tangents'] = [enc(t) for t in tans]
    rec['jvp'] = enc(jv)
    return rec


def load_module(path):
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location('cases_' + name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return name, mod


def main():
    torch.set_num_threads(1)
    case_dir = os.path.join(HERE, 'cases')
    only = sys.argv[1:]
    for fname in sorted(os.listdir(case_dir)):
        if not fname.endswith('.py') or fname.startswith('_'):
            continue
        name, mod = load_module(os.path.join(case_dir, fname))
        if only and name not in only:
            continue
        recs = []
        ids = set()
        for k, case in enumerate(mod.CASES):
            if case['id'] in ids:
                raise ValueError('duplicate case id ' + case['id'])
            ids.add(case['id'])
            fn = mod.TORCH[case['op']]
            recs.append(run_case(case, fn, 1000 + k))
        path = os.path.join(OUT_DIR, 'ops_%s.json' % name)
        with open(path, 'w') as fh:
            json.dump({'generator': 'tools/gen_fixtures.py', 'torch': torch.__version__, 'module': name, 'cases': recs}, fh, separators=(',', ':'))
        print('%s: %d cases -> %s' % (name, len(recs), os.path.relpath(path)))


if __name__ == '__main__':
    main()
