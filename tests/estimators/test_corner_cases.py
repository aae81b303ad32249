"""The corner cases users hit: verbose output, divergence, interrupted
training, dtypes with the new options, and scikit-learn's signature."""

import inspect
import warnings

import numpy as np
import pytest
from _parity_helpers import (
    digits,
    exploding_regression,
    fit_quietly,
    integer_weights,
    interrupt_after,
    skip_unless_sklearn_mlp_has,
)
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

from skmlp import MLPClassifierScratch, MLPRegressorScratch


def breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


VERBOSE_CASES = {
    "training loss": {"tol": 0.05, "n_iter_no_change": 2},
    # Binary, so that both libraries draw the same validation split.
    "early stopping": {"tol": 0.05, "n_iter_no_change": 2, "early_stopping": True},
    # A huge tol makes every epoch a plateau: the adaptive rate is divided
    # until it is too small, and then training stops.
    "adaptive": {"solver": "sgd", "learning_rate": "adaptive", "tol": 1e9},
}


@pytest.mark.parametrize("case", list(VERBOSE_CASES))
def test_verbose_output_equals_sklearn(case, capsys):
    X, y = breast_cancer()
    params = {
        "hidden_layer_sizes": (4,),
        "max_iter": 30,
        "n_iter_no_change": 1,
        "verbose": True,
        "random_state": 0,
        **VERBOSE_CASES[case],
    }
    fit_quietly(MLPClassifier(**params), X, y)
    theirs = capsys.readouterr().out
    fit_quietly(MLPClassifierScratch(**params), X, y)
    ours = capsys.readouterr().out
    assert "Iteration 1, loss = " in ours
    stop = "Learning rate too small. Stopping." if case == "adaptive" else "epochs. Stopping."
    assert ours.endswith(stop + "\n")
    assert ours == theirs


def test_non_finite_weights_are_reported():
    X, y = exploding_regression()
    reg = MLPRegressorScratch(solver="sgd", learning_rate_init=1.0, random_state=0)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match="Solver produced non-finite parameter"):
            reg.fit(X, y)
    # NaN losses count as no improvement, so it gave up early.
    assert len(reg.loss_curve_) <= reg.n_iter_no_change + 5


def test_diverging_loss_with_early_stopping_keeps_the_best_weights():
    X, y = exploding_regression()
    reg = MLPRegressorScratch(
        solver="sgd",
        learning_rate_init=1.0,
        early_stopping=True,
        max_iter=100,
        random_state=0,
    )
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        reg.fit(X, y)
    assert not np.isfinite(reg.validation_scores_).all()
    # NaN scores count as no improvement: it stops instead of running on.
    assert reg.n_iter_ < 100
    best = int(np.nanargmax(reg.validation_scores_))
    assert reg.best_validation_score_ == reg.validation_scores_[best]
    assert np.isfinite(reg.predict(X)).all()


@pytest.mark.parametrize("early_stopping", [False, True])
def test_interrupt_keeps_the_last_finished_epoch(monkeypatch, early_stopping):
    # 4 batches per epoch (3 with early stopping): the 10th batch is in epoch 3.
    X, y = digits(200)
    params = {
        "hidden_layer_sizes": (10,),
        "batch_size": 50,
        "early_stopping": early_stopping,
        "random_state": 0,
    }
    two_epochs = fit_quietly(MLPClassifierScratch(max_iter=2, **params), X, y)
    interrupt_after(monkeypatch, 10)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf = MLPClassifierScratch(max_iter=50, **params).fit(X, y)
    assert [str(w.message) for w in caught] == [
        "Training interrupted by user after 2 finished epochs; keeping the weights "
        "of the last finished epoch"
        + (" with the best validation score." if early_stopping else ".")
    ]
    assert clf.n_iter_ == 2
    assert clf.loss_curve_ == two_epochs.loss_curve_
    for a, b in zip(
        clf.coefs_ + clf.intercepts_, two_epochs.coefs_ + two_epochs.intercepts_
    ):
        np.testing.assert_array_equal(a, b)


def test_interrupt_keeps_the_last_finished_lbfgs_iteration(monkeypatch):
    X, y = digits(200)
    params = {"hidden_layer_sizes": (10,), "solver": "lbfgs", "random_state": 0}
    interrupt_after(monkeypatch, 12)
    with pytest.warns(UserWarning, match="interrupted by user after") as caught:
        clf = MLPClassifierScratch(**params).fit(X, y)
    assert len(caught) == 1 and clf.n_iter_ >= 1
    monkeypatch.undo()
    finished = fit_quietly(MLPClassifierScratch(max_iter=clf.n_iter_, **params), X, y)
    assert clf.loss_curve_ == finished.loss_curve_
    for a, b in zip(clf.coefs_, finished.coefs_):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "params",
    [{"solver": "lbfgs"}, {"solver": "adam"}, {"loss": "poisson"}],
    ids=["lbfgs", "adam", "poisson"],
)
def test_float32_with_sample_weight_stays_float32(params):
    X, y = digits(200)
    reg = fit_quietly(
        MLPRegressorScratch(hidden_layer_sizes=(6,), max_iter=5, **params),
        X.astype(np.float32),
        y.astype(np.float32),
        sample_weight=integer_weights(len(y)),
    )
    assert all(p.dtype == np.float32 for p in reg.coefs_ + reg.intercepts_)
    assert reg.predict(X.astype(np.float32)).dtype == np.float32
    assert np.isfinite(reg.loss_)


@pytest.mark.parametrize(
    "ours, theirs",
    [(MLPClassifierScratch, MLPClassifier), (MLPRegressorScratch, MLPRegressor)],
)
def test_signature_follows_sklearn(ours, theirs):
    # Same defaults, and scikit-learn's parameters in scikit-learn's order
    # (ours adds weight_init, rho, step_size, gamma and backend after them).
    skip_unless_sklearn_mlp_has("sample_weight", "loss")
    our_params = inspect.signature(ours).parameters
    their_params = inspect.signature(theirs).parameters
    assert list(our_params)[: len(their_params)] == list(their_params)
    for name, parameter in their_params.items():
        assert our_params[name].default == parameter.default, name
        assert our_params[name].kind == parameter.kind, name
    for method in ("fit", "partial_fit"):
        assert list(inspect.signature(getattr(ours, method)).parameters) == list(
            inspect.signature(getattr(theirs, method)).parameters
        )


def test_stochastic_fit_does_not_warn_about_convergence_after_an_interrupt(monkeypatch):
    X, y = digits(100)
    interrupt_after(monkeypatch, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.warns(UserWarning, match="interrupted"):
            MLPClassifierScratch(
                hidden_layer_sizes=(5,), batch_size=50, max_iter=2
            ).fit(X, y)
