"""
=========================================================
Learning-rate schedules: loss and learning rate per epoch
=========================================================

Adam on the digits data with each schedule of ``learning_rate``. In skmlp every
schedule applies to every solver (scikit-learn applies them to 'sgd' only):

- 'constant' keeps ``learning_rate_init`` and stops when the training loss has
  not improved by ``tol`` for more than ``n_iter_no_change`` epochs;
- 'invscaling' divides it by ``(t + 1) ** power_t``, ``t`` the samples seen;
- 'adaptive' divides it by 5 each time the stop rule fires, and goes on;
- 'step' multiplies it by ``gamma`` every ``step_size`` epochs (PyTorch's
  ``StepLR``; not in scikit-learn);
- 'cosine' anneals it towards 0 over ``max_iter`` epochs (PyTorch's
  ``CosineAnnealingLR``; not in scikit-learn), here with the stop rule held
  off so that the whole cycle shows.

The estimators do not record the rate of each epoch, so
``learning_rates`` replays the rules above on ``loss_curve_``.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skmlp import MLPClassifierScratch

SCHEDULES = {
    "constant": {"learning_rate": "constant"},
    "invscaling, power_t=0.25": {"learning_rate": "invscaling", "power_t": 0.25},
    "adaptive": {"learning_rate": "adaptive"},
    "step, step_size=15, gamma=0.3": {
        "learning_rate": "step",
        "step_size": 15,
        "gamma": 0.3,
    },
    "cosine, max_iter=80 (n_iter_no_change=80)": {
        "learning_rate": "cosine",
        "n_iter_no_change": 80,
    },
}


def learning_rates(mlp, n_samples):
    """Learning rate in effect after 0, 1, ..., ``mlp.n_iter_`` epochs of a
    single ``fit`` on ``n_samples`` rows, replayed from the schedule's rules."""
    rate = mlp.learning_rate_init
    rates = [rate]
    best_loss, stalled = np.inf, 0
    for epoch, loss in enumerate(mlp.loss_curve_, start=1):
        # The stop rule: an epoch that does not beat the best loss by tol stalls.
        stalled = stalled + 1 if loss > best_loss - mlp.tol else 0
        best_loss = min(best_loss, loss)
        if mlp.learning_rate == "invscaling":
            rate = mlp.learning_rate_init / (epoch * n_samples + 1) ** mlp.power_t
        elif mlp.learning_rate == "step":
            rate = mlp.learning_rate_init * mlp.gamma ** (epoch // mlp.step_size)
        elif mlp.learning_rate == "cosine":
            cycle = (epoch % mlp.max_iter) / mlp.max_iter
            rate = mlp.learning_rate_init * (1 + np.cos(np.pi * cycle)) / 2
        elif (
            mlp.learning_rate == "adaptive"
            and stalled > mlp.n_iter_no_change
            and rate > 1e-6
        ):
            rate, stalled = rate / 5, 0
        rates.append(rate)
    return rates


# %%
# Each schedule trains the same network from the same initial weights.

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

fig, (loss_ax, rate_ax) = plt.subplots(2, 1, sharex=True, figsize=(7, 6.5))
for label, params in SCHEDULES.items():
    clf = MLPClassifierScratch(
        **{
            "hidden_layer_sizes": (64,),
            "solver": "adam",
            "learning_rate_init": 0.01,
            "n_iter_no_change": 5,
            "max_iter": 80,
            "random_state": 0,
        }
        | params
    )
    with warnings.catch_warnings():
        # 'invscaling' and 'cosine' use all 80 epochs; the plot shows how
        # far they got.
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    epochs = range(1, clf.n_iter_ + 1)
    rates = learning_rates(clf, len(X_train))[:-1]
    # 'adaptive' follows 'constant' until the first plateau: dash 'constant'
    # and draw it on top so both stay visible.
    style = {"linestyle": "--", "zorder": 3} if label == "constant" else {}
    (line,) = loss_ax.plot(
        epochs,
        clf.loss_curve_,
        **style,
        label=f"{label}: {clf.n_iter_} epochs, "
        f"test accuracy {clf.score(X_test, y_test):.3f}",
    )
    rate_ax.step(epochs, rates, where="post", color=line.get_color(), **style)
loss_ax.set_yscale("log")
loss_ax.set_ylabel("training loss (log scale)")
loss_ax.set_title("Adam on digits, learning_rate_init=0.01, n_iter_no_change=5")
loss_ax.legend(fontsize="small")
rate_ax.set_yscale("log")
rate_ax.set_ylabel("learning rate (log scale)")
rate_ax.set_xlabel("epoch")
for ax in (loss_ax, rate_ax):
    ax.grid(True, which="major", alpha=0.3)
fig.tight_layout()

plt.show()
