"""Draw the figures of a ``bench_cpu.py --json`` file: seconds per epoch of each
candidate in each setting, as a multiple of skmlp's, and the test accuracies.

The documentation's benchmarks page draws ``benchmarks/results/bench_cpu.json``
with it at every build. Run ``python benchmarks/plot_bench_cpu.py [JSON]
[OUTPUT.png]`` to see another run's figures.
"""

import json
import statistics
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

DEFAULT = Path(__file__).parent / "results" / "bench_cpu.json"
CANDIDATES = ["gemm floor", "skmlp", "pytorch", "keras-jax", "sklearn"]


def plot(results):
    """The figure of one run's ``results`` (the JSON's contents). A candidate
    that sat a setting out (scikit-learn has no dropout) has no bar there."""
    epochs = results["epochs"]
    settings = list(epochs)
    fig, (time_ax, acc_ax) = plt.subplots(
        1, 2, figsize=(14, 5), gridspec_kw={"width_ratios": [3, 2]}
    )
    present = [c for c in CANDIDATES if any(c in epochs[s] for s in settings)]
    width = 0.8 / len(present)
    for i, candidate in enumerate(present):
        offset = (i - (len(present) - 1) / 2) * width
        ran = [k for k, s in enumerate(settings) if candidate in epochs[s]]
        # The medians' ratio to skmlp's: bars compare across settings.
        relative = [
            statistics.median(epochs[settings[k]][candidate])
            / statistics.median(epochs[settings[k]]["skmlp"])
            for k in ran
        ]
        bars = time_ax.bar(np.add(ran, offset), relative, width, label=candidate)
        time_ax.bar_label(bars, fmt="%.2f", fontsize="x-small")
        scored = [k for k in ran if candidate in results["accuracy"][settings[k]]]
        accuracy = [results["accuracy"][settings[k]][candidate] for k in scored]
        acc_ax.bar(
            np.add(scored, offset), accuracy, width, color=bars[0].get_facecolor()
        )
    positions = np.arange(len(settings))
    time_ax.axhline(1, color="black", linewidth=0.8)
    time_ax.set_xticks(positions, settings, rotation=20, ha="right", fontsize="small")
    time_ax.set_ylabel("seconds per epoch / skmlp's")
    time_ax.set_title("Training time per epoch, relative to skmlp (lower is faster)")
    time_ax.legend(fontsize="small")
    acc_ax.set_xticks(
        positions,
        [s.split(" ", 1)[1] for s in settings],
        rotation=20,
        ha="right",
        fontsize="small",
    )
    lowest = min(min(a.values()) for a in results["accuracy"].values())
    acc_ax.set_ylim(min(0.9, lowest - 0.02), 1)
    acc_ax.set_ylabel("test accuracy")
    acc_ax.set_title("Test accuracy after the same epochs")
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    figure = plot(json.loads(path.read_text()))
    if len(sys.argv) > 2:
        figure.savefig(sys.argv[2], dpi=100)
    else:
        plt.show()
