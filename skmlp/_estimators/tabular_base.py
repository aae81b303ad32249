"""What the tabular estimators share (:mod:`.tabular`): the columns they
find, the preprocessing they fit, the recipe they train with.

Each estimator is a preprocessing step fitted on the training rows and
:class:`~skmlp.MLPClassifierScratch` / :class:`~skmlp.MLPRegressorScratch`
networks trained on its output:

- numeric columns: :class:`~skmlp.preprocessing.RobustSoftClipScaler` (a
  missing value becomes 0, the column's median) beside a
  :class:`~skmlp.preprocessing.PiecewiseLinearEncoder` of the same column,
  clipped to the training range (with a missing-value indicator for columns
  that had NaN);
- categorical columns: one-hot, the rarest levels of a column with more than
  ``max_categories`` pooled into one, a missing value its own level, a level
  unseen in training all zeros;
- a regression target: standardised, the predictions mapped back.

``n_members`` networks train, each from its own seed, with early stopping
on its own held-out rows, keeping the weights of its best epoch; the
prediction is their average. Everything is in the fitted attributes
``preprocessor_`` and ``members_``, ordinary scikit-learn and skmlp
estimators.
"""

import math
import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_is_fitted,
    validate_data,
)

from .._nn import ACTIVATIONS
from .encoders import PiecewiseLinearEncoder, RobustSoftClipScaler
from .persistence import check_saved_tabular

# The dtype the network trains in: float32 halves the memory traffic of
# every step, and a table's values carry fewer digits than that.
TRAINING_DTYPE = np.float32


def categorical_columns(X, categorical_features):
    """The boolean mask of the categorical columns of ``X``.

    ``'from_dtype'`` takes a DataFrame's ``category``, ``object``, string and
    ``bool`` columns (an array has none); otherwise ``categorical_features``
    names them, as :class:`~sklearn.ensemble.HistGradientBoostingClassifier`'s
    parameter does: a boolean mask over the columns, or their indices, or
    their names (for a DataFrame).
    """
    n_features = X.shape[1]
    if isinstance(categorical_features, str):
        dtypes = getattr(X, "dtypes", None)
        if dtypes is None:
            return np.zeros(n_features, dtype=bool)
        kinds = [getattr(dtype, "kind", "O") for dtype in dtypes]
        dates = [str(name) for name, kind in zip(X.columns, kinds) if kind in "Mm"]
        if dates:
            raise ValueError(
                f"Columns {dates} hold dates or durations, which are neither "
                "numbers nor categories: turn them into numbers (days since a "
                "date, say, or the year and month as columns) before fitting."
            )
        # kind: 'iufc' numbers; 'b' bool, 'O' object and category, 'T'/'U'
        # strings -- all categorical.
        return np.array([kind not in "iufc" for kind in kinds])
    chosen = np.asarray(categorical_features)
    if chosen.size == 0:
        return np.zeros(n_features, dtype=bool)
    if chosen.dtype.kind == "b":
        if chosen.shape != (n_features,):
            raise ValueError(
                f"categorical_features as a boolean mask must have one entry per "
                f"column ({n_features}), got shape {chosen.shape}."
            )
        return chosen.copy()
    if chosen.dtype.kind in "iu":
        if chosen.min() < -n_features or chosen.max() >= n_features:
            raise ValueError(
                f"categorical_features holds a column index out of range for "
                f"{n_features} columns: {chosen.tolist()}."
            )
        mask = np.zeros(n_features, dtype=bool)
        mask[chosen] = True
        return mask
    names = getattr(X, "columns", None)
    if names is None:
        raise ValueError(
            "categorical_features names columns, but X has no column names: "
            "pass a DataFrame, or give the columns' indices or a boolean mask."
        )
    names = [str(name) for name in names]
    missing = sorted(set(map(str, chosen)) - set(names))
    if missing:
        raise ValueError(f"categorical_features names columns X does not have: {missing}.")
    return np.isin(names, chosen.astype(str))


def _missing_as_nan(X, categorical):
    """The DataFrame ``X`` with the ``pd.NA`` of its categorical string and
    object columns (pandas' nullable strings hold it) as NaN, which
    scikit-learn's one-hot encoder takes for a missing value; it takes
    ``pd.NA`` for a category of another type. None and NaN stay as they are.
    The caller's frame is left as it is."""
    changed = {}
    for j in np.flatnonzero(categorical):
        column = X.iloc[:, j]
        if getattr(column.dtype, "kind", "O") != "O" or hasattr(column, "cat"):
            continue
        values = column.to_numpy(dtype=object, copy=True)
        # Only the missing entries are looked at, one by one.
        na = [i for i in np.flatnonzero(column.isna().to_numpy())
              if type(values[i]).__name__ == "NAType"]
        if na:
            values[na] = np.nan
            changed[j] = values
    if not changed:
        return X
    X = X.copy(deep=False)
    for j, values in changed.items():
        X.isetitem(j, values)
    return X


def _numeric_encoder(n_bins):
    """Robust soft-clipped values (NaN -> 0) beside their piecewise-linear
    encoding, clipped to the training range (with a missing-value
    indicator)."""
    return FeatureUnion(
        [
            ("scaled", RobustSoftClipScaler(fill_value=0.0)),
            # Clipped to the training range: a value far beyond it (a typo,
            # an outlier) would otherwise drive its last bin, and the
            # network, far outside anything seen in training; the
            # soft-clipped column still says how far out it is.
            (
                "piecewise",
                PiecewiseLinearEncoder(n_bins, extrapolate=False, add_indicator=True),
            ),
        ]
    )


def _categorical_encoder(max_categories):
    return OneHotEncoder(
        handle_unknown="infrequent_if_exist",
        max_categories=max_categories,
        sparse_output=False,
    )


class TabularMLP(BaseEstimator):
    """The preprocessing, the recipe and the fit shared by both estimators."""

    _parameter_constraints: ClassVar[dict] = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS) - {"identity"})],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_members": [Interval(Integral, 1, None, closed="left")],
        "n_bins": [Interval(Integral, 2, None, closed="left")],
        "max_categories": [Interval(Integral, 2, None, closed="left"), None],
        "categorical_features": [StrOptions({"from_dtype"}), "array-like"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "backend": [StrOptions({"numpy", "cupy"})],
    }

    def __setstate__(self, state):
        """Load, and refuse a fitted model whose parts do not fit together
        (:func:`~.persistence.check_saved_tabular`)."""
        super().__setstate__(state)
        if "members_" in state:
            check_saved_tabular(self, self._network_class)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.non_deterministic = self.random_state is None
        # Several targets (multi-output regression, multilabel) go through.
        tags.target_tags.multi_output = True
        return tags

    def _mlp_params(self):
        """The recipe: the inner network's parameters."""
        return {
            "hidden_layer_sizes": self.hidden_layer_sizes,
            "activation": self.activation,
            "weight_init": "he_uniform",
            "solver": "adam",
            "alpha": 0.0,
            "dropout": self.dropout,
            "weight_decay": self.weight_decay,
            "batch_size": self.batch_size,
            "learning_rate": "cosine",
            "learning_rate_init": self.learning_rate_init,
            "max_iter": self.max_iter,
            "early_stopping": True,
            "scoring": "loss",
            "validation_fraction": self.validation_fraction,
            "n_iter_no_change": self.n_iter_no_change,
            "tol": 0.0,
            "verbose": self.verbose,
            "backend": self.backend,
        }

    def _validate_features(self, X, reset):
        """Record (``reset``) or check the columns; return ``X`` as the
        preprocessor takes it: a DataFrame as it is, anything else a 2-D
        array, of numbers unless some of its columns are categorical."""
        if not hasattr(X, "iloc"):
            X = check_array(X, dtype=None, ensure_all_finite="allow-nan")
        validate_data(self, X, reset=reset, skip_check_array=True)
        if reset:
            self.categorical_features_ = categorical_columns(X, self.categorical_features)
        if hasattr(X, "iloc"):
            return _missing_as_nan(X, self.categorical_features_)
        if not self.categorical_features_.any():
            try:
                X = check_array(X, dtype="numeric", ensure_all_finite="allow-nan")
            except ValueError as error:
                raise ValueError(
                    f"{str(error).rstrip('.')}. An array's columns are all taken as numbers: name "
                    "the categorical ones with categorical_features (their "
                    "indices or a boolean mask), or pass a DataFrame whose "
                    "categorical columns have a category, string or object dtype."
                ) from error
        return X

    def _fit_preprocessor(self, X, y):
        X = self._validate_features(X, reset=True)
        columns = np.arange(X.shape[1])
        transformers = []
        numeric = columns[~self.categorical_features_]
        if numeric.size:
            transformers.append(
                ("numeric", _numeric_encoder(self.n_bins), numeric)
            )
        categorical = columns[self.categorical_features_]
        if categorical.size:
            transformers.append(
                ("categorical", _categorical_encoder(self.max_categories), categorical)
            )
        self.preprocessor_ = ColumnTransformer(transformers, sparse_threshold=0.0)
        return self.preprocessor_.fit_transform(X, y).astype(TRAINING_DTYPE, copy=False)

    def _encoded(self, X):
        check_is_fitted(self)
        X = self._validate_features(X, reset=False)
        return self.preprocessor_.transform(X).astype(TRAINING_DTYPE, copy=False)

    def _fit_members(self, X, y, sample_weight, **network_params):
        """Fit ``n_members`` networks (made from :meth:`_mlp_params` and
        ``network_params``) to the encoded ``X``, each from its own seed:
        its own initial weights, held-out rows, shuffles and dropout."""
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        n_samples = X.shape[0]
        n_held_out = math.ceil(self.validation_fraction * n_samples)
        # A table too small to hold out 2 rows trains on all of them for
        # max_iter epochs; a small one gets one batch of all its training
        # rows, quietly.
        early_stopping = n_held_out >= 2 and n_samples - n_held_out >= 1
        n_training = n_samples - n_held_out if early_stopping else n_samples
        params = {
            **self._mlp_params(),
            **network_params,
            "early_stopping": early_stopping,
            "batch_size": max(1, min(self.batch_size, n_training)),
        }
        seeds = check_random_state(self.random_state).randint(
            np.iinfo(np.int32).max, size=self.n_members
        )
        self.members_ = []
        for seed in seeds:
            network = self._network_class(**{**params, "random_state": seed})
            with warnings.catch_warnings():
                # The cosine schedule ends at max_iter: training that reaches
                # it has run its course, not failed to converge.
                warnings.simplefilter("ignore", ConvergenceWarning)
                try:
                    self.members_.append(network.fit(X, y, sample_weight=sample_weight))
                except ValueError as error:
                    # The network's advice names early_stopping, which the
                    # tabular estimators always use.
                    message = str(error).replace(
                        ", or set early_stopping=False", ", or weigh fewer rows 0"
                    )
                    raise ValueError(message) from error
        self.best_epochs_ = np.array([_best_epoch(m) for m in self.members_])
        self.n_iter_ = max(member.n_iter_ for member in self.members_)
        return self

    def _mean_output(self, X, method):
        """The members' average of ``method`` (``'predict_proba'`` or
        ``'predict'``) on the rows of ``X``, in float64."""
        encoded = self._encoded(X)
        total = 0.0
        for member in self.members_:
            total = total + getattr(member, method)(encoded).astype(np.float64)
        return total / len(self.members_)


def _best_epoch(network):
    """The epoch whose weights ``network`` kept: the lowest held-out loss, or
    its last epoch when it trained without a held-out set."""
    scores = network.validation_scores_
    if scores is None:
        return network.n_iter_
    if not np.isfinite(scores).any():
        return 0
    return int(np.nanargmin(scores)) + 1


SHARED_PARAMETERS = """
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(128, 128, 128)
        The width of each hidden layer.

    activation : {'relu', 'logistic', 'tanh', 'leaky_relu', 'elu', 'gelu', \
'silu'}, default='silu'
        The hidden layers' activation.

    dropout : float in [0, 1), default=0.1
        Dropout rate of the hidden layers during training.

    learning_rate_init : float, default=1e-3
        Adam's learning rate at the start of the cosine schedule.

    weight_decay : float, default=0.0
        Decoupled weight decay (Adam with it is AdamW).

    batch_size : int, default=256
        Rows per optimizer step.

    max_iter : int, default=100
        Most epochs, and the length of the cosine schedule.

    n_iter_no_change : int, default=10
        Epochs without a lower held-out loss before training stops.

    validation_fraction : float in (0, 1), default=0.1
        Share of the training rows held out to pick the best epoch.

    n_members : int, default=3
        Networks trained, each from its own seed (initial weights, held-out
        rows, shuffles, dropout) and stopped at its own best epoch; the
        prediction is their average.

    n_bins : int, default=16
        Most piecewise-linear bins per numeric column.

    max_categories : int or None, default=32
        Most one-hot columns per categorical column: its rarest levels share
        one. None keeps every level.

    categorical_features : 'from_dtype' or array-like, default='from_dtype'
        The categorical columns. ``'from_dtype'`` takes a DataFrame's
        ``category``, ``object``, string and ``bool`` columns (an array has
        none); otherwise a boolean mask over the columns, their indices or
        their names, as in
        :class:`~sklearn.ensemble.HistGradientBoostingClassifier`.

    random_state : int, RandomState instance or None, default=None
        Draws the members' seeds, which seed their initial weights,
        held-out splits, shuffles and dropout. An int makes ``fit``
        repeatable.

    verbose : bool, default=False
        Whether to print the loss of every epoch.

    backend : {'numpy', 'cupy'}, default='numpy'
        Where the network trains: the CPU, or an NVIDIA GPU through CuPy.
"""

SHARED_ATTRIBUTES = """
    preprocessor_ : sklearn.compose.ColumnTransformer
        The fitted preprocessing, from the columns of ``X`` to the
        network's inputs.

    members_ : list of MLPClassifierScratch or MLPRegressorScratch
        The ``n_members`` fitted networks, each with the weights of its best
        epoch; each has its own ``loss_curve_`` and ``validation_scores_``.

    categorical_features_ : ndarray of shape (`n_features_in_`,), dtype bool
        Which columns were taken as categorical.

    best_epochs_ : ndarray of shape (n_members,), dtype int
        The epoch whose weights each member kept (its lowest held-out loss).

    n_iter_ : int
        The most epochs a member trained.

    n_features_in_ : int
        Number of columns seen during :meth:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the columns seen during :meth:`fit`, when ``X`` has string
        column names.
"""
