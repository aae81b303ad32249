"""
===================================================================
L1 penalty and gradient clipping
===================================================================

Two training features beside ``alpha``'s L2 penalty.

**Left: the L1 penalty.** ``l1`` adds ``l1 / n * sum |W|`` to each
mini-batch's loss. Its gradient pulls every weight toward 0 by the same amount
however small it is, so the first-layer weights of pixels that help little
end up near 0 (the stochastic solvers step across 0 rather than land on it:
near 0, not exactly 0). On digits, ``l1=0.3`` puts about half of the
input-to-hidden weights under 0.01 for a held-out accuracy a little below the
unpenalized network's.

**Right: gradient clipping.** Plain SGD with ``learning_rate_init=0.5`` on the
standardized diabetes data diverges: the weights overflow within a few epochs
and training raises a ``ValueError``. With ``clip_grad_norm=1.0`` every step's
gradient is scaled down to an L2 norm of at most 1 (PyTorch's
``clip_grad_norm_`` rule), and the same learning rate trains. Each model is
trained one epoch per ``partial_fit`` so that the losses of the diverging run
are kept up to its last finished epoch (the cross).
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skmlp import MLPClassifierScratch, MLPRegressorScratch

# %%
# L1: first-layer weights on digits
# ---------------------------------
X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
first_layer = {}  # l1 -> (|W| of the first layer, held-out accuracy)
for l1 in (0.0, 0.3):
    clf = MLPClassifierScratch(
        hidden_layer_sizes=(32,), alpha=0.0, l1=l1, max_iter=60, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    first_layer[l1] = np.abs(clf.coefs_[0]).ravel(), clf.score(X_test, y_test)

# %%
# Clipping: plain SGD with too high a learning rate
# -------------------------------------------------
X, y = load_diabetes(return_X_y=True)
X, y = StandardScaler().fit_transform(X), (y - y.mean()) / y.std()
EPOCHS = 50
loss_curves = {}  # clip_grad_norm -> (training loss per epoch, diverged?)
for clip in (None, 1.0):
    reg = MLPRegressorScratch(
        hidden_layer_sizes=(32,),
        solver="sgd",
        learning_rate_init=0.5,
        clip_grad_norm=clip,
        random_state=0,
    )
    losses = []
    try:
        for _ in range(EPOCHS):
            losses.append(reg.partial_fit(X, y).loss_)
    except ValueError:  # "Solver produced non-finite parameter weights..."
        pass
    loss_curves[clip] = losses

# %%
# The figure
# ----------
fig, (weight_ax, loss_ax) = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
bins = np.logspace(-6, 0, 37)
for l1, (weights, accuracy) in first_layer.items():
    label = (
        f"l1={l1}: {np.mean(weights < 1e-2):.0%} under 0.01, accuracy {accuracy:.3f}"
    )
    weight_ax.hist(weights, bins=bins, alpha=0.6, label=label)
weight_ax.axvline(1e-2, color="gray", linestyle=":")
weight_ax.set_xscale("log")
weight_ax.set_xlabel("|weight| of the first layer (log scale)")
weight_ax.set_ylabel("number of weights")
weight_ax.set_title("L1 penalty: first-layer weights on digits")
weight_ax.legend(fontsize="small", loc="upper left")

for clip, losses in loss_curves.items():
    if len(losses) == EPOCHS:
        label = f"clip_grad_norm={clip}: final loss {losses[-1]:.3f}"
    else:
        label = f"clip_grad_norm={clip}: diverged in epoch {len(losses) + 1}"
    epochs = np.arange(1, len(losses) + 1)
    (line,) = loss_ax.plot(epochs, losses, marker=".", label=label)
    if len(losses) < EPOCHS:
        loss_ax.plot(epochs[-1], losses[-1], "x", color=line.get_color(), ms=12, mew=3)
loss_ax.set_yscale("log")
loss_ax.set_xlabel("epoch")
loss_ax.set_ylabel("training loss (log scale)")
loss_ax.set_title("Gradient clipping: SGD, learning_rate_init=0.5, diabetes")
loss_ax.legend(fontsize="small")
for ax in (weight_ax, loss_ax):
    ax.grid(True, alpha=0.3)

plt.show()
