"""
======================================
Training loss of each solver on digits
======================================

Plain SGD, SGD with momentum and with Nesterov's momentum, Adam and RMSprop
(not in scikit-learn) train the same network from the same initial weights,
each at a usual learning rate for it. The plot shows the training loss of every
epoch (``loss_curve_``) and the legend each model's test accuracy.
"""

import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skmlp import MLPClassifierScratch

SOLVERS = {
    "SGD, no momentum": {"solver": "sgd", "learning_rate_init": 0.05, "momentum": 0.0},
    "SGD, momentum 0.9": {
        "solver": "sgd",
        "learning_rate_init": 0.05,
        "nesterovs_momentum": False,
    },
    "SGD, Nesterov momentum 0.9": {"solver": "sgd", "learning_rate_init": 0.05},
    "Adam": {"solver": "adam", "learning_rate_init": 0.001},
    "RMSprop, rho 0.9": {"solver": "rmsprop", "learning_rate_init": 0.001},
}
LINE_STYLES = ["-", "-", "--", "-", "-"]

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

fig, ax = plt.subplots(figsize=(7, 4.5))
for (label, params), style in zip(SOLVERS.items(), LINE_STYLES):
    clf = MLPClassifierScratch(
        hidden_layer_sizes=(64,), max_iter=40, random_state=0, **params
    )
    with warnings.catch_warnings():
        # 40 epochs are enough to compare the curves, not to converge.
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    accuracy = clf.score(X_test, y_test)
    ax.plot(
        range(1, clf.n_iter_ + 1),
        clf.loss_curve_,
        style,
        label=f"{label} (lr {params['learning_rate_init']}): "
        f"test accuracy {accuracy:.3f}",
    )
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss (log scale)")
ax.set_title("Solvers on digits: one hidden layer of 64 ReLU units")
ax.legend(loc="upper right", fontsize="small")
ax.grid(True, which="both", alpha=0.3)
fig.tight_layout()

plt.show()
