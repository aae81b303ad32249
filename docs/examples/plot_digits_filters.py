"""
===============================================
Visualization of the first-layer weights
===============================================

scikit-learn's `"Visualization of MLP weights on MNIST"
<https://scikit-learn.org/stable/auto_examples/neural_networks/plot_mnist_filters.html>`_
rewritten for skmlp, on the 8 x 8 digits that ship with scikit-learn instead
of MNIST (nothing to download).

``coefs_[0]`` holds the weights from the 64 pixels to each hidden unit: shown
as an 8 x 8 image, each column is the pattern of ink that excites that unit
(red) or inhibits it (blue). With a little L2 penalty the patterns are smooth
strokes and blobs rather than noise.
"""

import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skmlp import MLPClassifierScratch

X, y = load_digits(return_X_y=True)
X = X / 16  # pixels in [0, 1]
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

clf = MLPClassifierScratch(
    hidden_layer_sizes=(16,),
    solver="sgd",
    learning_rate_init=0.1,
    alpha=1e-3,
    max_iter=30,
    random_state=1,
)
with warnings.catch_warnings():
    # Few epochs keep the example fast; the filters are formed by then.
    warnings.simplefilter("ignore", ConvergenceWarning)
    clf.fit(X_train, y_train)
print(f"Training accuracy {clf.score(X_train, y_train):.3f}")
print(f"Test accuracy {clf.score(X_test, y_test):.3f}")

# %%
# One image per hidden unit, on a colour scale shared by all of them.

weights = clf.coefs_[0]
vmin, vmax = weights.min(), weights.max()
fig, axes = plt.subplots(4, 4, figsize=(7, 7))
for unit, ax in enumerate(axes.ravel()):
    ax.matshow(weights[:, unit].reshape(8, 8), cmap="RdBu_r", vmin=vmin, vmax=vmax)
    ax.set_xticks(())
    ax.set_yticks(())
    ax.set_title(f"unit {unit}", fontsize="small")
fig.suptitle("First-layer weights of 16 hidden units on the digits")
fig.tight_layout()

plt.show()
