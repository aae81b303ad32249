"""Cost per epoch of dropout and batch normalization on the headline network.

784-512-128-64-10 ReLU, Adam, batch 1000, float32, on MNIST-shaped synthetic
data (``bench_cpu.mnist_like``): skmlp with the features off, with
``dropout=0.2``, with ``batch_norm=True`` and with both. The four run
interleaved (``bench_cpu.time_epochs``: one fit each per round, the order
rotating), and each ratio is the median of the per-round ratios to the
features-off run, so load from other processes hits all alike.

Run from the project root::

    PYTHONPATH=. python benchmarks/bench_features.py              # 60000 rows
    PYTHONPATH=. python benchmarks/bench_features.py --rows 20000 --rounds 3

``--ufuncs`` also times each setting with the numba kernels switched off
(``NumpyBackend.kernel_state.reference_only``), interleaved with the rest, and
prints the ratio of the two: what the compiled dropout and batch-norm steps
save in a whole epoch.
"""

import argparse
import contextlib
import statistics
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cpu import ADAM, mnist_like, ratio, time_epochs

from skmlp import MLPClassifierScratch
from skmlp._backends import NumpyBackend

reference_only = NumpyBackend.kernel_state.reference_only

FEATURES = {
    "off": {},
    "dropout=0.2": {"dropout": 0.2},
    "batch_norm": {"batch_norm": True},
    "both": {"dropout": 0.2, "batch_norm": True},
}


class Configuration:
    """One fresh fit of ``epochs`` epochs with ``features``, per call."""

    def __init__(self, name, features, epochs, kernels=True):
        self.name, self.epochs, self.kernels = name, epochs, kernels
        self.model = MLPClassifierScratch(
            hidden_layer_sizes=(512, 128, 64),
            batch_size=1000,
            max_iter=epochs,
            tol=0.0,
            n_iter_no_change=float("inf"),
            random_state=0,
            **ADAM,
            **features,
        )

    def train(self, X, y):
        with contextlib.nullcontext() if self.kernels else reference_only():
            self.model.fit(X, y)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=60000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--settle", type=float, default=0.5)
    parser.add_argument(
        "--ufuncs", action="store_true", help="also time each with the kernels off"
    )
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # every fit stops at max_iter, on purpose
    X, y = mnist_like(args.rows)
    configurations = [
        Configuration(name, features, args.epochs) for name, features in FEATURES.items()
    ]
    if args.ufuncs:
        configurations += [
            Configuration(f"{name} ufuncs", features, args.epochs, kernels=False)
            for name, features in FEATURES.items()
        ]
    times = time_epochs(configurations, X, y, args.rounds, args.settle)
    print(f"{args.rows} rows, {args.epochs} epoch(s) per fit, {args.rounds} rounds")
    header = f"{'features':<14}{'s/epoch (median)':>18}{'ratio to off':>14}"
    print(header + (f"{'ufuncs s/epoch':>16}{'kernels/ufuncs':>16}" if args.ufuncs else ""))
    for name in FEATURES:
        row = (
            f"{name:<14}{statistics.median(times[name]):>18.3f}"
            f"{ratio(times[name], times['off']):>14.2f}"
        )
        if args.ufuncs:
            ufuncs = times[f"{name} ufuncs"]
            row += f"{statistics.median(ufuncs):>16.3f}{ratio(times[name], ufuncs):>16.3f}"
        print(row)


if __name__ == "__main__":
    main()
