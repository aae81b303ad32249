"""Prediction with a fitted estimator: its input checked (quickly for a
few plain rows), its network's output computed by the
:class:`~skmlp._nn.Predictor` of its fitted arrays."""

import numpy as np
from sklearn.utils.validation import check_is_fitted, validate_data

from .._backends import (
    explain_out_of_memory,
    host_input,
    predict_out_of_memory_message,
)
from .._nn import MAX_REUSED_ROWS, PREDICT_CHUNK_ROWS
from .fitted import fitted_predictor


def forward(model, X):
    """The output layer's values for ``X`` from the fitted ``model``'s
    current ``coefs_`` and ``intercepts_`` (which may have been replaced by
    the user), on the host."""
    check_is_fitted(model)
    if not _plainly_valid(model, X):
        X = validate_data(
            model,
            host_input(X),
            accept_sparse=["csr", "csc"],
            dtype=(np.float64, np.float32),
            reset=False,
        )
    backend = model._prediction_backend()
    dtype = np.result_type(X.dtype, model.coefs_[0].dtype)
    predictor = fitted_predictor(model)
    if predictor.shares_weights(backend, dtype):
        # No copy of the weights: a one-row predict would spend most of
        # its time copying them (and, but for the reused network, most of
        # the rest building the network).
        with quiet_float_errors():
            return predictor.predict(X, backend, dtype)

    def out_of_memory():
        return predict_out_of_memory_message(
            X.shape[0], predictor.layer_units, dtype, PREDICT_CHUNK_ROWS
        )

    with explain_out_of_memory(backend, out_of_memory), quiet_float_errors():
        return backend.to_host(predictor.predict(X, backend, dtype))


def _plainly_valid(model, X):
    """Whether ``X`` is a few rows that ``validate_data`` would pass as
    they are: a 2-D NumPy float array of at least one row, finite, with
    the fitted number of columns, for a model fitted without feature
    names. Those checks take microseconds; ``validate_data``'s general
    machinery (data frames, array namespaces, dtype conversions) a third
    of a one-row prediction's time. Anything else, valid or not, goes
    through ``validate_data``, which converts it or raises its errors."""
    return (
        type(X) is np.ndarray
        and X.ndim == 2
        and 0 < X.shape[0] <= MAX_REUSED_ROWS
        and X.shape[1] == getattr(model, "n_features_in_", None)
        and X.dtype in (np.float32, np.float64)
        and not hasattr(model, "feature_names_in_")
        and bool(np.isfinite(X).all())
    )


def quiet_float_errors():
    """No NumPy RuntimeWarning for overflow, division by zero or invalid
    values: predictions carry inf/NaN as values, and fit reports divergence
    once, in its own words. (CuPy never warns about these.)"""
    return np.errstate(over="ignore", divide="ignore", invalid="ignore")
