"""What the numba kernels cost a fresh process: compiling, and starting up.

Every measurement runs in a new Python process, interleaved round by round:

- ``digits``: ``fit`` of ``MLPClassifierScratch(random_state=0)`` on the
  bundled digits (its arrays are all too small to start numba), for each
  checkout given with ``--checkout`` (e.g. the code before the kernels);
- ``first fit``: a 2-epoch fit on 5000 MNIST-shaped float32 rows with the
  benchmark's 784-512-128-64-10 network (large enough to start numba), then
  the same fit again in the same process: the difference is what the first
  fit paid to start numba and compile or load its kernels. Cold: with an
  empty cache directory (``NUMBA_CACHE_DIR``); warm: with the cache the cold
  run left; ufuncs: kernels switched off, for comparison.

Run from the project root::

    PYTHONPATH=. python benchmarks/bench_startup.py --checkout before=/path/to/old/root
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

DIGITS = """
import time, warnings
start = time.perf_counter()
from sklearn.datasets import load_digits
from skmlp import MLPClassifierScratch
X, y = load_digits(return_X_y=True)
imported = time.perf_counter()
warnings.simplefilter("ignore")
MLPClassifierScratch(random_state=0).fit(X, y)
print(imported - start, time.perf_counter() - imported)
"""

FIRST_FIT = """
import contextlib, sys, time, warnings
sys.path.insert(0, {benchmarks!r})
from bench_cpu import HIDDEN, mnist_like
from skmlp import MLPClassifierScratch
from skmlp._backends import NumpyBackend
X, y = mnist_like(5000)
warnings.simplefilter("ignore")
switch = NumpyBackend.kernel_state.reference_only() if {ufuncs} else contextlib.nullcontext()
times = []
with switch:
    for _ in range(2):
        start = time.perf_counter()
        MLPClassifierScratch(HIDDEN, batch_size=1000, max_iter=2, random_state=0).fit(X, y)
        times.append(time.perf_counter() - start)
print(times[0], times[1])
"""


def run(code, root, env=None):
    """Seconds printed by ``code`` run in a fresh interpreter with ``root``
    first on the path."""
    env = dict(os.environ if env is None else env, PYTHONPATH=str(root))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return [float(x) for x in out.stdout.split()]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--checkout",
        action="append",
        default=[],
        metavar="NAME=ROOT",
        help="another project root to time the digits fit of (repeatable)",
    )
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    roots = {"this": ROOT} | dict(c.split("=", 1) for c in args.checkout)
    benchmarks = str(ROOT / "benchmarks")
    results = {f"digits {name}": [] for name in roots}
    results |= {"first fit cold": [], "first fit warm": [], "first fit ufuncs": []}
    for _ in range(args.rounds):
        for name, root in roots.items():
            results[f"digits {name}"].append(run(DIGITS, root)[1])
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, NUMBA_CACHE_DIR=cache)
            for kind, ufuncs in (("cold", False), ("warm", False), ("ufuncs", True)):
                code = FIRST_FIT.format(benchmarks=benchmarks, ufuncs=ufuncs)
                first, second = run(code, ROOT, env)
                results[f"first fit {kind}"].append(first - second)
    print("seconds, median (min-max) over rounds, each a fresh process")
    print("digits: the whole fit; first fit: first minus second fit in the process")
    for name, values in results.items():
        print(
            f"{name:>20}  {statistics.median(values):7.3f}"
            f"  ({min(values):.3f}-{max(values):.3f})"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
