"""sample_weight in fit, partial_fit and score, for every solver: scikit-learn's
objective (weighted mean loss, L2 term over the sum of the weights)."""

import numpy as np
import pytest
from _parity_helpers import (
    assert_same_loss_curve,
    digits,
    fit_both,
    fit_quietly,
    integer_weights,
    skip_unless_sklearn_mlp_has,
)
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.metrics import accuracy_score, r2_score
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from skmlp import MLPClassifierScratch, MLPRegressorScratch


def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y / 100


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_loss_curve_matches_sklearn(solver):
    X, y = digits()
    weights = integer_weights(len(y))
    ours, theirs = fit_both(
        MLPClassifierScratch,
        X,
        y,
        sample_weight=weights,
        hidden_layer_sizes=(20,),
        solver=solver,
        max_iter=30,
        random_state=0,
    )
    assert_same_loss_curve(ours, theirs)
    np.testing.assert_allclose(
        ours.predict_proba(X), theirs.predict_proba(X), rtol=0, atol=1e-12
    )


def test_regressor_matches_sklearn():
    X, y = diabetes()
    weights = integer_weights(len(y), seed=1)
    ours, theirs = fit_both(
        MLPRegressorScratch,
        X,
        y,
        sample_weight=weights,
        hidden_layer_sizes=(10,),
        solver="sgd",
        max_iter=20,
        random_state=0,
    )
    assert_same_loss_curve(ours, theirs)


def test_early_stopping_scores_the_weighted_validation_set_like_sklearn():
    # Binary: both libraries draw the same (stratified) split.
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    weights = integer_weights(len(y), seed=2) + 0.5
    ours, theirs = fit_both(
        MLPClassifierScratch,
        X,
        y,
        sample_weight=weights,
        hidden_layer_sizes=(8,),
        early_stopping=True,
        max_iter=15,
        random_state=0,
    )
    np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_)
    assert_same_loss_curve(ours, theirs)


def test_partial_fit_matches_sklearn():
    # Without shuffling, scikit-learn's re-seeding per call does not matter.
    skip_unless_sklearn_mlp_has("sample_weight")
    X, y = digits(300)
    weights = integer_weights(len(y))
    params = {"hidden_layer_sizes": (10,), "shuffle": False, "random_state": 0}
    ours, theirs = MLPClassifierScratch(**params), MLPClassifier(**params)
    for chunk in np.array_split(np.arange(len(y)), 3):
        ours.partial_fit(X[chunk], y[chunk], weights[chunk], classes=np.unique(y))
        theirs.partial_fit(X[chunk], y[chunk], weights[chunk], classes=np.unique(y))
    assert_same_loss_curve(ours, theirs)


@pytest.mark.parametrize("solver", ["lbfgs", "adam", "sgd", "rmsprop"])
def test_integer_weights_equal_repeated_samples(solver):
    # One full batch ('auto' is min(200, n_samples) and 185 rows get
    # repeated): weighting a sample by k is training on k copies of it.
    X, y = digits(120)
    weights = integer_weights(len(y))
    params = {
        "hidden_layer_sizes": (8,),
        "solver": solver,
        "max_iter": 15,
        "random_state": 0,
    }
    weighted = fit_quietly(MLPClassifierScratch(**params), X, y, sample_weight=weights)
    repeat = weights.astype(int)
    repeated = fit_quietly(
        MLPClassifierScratch(**params), X.repeat(repeat, axis=0), y.repeat(repeat)
    )
    np.testing.assert_allclose(weighted.loss_, repeated.loss_, rtol=1e-9)
    for a, b in zip(weighted.coefs_, repeated.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


def test_unit_weights_equal_no_weights():
    X, y = diabetes()
    params = {"hidden_layer_sizes": (10,), "max_iter": 10, "random_state": 0}
    plain = fit_quietly(MLPRegressorScratch(**params), X, y)
    ones = fit_quietly(
        MLPRegressorScratch(**params), X, y, sample_weight=np.ones(len(y))
    )
    np.testing.assert_allclose(plain.loss_curve_, ones.loss_curve_, rtol=1e-13)


def test_a_batch_without_weight_is_skipped():
    # Rows 0-49 weigh nothing: without shuffling they are one batch, which
    # must neither crash (its weighted mean is 0/0) nor move the weights, so
    # training equals training on the other rows alone.
    X, y = diabetes()
    weights = np.ones(len(y))
    weights[:50] = 0
    params = {
        "hidden_layer_sizes": (10,),
        "batch_size": 50,
        "shuffle": False,
        "max_iter": 5,
        "random_state": 0,
    }
    weighted = fit_quietly(MLPRegressorScratch(**params), X, y, sample_weight=weights)
    rest = fit_quietly(MLPRegressorScratch(**params), X[50:], y[50:])
    np.testing.assert_allclose(weighted.loss_curve_, rest.loss_curve_, rtol=1e-13)
    np.testing.assert_allclose(weighted.coefs_[0], rest.coefs_[0], rtol=1e-13)


@pytest.mark.parametrize("Estimator", [MLPClassifierScratch, MLPRegressorScratch])
def test_all_zero_weights_are_refused(Estimator):
    X, y = digits(50)
    with pytest.raises(ValueError, match="at least one non-zero"):
        Estimator().fit(X, y, sample_weight=np.zeros(len(y)))


def test_negative_weights_are_refused():
    X, y = digits(50)
    weights = np.ones(len(y))
    weights[3] = -1
    with pytest.raises(ValueError, match="Negative values in data passed to"):
        MLPClassifierScratch().fit(X, y, sample_weight=weights)


def test_early_stopping_split_without_weight_is_refused():
    # All the weight on one sample: one side of the split weighs nothing.
    X, y = diabetes()
    weights = np.zeros(len(y))
    weights[7] = 1
    reg = MLPRegressorScratch(early_stopping=True, random_state=0)
    with pytest.raises(
        ValueError, match="weights of the (training|validation) set .* all zero"
    ):
        reg.fit(X, y, sample_weight=weights)


def test_score_uses_the_weights():
    X, y = digits(300)
    weights = integer_weights(len(y)) + 0.5
    clf = fit_quietly(MLPClassifierScratch(hidden_layer_sizes=(8,), max_iter=5), X, y)
    assert clf.score(X, y, sample_weight=weights) == pytest.approx(
        accuracy_score(y, clf.predict(X), sample_weight=weights)
    )
    Xr, yr = diabetes()
    reg = fit_quietly(MLPRegressorScratch(hidden_layer_sizes=(8,), max_iter=5), Xr, yr)
    weights = integer_weights(len(yr)) + 0.5
    assert reg.score(Xr, yr, sample_weight=weights) == pytest.approx(
        r2_score(yr, reg.predict(Xr), sample_weight=weights)
    )
