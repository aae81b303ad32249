"""Data flows down: the estimator makes a FitPlan, a driver returns a FitResult
and a FittedState, and nothing below the estimator touches it."""

import dataclasses
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning

from skmlp import MLPClassifierScratch, MLPRegressorScratch
from skmlp._backends import NumpyBackend
from skmlp._estimators import fitted_predictor
from skmlp._nn import Predictor
from skmlp._training import FitPlan


def fit_quietly(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def test_held_out_scoring_never_touches_the_live_estimator():
    X, y = load_iris(return_X_y=True)
    model = MLPClassifierScratch(
        hidden_layer_sizes=(5,), early_stopping=True, max_iter=5, random_state=0
    )
    seen = []

    def scorer(estimator, X_val, y_val):
        # The live model has no fitted weights yet on its first fit: the
        # scorer gets a copy fitted with the network's current weights.
        seen.append((estimator is model, hasattr(model, "coefs_")))
        return float((estimator.predict(X_val) == y_val).mean())

    fit_quietly(model.set_params(scoring=scorer), X, y)
    assert seen == [(False, False)] * model.n_iter_


@pytest.mark.parametrize("Estimator", [MLPClassifierScratch, MLPRegressorScratch])
def test_the_plan_is_made_from_the_parameters(Estimator):
    params = Estimator(
        hidden_layer_sizes=(4, 3), dropout=[0.1, 0.0], batch_size=8, max_iter=7
    ).get_params()
    plan = FitPlan.from_params(params, incremental=False)
    assert plan.layer_units(5, 2) == [5, 4, 3, 2]
    assert plan.dropout == (0.1, 0.0)
    assert plan.rows_per_batch(100) == 8 and plan.rows_per_batch(5) == 5
    assert plan.max_steps == 7
    assert FitPlan.from_params(params, incremental=True).max_steps == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.max_iter = 3


@pytest.mark.parametrize(
    "params, incremental, message",
    [
        ({"solver": "lbfgs", "clip_grad_norm": 1.0}, False, "stochastic solvers only"),
        ({"solver": "lbfgs", "dropout": 0.2}, False, "dropout does not work"),
        ({"early_stopping": True}, True, "partial_fit does not support"),
        ({"dropout": [0.1, 0.2]}, False, "dropout has 2 rates"),
    ],
)
def test_the_plan_refuses_parameters_that_do_not_go_together(
    params, incremental, message
):
    params = MLPClassifierScratch(**params).get_params()
    with pytest.raises(ValueError, match=message):
        FitPlan.from_params(params, incremental)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_predictor_predicts_as_the_model_does(dtype):
    X, y = load_iris(return_X_y=True)
    model = fit_quietly(
        MLPClassifierScratch(hidden_layer_sizes=(6,), batch_norm=True, max_iter=5),
        X,
        y,
    )
    predictor = fitted_predictor(model)
    assert isinstance(predictor, Predictor)
    backend = NumpyBackend()
    output = predictor.predict(X.astype(dtype), backend, dtype)
    np.testing.assert_allclose(
        output, model.predict_proba(X), rtol=1e-5 if dtype == np.float32 else 0
    )
    # Over the fitted weights in the fit's dtype, copied into another one.
    assert predictor.shares_weights(backend, np.float64)
    assert not predictor.shares_weights(backend, np.float32)
