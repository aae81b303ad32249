"""How far skmlp's float64 L-BFGS drifts from scikit-learn's as iterations
grow (quoted in docs/user_guide/differences.md, *L-BFGS in long runs*):
``PYTHONPATH=. python benchmarks/lbfgs_drift.py``."""

import warnings

import numpy as np
from sklearn.datasets import make_moons
from sklearn.neural_network import MLPClassifier

from skmlp import MLPClassifierScratch

warnings.simplefilter("ignore")  # the ConvergenceWarning of the short runs
X, y = make_moons(n_samples=200, noise=0.2, random_state=0)
for max_iter in (1, 10, 50, 100, 140, 200, 400):
    params = {"solver": "lbfgs", "alpha": 0.1, "max_iter": max_iter, "random_state": 0}
    ours = MLPClassifierScratch(**params).fit(X, y)
    theirs = MLPClassifier(**params).fit(X, y)
    drift = max(
        np.abs(a - b).max()
        for a, b in zip(
            ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_
        )
    )
    print(
        f"max_iter={max_iter:4d}  n_iter_ skmlp/sklearn={ours.n_iter_}/"
        f"{theirs.n_iter_}  largest weight difference={drift:.1e}"
    )
