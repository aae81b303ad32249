"""Warnings point at the user's call; fit and predict leak no NumPy
RuntimeWarning; divergence is reported once, saying what to change."""

import sys
import warnings

import numpy as np
import pytest
from _parity_helpers import digits
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from test_corner_cases import exploding_regression, interrupt_after

from skmlp import MLPClassifierScratch, MLPRegressorScratch
from skmlp._backends import backends as _backend

SMALL = {"hidden_layer_sizes": (5,), "random_state": 0}


def caught_warnings(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return caught


def assert_warns_here(category, call, match):
    """``call()`` warns ``category`` (message containing ``match``), and every
    warning it raises is attributed to this file."""
    caught = caught_warnings(call)
    assert any(
        issubclass(w.category, category) and match in str(w.message) for w in caught
    ), [str(w.message) for w in caught]
    assert {w.filename for w in caught} == {__file__}


def test_our_warnings_point_at_the_users_call(monkeypatch):
    X, y = digits(100)
    assert_warns_here(
        ConvergenceWarning,
        lambda: MLPClassifierScratch(max_iter=2, **SMALL).fit(X, y),
        "Maximum iterations (2) reached",
    )
    too_big = MLPClassifierScratch(batch_size=500, **SMALL)
    assert_warns_here(
        UserWarning, lambda: too_big.partial_fit(X, y, classes=range(10)), "batch_size"
    )
    # scikit-learn's own warnings, raised inside our fit, are passed on from
    # the user's line too.
    lbfgs = MLPRegressorScratch(solver="lbfgs", max_iter=2, **SMALL)
    assert_warns_here(
        ConvergenceWarning, lambda: lbfgs.fit(X, y), "lbfgs failed to converge"
    )
    assert_warns_here(
        DataConversionWarning, lambda: lbfgs.fit(X, y[:, None]), "column-vector y"
    )
    # From the depths of the epoch loop.
    interrupt_after(monkeypatch, 2)
    assert_warns_here(
        UserWarning,
        lambda: MLPRegressorScratch(batch_size=50, **SMALL).fit(X, y),
        "interrupted by user",
    )


def test_a_backend_fallback_warning_points_at_the_users_call(monkeypatch):
    X, y = digits(100)
    clf = MLPClassifierScratch(max_iter=3, **SMALL)
    caught_warnings(lambda: clf.fit(X, y))
    monkeypatch.setitem(sys.modules, "cupy", None)
    _backend._probe_cupy.cache_clear()
    _backend._cached_cupy_backend.cache_clear()
    clf.set_params(backend="cupy")
    # predict_log_proba reaches the fallback two calls deeper than predict.
    assert_warns_here(UserWarning, lambda: clf.predict(X), "Predicting with NumPy")
    assert_warns_here(
        UserWarning, lambda: clf.predict_log_proba(X), "Predicting with NumPy"
    )
    _backend._probe_cupy.cache_clear()


def test_inside_a_pipeline_warnings_point_at_the_pipelines_call():
    X, y = digits(100)
    pipe = make_pipeline(StandardScaler(), MLPClassifierScratch(max_iter=2, **SMALL))
    assert_warns_here(ConvergenceWarning, lambda: pipe.fit(X, y), "Maximum iterations")


@pytest.mark.parametrize("solver", ["adam", "rmsprop", "lbfgs"])
def test_no_numpy_runtime_warning_leaks_out(solver):
    # A Poisson fit at a large learning rate overflows exp() on the way: it
    # used to print NumPy's overflow, divide and invalid-value warnings.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 5))
    y = rng.poisson(3, 200)
    reg = MLPRegressorScratch(
        loss="poisson", solver=solver, learning_rate_init=0.5, max_iter=30, **SMALL
    )
    caught = caught_warnings(lambda: reg.fit(X, y))
    caught += caught_warnings(lambda: reg.predict(X * 1e6))
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]


def test_log_proba_of_an_underflowed_probability_is_quietly_minus_infinity():
    X, y = digits(100)
    clf = MLPClassifierScratch(max_iter=50, **SMALL)
    caught = caught_warnings(lambda: clf.fit(X, y))
    caught += caught_warnings(lambda: clf.predict_log_proba(X * 1e4))
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert np.isneginf(clf.predict_log_proba(X * 1e4)).any()


def test_divergence_is_reported_once_saying_what_to_change():
    X, y = exploding_regression()
    # Non-finite by the 5th epoch, before the stop rule could end the fit.
    reg = MLPRegressorScratch(
        solver="sgd", learning_rate_init=10.0, max_iter=5, random_state=0
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError) as error:
            reg.fit(X, y)
    # scikit-learn's words first (its tests match them), then ours.
    assert str(error.value) == (
        "Solver produced non-finite parameter weights. The input data may contain "
        "large values and need to be preprocessed. Scale the inputs (e.g. "
        "StandardScaler in a Pipeline), lower learning_rate_init (it is 10) or "
        "set clip_grad_norm (e.g. 1.0)."
    )
    assert caught == []  # not also "Maximum iterations reached"
