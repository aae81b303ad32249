"""Save the small models of this skmlp release that the tests load with every
later version (tests/test_persistence.py::test_models_of_earlier_releases_load).

Run once per release, from the project root::

    PYTHONPATH=. python tests/data/make_release_models.py

It writes ``skmlp-VERSION-{classifier,regressor}.{skops,pkl}`` and
``skmlp-VERSION-expected.json`` (the predictions they must keep giving).
Never rewrite the files of an earlier release.
"""

import json
import pickle
import warnings
from pathlib import Path

import numpy as np
import skops.io as sio
from sklearn.datasets import load_iris

import skmlp
from skmlp import MLPClassifierScratch, MLPRegressorScratch

HERE = Path(__file__).parent


def release_models():
    """Two small models that exercise the saved state: a classifier with
    Adam's moments and a step schedule, a Poisson regressor with SGD."""
    X, y = load_iris(return_X_y=True)
    classifier = MLPClassifierScratch(
        hidden_layer_sizes=(5,),
        learning_rate="step",
        step_size=3,
        learning_rate_init=0.01,
        max_iter=8,
        random_state=0,
    ).fit(X, y)
    regressor = MLPRegressorScratch(
        loss="poisson",
        hidden_layer_sizes=(4,),
        solver="sgd",
        learning_rate_init=0.01,
        max_iter=8,
        random_state=0,
    ).fit(X[:, :3], X[:, 3])
    return {"classifier": classifier, "regressor": regressor}


def main():
    version = skmlp.__version__
    X = load_iris(return_X_y=True)[0][::15]
    # A pickle made with NumPy 2 names numpy._core, which NumPy 1 lacks.
    expected = {"numpy": np.__version__, "X": X.tolist()}
    for kind, model in release_models().items():
        sio.dump(model, HERE / f"skmlp-{version}-{kind}.skops")
        with open(HERE / f"skmlp-{version}-{kind}.pkl", "wb") as f:
            pickle.dump(model, f)
        rows = X if kind == "classifier" else X[:, :3]
        output = model.predict_proba(rows) if kind == "classifier" else model.predict(rows)
        expected[kind] = np.asarray(output).tolist()
    (HERE / f"skmlp-{version}-expected.json").write_text(json.dumps(expected, indent=1))


if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the short fits' ConvergenceWarning
        main()
