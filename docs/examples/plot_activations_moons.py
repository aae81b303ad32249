"""
================================================
Decision boundaries of each activation on moons
================================================

The same network (two hidden layers of 16 units) trained on the two moons with
each hidden activation. ``'identity'`` makes the whole network linear, so its
boundary is a straight line however many layers it has; ``'logistic'``,
``'tanh'`` and ``'relu'`` bend it, ReLU in straight pieces, the two S-shaped
functions smoothly. The activations beyond scikit-learn's four follow in the
second row: ``'leaky_relu'`` bends in straight pieces like ReLU, ``'elu'``,
``'gelu'`` and ``'silu'`` smoothly.
"""

import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.inspection import DecisionBoundaryDisplay
from sklearn.model_selection import train_test_split

from skmlp import MLPClassifierScratch

ACTIVATIONS = [
    "identity", "logistic", "tanh", "relu", "leaky_relu", "elu", "gelu", "silu"
]

X, y = make_moons(n_samples=300, noise=0.25, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

fig, axes = plt.subplots(2, 4, figsize=(16, 9), sharex=True, sharey=True)
for ax, activation in zip(axes.ravel(), ACTIVATIONS):
    clf = MLPClassifierScratch(
        hidden_layer_sizes=(16, 16),
        activation=activation,
        learning_rate_init=0.01,
        max_iter=300,
        random_state=0,
    )
    with warnings.catch_warnings():
        # 'identity' cannot fit the moons and may run all its epochs.
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    DecisionBoundaryDisplay.from_estimator(
        clf, X, response_method="predict_proba", cmap="RdBu", alpha=0.7, ax=ax
    )
    ax.scatter(*X_train.T, c=y_train, cmap="RdBu", edgecolor="k", s=20)
    ax.set_title(
        f"{activation}: test accuracy {clf.score(X_test, y_test):.2f}\n"
        f"{clf.n_iter_} epochs"
    )
fig.tight_layout()

plt.show()
