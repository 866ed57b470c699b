#!/usr/bin/env python3
"""PyTorch side of the issue-#5 performance suite (bench/perf.ts runs it with /usr/bin/python3).

Prints one JSON object on stdout: {"torch": version, "blas": ..., "results": {key: {...}}}, where
each result holds "ms" (median time per call, in milliseconds) and "samples" (per-call sample
times), plus "gflops" / "gbps" where meaningful. The keys and the work of each case mirror
bench/perf.ts exactly:

Every case runs at 1 and at --threads threads (keys <case>_t1, <case>_t2):
  gemm               float32 1024x1024 @ 1024x1024
  conv               conv2d x (32, 64, 32, 32), w (64, 64, 3, 3), padding 1: forward + dX + dW
                     (y.sum().backward())
  mlp_step           one SGD step of Linear(784, 100), ReLU, Linear(100, 10) with cross-entropy,
                     batch 100 (zero_grad, forward, backward, step)
  axpb               y = x * a + b with Python scalars a, b on 16M (2^24) float32
  epoch              one epoch of needle's MLPResNet(784, 100, 3 blocks, BatchNorm1d, dropout 0.1,
                     10 classes) on 60,000 random 784-d inputs with random labels, batch 100,
                     Adam(lr 1e-3, weight decay 1e-3), loss.item() every step
  add16              torch.add of two 16-element float32 tensors

Threads: torch.set_num_threads(n) sets ATen's OpenMP threads only; Debian's torch calls the
pthread build of OpenBLAS, whose thread count is set separately (openblas_set_num_threads), so
both are set for every case. On a loaded machine OpenMP threads can be much slower at 2 threads
than at 1, which is why both are measured.

Usage: /usr/bin/python3 bench/torch_perf.py [--quick] [--threads N] [--only key,key]
"""
import argparse
import ctypes
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def _openblas_handles():
    out = []
    for name in ("libblas.so.3", "libopenblas.so.0"):
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        if hasattr(lib, "openblas_set_num_threads"):
            out.append(lib)
    return out


OPENBLAS = _openblas_handles()


def blas_config():
    for lib in OPENBLAS:
        if hasattr(lib, "openblas_get_config"):
            lib.openblas_get_config.restype = ctypes.c_char_p
            return lib.openblas_get_config().decode()
    return "unknown BLAS"


def set_threads(n):
    torch.set_num_threads(n)
    for lib in OPENBLAS:
        lib.openblas_set_num_threads(n)


def median(xs):
    s = sorted(xs)
    h = len(s) // 2
    return s[h] if len(s) % 2 else (s[h - 1] + s[h]) / 2


def timeit(fn, reps=11, min_sample_ms=20.0, warmup_ms=100.0, budget_ms=None):
    """bench/util.ts's time(): warm-up, then `reps` samples of `inner` calls; per-call ms.
    With budget_ms (one call per sample), a slow fn gets fewer samples, as perf.ts's timeBig."""
    if budget_ms is not None:
        t0 = time.perf_counter()
        fn()
        first = (time.perf_counter() - t0) * 1e3
        if first * (reps + 1) > budget_ms:
            n = min(reps, int((budget_ms - first) // first))
            if n < 1:
                return {"ms": first, "samples": [first], "note": "one sample (the first, cold call): one call exceeds the per-case time budget"}
            samples = []
            for _ in range(n):
                t0 = time.perf_counter()
                fn()
                samples.append((time.perf_counter() - t0) * 1e3)
            return {"ms": median(samples), "samples": samples, "note": f"{n} samples after a warm-up call (per-case time budget)"}
    calls = 0
    w0 = time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = (time.perf_counter() - w0) * 1e3
        if elapsed >= warmup_ms or calls >= 1000:
            break
    est = elapsed / calls
    inner = max(1, math.ceil(min_sample_ms / max(est, 1e-6)))
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t0) * 1e3 / inner)
    return {"ms": median(samples), "samples": samples, "inner": inner}


class Residual(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x) + x


def residual_block(dim, hidden, norm=nn.BatchNorm1d, drop=0.1):
    return nn.Sequential(
        Residual(nn.Sequential(nn.Linear(dim, hidden), norm(hidden), nn.ReLU(), nn.Dropout(drop), nn.Linear(hidden, dim), norm(dim))),
        nn.ReLU(),
    )


def mlp_resnet(dim, hidden=100, blocks=3, classes=10, norm=nn.BatchNorm1d, drop=0.1):
    """needle's MLPResNet (src/models/mlp_resnet.ts): 110,860 parameters for dim 784."""
    return nn.Sequential(
        nn.Linear(dim, hidden), nn.ReLU(),
        *[residual_block(hidden, hidden // 2, norm, drop) for _ in range(blocks)],
        nn.Linear(hidden, classes),
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", default="", help="comma-separated: gemm,conv,mlp_step,axpb,epoch,add16")
    args = ap.parse_args()
    only = [s for s in args.only.split(",") if s]
    want = lambda k: not only or k in only  # noqa: E731
    quick = args.quick
    # the same sampling as bench/perf.ts (BIG, BIG_BUDGET_MS, SMALL, EPOCH)
    big = dict(reps=3, min_sample_ms=0.0, warmup_ms=0.0, budget_ms=3000.0) if quick else dict(reps=7, min_sample_ms=0.0, warmup_ms=2000.0, budget_ms=8000.0)
    small = dict(reps=5, min_sample_ms=2.0, warmup_ms=20.0) if quick else dict(reps=15, min_sample_ms=5.0, warmup_ms=100.0)
    epoch_budget_ms = 4000.0 if quick else 15000.0
    torch.manual_seed(0)
    res = {}
    T = args.threads
    set_threads(T)

    def emit():
        """Prints the results so far (cumulative, one line): a run stopped at its time limit keeps them."""
        sys.stdout.write(json.dumps({
            "torch": torch.__version__,
            "python": sys.version.split()[0],
            "blas": blas_config(),
            "threads": T,
            "results": res,
        }) + "\n")
        sys.stdout.flush()

    thread_counts = sorted({1, T})

    def collapsed(t, base, fn):
        """At t > 1 threads: a warm-up call and a timed one; the timed ms when it is over 4x the
        1-thread median (OpenMP threads on busy cores can be many times slower), else None."""
        if t == 1 or base is None:
            return None
        fn()
        t0 = time.perf_counter()
        fn()
        ms = (time.perf_counter() - t0) * 1e3
        return ms if ms > 4 * base["ms"] else None

    def measure(key, fn, opts, rate=None):
        """`key`_t1, `key`_t<T>: timeit at each thread count (the slow thread count cut short)."""
        for t in thread_counts:
            set_threads(t)
            slow = collapsed(t, res.get(f"{key}_t1"), fn)
            if slow is not None:
                r = {"ms": slow, "samples": [slow], "note": f"one call after a warm-up: over 4x slower than at 1 thread (busy cores); not measured further"}
            else:
                r = timeit(fn, **opts)
            if rate is not None:
                r.update(rate(r["ms"]))
            res[f"{key}_t{t}"] = r
        set_threads(T)
        emit()

    if want("gemm"):
        n = 1024
        a, b = torch.randn(n, n), torch.randn(n, n)
        measure("gemm", lambda: torch.mm(a, b), big, lambda ms: {"gflops": 2 * n ** 3 / ms / 1e6})

    if want("conv"):
        x = torch.randn(32, 64, 32, 32, requires_grad=True)
        w = (torch.randn(64, 64, 3, 3) * 0.05).requires_grad_()

        def conv():
            x.grad = None
            w.grad = None
            F.conv2d(x, w, padding=1).sum().backward()

        measure("conv", conv, big, lambda ms: {"gflops": 3 * 2 * 32 * 64 * 32 * 32 * 64 * 9 / ms / 1e6})

    if want("mlp_step"):
        model = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        X = torch.randn(100, 784)
        Y = torch.randint(0, 10, (100,))

        def step():
            opt.zero_grad()
            F.cross_entropy(model(X), Y).backward()
            opt.step()

        measure("mlp_step", step, small)

    if want("axpb"):
        N = 1 << 24
        x = torch.randn(N)
        measure("axpb", lambda: x * 2.5 + 1.5, big, lambda ms: {"gbps": 2 * 4 * N / ms / 1e6})

    if want("epoch"):
        n_train = 6000 if quick else 60000
        batch = 100
        chunk = 10 if quick else 50
        X = torch.randn(n_train, 784)
        Y = torch.randint(0, 10, (n_train,))
        steps = n_train // batch
        for t in thread_counts:
            set_threads(t)
            torch.manual_seed(0)
            model = mlp_resnet(784, 100, 3, 10)
            assert sum(p.numel() for p in model.parameters()) == 110860
            opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-3)
            model.train()

            def step(i):
                xb, yb = X[i * batch:(i + 1) * batch], Y[i * batch:(i + 1) * batch]
                opt.zero_grad()
                loss = F.cross_entropy(model(xb), yb)
                loss.backward()
                opt.step()
                return loss.item()

            # warm-up, and an estimate of one step (as perf.ts's timeEpoch)
            step(0)
            t0 = time.perf_counter()
            step(1)
            est = (time.perf_counter() - t0) * 1e3
            base = res.get("epoch_t1")
            if t > 1 and base is not None and est * steps > 4 * base["ms"]:
                res[f"epoch_t{t}"] = {"ms": est * steps, "samples": [est], "steps": steps, "measuredSteps": 1, "chunk": 1, "data": "random",
                                      "note": "one step after a warm-up step: over 4x slower than at 1 thread (busy cores); not measured further"}
                continue
            step(2)
            # whole epoch when it fits the budget, else up to 12 chunks of fewer steps (extrapolated)
            c, measured = chunk, steps
            if est * steps > epoch_budget_ms:
                c = max(1, int(epoch_budget_ms / 12 / est))
                measured = min(steps, c * max(1, min(12, int(epoch_budget_ms / (c * est)))))
            chunks = []
            t0 = time.perf_counter()
            for c0 in range(0, measured - c + 1, c):
                s = time.perf_counter()
                for i in range(c0, c0 + c):
                    step(i % steps)
                chunks.append((time.perf_counter() - s) * 1e3)
            wall = (time.perf_counter() - t0) * 1e3
            res[f"epoch_t{t}"] = {
                # `steps` steps at the median chunk's pace (robust to other load); wallMs: the plain total
                "ms": median(chunks) * steps / c, "wallMs": wall if measured == steps else None, "samples": chunks,
                "steps": steps, "measuredSteps": measured, "chunk": c, "data": "random",
            }
        set_threads(T)
        emit()

    if want("add16"):
        a, b = torch.randn(16), torch.randn(16)
        measure("add16", lambda: torch.add(a, b), small)

    emit()


if __name__ == "__main__":
    main()
