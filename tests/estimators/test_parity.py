"""Parity with scikit-learn's MLPClassifier / MLPRegressor in float64.

With the same ``random_state`` both draw the same initial weights, shuffle
the same way and split the same validation set, so where the two define the
same computation the results agree to rounding error. Where skmlp differs on
purpose (multi-output squared-error gradient) the test pins the difference.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

from skmlp import MLPClassifierScratch, MLPRegressorScratch


def fit_quietly(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def problem(kind, n_samples=60, seed=0):
    """Small standardised data for one kind of target."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, 4))
    score = X @ rng.normal(size=(4, 3))
    if kind == "binary":
        y = (score[:, 0] > 0).astype(int)
    elif kind == "multiclass":
        y = np.argmax(score, axis=1)
    elif kind == "multilabel":
        y = (score > 0).astype(int)
    elif kind == "regression":
        y = score[:, 0] + 0.1 * rng.normal(size=n_samples)
    else:  # multi-output regression
        y = score + 0.1 * rng.normal(size=score.shape)
    return X, y


def pair(kind, **params):
    if kind.endswith("regression"):
        return MLPRegressorScratch(**params), MLPRegressor(**params)
    return MLPClassifierScratch(**params), MLPClassifier(**params)


def assert_same_layers(ours, theirs, rtol=1e-12):
    assert len(ours.coefs_) == len(theirs.coefs_)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-14)


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize(
    "kind",
    ["binary", "multiclass", "multilabel", "regression", "multi-output regression"],
)
def test_equal_weights_give_equal_predictions(kind, activation):
    X, y = problem(kind)
    ours, theirs = pair(
        kind,
        hidden_layer_sizes=(6, 5),
        activation=activation,
        max_iter=1,
        random_state=0,
    )
    fit_quietly(ours, X, y)
    fit_quietly(theirs, X, y)
    # The same random weights, large enough to reach saturated outputs.
    rng = np.random.RandomState(1)
    coefs = [rng.normal(scale=2, size=c.shape) for c in theirs.coefs_]
    intercepts = [rng.normal(scale=2, size=b.shape) for b in theirs.intercepts_]
    for model in (ours, theirs):
        model.coefs_ = [c.copy() for c in coefs]
        model.intercepts_ = [b.copy() for b in intercepts]

    if kind.endswith("regression"):
        np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-12)
    else:
        np.testing.assert_allclose(
            ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-12, atol=1e-15
        )
        np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel", "regression"])
def test_one_full_batch_sgd_step_equals_sklearn(kind, momentum):
    X, y = problem(kind)
    params = {
        "hidden_layer_sizes": (5, 3),
        "solver": "sgd",
        "batch_size": len(X),
        "max_iter": 1,
        "momentum": momentum,
        "shuffle": False,
        "alpha": 0.01,
        "learning_rate_init": 0.1,
        "activation": "tanh",
        "random_state": 0,
    }
    ours, theirs = pair(kind, **params)
    fit_quietly(ours, X, y)
    fit_quietly(theirs, X, y)
    assert_same_layers(ours, theirs)
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-12)


def test_multi_output_regression_gradient_is_averaged_over_outputs():
    """Deliberate difference: skmlp's squared-error gradient is that of the
    reported loss (a mean over the k outputs); scikit-learn's is k times
    larger. Without L2 one step of ours at rate r equals sklearn's at r / k."""
    X, y = problem("multi-output regression")
    common = {
        "hidden_layer_sizes": (5,),
        "solver": "sgd",
        "batch_size": len(X),
        "max_iter": 1,
        "momentum": 0.0,
        "shuffle": False,
        "alpha": 0.0,
        "random_state": 0,
    }
    ours = fit_quietly(MLPRegressorScratch(learning_rate_init=0.3, **common), X, y)
    theirs = fit_quietly(
        MLPRegressor(learning_rate_init=0.3 / y.shape[1], **common), X, y
    )
    assert_same_layers(ours, theirs)


LOSS_CURVE_CASES = {
    "adam": ("multiclass", {"solver": "adam", "learning_rate_init": 0.01}),
    "sgd-nesterov": ("multiclass", {"solver": "sgd", "learning_rate_init": 0.1}),
    "sgd-momentum": (
        "binary",
        {"solver": "sgd", "nesterovs_momentum": False, "learning_rate_init": 0.1},
    ),
    "sgd-invscaling": (
        "multiclass",
        {
            "solver": "sgd",
            "learning_rate": "invscaling",
            "learning_rate_init": 0.5,
            "power_t": 0.25,
        },
    ),
    # A huge tol makes every epoch after the first a non-improvement, so the
    # adaptive rule divides the rate every other epoch until it gives up.
    "sgd-adaptive": (
        "multiclass",
        {
            "solver": "sgd",
            "learning_rate": "adaptive",
            "learning_rate_init": 0.1,
            "tol": 1e9,
            "n_iter_no_change": 1,
            "max_iter": 40,
        },
    ),
    "multilabel": ("multilabel", {"solver": "adam", "learning_rate_init": 0.01}),
    "regression": ("regression", {"solver": "adam", "learning_rate_init": 0.01}),
    "binary-early-stopping": (
        "binary",
        {
            "solver": "adam",
            "learning_rate_init": 0.01,
            "early_stopping": True,
            "validation_fraction": 0.2,
            "n_iter_no_change": 3,
            "max_iter": 100,
        },
    ),
    "regression-early-stopping": (
        "regression",
        {
            "solver": "sgd",
            "learning_rate_init": 0.01,
            "early_stopping": True,
            "n_iter_no_change": 3,
            "max_iter": 100,
        },
    ),
}


@pytest.mark.parametrize("case", list(LOSS_CURVE_CASES))
def test_training_history_equals_sklearn(case):
    kind, params = LOSS_CURVE_CASES[case]
    params = {
        "hidden_layer_sizes": (8,),
        "batch_size": 16,
        "max_iter": 25,
        "random_state": 0,
        **params,
    }
    X, y = problem(kind, n_samples=100)
    ours, theirs = pair(kind, **params)
    fit_quietly(ours, X, y)
    fit_quietly(theirs, X, y)

    assert ours.n_iter_ == theirs.n_iter_
    assert ours.t_ == theirs.t_
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)
    if params.get("early_stopping"):
        assert ours.n_iter_ < params["max_iter"]
        np.testing.assert_allclose(
            ours.validation_scores_, theirs.validation_scores_, rtol=1e-10
        )
        assert ours.best_validation_score_ == pytest.approx(
            theirs.best_validation_score_, rel=1e-10
        )
        assert ours.best_loss_ is None and theirs.best_loss_ is None
    else:
        assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=1e-10)
    assert_same_layers(ours, theirs, rtol=1e-8)
    if case == "sgd-adaptive":
        assert ours.n_iter_ < params["max_iter"]  # the rule gave up and stopped


def scaled_split(load):
    X, y = load(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


@pytest.mark.parametrize(
    "load",
    [
        load_iris,
        load_wine,
        load_breast_cancer,
        pytest.param(load_digits, marks=pytest.mark.slow),
    ],
)
def test_test_accuracy_close_to_sklearn(load):
    X_train, X_test, y_train, y_test = scaled_split(load)
    reference = fit_quietly(MLPClassifier(random_state=0), X_train, y_train)
    reference_accuracy = reference.score(X_test, y_test)
    assert reference_accuracy > 0.9  # the comparison is between good models
    for params in [
        {},
        {"solver": "rmsprop"},
        {
            "solver": "sgd",
            "learning_rate_init": 0.1,
            "learning_rate": "step",
            "step_size": 50,
        },
    ]:
        ours = fit_quietly(
            MLPClassifierScratch(random_state=0, **params), X_train, y_train
        )
        assert ours.score(X_test, y_test) == pytest.approx(
            reference_accuracy, abs=0.04
        ), params


def test_warm_start_uses_a_changed_learning_rate_init():
    """A new learning_rate_init set before a warm_start fit is used (as in
    scikit-learn, whose momentum-free SGD step does not depend on the reset
    optimizer state)."""
    X, y = load_iris(return_X_y=True)
    params = {"hidden_layer_sizes": (5,), "solver": "sgd", "momentum": 0.0,
              "shuffle": False, "batch_size": len(X), "max_iter": 1,
              "learning_rate_init": 0.01, "random_state": 0}
    models = []
    for Estimator in (MLPClassifierScratch, MLPClassifier):
        model = Estimator(**params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
            model.set_params(warm_start=True, learning_rate_init=0.5).fit(X, y)
        models.append(model)
    ours, theirs = models
    np.testing.assert_allclose(ours.coefs_[0], theirs.coefs_[0], rtol=1e-12)
