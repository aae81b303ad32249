"""MLPRegressorScratch(loss='poisson'): exponential output, half the Poisson
deviance, as scikit-learn's MLPRegressor."""

import warnings

import numpy as np
import pytest
from _parity_helpers import (
    assert_core_matches_the_definition,
    assert_same_loss_curve,
    fit_both,
    fit_quietly,
    integer_weights,
)
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import mean_poisson_deviance
from sklearn.preprocessing import StandardScaler

from skmlp import MLPRegressorScratch
from skmlp._backends import get_backend
from skmlp._nn import OUTPUTS


def counts(n_outputs=1):
    """Diabetes features with Poisson counts whose rate depends on them."""
    X, _ = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    rng = np.random.RandomState(0)
    rate = np.exp(0.4 * X[:, :n_outputs] + 0.5)
    y = rng.poisson(rate).astype(float)
    return X, (y.ravel() if n_outputs == 1 else y)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("weighted", [False, True])
def test_loss_curve_matches_sklearn(solver, weighted):
    X, y = counts()
    weights = integer_weights(len(y)) if weighted else None
    ours, theirs = fit_both(
        MLPRegressorScratch,
        X,
        y,
        sample_weight=weights,
        loss="poisson",
        hidden_layer_sizes=(10,),
        solver=solver,
        max_iter=20,
        random_state=0,
    )
    assert ours.out_activation_ == theirs.out_activation_ == "exp"
    assert_same_loss_curve(ours, theirs)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-12)


def test_lbfgs_matches_sklearn_with_two_outputs():
    # Summed over outputs, the Poisson gradient is right in scikit-learn too.
    X, y = counts(n_outputs=2)
    ours, theirs = fit_both(
        MLPRegressorScratch,
        X,
        y,
        loss="poisson",
        hidden_layer_sizes=(8,),
        solver="lbfgs",
        max_iter=30,
        random_state=0,
    )
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=1e-10)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-8)


def test_loss_is_half_the_mean_poisson_deviance():
    X, y = counts()
    reg = fit_quietly(
        MLPRegressorScratch(loss="poisson", solver="lbfgs", alpha=0, max_iter=20), X, y
    )
    assert (y == 0).any()  # the y log(y / p) = 0 case is exercised
    assert reg.loss_ == pytest.approx(0.5 * mean_poisson_deviance(y, reg.predict(X)))


def test_gradient_matches_finite_differences():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(10, 3))
    Y = rng.poisson(2.0, size=(10, 2)).astype(float)
    assert_core_matches_the_definition(
        X,
        Y,
        hidden=[4],
        activation="logistic",
        output="exp",
        alpha=0.2,
        sample_weight=rng.uniform(0, 2, 10),
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_zero_count_where_the_rate_underflows_has_zero_deviance(dtype):
    """exp(z) is exactly 0 far from the data (z below about -745, or -104 in
    float32); a zero count there has deviance p = 0, not 0 * log(1 / 0)."""
    loss = OUTPUTS["exp"](get_backend("numpy"))
    p = np.exp(np.array([[-1000.0], [0.0]])).astype(dtype)
    assert p[0, 0] == 0
    y = np.array([[0.0], [2.0]], dtype)
    second_row = 2 * np.log(2 / 1) - 2 + 1
    assert float(loss.loss(y, p)) == pytest.approx(second_row / 2, rel=1e-6)
    weights = np.array([3.0, 1.0], dtype)
    weighted = loss.loss(y, p, weights, work=np.empty_like(p))
    assert float(weighted) == pytest.approx(second_row / 4, rel=1e-6)


def test_predictions_are_positive_far_from_the_data():
    X, y = counts()
    reg = fit_quietly(MLPRegressorScratch(loss="poisson", max_iter=20), X, y)
    far = np.full((3, X.shape[1]), -50.0)
    assert np.all(reg.predict(far) > 0)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_negative_targets_are_refused(method):
    X, y = counts()
    y[5] = -1.5
    reg = MLPRegressorScratch(loss="poisson")
    with pytest.raises(ValueError, match=r"loss='poisson' needs non-negative .* -1.5"):
        getattr(reg, method)(X, y)


def test_all_zero_counts_are_accepted():
    X, _ = counts()
    reg = fit_quietly(
        MLPRegressorScratch(loss="poisson", max_iter=3), X, np.zeros(len(X))
    )
    assert np.all(reg.predict(X) > 0)


def test_positive_only_target_tag():
    assert (
        MLPRegressorScratch(loss="poisson").__sklearn_tags__().target_tags.positive_only
    )
    assert not MLPRegressorScratch().__sklearn_tags__().target_tags.positive_only


@pytest.mark.parametrize("continue_with", ["warm_start", "partial_fit"])
def test_changing_the_loss_on_a_continued_fit_predicts_through_the_new_output(
    continue_with,
):
    """A continued fit trains with the current ``loss``; predict must then use
    that loss's output layer, not the one of the first fit."""
    rng = np.random.RandomState(0)
    X = rng.standard_normal((60, 3))
    y_counts = rng.poisson(2.0, 60).astype(float)
    y = X @ [0.5, -1.0, 0.2]
    model = MLPRegressorScratch(
        loss="poisson", hidden_layer_sizes=(5,), solver="sgd", max_iter=5,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y_counts)
        assert model.out_activation_ == "exp"
        model.set_params(loss="squared_error", warm_start=True)
        if continue_with == "warm_start":
            model.fit(X, y)
        else:
            model.partial_fit(X, y)
    assert model.out_activation_ == "identity"
    hidden = np.maximum(X @ model.coefs_[0] + model.intercepts_[0], 0)
    identity_output = (hidden @ model.coefs_[1] + model.intercepts_[1]).ravel()
    np.testing.assert_allclose(model.predict(X), identity_output, rtol=1e-12)
