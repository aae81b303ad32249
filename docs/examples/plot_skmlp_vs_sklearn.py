"""
============================================================
skmlp beside scikit-learn's MLP: training time and accuracy
============================================================

The same configurations trained by :class:`~skmlp.MLPClassifierScratch` and
scikit-learn's ``MLPClassifier`` from the same ``random_state``: the same
initial weights, the same batches, and (to rounding error) the same model, so
the test accuracies agree and only the time differs.

The timings are those of the machine that built this page, with whatever else
ran on it: the calls alternate between the two libraries round by round, and
each bar is the fastest of five rounds, the one least disturbed by other
work. For careful figures see the :doc:`benchmarks </benchmarks>` page.
"""

import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from skmlp import MLPClassifierScratch

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

CONFIGS = {
    "adam, batch 200": {"solver": "adam"},
    "adam, batch 32": {"solver": "adam", "batch_size": 32},
    "sgd, batch 200": {"solver": "sgd", "learning_rate_init": 0.1},
}
LIBRARIES = {"skmlp": MLPClassifierScratch, "scikit-learn": MLPClassifier}
EPOCHS, ROUNDS = 10, 5


def timed_fit(Estimator, params):
    """Seconds per epoch of one fit, and the fitted model."""
    model = Estimator(max_iter=EPOCHS, random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed budget
        start = time.perf_counter()
        model.fit(X_train, y_train)
    return (time.perf_counter() - start) / EPOCHS, model


for Estimator in LIBRARIES.values():  # a first fit, untimed, warms up both
    timed_fit(Estimator, {})
seconds = {(config, lib): [] for config in CONFIGS for lib in LIBRARIES}
accuracy = {}
for _ in range(ROUNDS):
    for config, params in CONFIGS.items():
        for lib, Estimator in LIBRARIES.items():
            per_epoch, model = timed_fit(Estimator, params)
            seconds[config, lib].append(per_epoch)
            accuracy[config, lib] = model.score(X_test, y_test)

for config in CONFIGS:
    ratio = min(seconds[config, "scikit-learn"]) / min(seconds[config, "skmlp"])
    print(
        f"{config:22s} scikit-learn / skmlp time {ratio:.2f}, test accuracy "
        f"{accuracy[config, 'skmlp']:.3f} (skmlp) "
        f"{accuracy[config, 'scikit-learn']:.3f} (scikit-learn)"
    )

# %%
# Milliseconds per epoch (left) and test accuracy after the same epochs
# (right).

fig, (time_ax, acc_ax) = plt.subplots(1, 2, figsize=(12, 4.5))
positions = np.arange(len(CONFIGS))
width = 0.38
for offset, lib in zip((-width / 2, width / 2), LIBRARIES):
    time_ax.bar(
        positions + offset,
        [1000 * min(seconds[config, lib]) for config in CONFIGS],
        width,
        label=lib,
    )
    acc_ax.bar(positions + offset, [accuracy[config, lib] for config in CONFIGS], width)
for ax in (time_ax, acc_ax):
    ax.set_xticks(positions, list(CONFIGS), rotation=15)
time_ax.set_ylabel(f"milliseconds per epoch (fastest of {ROUNDS})")
time_ax.set_title(f"Training time on digits, float32, {EPOCHS} epochs")
time_ax.legend()
acc_ax.set_ylim(0.8, 1)
acc_ax.set_ylabel("test accuracy")
acc_ax.set_title("Test accuracy: the same model from both")
fig.tight_layout()

plt.show()
