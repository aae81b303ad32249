"""
===================================================
Compare solvers and schedules on small datasets
===================================================

scikit-learn's `"Compare Stochastic learning strategies for MLPClassifier"
<https://scikit-learn.org/stable/auto_examples/neural_networks/plot_mlp_training_curves.html>`_
rewritten for skmlp, with what skmlp adds: RMSprop, the ``'step'`` schedule,
and schedules that also apply to Adam and RMSprop (scikit-learn applies
``learning_rate`` to ``'sgd'`` only).

Each strategy trains the same network from the same initial weights on four
small datasets; the plots show the training loss of every epoch. As in the
original, the data are scaled to [0, 1] and the digits get few epochs.
"""

import warnings

import matplotlib.pyplot as plt
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import MinMaxScaler

from skmlp import MLPClassifierScratch

STRATEGIES = {
    "constant learning rate": {"solver": "sgd", "momentum": 0},
    "constant with momentum": {
        "solver": "sgd",
        "momentum": 0.9,
        "nesterovs_momentum": False,
    },
    "constant with Nesterov's momentum": {"solver": "sgd", "momentum": 0.9},
    "inv-scaling with Nesterov's momentum": {
        "solver": "sgd",
        "learning_rate": "invscaling",
        "momentum": 0.9,
    },
    "step decay with Nesterov's momentum": {
        "solver": "sgd",
        "learning_rate": "step",
        "step_size": 50,
        "gamma": 0.5,
        "momentum": 0.9,
    },
    "adam": {"solver": "adam", "learning_rate_init": 0.01},
    "adam with step decay": {
        "solver": "adam",
        "learning_rate_init": 0.01,
        "learning_rate": "step",
        "step_size": 50,
        "gamma": 0.5,
    },
    "rmsprop": {"solver": "rmsprop", "learning_rate_init": 0.01},
}
SGD_RATE = 0.2  # the 'sgd' strategies' learning_rate_init, as in the original

iris = datasets.load_iris()
digits = datasets.load_digits()
DATASETS = {
    "iris": (iris.data, iris.target),
    "digits": (digits.data, digits.target),
    "circles": datasets.make_circles(noise=0.2, factor=0.5, random_state=1),
    "moons": datasets.make_moons(noise=0.3, random_state=0),
}

# %%
# Train every strategy on every dataset and draw the loss curves.

fig, axes = plt.subplots(2, 2, figsize=(12, 9))
for ax, (name, (X, y)) in zip(axes.ravel(), DATASETS.items()):
    X = MinMaxScaler().fit_transform(X)
    # The digits are larger: a few epochs show the trend.
    max_iter = 15 if name == "digits" else 200
    for label, params in STRATEGIES.items():
        params = {"learning_rate_init": SGD_RATE, **params}
        clf = MLPClassifierScratch(max_iter=max_iter, random_state=0, **params)
        with warnings.catch_warnings():
            # Some strategies do not converge in these few epochs.
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        style = "--" if params["solver"] == "sgd" else "-"
        ax.plot(clf.loss_curve_, style, label=label)
    ax.set_title(name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
axes[0, 0].legend(fontsize="small")
fig.tight_layout()

plt.show()
