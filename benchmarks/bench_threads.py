"""Why skmlp's numba kernels are single-threaded: Adam's step over 476k
float32 parameters by skmlp's kernel against the same loop with
``parallel=True`` (numba's threads), alone and between the batch-1000
network's forward GEMMs (OpenBLAS's threads) as in training, in
interleaved rounds.

Run from the project root: ``PYTHONPATH=. python benchmarks/bench_threads.py``
"""

import statistics
import time

import numba
import numpy as np

from skmlp._backends import NumpyBackend
from skmlp._nn import Adam


@numba.njit(parallel=True, error_model="numpy")
def adam_parallel(g, beta_1, beta_2, epsilon, rate, p, m, v):
    b1, b2, eps, r = (
        np.float32(beta_1),
        np.float32(beta_2),
        np.float32(epsilon),
        np.float32(rate),
    )
    h1, h2 = np.float32(1 - beta_1), np.float32(1 - beta_2)
    for i in numba.prange(p.shape[0]):
        m[i] = m[i] * b1 + g[i] * h1
        v[i] = v[i] * b2 + g[i] * g[i] * h2
        p[i] = p[i] - m[i] / (np.sqrt(v[i]) + eps) * r


rng = np.random.default_rng(0)
n = 476_000
p, g = (
    rng.standard_normal(n, dtype=np.float32),
    rng.standard_normal(n, dtype=np.float32),
)
opt = Adam()
opt.prepare(p, NumpyBackend())
serial = NumpyBackend().optimizer_step(opt)
m, v = np.zeros(n, np.float32), np.zeros(n, np.float32)
parallel = lambda p, g, lr, s: adam_parallel(g, 0.9, 0.999, 1e-8, lr, p, m, v)
X = rng.standard_normal((1000, 784), dtype=np.float32)
Ws = [
    rng.standard_normal(s, dtype=np.float32)
    for s in [(784, 512), (512, 128), (128, 64), (64, 10)]
]
outs = [np.empty((1000, w.shape[1]), np.float32) for w in Ws]
scratch = np.empty_like(p)


def alone(step):
    for _ in range(60):
        step(p, g, 1e-3, scratch)


def in_training(step):
    for _ in range(60):
        a = X
        for w, o in zip(Ws, outs):
            np.matmul(a, w, out=o)
            a = o
        step(p, g, 1e-3, scratch)


def gemms_only(step):
    in_training(lambda *args: None)


serial(p, g, 1e-3, scratch)
parallel(p, g, 1e-3, scratch)
times = {}
for _ in range(7):
    for name, step in (("serial", serial), ("parallel", parallel)):
        for where, run in (("alone", alone), ("in training", in_training)):
            t = time.perf_counter()
            run(step)
            times.setdefault((name, where), []).append(time.perf_counter() - t)
    t = time.perf_counter()
    gemms_only(None)
    times.setdefault(("gemms", "only"), []).append(time.perf_counter() - t)
print(f"numba threads: {numba.get_num_threads()}, layer {numba.threading_layer()}")
for key, ts in times.items():
    print(
        key,
        f"median {statistics.median(ts) * 1e3:.1f} ms per 60 steps, min {min(ts) * 1e3:.1f}",
    )
