#!/usr/bin/python3
"""Writes PyTorch 1.13 reference trajectories for optimizers, LR schedulers and gradient clipping
to test/fixtures/optim.json.

Run with Debian's python3-torch:  /usr/bin/python3 tools/gen_optim_fixtures.py

The problem: a seeded 2-layer tanh MLP (4 -> 5 -> 3, parameters W1, b1, W2, b2) with a mean
squared error loss on a fixed batch of 8 samples. Every optimizer case starts from the same
initial parameters and runs STEPS steps of zero_grad / loss.backward / step (optionally followed
by scheduler.step()); the fixture holds the loss before every step and the parameters after the
steps listed in RECORD_AT. Options are written camelCase (as needle-ts spells them) and converted
to torch's keyword arguments here, so both sides read one specification.

Scheduler cases attach a scheduler to an SGD/Adam/Adagrad optimizer over one or two scalar
parameters and record every group's lr (and momentum or beta1 where cycled) after construction
and after each of STEPS scheduler steps. LambdaLR functions are named; test/optim.test.ts defines
the same functions under the same names.
"""
import json
import math
import os
import re

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'test', 'fixtures', 'optim.json')
STEPS = 20
RECORD_AT = [1, 2, 3, 5, 10, 15, 20]


def snake(name):
    return re.sub(r'([a-z0-9])([A-Z])', r'\1_\2', name).lower()


def kwargs(opts):
    out = {}
    for k, v in opts.items():
        key = {'tMax': 'T_max'}.get(k, snake(k))
        out[key] = tuple(v) if k == 'betas' else v
    return out


def num(v):
    if isinstance(v, float) and math.isinf(v):
        return 'inf' if v > 0 else '-inf'
    return v


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


# ---------------------------------------------------------------- the problem

def make_problem():
    g = torch.Generator().manual_seed(1234)
    d = torch.float64
    x = torch.randn(8, 4, generator=g, dtype=d)
    t = torch.randn(8, 3, generator=g, dtype=d)
    w1 = torch.randn(5, 4, generator=g, dtype=d) * 0.5
    b1 = torch.randn(5, generator=g, dtype=d) * 0.1
    w2 = torch.randn(3, 5, generator=g, dtype=d) * 0.5
    b2 = torch.randn(3, generator=g, dtype=d) * 0.1
    return {'x': x, 't': t, 'params': [w1, b1, w2, b2]}


def loss_fn(params, x, t):
    w1, b1, w2, b2 = params
    h = torch.tanh(x @ w1.T + b1)
    y = h @ w2.T + b2
    return ((y - t) ** 2).mean()


OPTIMIZERS = {
    'SGD': torch.optim.SGD,
    'Adam': torch.optim.Adam,
    'AdamW': torch.optim.AdamW,
    'RMSprop': torch.optim.RMSprop,
    'Adagrad': torch.optim.Adagrad,
}

# groups: list of (param indices, camelCase options)
OPT_CASES = [
    ('sgd_plain', 'SGD', {'lr': 0.1}),
    ('sgd_momentum', 'SGD', {'lr': 0.1, 'momentum': 0.9}),
    ('sgd_nesterov', 'SGD', {'lr': 0.1, 'momentum': 0.9, 'nesterov': True}),
    ('sgd_dampening_needle', 'SGD', {'lr': 0.1, 'momentum': 0.9, 'dampening': 0.9}),
    ('sgd_dampening_wd', 'SGD', {'lr': 0.2, 'momentum': 0.5, 'dampening': 0.3, 'weightDecay': 0.05}),
    ('sgd_weight_decay', 'SGD', {'lr': 0.1, 'weightDecay': 0.1}),
    ('sgd_maximize', 'SGD', {'lr': 0.05, 'momentum': 0.3, 'maximize': True, 'weightDecay': 0.01}),
    ('sgd_nesterov_wd', 'SGD', {'lr': 0.05, 'momentum': 0.8, 'nesterov': True, 'weightDecay': 0.02}),
    ('sgd_groups', 'SGD', {'lr': 0.05, 'momentum': 0.9},
     [([0, 1], {'lr': 0.2}), ([2, 3], {'momentum': 0.5, 'weightDecay': 0.1})]),
    ('adam_default', 'Adam', {'lr': 0.01}),
    ('adam_betas_eps', 'Adam', {'lr': 0.02, 'betas': [0.8, 0.9], 'eps': 1e-6}),
    ('adam_weight_decay', 'Adam', {'lr': 0.01, 'weightDecay': 0.1}),
    ('adam_amsgrad', 'Adam', {'lr': 0.01, 'amsgrad': True}),
    ('adam_maximize', 'Adam', {'lr': 0.01, 'maximize': True, 'weightDecay': 0.05}),
    ('adam_groups', 'Adam', {'lr': 0.01},
     [([0, 1], {'lr': 0.03, 'betas': [0.5, 0.99]}), ([2, 3], {'weightDecay': 0.05, 'amsgrad': True})]),
    ('adamw_default', 'AdamW', {'lr': 0.01}),
    ('adamw_wd_amsgrad', 'AdamW', {'lr': 0.01, 'weightDecay': 0.5, 'amsgrad': True}),
    ('adamw_maximize', 'AdamW', {'lr': 0.01, 'weightDecay': 0.1, 'maximize': True, 'betas': [0.7, 0.95]}),
    ('adamw_groups', 'AdamW', {'lr': 0.02},
     [([0, 1], {'weightDecay': 0.0}), ([2, 3], {'weightDecay': 0.3, 'lr': 0.005})]),
    ('rmsprop_default', 'RMSprop', {'lr': 0.01}),
    ('rmsprop_momentum', 'RMSprop', {'lr': 0.01, 'momentum': 0.9}),
    ('rmsprop_centered', 'RMSprop', {'lr': 0.01, 'centered': True, 'alpha': 0.9}),
    ('rmsprop_all', 'RMSprop', {'lr': 0.005, 'momentum': 0.5, 'centered': True, 'weightDecay': 0.1, 'eps': 1e-6, 'alpha': 0.95}),
    ('rmsprop_maximize', 'RMSprop', {'lr': 0.01, 'maximize': True, 'momentum': 0.2}),
    ('adagrad_default', 'Adagrad', {'lr': 0.1}),
    ('adagrad_all', 'Adagrad', {'lr': 0.1, 'lrDecay': 0.05, 'weightDecay': 0.1, 'initialAccumulatorValue': 0.5, 'eps': 1e-8}),
    ('adagrad_maximize', 'Adagrad', {'lr': 0.05, 'maximize': True}),
    ('adagrad_groups', 'Adagrad', {'lr': 0.1},
     [([0, 1], {'lrDecay': 0.1}), ([2, 3], {'lr': 0.3, 'eps': 1e-4})]),
]

# the same problem in float32 (needle-ts must stay within float32 tolerance of torch)
F32_CASES = ['sgd_nesterov', 'sgd_dampening_wd', 'adam_amsgrad', 'adam_maximize', 'adamw_wd_amsgrad',
             'rmsprop_all', 'adagrad_all']

# optimizer + scheduler stepped once per iteration
SCHED_OPT_CASES = [
    ('sgd_onecycle', 'SGD', {'lr': 0.1, 'momentum': 0.9}, None,
     {'type': 'OneCycleLR', 'options': {'maxLr': 0.3, 'totalSteps': 20}}),
    ('adam_onecycle_3phase', 'Adam', {'lr': 0.01}, [([0, 1], {}), ([2, 3], {})],
     {'type': 'OneCycleLR', 'options': {'maxLr': [0.02, 0.05], 'totalSteps': 20, 'threePhase': True,
                                        'annealStrategy': 'linear'}}),
    ('adamw_warmup_cosine', 'AdamW', {'lr': 0.02, 'weightDecay': 0.05}, None,
     {'type': 'SequentialLR', 'schedulers': [
         {'type': 'LinearLR', 'options': {'startFactor': 0.1, 'totalIters': 5}},
         {'type': 'CosineAnnealingLR', 'options': {'tMax': 15}}], 'milestones': [5]}),
    ('rmsprop_steplr', 'RMSprop', {'lr': 0.01, 'momentum': 0.5}, None,
     {'type': 'StepLR', 'options': {'stepSize': 4, 'gamma': 0.5}}),
]

LAMBDAS = {
    'warmup5': lambda e: min(1.0, (e + 1) / 5),
    'exp095': lambda e: 0.95 ** e,
    'halfEvery3': lambda e: 0.5 ** (e // 3),
    'mul098': lambda e: 0.98,
}

SCHEDULERS = {
    'StepLR': torch.optim.lr_scheduler.StepLR,
    'MultiStepLR': torch.optim.lr_scheduler.MultiStepLR,
    'ExponentialLR': torch.optim.lr_scheduler.ExponentialLR,
    'CosineAnnealingLR': torch.optim.lr_scheduler.CosineAnnealingLR,
    'LinearLR': torch.optim.lr_scheduler.LinearLR,
    'ConstantLR': torch.optim.lr_scheduler.ConstantLR,
    'PolynomialLR': torch.optim.lr_scheduler.PolynomialLR,
    'OneCycleLR': torch.optim.lr_scheduler.OneCycleLR,
    'LambdaLR': torch.optim.lr_scheduler.LambdaLR,
    'MultiplicativeLR': torch.optim.lr_scheduler.MultiplicativeLR,
}

PLATEAU_METRICS = [1.0, 0.9, 0.85, 0.86, 0.87, 0.88, 0.84, 0.84, 0.84, 0.84,
                   0.5, 0.5, 0.49, 0.5, 0.5, 0.5, 0.5, 0.45, 0.5, 0.5]

# (id, optimizer spec, scheduler spec, metrics for ReduceLROnPlateau)
SCHED_CASES = [
    ('step_lr', {'type': 'SGD', 'lrs': [0.1]}, {'type': 'StepLR', 'options': {'stepSize': 5, 'gamma': 0.5}}),
    ('step_lr_default_gamma', {'type': 'SGD', 'lrs': [1.0]}, {'type': 'StepLR', 'options': {'stepSize': 3}}),
    ('multistep_lr', {'type': 'SGD', 'lrs': [0.1]},
     {'type': 'MultiStepLR', 'options': {'milestones': [3, 7, 7, 12], 'gamma': 0.3}}),
    ('exponential_lr', {'type': 'SGD', 'lrs': [0.1]}, {'type': 'ExponentialLR', 'options': {'gamma': 0.9}}),
    ('cosine_past_tmax', {'type': 'SGD', 'lrs': [0.1]},
     {'type': 'CosineAnnealingLR', 'options': {'tMax': 8, 'etaMin': 0.001}}),
    ('cosine_tmax20', {'type': 'SGD', 'lrs': [0.5]}, {'type': 'CosineAnnealingLR', 'options': {'tMax': 20}}),
    ('linear_warmup', {'type': 'SGD', 'lrs': [0.1]},
     {'type': 'LinearLR', 'options': {'startFactor': 0.25, 'endFactor': 1.0, 'totalIters': 8}}),
    ('linear_decay', {'type': 'SGD', 'lrs': [0.1]},
     {'type': 'LinearLR', 'options': {'startFactor': 1.0, 'endFactor': 0.1, 'totalIters': 10}}),
    ('linear_defaults', {'type': 'SGD', 'lrs': [0.3]}, {'type': 'LinearLR', 'options': {}}),
    ('constant_lr', {'type': 'SGD', 'lrs': [0.1]}, {'type': 'ConstantLR', 'options': {'factor': 0.5, 'totalIters': 4}}),
    ('polynomial_lr', {'type': 'SGD', 'lrs': [0.1]}, {'type': 'PolynomialLR', 'options': {'totalIters': 12, 'power': 2.0}}),
    ('onecycle_cos', {'type': 'SGD', 'lrs': [0.1], 'options': {'momentum': 0.9}},
     {'type': 'OneCycleLR', 'options': {'maxLr': 1.0, 'totalSteps': 20}}),
    ('onecycle_linear_3phase', {'type': 'SGD', 'lrs': [0.1], 'options': {'momentum': 0.9}},
     {'type': 'OneCycleLR', 'options': {'maxLr': 0.5, 'epochs': 4, 'stepsPerEpoch': 5, 'annealStrategy': 'linear',
                                        'threePhase': True, 'divFactor': 10.0, 'finalDivFactor': 100.0,
                                        'pctStart': 0.25}}),
    ('onecycle_adam_betas', {'type': 'Adam', 'lrs': [0.001]},
     {'type': 'OneCycleLR', 'options': {'maxLr': 0.01, 'totalSteps': 20, 'pctStart': 0.4,
                                        'baseMomentum': 0.8, 'maxMomentum': 0.9}}),
    ('onecycle_no_momentum', {'type': 'Adagrad', 'lrs': [0.1]},
     {'type': 'OneCycleLR', 'options': {'maxLr': 0.2, 'totalSteps': 25, 'cycleMomentum': False}}),
    ('onecycle_two_groups', {'type': 'SGD', 'lrs': [0.1, 0.01], 'options': {'momentum': 0.9}},
     {'type': 'OneCycleLR', 'options': {'maxLr': [1.0, 0.1], 'totalSteps': 20, 'maxMomentum': [0.95, 0.9],
                                        'baseMomentum': 0.85}}),
    ('plateau_min_rel', {'type': 'SGD', 'lrs': [0.1]},
     {'type': 'ReduceLROnPlateau', 'options': {'factor': 0.5, 'patience': 2, 'threshold': 0.01,
                                               'cooldown': 1, 'minLr': 0.01}}),
    ('plateau_max_abs', {'type': 'SGD', 'lrs': [0.1, 0.05]},
     {'type': 'ReduceLROnPlateau', 'options': {'mode': 'max', 'thresholdMode': 'abs', 'threshold': 0.1,
                                               'patience': 1, 'factor': 0.1, 'minLr': [0.001, 0.0], 'eps': 1e-3}}),
    ('plateau_defaults', {'type': 'SGD', 'lrs': [0.1]}, {'type': 'ReduceLROnPlateau', 'options': {'patience': 3}}),
    ('lambda_two_groups', {'type': 'SGD', 'lrs': [0.1, 0.2]},
     {'type': 'LambdaLR', 'lambdas': ['warmup5', 'exp095']}),
    ('lambda_one', {'type': 'SGD', 'lrs': [0.1]}, {'type': 'LambdaLR', 'lambdas': ['halfEvery3']}),
    ('multiplicative', {'type': 'SGD', 'lrs': [0.1]}, {'type': 'MultiplicativeLR', 'lambdas': ['mul098']}),
    ('sequential_warmup_cosine', {'type': 'SGD', 'lrs': [0.1]},
     {'type': 'SequentialLR', 'schedulers': [
         {'type': 'LinearLR', 'options': {'startFactor': 0.1, 'totalIters': 5}},
         {'type': 'CosineAnnealingLR', 'options': {'tMax': 15, 'etaMin': 0.001}}], 'milestones': [5]}),
    ('sequential_three', {'type': 'SGD', 'lrs': [0.1, 0.02]},
     {'type': 'SequentialLR', 'schedulers': [
         {'type': 'ConstantLR', 'options': {'factor': 0.5, 'totalIters': 2}},
         {'type': 'ExponentialLR', 'options': {'gamma': 0.8}},
         {'type': 'StepLR', 'options': {'stepSize': 3, 'gamma': 0.5}}], 'milestones': [4, 10]}),
    ('chained_exp_step', {'type': 'SGD', 'lrs': [0.1]},
     {'type': 'ChainedScheduler', 'schedulers': [
         {'type': 'ExponentialLR', 'options': {'gamma': 0.95}},
         {'type': 'StepLR', 'options': {'stepSize': 4, 'gamma': 0.5}}]}),
    ('two_groups_step', {'type': 'SGD', 'lrs': [0.1, 0.01]}, {'type': 'StepLR', 'options': {'stepSize': 4, 'gamma': 0.7}}),
    ('two_groups_cosine', {'type': 'SGD', 'lrs': [0.1, 0.01]},
     {'type': 'CosineAnnealingLR', 'options': {'tMax': 10, 'etaMin': 0.0005}}),
]


def build_scheduler(opt, spec):
    kind = spec['type']
    if kind == 'SequentialLR':
        subs = [build_scheduler(opt, s) for s in spec['schedulers']]
        return torch.optim.lr_scheduler.SequentialLR(opt, subs, milestones=spec['milestones'])
    if kind == 'ChainedScheduler':
        subs = [build_scheduler(opt, s) for s in spec['schedulers']]
        return torch.optim.lr_scheduler.ChainedScheduler(subs)
    if kind in ('LambdaLR', 'MultiplicativeLR'):
        fns = [LAMBDAS[n] for n in spec['lambdas']]
        return SCHEDULERS[kind](opt, fns if len(fns) > 1 else fns[0])
    if kind == 'ReduceLROnPlateau':
        return torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs(spec['options']))
    return SCHEDULERS[kind](opt, **kwargs(spec['options']))


def make_groups(params, groups):
    if groups is None:
        return params
    return [dict(params=[params[i] for i in idx], **kwargs(o)) for idx, o in groups]


def run_opt_case(problem, case_id, name, opts, groups, sched, dtype):
    x = problem['x'].to(dtype)
    t = problem['t'].to(dtype)
    params = [p.detach().clone().to(dtype).requires_grad_(True) for p in problem['params']]
    opt = OPTIMIZERS[name](make_groups(params, groups), **kwargs(opts))
    scheduler = build_scheduler(opt, sched) if sched else None
    losses, snaps, lrs = [], {}, []
    for step in range(1, STEPS + 1):
        opt.zero_grad()
        loss = loss_fn(params, x, t)
        loss.backward()
        losses.append(loss.item())
        opt.step()
        if scheduler is not None:
            scheduler.step()
            lrs.append([g['lr'] for g in opt.param_groups])
        if step in RECORD_AT:
            snaps[str(step)] = [flat(p) for p in params]
    rec = {'id': case_id if dtype == torch.float64 else case_id + '_f32', 'optimizer': name,
           'dtype': 'float64' if dtype == torch.float64 else 'float32', 'options': opts,
           'groups': [{'params': idx, 'options': o} for idx, o in groups] if groups else None,
           'losses': losses, 'params': snaps}
    if sched:
        rec['scheduler'] = sched
        rec['lrs'] = lrs
    return rec


def momentum_of(group, kind):
    if 'betas' in group:
        return group['betas'][0]
    return group.get('momentum')


def run_sched_case(case_id, ospec, sspec):
    params = [torch.zeros(1, requires_grad=True) for _ in ospec['lrs']]
    groups = [{'params': [p], 'lr': lr} for p, lr in zip(params, ospec['lrs'])]
    opt = OPTIMIZERS[ospec['type']](groups, **kwargs(ospec.get('options', {})))
    sched = build_scheduler(opt, sspec)
    plateau = sspec['type'] == 'ReduceLROnPlateau'
    lrs = [[g['lr'] for g in opt.param_groups]]
    moms = [[momentum_of(g, ospec['type']) for g in opt.param_groups]]
    last = [] if plateau else [list(sched.get_last_lr())]
    for step in range(STEPS):
        # gradients stay None: optimizer.step() is a no-op, but it is called in the right order
        opt.step()
        if plateau:
            sched.step(PLATEAU_METRICS[step])
        else:
            sched.step()
            last.append(list(sched.get_last_lr()))
        lrs.append([g['lr'] for g in opt.param_groups])
        moms.append([momentum_of(g, ospec['type']) for g in opt.param_groups])
    rec = {'id': case_id, 'optimizer': ospec, 'scheduler': sspec, 'lrs': lrs}
    if not plateau:
        rec['lastLrs'] = last
    else:
        rec['metrics'] = PLATEAU_METRICS
    if sspec['type'] == 'OneCycleLR' and sspec['options'].get('cycleMomentum', True):
        rec['momentums'] = moms
    return rec


def run_clip_cases():
    g = torch.Generator().manual_seed(99)
    out = []
    shapes = [[3, 4], [5], [2, 2, 2]]
    for dtype in (torch.float64, torch.float32):
        grads = [torch.randn(s, generator=g, dtype=torch.float64).to(dtype) for s in shapes]
        for max_norm, norm_type in [(1.0, 2.0), (0.5, 1.0), (0.3, math.inf), (100.0, 2.0), (1.0, 3.5), (2.0, 0.0)]:
            ps = [torch.zeros(s, dtype=dtype, requires_grad=True) for s in shapes]
            for p, gr in zip(ps, grads):
                p.grad = gr.clone()
            total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type)
            out.append({'kind': 'norm', 'dtype': str(dtype).replace('torch.', ''), 'maxNorm': max_norm,
                        'normType': num(norm_type), 'shapes': shapes, 'grads': [flat(x) for x in grads],
                        'total': float(total), 'clipped': [flat(p.grad) for p in ps]})
        for clip in (0.2, 1.5):
            ps = [torch.zeros(s, dtype=dtype, requires_grad=True) for s in shapes]
            for p, gr in zip(ps, grads):
                p.grad = gr.clone()
            torch.nn.utils.clip_grad_value_(ps, clip)
            out.append({'kind': 'value', 'dtype': str(dtype).replace('torch.', ''), 'clipValue': clip,
                        'shapes': shapes, 'grads': [flat(x) for x in grads], 'clipped': [flat(p.grad) for p in ps]})
    return out


def main():
    torch.set_default_dtype(torch.float32)
    problem = make_problem()
    opt_cases = []
    for case in OPT_CASES:
        case_id, name, opts = case[:3]
        groups = case[3] if len(case) > 3 else None
        opt_cases.append(run_opt_case(problem, case_id, name, opts, groups, None, torch.float64))
        if case_id in F32_CASES:
            opt_cases.append(run_opt_case(problem, case_id, name, opts, groups, None, torch.float32))
    for case_id, name, opts, groups, sched in SCHED_OPT_CASES:
        opt_cases.append(run_opt_case(problem, case_id, name, opts, groups, sched, torch.float64))
    sched_cases = [run_sched_case(*c) for c in SCHED_CASES]
    fixture = {
        'generator': 'tools/gen_optim_fixtures.py',
        'torch': torch.__version__,
        'steps': STEPS,
        'recordAt': RECORD_AT,
        'problem': {'x': flat(problem['x']), 'xShape': list(problem['x'].shape),
                    't': flat(problem['t']), 'tShape': list(problem['t'].shape),
                    'params': [flat(p) for p in problem['params']],
                    'paramShapes': [list(p.shape) for p in problem['params']]},
        'optimizers': opt_cases,
        'schedulers': sched_cases,
        'clip': run_clip_cases(),
    }
    with open(OUT, 'w') as f:
        json.dump(fixture, f, separators=(',', ':'), allow_nan=False)
        f.write('\n')
    print(f'wrote {OUT}: {len(opt_cases)} optimizer cases, {len(sched_cases)} scheduler cases, '
          f'{len(fixture["clip"])} clip cases')


if __name__ == '__main__':
    main()
