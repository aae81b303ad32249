"""
=================================================
Varying regularization: decision boundaries
=================================================

scikit-learn's `"Varying regularization in Multi-layer Perceptron"
<https://scikit-learn.org/stable/auto_examples/neural_networks/plot_mlp_alpha.html>`_
rewritten for skmlp. ``alpha`` is the strength of the L2 penalty on the
weights: a larger ``alpha`` pulls the weights towards zero and draws smoother
decision boundaries (less variance, more bias), a smaller one lets the network
follow the training points more closely.

Each panel shows the decision function of a network with two hidden layers of
10 units, trained with L-BFGS, on three toy datasets; training points are
solid, test points translucent, and the number in the corner is the test
accuracy.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from sklearn.datasets import make_circles, make_classification, make_moons
from sklearn.inspection import DecisionBoundaryDisplay
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmlp import MLPClassifierScratch

ALPHAS = np.logspace(-1, 1, 5)

X, y = make_classification(
    n_features=2, n_redundant=0, n_informative=2, random_state=0, n_clusters_per_class=1
)
X += 2 * np.random.RandomState(2).uniform(size=X.shape)
DATASETS = [
    make_moons(noise=0.3, random_state=0),
    make_circles(noise=0.2, factor=0.5, random_state=1),
    (X, y),
]

# %%
# One row per dataset, one column per ``alpha``.

cm_bright = ListedColormap(["#FF0000", "#0000FF"])
fig, axes = plt.subplots(
    len(DATASETS), len(ALPHAS) + 1, figsize=(17, 9), sharex="row", sharey="row"
)
for row, (X, y) in zip(axes, DATASETS):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.4, random_state=42
    )
    row[0].scatter(X_train[:, 0], X_train[:, 1], c=y_train, cmap=cm_bright)
    row[0].scatter(X_test[:, 0], X_test[:, 1], c=y_test, cmap=cm_bright, alpha=0.6)
    row[0].set_title("Input data")
    for ax, alpha in zip(row[1:], ALPHAS):
        clf = make_pipeline(
            StandardScaler(),
            MLPClassifierScratch(
                solver="lbfgs",
                alpha=alpha,
                hidden_layer_sizes=(10, 10),
                max_iter=2000,
                random_state=1,
            ),
        )
        clf.fit(X_train, y_train)
        DecisionBoundaryDisplay.from_estimator(
            clf, X, cmap=plt.cm.RdBu, alpha=0.8, ax=ax, eps=0.5
        )
        ax.scatter(X_train[:, 0], X_train[:, 1], c=y_train, cmap=cm_bright, s=15)
        ax.scatter(
            X_test[:, 0], X_test[:, 1], c=y_test, cmap=cm_bright, alpha=0.6, s=15
        )
        ax.set_title(f"alpha {alpha:.2f}")
        ax.text(
            0.95,
            0.05,
            f"{clf.score(X_test, y_test):.2f}",
            transform=ax.transAxes,
            size=14,
            horizontalalignment="right",
        )
for ax in axes.ravel():
    ax.set_xticks(())
    ax.set_yticks(())
fig.tight_layout()

plt.show()
