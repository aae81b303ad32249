"""solver='lbfgs': scikit-learn's L-BFGS on our flat parameter buffer."""

import warnings

import numpy as np
import pytest
from _parity_helpers import (
    assert_core_matches_the_definition,
    digits,
    finite_difference_gradient,
    fit_both,
    fit_quietly,
    integer_weights,
    objective_by_hand,
)
from sklearn.datasets import load_diabetes, load_linnerud
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

from skmlp import MLPClassifierScratch, MLPRegressorScratch


@pytest.mark.parametrize("weighted", [False, True])
def test_classifier_matches_sklearn(weighted):
    X, y = digits(300)
    sample_weight = integer_weights(len(y)) if weighted else None
    ours, theirs = fit_both(
        MLPClassifierScratch,
        X,
        y,
        sample_weight=sample_weight,
        hidden_layer_sizes=(20,),
        solver="lbfgs",
        max_iter=30,
        random_state=0,
    )
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=1e-10)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, atol=1e-9)
    np.testing.assert_allclose(
        ours.predict_proba(X), theirs.predict_proba(X), atol=1e-9
    )


def test_single_output_regressor_matches_sklearn():
    X, y = load_diabetes(return_X_y=True)
    X, y = StandardScaler().fit_transform(X), y / 100
    ours, theirs = fit_both(
        MLPRegressorScratch,
        X,
        y,
        hidden_layer_sizes=(10,),
        solver="lbfgs",
        max_iter=40,
        random_state=0,
    )
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=1e-10)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), atol=1e-8)


def test_multi_output_gradient_matches_finite_differences():
    # The gradient L-BFGS is given must be the gradient of the loss it is
    # given; scikit-learn's is n_outputs times too large for multi-output
    # squared error (see docs/user_guide/differences.md).
    rng = np.random.RandomState(0)
    X, Y = rng.normal(size=(12, 4)), rng.normal(size=(12, 3))
    assert_core_matches_the_definition(
        X,
        Y,
        hidden=[5],
        activation="tanh",
        output="identity",
        alpha=0.3,
        sample_weight=rng.uniform(0, 2, 12),
    )


def test_multi_output_solution_is_a_stationary_point_of_the_loss():
    X, Y = load_linnerud(return_X_y=True)
    X, Y = StandardScaler().fit_transform(X), StandardScaler().fit_transform(Y)
    reg = MLPRegressorScratch(
        hidden_layer_sizes=(4,),
        activation="tanh",
        solver="lbfgs",
        alpha=1.0,
        tol=1e-12,
        max_iter=5000,
        random_state=0,
    )
    fit_quietly(reg, X, Y)
    setting = {"activation": "tanh", "output": "identity", "alpha": 1.0}
    coefs, intercepts = reg.coefs_, reg.intercepts_
    gradient = finite_difference_gradient(
        lambda: objective_by_hand(coefs, intercepts, X, Y, **setting),
        coefs + intercepts,
    )
    # A gradient n_outputs times too large on the data term (scikit-learn's)
    # would stop where this gradient is about 3e-2.
    assert max(np.abs(g).max() for g in gradient) < 1e-4
    assert reg.loss_ == pytest.approx(
        objective_by_hand(coefs, intercepts, X, Y, **setting)
    )


@pytest.mark.parametrize("max_iter, max_fun", [(3, 15000), (200, 5)])
def test_iteration_and_evaluation_limits_warn_like_sklearn(max_iter, max_fun):
    X, y = digits(200)
    params = {
        "hidden_layer_sizes": (10,),
        "solver": "lbfgs",
        "max_iter": max_iter,
        "max_fun": max_fun,
        "random_state": 0,
    }
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge") as ours:
        ours_model = MLPClassifierScratch(**params).fit(X, y)
    with pytest.warns(ConvergenceWarning) as theirs:
        theirs_model = MLPClassifier(**params).fit(X, y)
    assert str(ours[0].message) == str(theirs[0].message)
    assert ours_model.n_iter_ == theirs_model.n_iter_ <= max_iter


@pytest.mark.parametrize("Estimator", [MLPClassifierScratch, MLPRegressorScratch])
def test_partial_fit_is_not_available(Estimator):
    # As scikit-learn's classifier (its regressor's check is broken and runs a
    # whole L-BFGS fit instead: see docs/user_guide/differences.md).
    est = Estimator(solver="lbfgs")
    assert not hasattr(est, "partial_fit")
    with pytest.raises(AttributeError) as raised:
        est.partial_fit  # noqa: B018 (the attribute access is what raises)
    assert "lbfgs is not stochastic" in str(raised.value.__cause__)
    assert hasattr(est.set_params(solver="sgd"), "partial_fit")


def test_warm_start_matches_sklearn():
    X, y = digits(300)
    params = {
        "hidden_layer_sizes": (10,),
        "solver": "lbfgs",
        "max_iter": 10,
        "warm_start": True,
        "random_state": 0,
    }
    ours, theirs = MLPClassifierScratch(**params), MLPClassifier(**params)
    for _ in range(2):
        fit_quietly(ours, X, y)
        fit_quietly(theirs, X, y)
    for a, b in zip(ours.coefs_, theirs.coefs_):
        np.testing.assert_allclose(a, b, atol=1e-9)


def test_float32_stays_float32():
    X, y = digits(200)
    clf = fit_quietly(
        MLPClassifierScratch(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=20),
        X.astype(np.float32),
        y,
    )
    assert all(p.dtype == np.float32 for p in clf.coefs_ + clf.intercepts_)
    assert clf.predict_proba(X.astype(np.float32)).dtype == np.float32
    assert np.isfinite(clf.loss_)


def test_loss_curve_and_verbose_lines(capsys):
    X, y = digits(200)
    clf = fit_quietly(
        MLPClassifierScratch(
            hidden_layer_sizes=(10,), solver="lbfgs", max_iter=15, verbose=True
        ),
        X,
        y,
    )
    assert len(clf.loss_curve_) == clf.n_iter_ == 15
    # L-BFGS's line search only accepts steps that lower the loss.
    assert np.all(np.diff(clf.loss_curve_) < 0)
    assert clf.loss_curve_[-1] == clf.loss_
    expected = [
        f"Iteration {i}, loss = {v:.8f}" for i, v in enumerate(clf.loss_curve_, 1)
    ]
    assert capsys.readouterr().out.splitlines() == expected


# The public attributes a fit sets beyond scikit-learn's, by solver, as
# differences.md lists them: client code that tells the solvers apart with
# hasattr(mlp, "loss_curve_") takes the stochastic branch for ours.
BATCH_NORM_ATTRIBUTES = {
    "batch_norm_scales_",
    "batch_norm_shifts_",
    "batch_norm_running_means_",
    "batch_norm_running_vars_",
}
HISTORY_ATTRIBUTES = {
    "loss_curve_",
    "best_loss_",
    "validation_scores_",
    "best_validation_score_",
}


@pytest.mark.parametrize(
    "ours, theirs",
    [(MLPClassifierScratch, MLPClassifier), (MLPRegressorScratch, MLPRegressor)],
)
@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_fitted_attributes_beyond_sklearns_are_the_documented_ones(
    ours, theirs, solver
):
    X, y = digits(100)

    def fitted_attributes(estimator):
        model = fit_quietly(estimator(solver=solver, max_iter=3, random_state=0), X, y)
        return {name for name in vars(model) if name.endswith("_") and name[0] != "_"}

    extra = BATCH_NORM_ATTRIBUTES | (HISTORY_ATTRIBUTES if solver == "lbfgs" else set())
    assert fitted_attributes(ours) == fitted_attributes(theirs) | extra


def test_early_stopping_is_ignored_as_in_sklearn():
    X, y = digits(200)
    params = {
        "hidden_layer_sizes": (10,),
        "solver": "lbfgs",
        "max_iter": 10,
        "random_state": 0,
    }
    plain = fit_quietly(MLPClassifierScratch(**params), X, y)
    with_es = fit_quietly(MLPClassifierScratch(early_stopping=True, **params), X, y)
    assert with_es.validation_scores_ is None
    np.testing.assert_array_equal(plain.coefs_[0], with_es.coefs_[0])


def test_switching_between_lbfgs_and_a_stochastic_solver():
    X, y = digits(200)
    clf = MLPClassifierScratch(
        hidden_layer_sizes=(10,),
        solver="adam",
        max_iter=5,
        warm_start=True,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
        adam_loss = clf.loss_
        clf.set_params(solver="lbfgs", max_iter=20).fit(X, y)
        assert clf.loss_ < adam_loss
        lbfgs_loss = clf.loss_
        clf.set_params(solver="adam", max_iter=1).fit(X, y)
    assert clf.t_ == 6 * len(y)  # 5 adam epochs, then 1
    assert abs(clf.loss_ - lbfgs_loss) < abs(adam_loss - lbfgs_loss)
