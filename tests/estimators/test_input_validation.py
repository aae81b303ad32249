"""Bad input is refused with a ValueError (or NotFittedError) whose message
says what went wrong; each message is pinned here."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from skmlp import MLPClassifierScratch, MLPRegressorScratch

ESTIMATORS = [MLPClassifierScratch, MLPRegressorScratch]


def data(Estimator):
    X, y = load_iris(return_X_y=True)
    return X, (y.astype(float) if Estimator is MLPRegressorScratch else y)


def fitted(Estimator, X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return Estimator(hidden_layer_sizes=(3,), max_iter=2, **params).fit(X, y)


# ------------------------------------------------------------------ X itself
@pytest.mark.parametrize(
    "value, message",
    [
        (np.nan, "Input X contains NaN"),
        (np.inf, "Input X contains infinity or a value too large"),
        (-np.inf, "Input X contains infinity or a value too large"),
    ],
)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_non_finite_X(Estimator, value, message):
    X, y = data(Estimator)
    bad = X.copy()
    bad[3, 2] = value
    with pytest.raises(ValueError, match=message):
        Estimator().fit(bad, y)
    model = fitted(Estimator, X, y)
    with pytest.raises(ValueError, match=message):
        model.predict(bad)


def test_nan_explains_what_to_do():
    X, y = data(MLPClassifierScratch)
    X = X.copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="imputer transformer in a pipeline"):
        MLPClassifierScratch().fit(X, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_non_finite_y(Estimator):
    X, y = data(Estimator)
    y = y.astype(float)
    y[5] = np.nan
    with pytest.raises(ValueError, match="Input y contains NaN"):
        Estimator().fit(X, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_one_dimensional_X(Estimator):
    X, y = data(Estimator)
    with pytest.raises(ValueError, match=r"Expected 2D array, got 1D array instead"):
        Estimator().fit(X[:, 0], y)
    model = fitted(Estimator, X, y)
    with pytest.raises(ValueError, match=r"Reshape your data either using"):
        model.predict(X[0])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_three_dimensional_X(Estimator):
    X, y = data(Estimator)
    # scikit-learn's words, which 1.6 ends "... expected <= 2."
    with pytest.raises(ValueError, match="Found array with dim 3"):
        Estimator().fit(X[:, :, None], y)
    model = fitted(Estimator, X, y)
    with pytest.raises(ValueError, match="Found array with dim 3"):
        model.predict(X[:, :, None])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_wrong_feature_count(Estimator):
    X, y = data(Estimator)
    model = fitted(Estimator, X, y)
    message = f"X has 3 features, but {Estimator.__name__} is expecting 4 features"
    with pytest.raises(ValueError, match=message):
        model.predict(X[:, :3])
    with pytest.raises(ValueError, match=message):
        model.partial_fit(X[:, :3], y)
    if Estimator is MLPClassifierScratch:
        with pytest.raises(ValueError, match=message):
            model.predict_proba(X[:, :3])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_empty_data(Estimator):
    X, y = data(Estimator)
    with pytest.raises(
        ValueError, match=r"Found array with 0 sample\(s\) \(shape=\(0, 4\)\)"
    ):
        Estimator().fit(X[:0], y[:0])
    with pytest.raises(ValueError, match=r"Found array with 0 feature\(s\)"):
        Estimator().fit(np.empty((5, 0)), y[:5])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_inconsistent_lengths(Estimator):
    X, y = data(Estimator)
    with pytest.raises(
        ValueError, match=r"inconsistent numbers of samples: \[150, 10\]"
    ):
        Estimator().fit(X, y[:10])


def test_classifier_refuses_continuous_targets():
    X, _ = data(MLPClassifierScratch)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        MLPClassifierScratch().fit(X, np.linspace(0, 1, len(X)))


# ------------------------------------------------------------- parameters
BAD_PARAMETERS = {
    "hidden_layer_sizes": "abc",
    "activation": "foo",
    "solver": "newton",
    "alpha": -1.0,
    "l1": -0.1,
    "weight_decay": -0.1,
    "batch_size": 0,
    "learning_rate": "linear",
    "schedule_unit": "step",
    "warmup": -0.5,
    "learning_rate_init": 0.0,
    "power_t": -0.5,
    "max_iter": 0,
    "shuffle": "yes",
    "random_state": "seed",
    "tol": -1e-4,
    "verbose": "loud",
    "warm_start": "no",
    "momentum": 1.5,
    "nesterovs_momentum": "sometimes",
    "early_stopping": 1.0,
    "validation_fraction": 1.0,
    "beta_1": 1.0,
    "beta_2": -0.1,
    "epsilon": 0.0,
    "n_iter_no_change": 0,
    "max_fun": 0,
    "weight_init": "xavier",
    "rho": 1.0,
    "step_size": 0,
    "gamma": 0.0,
    "amsgrad": "yes",
    "scoring": 3,
    "dropout": 1.0,
    "batch_norm": "yes",
    "batch_norm_momentum": 0.0,
    "clip_grad_norm": 0.0,
    "backend": "foo",
}


@pytest.mark.parametrize("name", sorted(BAD_PARAMETERS))
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_bad_parameter_values(Estimator, name):
    X, y = data(Estimator)
    estimator = Estimator(**{name: BAD_PARAMETERS[name]})
    message = f"The '{name}' parameter of {Estimator.__name__} must be"
    with pytest.raises(InvalidParameterError, match=message) as error:
        estimator.fit(X, y)
    assert isinstance(error.value, ValueError)
    with pytest.raises(InvalidParameterError, match=message):
        estimator.partial_fit(
            X,
            y,
            **({"classes": [0, 1, 2]} if Estimator is MLPClassifierScratch else {}),
        )


# The regressor's loss parameters.
BAD_LOSS_PARAMETERS = {
    "huber_delta": (0.0, r"a float in the range \(0(\.0)?, inf\)"),
    "quantile": (1.0, r"a float in the range \(0(\.0)?, 1(\.0)?\)"),
}


@pytest.mark.parametrize("name", sorted(BAD_LOSS_PARAMETERS))
def test_bad_loss_parameter_values(name):
    X, y = data(MLPRegressorScratch)
    value, allowed = BAD_LOSS_PARAMETERS[name]
    message = f"The '{name}' parameter of MLPRegressorScratch must be {allowed}"
    with pytest.raises(InvalidParameterError, match=message):
        MLPRegressorScratch(**{name: value}).fit(X, y)


def test_every_public_parameter_is_validated():
    for Estimator in ESTIMATORS:
        # One estimator's own parameters are tested with their features.
        names = set(Estimator().get_params()) - {
            "loss", "class_weight", "label_smoothing", *BAD_LOSS_PARAMETERS
        }
        assert names == set(BAD_PARAMETERS), Estimator
    assert set(BAD_LOSS_PARAMETERS) < set(MLPRegressorScratch().get_params())


def test_unknown_regression_loss():
    X, y = data(MLPRegressorScratch)
    with pytest.raises(
        InvalidParameterError,
        match="The 'loss' parameter of MLPRegressorScratch must be a str among",
    ) as error:
        MLPRegressorScratch(loss="hinge").fit(X, y)
    # The options are a set: their order in the message varies between runs.
    for loss in ("squared_error", "poisson", "absolute_error", "huber", "quantile"):
        assert f"'{loss}'" in str(error.value)


def test_clip_grad_norm_with_lbfgs_says_what_to_use():
    X, y = data(MLPRegressorScratch)
    with pytest.raises(
        ValueError,
        match=r"clip_grad_norm=1\.0 applies to the stochastic solvers only: "
        r"L-BFGS's line search .* Set clip_grad_norm=None, or use solver='adam'",
    ):
        MLPRegressorScratch(solver="lbfgs", clip_grad_norm=1.0).fit(X, y)


@pytest.mark.parametrize("sizes", [(0,), (5, 0), (-3,), (4, -1), (3.5,)])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_hidden_layer_sizes_must_be_positive_integers(Estimator, sizes):
    X, y = data(Estimator)
    with pytest.raises(
        ValueError, match="hidden_layer_sizes must be positive integers"
    ):
        Estimator(hidden_layer_sizes=sizes).fit(X, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_scalar_hidden_layer_size_zero(Estimator):
    X, y = data(Estimator)
    with pytest.raises(InvalidParameterError, match="'hidden_layer_sizes' parameter"):
        Estimator(hidden_layer_sizes=0).fit(X, y)


def test_backend_must_be_known():
    X, y = data(MLPClassifierScratch)
    # The options are a set: any order.
    with pytest.raises(ValueError, match=r"The 'backend' parameter .* among \{.*'cupy'"):
        MLPClassifierScratch(backend="foo").fit(X, y)


# ------------------------------------------------------------ fitted state
@pytest.mark.parametrize(
    "method", ["predict", "predict_proba", "predict_log_proba", "score"]
)
def test_classifier_not_fitted(method):
    X, y = data(MLPClassifierScratch)
    args = (X, y) if method == "score" else (X,)
    with pytest.raises(
        NotFittedError,
        match="This MLPClassifierScratch instance is not fitted yet. Call 'fit'",
    ):
        getattr(MLPClassifierScratch(), method)(*args)


def test_regressor_not_fitted():
    X, _ = data(MLPRegressorScratch)
    with pytest.raises(
        NotFittedError, match="This MLPRegressorScratch instance is not fitted"
    ):
        MLPRegressorScratch().predict(X)


# --------------------------------------------------------- classes over calls
def test_partial_fit_unknown_label():
    X, y = data(MLPClassifierScratch)
    model = MLPClassifierScratch().partial_fit(X[y < 2], y[y < 2], classes=[0, 1])
    with pytest.raises(
        ValueError,
        match=r"`y` has classes \[2\] not in `self.classes_` "
        r"\[0 1\]. Pass every class to the first partial_fit call",
    ):
        model.partial_fit(X, y)


def test_partial_fit_after_fit_with_an_unknown_label():
    X, y = data(MLPClassifierScratch)
    model = fitted(MLPClassifierScratch, X, y)
    with pytest.raises(
        ValueError, match=r"`y` has classes \[3\] not in `self.classes_`"
    ):
        model.partial_fit(X, y + 1)


def test_partial_fit_classes_changed():
    X, y = data(MLPClassifierScratch)
    model = MLPClassifierScratch().partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(
        ValueError, match="is not the same as on last call to partial_fit"
    ):
        model.partial_fit(X, y, classes=[0, 1, 2, 3])


def test_warm_start_with_different_classes():
    X, y = data(MLPClassifierScratch)
    model = fitted(MLPClassifierScratch, X, y, warm_start=True)
    with pytest.raises(
        ValueError,
        match=r"warm_start can only be used where `y` has "
        r"the same classes .* Set warm_start=False",
    ):
        model.fit(X[y < 2], y[y < 2])


def test_warm_start_leaves_partial_fit_chunks_free_to_lack_classes():
    # warm_start is about fit; a partial_fit chunk may lack classes whatever
    # it says (scikit-learn applies the warm_start check to partial_fit too).
    X, y = data(MLPClassifierScratch)
    model = fitted(MLPClassifierScratch, X, y, warm_start=True)
    model.partial_fit(X[y < 2], y[y < 2])
    assert model.n_iter_ == 1
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_partial_fit_refuses_early_stopping(Estimator):
    X, y = data(Estimator)
    kwargs = {"classes": [0, 1, 2]} if Estimator is MLPClassifierScratch else {}
    with pytest.raises(
        ValueError,
        match="partial_fit does not support "
        "early_stopping=True.* set early_stopping=False",
    ):
        Estimator(early_stopping=True).partial_fit(X, y, **kwargs)


@pytest.mark.parametrize(
    "fraction, n_samples, message",
    [
        (0.01, 20, r"\(1 of 20 samples\)"),
        (0.0, 150, r"\(0 of 150 samples\)"),
    ],
)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_validation_set_too_small(Estimator, fraction, n_samples, message):
    X, y = data(Estimator)
    rows = np.arange(0, 150, 150 // n_samples)[:n_samples]
    with pytest.raises(
        ValueError,
        match="The validation set is too small "
        + message
        + r".*Increase 'validation_fraction'",
    ):
        Estimator(early_stopping=True, validation_fraction=fraction).fit(
            X[rows], y[rows]
        )


def test_assigned_weights_of_wrong_shape_at_predict():
    X, y = data(MLPClassifierScratch)
    model = fitted(MLPClassifierScratch, X, y)
    model.coefs_ = [np.zeros((4, 3)), np.zeros((2, 3))]
    with pytest.raises(
        ValueError,
        match=r"coefs_\[1\] has shape \(2, 3\) .* Assign "
        "arrays of the right shapes",
    ):
        model.predict(X)


def test_regressor_refuses_a_sparse_y():
    import scipy.sparse as sp

    X = np.random.RandomState(0).rand(20, 3)
    y = sp.csr_matrix(np.eye(20)[:, :2])
    with pytest.raises(ValueError, match=r"needs a dense y; pass y\.toarray\(\)"):
        MLPRegressorScratch(max_iter=2).fit(X, y)
