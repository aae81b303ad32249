"""Save the small models of this skmlp release that the tests load with every
later version (tests/estimators/test_persistence.py::test_models_of_earlier_releases_load).

Run once per release, from the project root::

    PYTHONPATH=. python tests/data/make_release_models.py

It writes ``skmlp-VERSION-{classifier,regressor}.{skops,pkl}`` and
``skmlp-VERSION-expected.json`` (the predictions they must keep giving).
``--label NAME`` saves a format between releases as ``VERSION+NAME`` (as
``0.1.0+flat``: the last files saved while every module sat in ``skmlp/``
itself, before the package was split into subpackages).
Never rewrite the files of an earlier release.
"""

import argparse
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
    AMSGrad's moments, a cosine schedule, dropout, batch normalization and
    class weights; a Huber regressor with RMSprop, a step schedule and an L1
    penalty."""
    X, y = load_iris(return_X_y=True)
    classifier = MLPClassifierScratch(
        hidden_layer_sizes=(5, 4),
        activation="gelu",
        amsgrad=True,
        learning_rate="cosine",
        learning_rate_init=0.01,
        dropout=(0.1, 0.0),
        batch_norm=True,
        class_weight={0: 1.0, 1: 2.0, 2: 0.5},
        max_iter=8,
        random_state=0,
    ).fit(X, y)
    regressor = MLPRegressorScratch(
        loss="huber",
        hidden_layer_sizes=(4,),
        solver="rmsprop",
        learning_rate="step",
        step_size=3,
        l1=1e-3,
        learning_rate_init=0.01,
        max_iter=8,
        random_state=0,
    ).fit(X[:, :3], X[:, 3])
    return {"classifier": classifier, "regressor": regressor}


def main(label=None):
    version = skmlp.__version__ + ("" if label is None else f"+{label}")
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", help="save as VERSION+LABEL")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the short fits' ConvergenceWarning
        main(parser.parse_args().label)
