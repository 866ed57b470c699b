#!/usr/bin/python3
"""Writes PyTorch reference values for nn modules: tools/module_cases/<area>.py -> test/fixtures/modules_<area>.json.

Run with Debian's python3-torch:  /usr/bin/python3 tools/gen_module_fixtures.py [area ...]
A case module defines BUILD (ctor name -> fn(args) -> torch module), optionally FORWARD
(name -> fn(module, inputs, args) -> tensor or tuple of tensors; default module(*inputs)), and CASES:
{"id", "ctor", "args", "inputs": [(shape, dist, dtype?)...], "mode": "train"|"eval"}.
The module is built with torch's own initialization under a fixed seed; the fixture holds its
state dict before the forward pass, the inputs, every output, random cotangents, the gradient of
every parameter (by PyTorch name) and of every float input, and the state dict after the forward
(running statistics).
"""
import importlib.util
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gen_fixtures import enc, make_input  # noqa: E402

OUT_DIR = os.path.join(HERE, '..', 'test', 'fixtures')


def flatten(o):
    if isinstance(o, torch.Tensor):
        return [o]
    if o is None:
        return []
    out = []
    for x in o:
        out.extend(flatten(x))
    return out


def run_case(mod, case, seed):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    args = case.get('args', {})
    m = mod.BUILD[case['ctor']](args)
    m = m.double() if case.get('dtype') == 'float64' else m
    m.train(case.get('mode', 'train') == 'train')
    before = {k: enc(v) for k, v in m.state_dict().items()}
    xs = [make_input(s, gen) for s in case['inputs']]
    xs = [x.clone().requires_grad_(True) if x.dtype in (torch.float32, torch.float64) else x for x in xs]
    fwd = getattr(mod, 'FORWARD', {}).get(case.get('forward', case['ctor']))
    out = fwd(m, xs, args) if fwd else m(*xs)
    outs = flatten(out)
    rec = {'id': case['id'], 'ctor': case['ctor'], 'args': args, 'mode': case.get('mode', 'train'),
           'forward': case.get('forward', case['ctor']), 'dtype': case.get('dtype', 'float32'),
           'state': before, 'inputs': [enc(x) for x in xs], 'outputs': [enc(o) for o in outs]}
    diff = [o for o in outs if o.requires_grad]
    if diff and not case.get('forward_only'):
        cots = [torch.randn(o.shape, generator=gen, dtype=torch.float64).to(o.dtype) for o in outs]
        loss = sum((o * c).sum() for o, c in zip(outs, cots) if o.requires_grad)
        params = dict(m.named_parameters())
        fl = [x for x in xs if x.requires_grad]
        grads = torch.autograd.grad(loss, list(params.values()) + fl, allow_unused=True)
        rec['cotangents'] = [enc(c) for c in cots]
        rec['param_grads'] = {k: enc(g if g is not None else torch.zeros_like(p)) for (k, p), g in zip(params.items(), grads)}
        rec['input_grads'] = [enc(g if g is not None else torch.zeros_like(x)) for x, g in zip(fl, grads[len(params):])]
    rec['state_after'] = {k: enc(v) for k, v in m.state_dict().items()}
    return rec


def main():
    torch.set_num_threads(1)
    case_dir = os.path.join(HERE, 'module_cases')
    only = sys.argv[1:]
    for fname in sorted(os.listdir(case_dir)):
        if not fname.endswith('.py') or fname.startswith('_'):
            continue
        name = fname[:-3]
        if only and name not in only:
            continue
        spec = importlib.util.spec_from_file_location('module_cases_' + name, os.path.join(case_dir, fname))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        ids = set()
        recs = []
        for k, case in enumerate(mod.CASES):
            if case['id'] in ids:
                raise ValueError('duplicate case id ' + case['id'])
            ids.add(case['id'])
            recs.append(run_case(mod, case, 2000 + k))
        path = os.path.join(OUT_DIR, 'modules_%s.json' % name)
        with open(path, 'w') as fh:
            json.dump({'generator': 'tools/gen_module_fixtures.py', 'torch': torch.__version__, 'area': name, 'cases': recs}, fh, separators=(',', ':'))
        print('%s: %d cases -> %s' % (name, len(recs), os.path.relpath(path)))


if __name__ == '__main__':
    main()
