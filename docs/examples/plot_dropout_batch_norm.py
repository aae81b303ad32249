"""
===================================================================
Dropout and batch normalization: learning curves on digits
===================================================================

Four networks of one hidden layer of 128 ReLU units, trained with Adam and no
L2 penalty on a small training set (300 digits, so that a plain network
overfits): plain, with ``dropout=0.5``, with ``batch_norm=True``, and with
both. Left, the training loss of every epoch; right, the accuracy on the
held-out digits after every epoch (each curve is one model continued with
``warm_start``, one epoch per ``fit``). Batch normalization trains much
faster and reaches the best held-out accuracy. Dropout keeps the training loss
up (each batch trains a thinned network) and, alone, learns more slowly in
these 30 epochs; on top of batch normalization it stays closer to its
training loss.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skmlp import MLPClassifierScratch

SETTINGS = {
    "plain": {},
    "dropout=0.5": {"dropout": 0.5},
    "batch_norm=True": {"batch_norm": True},
    "both": {"dropout": 0.5, "batch_norm": True},
}
EPOCHS = 30

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, train_size=300, stratify=y, random_state=0
)


def learning_curves(**features):
    """Training loss and held-out accuracy after each epoch."""
    clf = MLPClassifierScratch(
        hidden_layer_sizes=(128,),
        alpha=0.0,
        batch_size=32,
        max_iter=1,
        warm_start=True,
        **features,
    )
    accuracy = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for epoch in range(EPOCHS):
            # Every fit draws its shuffle and dropout masks afresh from
            # random_state: a new seed per epoch gives each epoch new ones.
            clf.set_params(random_state=epoch)
            accuracy.append(clf.fit(X_train, y_train).score(X_test, y_test))
    return clf.loss_curve_, accuracy


epochs = np.arange(1, EPOCHS + 1)
fig, (loss_ax, score_ax) = plt.subplots(1, 2, figsize=(10, 4.5), layout="constrained")
for label, features in SETTINGS.items():
    loss, accuracy = learning_curves(**features)
    loss_ax.plot(epochs, loss, label=label)
    score_ax.plot(epochs, accuracy, label=f"{label}: {accuracy[-1]:.3f}")
loss_ax.set_yscale("log")
loss_ax.set_xlabel("epoch")
loss_ax.set_ylabel("training loss (log scale)")
score_ax.set_xlabel("epoch")
score_ax.set_ylabel("held-out accuracy")
score_ax.set_ylim(0.8, 1.0)
for ax in (loss_ax, score_ax):
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
fig.suptitle("Dropout and batch normalization on 300 training digits")

plt.show()
