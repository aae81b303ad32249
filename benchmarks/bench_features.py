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
"""

import argparse
import statistics
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cpu import ADAM, mnist_like, ratio, time_epochs

from skmlp import MLPClassifierScratch

FEATURES = {
    "off": {},
    "dropout=0.2": {"dropout": 0.2},
    "batch_norm": {"batch_norm": True},
    "both": {"dropout": 0.2, "batch_norm": True},
}


class Configuration:
    """One fresh fit of ``epochs`` epochs with ``features``, per call."""

    def __init__(self, name, features, epochs):
        self.name, self.epochs = name, epochs
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
        self.model.fit(X, y)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=60000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--settle", type=float, default=0.5)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # every fit stops at max_iter, on purpose
    X, y = mnist_like(args.rows)
    configurations = [
        Configuration(name, features, args.epochs) for name, features in FEATURES.items()
    ]
    times = time_epochs(configurations, X, y, args.rounds, args.settle)
    print(f"{args.rows} rows, {args.epochs} epoch(s) per fit, {args.rounds} rounds")
    print(f"{'features':<14}{'s/epoch (median)':>18}{'ratio to off':>14}")
    for name in FEATURES:
        print(
            f"{name:<14}{statistics.median(times[name]):>18.3f}"
            f"{ratio(times[name], times['off']):>14.2f}"
        )


if __name__ == "__main__":
    main()
