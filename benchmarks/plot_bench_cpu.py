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
CANDIDATES = ["gemm floor", "skmlp", "pytorch", "sklearn"]


def plot(results):
    """The figure of one run's ``results`` (the JSON's contents)."""
    settings = list(results["epochs"])
    fig, (time_ax, acc_ax) = plt.subplots(
        1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [3, 2]}
    )
    positions = np.arange(len(settings))
    present = [c for c in CANDIDATES if c in results["epochs"][settings[0]]]
    width = 0.8 / len(present)
    for i, candidate in enumerate(present):
        offset = (i - (len(present) - 1) / 2) * width
        # The medians' ratio to skmlp's: bars compare across settings.
        relative = [
            statistics.median(results["epochs"][s][candidate])
            / statistics.median(results["epochs"][s]["skmlp"])
            for s in settings
        ]
        bars = time_ax.bar(positions + offset, relative, width, label=candidate)
        time_ax.bar_label(bars, fmt="%.2f", fontsize="small")
        if candidate in results["accuracy"][settings[0]]:
            accuracy = [results["accuracy"][s][candidate] for s in settings]
            acc_ax.bar(
                positions + offset, accuracy, width, color=bars[0].get_facecolor()
            )
    time_ax.axhline(1, color="black", linewidth=0.8)
    time_ax.set_xticks(positions, settings)
    time_ax.set_ylabel("seconds per epoch / skmlp's")
    time_ax.set_title("Training time per epoch, relative to skmlp (lower is faster)")
    time_ax.legend(fontsize="small")
    acc_ax.set_xticks(
        positions, [s.split(" ", 1)[1] for s in settings], fontsize="small"
    )
    acc_ax.set_ylim(0.9, 1)
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
