#!/usr/bin/python3
"""Writes reference numbers for nn.init and the random special functions -> test/fixtures/init.json.

Run with Debian's python3-torch (mpmath comes with it):  /usr/bin/python3 tools/gen_init_fixtures.py

- gains: torch.nn.init.calculate_gain for every nonlinearity (and leaky_relu slopes);
- fans: torch's fan-in/fan-out of Linear and Conv weight shapes;
- bounds: the uniform bound / normal std of xavier_* and kaiming_* as torch computes them for a
  shape and options, plus the extreme |value| torch itself drew for a large tensor (bound check);
- special: exp(y^2) erfc(y), log Phi(x) and the normal quantile from a log-probability, to 30 digits
  (mpmath), for the exact truncated normal;
- trunc: the mean and std of N(mean, std^2) truncated to [a, b] (closed form, mpmath).
"""
import json
import math
import os

import mpmath as mp
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'test', 'fixtures', 'init.json')
init = torch.nn.init
mp.mp.dps = 40


def gains():
    out = []
    for name in ['linear', 'conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d',
                 'conv_transpose3d', 'sigmoid', 'tanh', 'relu', 'selu']:
        out.append({'nonlinearity': name, 'param': None, 'gain': init.calculate_gain(name)})
    for p in [None, 0, 0.01, 0.1, 0.2, 1, math.sqrt(5)]:
        out.append({'nonlinearity': 'leaky_relu', 'param': p, 'gain': init.calculate_gain('leaky_relu', p)})
    return out


def fans():
    shapes = {
        'Linear(20, 30)': torch.nn.Linear(20, 30).weight.shape,
        'Linear(1, 7)': torch.nn.Linear(1, 7).weight.shape,
        'Conv1d(3, 8, 5)': torch.nn.Conv1d(3, 8, 5).weight.shape,
        'Conv2d(3, 16, 3)': torch.nn.Conv2d(3, 16, 3).weight.shape,
        'Conv2d(8, 16, (3, 5), groups=4)': torch.nn.Conv2d(8, 16, (3, 5), groups=4).weight.shape,
        'Conv3d(2, 4, 3)': torch.nn.Conv3d(2, 4, 3).weight.shape,
        'ConvTranspose2d(6, 4, 3)': torch.nn.ConvTranspose2d(6, 4, 3).weight.shape,
    }
    out = []
    for name, shape in shapes.items():
        fi, fo = init._calculate_fan_in_and_fan_out(torch.empty(shape))
        out.append({'layer': name, 'shape': list(shape), 'fanIn': fi, 'fanOut': fo})
    return out


def bounds():
    torch.manual_seed(0)
    cases = [
        ('xavierUniform_', [300, 200], {'gain': 1.0}),
        ('xavierUniform_', [64, 32, 3, 3], {'gain': init.calculate_gain('relu')}),
        ('xavierNormal_', [300, 200], {'gain': 1.0}),
        ('xavierNormal_', [64, 32, 3, 3], {'gain': 5.0 / 3}),
        ('kaimingUniform_', [300, 200], {}),
        ('kaimingUniform_', [300, 200], {'a': math.sqrt(5)}),
        ('kaimingUniform_', [64, 32, 3, 3], {'mode': 'fanOut', 'nonlinearity': 'relu'}),
        ('kaimingNormal_', [300, 200], {}),
        ('kaimingNormal_', [64, 32, 3, 3], {'mode': 'fanOut', 'nonlinearity': 'relu'}),
        ('kaimingNormal_', [128, 64], {'a': 0.2, 'nonlinearity': 'leaky_relu'}),
    ]
    out = []
    for fn, shape, opts in cases:
        t = torch.empty(shape)
        if fn.startswith('xavier'):
            fi, fo = init._calculate_fan_in_and_fan_out(t)
            std = opts['gain'] * math.sqrt(2.0 / float(fi + fo))
            (init.xavier_uniform_ if fn == 'xavierUniform_' else init.xavier_normal_)(t, gain=opts['gain'])
        else:
            mode = {'fanIn': 'fan_in', 'fanOut': 'fan_out'}[opts.get('mode', 'fanIn')]
            fan = init._calculate_correct_fan(t, mode)
            gain = init.calculate_gain(opts.get('nonlinearity', 'leaky_relu'), opts.get('a', 0))
            std = gain / math.sqrt(fan)
            f = init.kaiming_uniform_ if fn == 'kaimingUniform_' else init.kaiming_normal_
            f(t, a=opts.get('a', 0), mode=mode, nonlinearity=opts.get('nonlinearity', 'leaky_relu'))
        entry = {'fn': fn, 'shape': shape, 'opts': opts, 'std': std, 'torchSampleStd': t.std().item()}
        if fn.endswith('Uniform_'):
            entry['bound'] = math.sqrt(3.0) * std
            entry['torchMaxAbs'] = t.abs().max().item()
        out.append(entry)
    return out


def special():
    ys = [0, 1e-8, 0.1, 0.5, 1, 1.5, 1.9, 2, 2.1, 2.5, 3, 4, 5, 7, 10, 27, 100]
    xs = [-40, -30, -10, -5, -3, -2, -1, -0.5, -1e-3, 0, 1e-3, 0.5, 1, 2, 3, 5, 8]
    logps = [-2000, -500, -50, -10, -3, -1, -0.7, math.log(0.5)]
    erfcx = [{'y': y, 'v': float(mp.exp(mp.mpf(y) ** 2) * mp.erfc(y))} for y in ys]
    logcdf = [{'x': x, 'v': float(mp.log(mp.ncdf(x)))} for x in xs]
    icdf = []
    for lp in logps:
        # solve log Phi(x) = lp to 40 digits
        x = mp.findroot(lambda x: mp.log(mp.ncdf(x)) - lp, -math.sqrt(-2 * lp) if lp < -1 else -0.5)
        icdf.append({'logp': lp, 'x': float(x)})
    return {'erfcx': erfcx, 'logcdf': logcdf, 'icdf': icdf}


def trunc():
    out = []
    for mean, std, a, b in [(0, 1, -2, 2), (0, 1, 0, 1), (1, 2, -1, 6), (0, 1, 2, 3), (0, 1, 5, 6),
                            (0, 1, -6, -5), (0, 0.02, -2, 2), (3, 1, -math.inf, 2.5), (0, 1, 30, 31)]:
        al, be = mp.mpf(a - mean) / std, mp.mpf(b - mean) / std
        z = (mp.erfc(al / mp.sqrt(2)) - mp.erfc(be / mp.sqrt(2))) / 2  # exact in the upper tail too
        pa, pb = mp.npdf(al), mp.npdf(be)
        ta = al * pa if al != -mp.inf else 0
        tb = be * pb if be != mp.inf else 0
        m = mean + std * (pa - pb) / z
        var = std ** 2 * (1 + (ta - tb) / z - ((pa - pb) / z) ** 2)
        out.append({'mean': mean, 'std': std, 'a': a if math.isfinite(a) else None,
                    'b': b, 'tMean': float(m), 'tStd': float(mp.sqrt(var))})
    return out


def main():
    data = {'torch': torch.__version__, 'gains': gains(), 'fans': fans(), 'bounds': bounds(),
            'special': special(), 'trunc': trunc()}
    with open(OUT, 'w') as f:
        json.dump(data, f, indent=1)
        f.write('\n')
    print('wrote', os.path.relpath(OUT))


if __name__ == '__main__':
    main()
