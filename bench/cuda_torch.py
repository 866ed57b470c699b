#!/usr/bin/env python3
"""PyTorch side of bench/cuda.ts (issue #7): the same cases on the same GPU, timed the same way.

Prints one JSON line: {"torch": version, "device": name, "results": {key: value}} with
  mlp_resnet, resnet9  milliseconds per training step (median chunk)
  sgemm                TFLOP/s of float32 n x n @ n x n (TF32 off: torch's default for matmul)
  axpb, copy           GB/s counting 8 bytes per element (read x, write y)
Models mirror needle's src/models: MLPResNet (784 -> 100, 3 residual blocks of Linear, BatchNorm1d,
ReLU, Dropout(0.1), Linear, BatchNorm1d; ReLU after each block; Linear(100, 10)) and ResNet9
(ConvBN(3,16,7,4), ConvBN(16,32,3,2), Residual(2x ConvBN(32,32,3,1)), ConvBN(32,64,3,2),
ConvBN(64,128,3,2), Residual(2x ConvBN(128,128,3,1)), Flatten, Linear(128,128), ReLU, Linear(128,10)).
Usage: python bench/cuda_torch.py [--quick] [--only=key,...]
"""
import json
import sys
import time

import torch
import torch.nn as nn

quick = "--quick" in sys.argv
only = None
for a in sys.argv[1:]:
    if a.startswith("--only="):
        only = set(a[7:].split(","))


def want(k):
    return only is None or k in only


dev = torch.device("cuda")
torch.backends.cuda.matmul.allow_tf32 = False


def timeit(fn, reps, samples, warm=3):
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    ms = []
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        torch.cuda.synchronize()
        ms.append((time.perf_counter() - t0) * 1e3 / reps)
    ms.sort()
    return ms[len(ms) // 2]


class ResidualBlock(nn.Module):
    def __init__(self, dim, hidden, drop=0.1):
        super().__init__()
        self.f = nn.Sequential(nn.Linear(dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(drop),
                               nn.Linear(hidden, dim), nn.BatchNorm1d(dim))
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(x + self.f(x))


def mlp_resnet(dim=784, hidden=100, blocks=3, classes=10):
    return nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(),
                         *[ResidualBlock(hidden, hidden // 2) for _ in range(blocks)],
                         nn.Linear(hidden, classes))


def conv_bn(cin, cout, k, s):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2), nn.BatchNorm2d(cout), nn.ReLU())


class Residual(nn.Module):
    def __init__(self, f):
        super().__init__()
        self.f = f

    def forward(self, x):
        return x + self.f(x)


def resnet9():
    return nn.Sequential(conv_bn(3, 16, 7, 4), conv_bn(16, 32, 3, 2),
                         Residual(nn.Sequential(conv_bn(32, 32, 3, 1), conv_bn(32, 32, 3, 1))),
                         conv_bn(32, 64, 3, 2), conv_bn(64, 128, 3, 2),
                         Residual(nn.Sequential(conv_bn(128, 128, 3, 1), conv_bn(128, 128, 3, 1))),
                         nn.Flatten(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))


def train_step(model, in_shape, batch, reps, samples):
    model = model.to(dev).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    data = [(torch.randn(batch, *in_shape, device=dev), torch.randint(0, 10, (batch,), device=dev)) for _ in range(4)]
    i = [0]

    def step():
        x, y = data[i[0] % 4]
        i[0] += 1
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    return timeit(step, reps, samples, 5)


res = {}
if want("sgemm"):
    n = 2048 if quick else 8192
    a = torch.randn(n, n, device=dev)
    b = torch.randn(n, n, device=dev)
    ms = timeit(lambda: a @ b, 3 if quick else 5, 3 if quick else 7, 2)
    res["sgemm"] = 2 * n ** 3 / (ms * 1e-3) / 1e12
    del a, b
if want("axpb") or want("copy"):
    n = 1 << (24 if quick else 28)
    x = torch.full((n,), 1.25, device=dev)
    if want("axpb"):
        res["axpb"] = 8 * n / (timeit(lambda: x * 2.5 + 1.5, 5, 3 if quick else 9) * 1e-3) / 1e9
    y = torch.empty_like(x)
    res["copy"] = 8 * n / (timeit(lambda: y.copy_(x), 5, 3 if quick else 9) * 1e-3) / 1e9
    del x, y
if want("mlp_resnet"):
    res["mlp_resnet"] = train_step(mlp_resnet(), (784,), 100, 10 if quick else 50, 3 if quick else 7)
if want("resnet9"):
    res["resnet9"] = train_step(resnet9(), (3, 32, 32), 128, 3 if quick else 10, 3 if quick else 7)

print(json.dumps({"torch": torch.__version__, "device": torch.cuda.get_device_name(0), "results": res}))
