"""CPU threads: how training scales with them, and why skmlp's numba kernels
use one.

Two measurements, run from the project root:

``PYTHONPATH=. python benchmarks/bench_threads.py --scaling 1 4 16``
    Seconds per epoch of skmlp, PyTorch (CPU) and scikit-learn, and of the
    network's matrix products alone (the GEMM floor), on the MNIST-shaped
    float32 784-512-128-64-10 network at batch 1000 -- the candidates of
    ``bench_cpu.py``, timed as it times them (interleaved rounds, median) --
    with each number of threads. Each number runs in a fresh process: the
    BLAS and OpenMP thread pools take their size from the environment
    (``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``) when
    they load, and the process reports the sizes it got (threadpoolctl,
    ``torch.get_num_threads``). Numbers above the machine's cores are
    skipped: oversubscribed figures say nothing. ``--json PATH`` writes the
    figures (after each number, so a run cut short keeps what it measured).

``PYTHONPATH=. python benchmarks/bench_threads.py``
    Adam's step over 476k float32 parameters by skmlp's kernel against the
    same loop with ``parallel=True`` (numba's threads), alone and between the
    batch-1000 network's forward GEMMs (OpenBLAS's threads) as in training,
    in interleaved rounds: why the kernels are single-threaded.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
CANDIDATES = ("skmlp", "pytorch", "sklearn", "gemm floor")


# ---------------------------------------------------------------- scaling
def scaling(thread_counts, n_samples, epochs, rounds, json_path=None):
    """Time the candidates with each of ``thread_counts`` threads, one fresh
    process each; print a table and return the figures."""
    cores = os.cpu_count()
    results = {"cores": cores, "n_samples": n_samples, "epochs": epochs, "counts": {}}
    for threads in thread_counts:
        if threads > cores:
            results["counts"][str(threads)] = {
                "skipped": f"{threads} threads > {cores} cores"
            }
        else:
            results["counts"][str(threads)] = _run_worker(
                threads, n_samples, epochs, rounds
            )
        print(f"{threads_label(threads)}: done", flush=True)
        if json_path:
            with open(json_path, "w") as f:
                json.dump(results, f, indent=1)
    print_scaling(results)
    return results


def _run_worker(threads, n_samples, epochs, rounds):
    env = dict(os.environ, **{name: str(threads) for name in THREAD_VARIABLES})
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "worker.json")
        command = [
            sys.executable, __file__, "--worker", str(threads),
            "--samples", str(n_samples), "--epochs", str(epochs),
            "--rounds", str(rounds), "--json", path,
        ]
        # A failed number is reported with its output, and the others go on.
        run = subprocess.run(
            command, env=env, capture_output=True, text=True, check=False
        )
        if run.returncode != 0:
            return {"failed": (run.stdout + run.stderr)[-2000:]}
        with open(path) as f:
            return json.load(f)


def worker(threads, n_samples, epochs, rounds, json_path):
    """In a process whose thread pools were sized by the environment: time
    the candidates, write their seconds per epoch (one per round) and the
    pool sizes to ``json_path``."""
    import bench_cpu
    from threadpoolctl import threadpool_info

    if bench_cpu.torch is not None:
        bench_cpu.torch.set_num_threads(threads)
    X, y = bench_cpu.mnist_like(n_samples)
    setting = bench_cpu.SETTINGS["mnist1000"]
    units = [X.shape[1], *bench_cpu.HIDDEN, 10]
    peers = {"pytorch"} if bench_cpu.torch is not None else set()
    candidates = [
        c
        for c in bench_cpu.make_candidates(setting, units, epochs, peers)
        if c.name in CANDIDATES
    ]
    times = bench_cpu.time_epochs(candidates, X, y, rounds, settle=0.2)
    pools = [
        {key: pool[key] for key in ("user_api", "internal_api", "num_threads")}
        for pool in threadpool_info()
    ]
    if bench_cpu.torch is not None:
        pools.append(
            {"user_api": "torch", "num_threads": bench_cpu.torch.get_num_threads()}
        )
    with open(json_path, "w") as f:
        json.dump({"threads": threads, "pools": pools, "seconds": times}, f)


def print_scaling(results):
    """Median seconds per epoch by candidate and number of threads, and the
    speed-up over one thread."""
    counts = results["counts"]
    print(f"\nseconds per epoch (median), {results['cores']} cores:")
    print(f"{'':14}" + "".join(f"{threads_label(int(n)):>14}" for n in counts))
    for name in CANDIDATES:
        cells = []
        for figures in counts.values():
            seconds = figures.get("seconds", {}).get(name)
            cells.append(
                f"{statistics.median(seconds):14.3f}" if seconds else f"{'-':>14}"
            )
        print(f"{name:14}" + "".join(cells))
    for threads, figures in counts.items():
        if "seconds" not in figures:
            why = figures.get("skipped") or "failed"
            print(f"{threads_label(int(threads))}: {why}")
            if "failed" in figures:
                print(figures["failed"])


def threads_label(n):
    return "1 thread" if n == 1 else f"{n} threads"


# ---------------------------------------------------------------- numba
def numba_parallel_vs_serial():
    """Adam's step by skmlp's single-threaded kernel against a
    ``parallel=True`` loop, alone and between GEMMs; print the medians."""
    import numba

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

    def parallel(p, g, lr, s):
        adam_parallel(g, 0.9, 0.999, 1e-8, lr, p, m, v)

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
            f"median {statistics.median(ts) * 1e3:.1f} ms per 60 steps, "
            f"min {min(ts) * 1e3:.1f}",
        )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--scaling", type=int, nargs="+", metavar="THREADS",
        help="time training with each of these numbers of threads")
    add("--samples", type=int, default=60_000, help="MNIST-shaped rows (60000)")
    add("--epochs", type=int, default=1, help="epochs per timed fit (1)")
    add("--rounds", type=int, default=3, help="timed fits per candidate (3)")
    add("--json", metavar="PATH", help="also write the scaling figures here")
    add("--worker", type=int, help=argparse.SUPPRESS)  # one process's share
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.worker is not None:
        worker(args.worker, args.samples, args.epochs, args.rounds, args.json)
    elif args.scaling:
        scaling(args.scaling, args.samples, args.epochs, args.rounds, args.json)
    else:
        numba_parallel_vs_serial()


if __name__ == "__main__":
    main()
