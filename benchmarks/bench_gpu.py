"""GPU training speed: skmlp on CuPy vs PyTorch eager vs the cuBLAS GEMM floor,
and skmlp on NumPy on the same machine.

The MNIST-shaped task: 60000 x 784 float32 inputs (generated with
a fixed seed, no download), 10 classes, the 784-512-128-64-10 ReLU network,
Adam (lr 1e-3, no L2 penalty), batch sizes 1000 and 256, 10 epochs, data
resident on the device, shuffled every epoch. Float32 matmuls run in full
FP32 for everybody (no TF32: CuPy's default, and PyTorch's
``allow_tf32 = False``).

What each row times:

- skmlp cupy / numpy: ``MLPClassifierScratch.fit`` on host NumPy float32
  data (the user's path: validation, one upload, training, download).
  "per epoch" is steady state, ``(t(E epochs) - t(1 epoch)) / (E - 1)``, so
  one-off costs (validation, upload, kernel compilation) do not count;
  "fit" is the whole E-epoch call after a warm-up fit.
- pytorch eager: ``nn.Sequential`` of the same layers, ``CrossEntropyLoss``,
  ``torch.optim.Adam`` (default foreach implementation, and ``fused=True``),
  data on the GPU, ``randperm`` + ``index_select`` batches, the loss summed on
  the device and read once per epoch; mean epoch time after one warm-up epoch.
- cuBLAS GEMM floor: only the 11 matrix products of one training step (4
  forward, 4 weight gradients on transposed views, 3 input gradients) for
  every batch of an epoch, through ``cupy.matmul`` into preallocated outputs.

Run on a GPU machine from the project root::

    PYTHONPATH=. python3 benchmarks/bench_gpu.py
    PYTHONPATH=. python3 benchmarks/bench_gpu.py --batch-sizes 1000 --epochs 5 \
        --numpy-epochs 2 --json results.json
"""

import argparse
import itertools
import json
import math
import os
import platform
import sys
import time
import warnings
from functools import partial

import numpy as np

LAYERS = (784, 512, 128, 64, 10)
N_SAMPLES = 60_000


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1000, 256])
    parser.add_argument(
        "--numpy-epochs",
        type=int,
        default=3,
        help="epochs of the (slow) NumPy runs; its per-epoch time is steady "
        "state like the others (default: 3)",
    )
    parser.add_argument("--skip-numpy", action="store_true")
    parser.add_argument("--skip-torch", action="store_true")
    parser.add_argument("--json", metavar="PATH", help="also write the results here")
    return parser.parse_args(argv)


def mnist_shaped(seed=0):
    """60000 x 784 float32 'images' in [0, 1] and 10 learnable classes."""
    rng = np.random.default_rng(seed)
    X = rng.random((N_SAMPLES, LAYERS[0]), dtype=np.float32)
    teacher = rng.standard_normal((LAYERS[0], LAYERS[-1])).astype(np.float32)
    y = np.argmax((X - 0.5) @ teacher, axis=1)
    return X, y


def gemm_flops_per_epoch(batch_size):
    """Floating-point operations of the 11 GEMMs of every step of one epoch."""
    total = 0
    for start in range(0, N_SAMPLES, batch_size):
        rows = min(batch_size, N_SAMPLES - start)
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(LAYERS)):
            products = 2 if i == 0 else 3  # forward, weight grad, input grad
            total += products * 2 * rows * fan_in * fan_out
    return total


# --------------------------------------------------------------- skmlp
def skmlp_fit_seconds(backend, X, y, batch_size, epochs, synchronize):
    from skmlp import MLPClassifierScratch

    model = MLPClassifierScratch(
        hidden_layer_sizes=LAYERS[1:-1],
        solver="adam",
        alpha=0.0,
        batch_size=batch_size,
        learning_rate_init=1e-3,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=np.inf,
        shuffle=True,
        random_state=0,
        backend=backend,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter reached
        synchronize()
        start = time.perf_counter()
        model.fit(X, y)
        synchronize()
    return time.perf_counter() - start, model.loss_curve_[-1]


def bench_skmlp(backend, X, y, batch_size, epochs, synchronize):
    skmlp_fit_seconds(backend, X, y, batch_size, 1, synchronize)  # warm-up
    one, _ = skmlp_fit_seconds(backend, X, y, batch_size, 1, synchronize)
    full, loss = skmlp_fit_seconds(backend, X, y, batch_size, epochs, synchronize)
    return {"fit_s": full, "epoch_s": (full - one) / (epochs - 1), "loss": loss}


# --------------------------------------------------------------- PyTorch
def bench_torch(X, y, batch_size, epochs, fused, device="cuda"):
    import torch
    from torch import nn

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(0)
    device = torch.device(device)

    def synchronize():
        if device.type == "cuda":
            torch.cuda.synchronize()

    layers = []
    for fan_in, fan_out in itertools.pairwise(LAYERS):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    model = nn.Sequential(*layers[:-1]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=fused)
    loss_function = nn.CrossEntropyLoss()
    X_device = torch.from_numpy(X).to(device)
    y_device = torch.from_numpy(y).to(device=device, dtype=torch.long)

    def epoch():
        order = torch.randperm(N_SAMPLES, device=device)
        total = torch.zeros((), device=device)
        for start in range(0, N_SAMPLES, batch_size):
            rows = order[start : start + batch_size]
            xb, yb = X_device.index_select(0, rows), y_device.index_select(0, rows)
            optimizer.zero_grad(set_to_none=True)
            loss = loss_function(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.detach() * rows.numel()
        return float(total) / N_SAMPLES  # the one host sync of the epoch

    epoch()  # warm-up: cuBLAS handles, allocator, kernels
    synchronize()
    start = time.perf_counter()
    for _ in range(epochs):
        loss = epoch()
    synchronize()
    seconds = time.perf_counter() - start
    return {"fit_s": seconds, "epoch_s": seconds / epochs, "loss": loss}


# --------------------------------------------------------------- GEMM floor
def bench_gemm_floor(cupy, batch_size, epochs):
    rng = np.random.default_rng(0)
    shapes = list(itertools.pairwise(LAYERS))
    weights = [cupy.asarray(rng.standard_normal(s, dtype=np.float32)) for s in shapes]
    weight_grads = [cupy.empty_like(w) for w in weights]
    X = cupy.asarray(rng.random((batch_size, LAYERS[0]), dtype=np.float32))
    activations = [cupy.empty((batch_size, u), np.float32) for u in LAYERS[1:]]
    deltas = [
        cupy.asarray(rng.random((batch_size, u), dtype=np.float32)) for u in LAYERS[1:]
    ]
    batches = [
        min(batch_size, N_SAMPLES - start) for start in range(0, N_SAMPLES, batch_size)
    ]

    def epoch():
        for rows in batches:
            a = X[:rows]
            for w, z in zip(weights, activations):
                cupy.matmul(a, w, out=z[:rows])
                a = z[:rows]
            for i in range(len(weights) - 1, -1, -1):
                a_in = X[:rows] if i == 0 else activations[i - 1][:rows]
                cupy.matmul(a_in.T, deltas[i][:rows], out=weight_grads[i])
                if i > 0:
                    cupy.matmul(
                        deltas[i][:rows], weights[i].T, out=deltas[i - 1][:rows]
                    )

    epoch()
    cupy.cuda.Device().synchronize()
    start = time.perf_counter()
    for _ in range(epochs):
        epoch()
    cupy.cuda.Device().synchronize()
    seconds = time.perf_counter() - start
    return {"fit_s": seconds, "epoch_s": seconds / epochs, "loss": math.nan}


# --------------------------------------------------------------- report
def environment(cupy):
    info = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cpu_count": os.cpu_count(),
        "cupy": cupy.__version__,
        "cuda_runtime": cupy.cuda.runtime.runtimeGetVersion(),
        "cuda_driver": cupy.cuda.runtime.driverGetVersion(),
        "device": cupy.cuda.runtime.getDeviceProperties(0)["name"].decode(),
    }
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:
        info["torch"] = None
    return info


def print_table(rows, epochs):
    print(
        f"\n{'batch':>6}  {'implementation':<30}{'fit (s)':>9}{'per epoch (ms)':>16}"
        f"{'GFLOP/s':>10}{'last loss':>11}"
    )
    for row in rows:
        gflops = gemm_flops_per_epoch(row["batch"]) / row["epoch_s"] / 1e9
        print(
            f"{row['batch']:>6}  {row['name']:<30}{row['fit_s']:>9.3f}"
            f"{row['epoch_s'] * 1e3:>16.2f}{gflops:>10.0f}{row['loss']:>11.4f}"
        )
    print(f"(fit: {epochs} epochs for the GPU rows; GFLOP/s counts only the GEMMs)")


def targets(rows):
    """Issue 5's targets for the per-epoch times of ``rows``: ``(batch,
    text, value, met)`` for each one whose figures are there."""
    by = {(r["batch"], r["name"]): r["epoch_s"] for r in rows}
    checks = []
    for batch in sorted({r["batch"] for r in rows}, reverse=True):
        ours = by.get((batch, "skmlp cupy"))
        if ours is None:
            continue
        for label, limit in (
            ("pytorch eager (Adam foreach)", 1.0),
            ("cuBLAS GEMM floor", 2.0),
        ):
            theirs = by.get((batch, label))
            if theirs is not None:
                ratio = ours / theirs
                text = f"skmlp cupy <= {limit:g}x {label}"
                checks.append((batch, text, ratio, ratio <= limit))
        numpy_time = by.get((batch, "skmlp numpy"))
        if numpy_time is not None:
            speedup = numpy_time / ours
            text = "skmlp cupy >= 20x skmlp numpy"
            checks.append((batch, text, speedup, speedup >= 20))
    return checks


def print_targets(rows):
    print("\nissue 5 targets (per-epoch time):")
    for batch, text, value, met in targets(rows):
        verdict = "met" if met else "NOT met"
        print(f"  batch {batch}: {text}: {value:.2f}x -> {verdict}")


def main(argv=None):
    args = parse_args(argv)
    try:
        import cupy
    except ImportError:
        sys.exit("bench_gpu.py needs CuPy (pip install skmlp[gpu]) and an NVIDIA GPU.")
    from skmlp._backends.selection import _cuda_device_problem

    problem = _cuda_device_problem(cupy)
    if problem:
        sys.exit(f"bench_gpu.py needs a usable CUDA device: {problem}")
    if args.epochs < 2 or args.numpy_epochs < 2:
        sys.exit(
            "--epochs and --numpy-epochs must be at least 2 (steady-state timing)."
        )

    info = environment(cupy)
    print("environment:", ", ".join(f"{k}={v}" for k, v in info.items()))
    X, y = mnist_shaped()

    def sync():
        cupy.cuda.Device().synchronize()

    rows = []

    def save():
        # After every run, so that a run cut short keeps what it measured.
        if args.json:
            figures = {"environment": info, "args": vars(args), "rows": rows}
            figures["targets"] = [
                {"batch": b, "target": t, "measured": v, "met": bool(m)}
                for b, t, v, m in targets(rows)
            ]
            with open(args.json, "w") as f:
                json.dump(figures, f, indent=1)

    for batch in args.batch_sizes:
        runs = [
            ("skmlp cupy", partial(bench_skmlp, "cupy", X, y, batch, args.epochs, sync))
        ]
        if not args.skip_torch:
            runs += [
                (
                    f"pytorch eager (Adam {kind})",
                    partial(
                        bench_torch, X, y, batch, args.epochs, fused=kind == "fused"
                    ),
                )
                for kind in ("foreach", "fused")
            ]
        runs.append(
            ("cuBLAS GEMM floor", partial(bench_gemm_floor, cupy, batch, args.epochs))
        )
        if not args.skip_numpy:
            runs.append(
                (
                    "skmlp numpy",
                    partial(
                        bench_skmlp,
                        "numpy",
                        X,
                        y,
                        batch,
                        args.numpy_epochs,
                        lambda: None,
                    ),
                )
            )
        for name, run in runs:
            try:
                result = run()
            except Exception as exc:  # noqa: BLE001 - report it, go on with the rest
                print(f"batch {batch}, {name}: failed: {type(exc).__name__}: {exc}")
                continue
            rows.append({"batch": batch, "name": name, **result})
            save()
            print(
                f"batch {batch}, {name}: {result['epoch_s'] * 1e3:.2f} ms/epoch",
                flush=True,
            )

    pool = cupy.get_default_memory_pool()
    print(
        f"\nCuPy memory pool after the runs: {pool.total_bytes() / 2**20:.1f} MiB held"
    )
    print_table(rows, args.epochs)
    print_targets(rows)


if __name__ == "__main__":
    main()
