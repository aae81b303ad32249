"""Before/after: the same skmlp measurements on two checkouts, interleaved.

A change that may touch the hot loop (a refactoring, a new kernel) is checked
against the code before it on the same machine in one run: each round runs
one fresh process per checkout, in alternating order, each timing

- an epoch of the 784-512-128-64-10 network at batch 1000 on MNIST-shaped
  data (60000 x 784, float32, fixed seed), Adam, after a warm-up fit that
  compiles or loads the kernels (the fastest of ``--epochs`` one-epoch fits);
- a default fit on the digits (the small-net case, 20 epochs; the fastest of
  five);
- a one-row ``predict_proba`` (median of many calls).

It prints the per-round figures and the median of the paired ratios
(after / before): 1.00 is unchanged, above it slower. Run from the project
root::

    PYTHONPATH=. python benchmarks/bench_ab.py --before 4898744 --rounds 5

``--before`` takes a git revision (checked out into a temporary worktree) or
a folder holding another checkout; ``--after`` defaults to this checkout.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Runs in the child process, with the checkout first on sys.path.
CHILD = r"""
import json, sys, time, warnings
import numpy as np
from sklearn.datasets import load_digits
import skmlp
from skmlp import MLPClassifierScratch

warnings.simplefilter("ignore")
epochs = int(sys.argv[1])
rng = np.random.default_rng(0)
X = rng.random((60000, 784), dtype=np.float32)
y = rng.integers(0, 10, 60000)
net = dict(hidden_layer_sizes=(512, 128, 64), batch_size=1000, shuffle=True,
           random_state=0, tol=0.0, n_iter_no_change=10**6)
MLPClassifierScratch(max_iter=1, **net).fit(X[:5000], y[:5000])  # warm-up


def fastest(fit, repeats):
    # The quickest of the timed calls: what the code costs, with as little
    # of the machine's other work in it as one can get.
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fit()
        best = min(best, time.perf_counter() - start)
    return best


epoch = fastest(lambda: MLPClassifierScratch(max_iter=1, **net).fit(X, y), epochs)
Xd, yd = load_digits(return_X_y=True)
digits = fastest(lambda: MLPClassifierScratch(max_iter=20, random_state=0).fit(Xd, yd), 5)

model = MLPClassifierScratch(max_iter=5, random_state=0).fit(Xd, yd)
row = Xd[:1].copy()
for _ in range(200):
    model.predict_proba(row)
times = []
for _ in range(3000):
    t0 = time.perf_counter()
    model.predict_proba(row)
    times.append(time.perf_counter() - t0)
print(json.dumps({"file": skmlp.__file__, "epoch_s": epoch, "digits_s": digits,
                  "predict_one_us": 1e6 * float(np.median(times))}))
"""

MEASURES = ("epoch_s", "digits_s", "predict_one_us")


def measure(checkout, epochs):
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(epochs)],
        env=env, cwd=checkout, capture_output=True, text=True, check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if not result["file"].startswith(str(checkout)):
        raise RuntimeError(f"{checkout} imported skmlp from {result['file']}")
    return result


def checkout_of(revision, folder):
    if Path(revision).is_dir():
        return Path(revision).resolve()
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(folder), revision],
        cwd=ROOT, check=True, capture_output=True,
    )
    return Path(folder)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="git revision or folder")
    parser.add_argument("--after", default=str(ROOT), help="git revision or folder")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3, help="one-epoch fits timed per process")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        sides = {
            "before": checkout_of(args.before, Path(tmp) / "before"),
            "after": checkout_of(args.after, Path(tmp) / "after"),
        }
        try:
            rounds = []
            for k in range(args.rounds):
                order = ("before", "after") if k % 2 == 0 else ("after", "before")
                figures = {side: measure(sides[side], args.epochs) for side in order}
                rounds.append(figures)
                print(f"round {k + 1}: " + "  ".join(
                    f"{m} {figures['before'][m]:.4g} -> {figures['after'][m]:.4g}"
                    for m in MEASURES
                ), flush=True)
        finally:
            for path in sides.values():
                if str(path).startswith(tmp):
                    subprocess.run(["git", "worktree", "remove", "--force", str(path)],
                                   check=False, cwd=ROOT, capture_output=True)
    summary = {
        m: statistics.median(r["after"][m] / r["before"][m] for r in rounds)
        for m in MEASURES
    }
    print("median ratio after/before: " + "  ".join(
        f"{m} {ratio:.3f}" for m, ratio in summary.items()))
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"before": args.before, "after": args.after, "rounds": rounds,
             "median_ratio": summary}, indent=1))


if __name__ == "__main__":
    main()
