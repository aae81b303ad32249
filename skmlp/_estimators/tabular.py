"""MLPs for tables: numeric and categorical columns, missing values, one
fixed recipe (:class:`TabularMLPClassifier`, :class:`TabularMLPRegressor`).

Each estimator is a preprocessing step fitted on the training rows and
:class:`~skmlp.MLPClassifierScratch` / :class:`~skmlp.MLPRegressorScratch`
networks trained on its output (:mod:`.tabular_base`). Everything is in the fitted
attributes ``preprocessor_`` and ``members_``, ordinary scikit-learn and
skmlp estimators.
"""

from numbers import Real
from typing import ClassVar

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_array, column_or_1d

from .classifier import MLPClassifierScratch
from .regressor import MLPRegressorScratch
from .tabular_base import (
    SHARED_ATTRIBUTES,
    SHARED_PARAMETERS,
    TRAINING_DTYPE,
    TabularMLP,
)


class TabularMLPClassifier(ClassifierMixin, TabularMLP):
    __doc__ = (
        """An MLP classifier for tables, with its preprocessing and a fixed recipe.

    Takes a DataFrame (or array) with numeric and categorical columns and
    missing values, and fits everything on the training rows only: numeric
    columns robustly scaled and soft-clipped beside their piecewise-linear
    encoding, categorical columns one-hot encoded, then three MLPs (three
    hidden layers of 128 SiLU units, dropout, Adam on a cosine schedule),
    each from its own seed and with early stopping on its own held-out
    log-loss, keeping the weights of its best epoch; their probabilities
    are averaged. The defaults were chosen once, on the benchmark of
    :doc:`/user_guide/tabular`; nothing is tuned per dataset.

    Parameters
    ----------"""
        + SHARED_PARAMETERS
        + """
    label_smoothing : float in [0, 1), default=0.0
        Label smoothing of the training targets (PyTorch's
        ``CrossEntropyLoss(label_smoothing)``).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels."""
        + SHARED_ATTRIBUTES
        + """
    See Also
    --------
    TabularMLPRegressor : The same for regression.
    MLPClassifierScratch : The network alone, every parameter open.

    Examples
    --------
    >>> import pandas as pd
    >>> from skmlp import TabularMLPClassifier
    >>> X = pd.DataFrame({
    ...     "age": [22.0, 35.0, None, 58.0, 41.0, 30.0] * 20,
    ...     "plan": pd.Categorical(["a", "b", "a", "c", "b", "a"] * 20),
    ... })
    >>> y = [0, 1, 0, 1, 1, 0] * 20
    >>> clf = TabularMLPClassifier(max_iter=20, random_state=0).fit(X, y)
    >>> clf.categorical_features_
    array([False,  True])
    >>> clf.predict(X.head(3))
    array([0, 1, 0])
    """
    )

    _network_class = MLPClassifierScratch

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    _parameter_constraints: ClassVar[dict] = {
        **TabularMLP._parameter_constraints,
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        hidden_layer_sizes=(128, 128, 128),
        activation="silu",
        *,
        dropout=0.1,
        learning_rate_init=1e-3,
        weight_decay=0.0,
        batch_size=256,
        max_iter=100,
        n_iter_no_change=10,
        validation_fraction=0.1,
        n_members=3,
        label_smoothing=0.0,
        n_bins=16,
        max_categories=32,
        categorical_features="from_dtype",
        random_state=None,
        verbose=False,
        backend="numpy",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.learning_rate_init = learning_rate_init
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.n_iter_no_change = n_iter_no_change
        self.validation_fraction = validation_fraction
        self.n_members = n_members
        self.label_smoothing = label_smoothing
        self.n_bins = n_bins
        self.max_categories = max_categories
        self.categorical_features = categorical_features
        self.random_state = random_state
        self.verbose = verbose
        self.backend = backend

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the preprocessing and the network to ``X`` and ``y``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The training table.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (a 0/1 indicator matrix for multilabel).

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row in the loss.

        Returns
        -------
        self : TabularMLPClassifier
            The fitted classifier.

        Examples
        --------
        >>> from skmlp import TabularMLPClassifier
        >>> X = [[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]] * 10
        >>> y = [0, 0, 1, 1] * 10
        >>> clf = TabularMLPClassifier((8,), max_iter=5, random_state=0).fit(X, y)
        >>> clf.classes_
        array([0, 1])
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        check_classification_targets(y)
        encoded = self._fit_preprocessor(X, y)
        self._fit_members(encoded, y, sample_weight, label_smoothing=self.label_smoothing)
        self.classes_ = self.members_[0].classes_
        return self

    def predict(self, X):
        """The most likely class of each row of ``X``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Rows with the training table's columns.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The predicted classes.

        Examples
        --------
        >>> from skmlp import TabularMLPClassifier
        >>> X = [[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]] * 10
        >>> y = [0, 0, 1, 1] * 10
        >>> clf = TabularMLPClassifier((8,), max_iter=5, random_state=0).fit(X, y)
        >>> clf.predict(X[:2]).shape
        (2,)
        """
        proba = self.predict_proba(X)
        binarizer = self.members_[0]._label_binarizer
        if binarizer.y_type_ == "binary":
            proba = proba[:, 1:]
        # argmax for one label among several, p > 0.5 for each other case:
        # what each member's own predict does with its probabilities.
        return binarizer.inverse_transform(proba)

    def predict_proba(self, X):
        """The probability of each class for each row of ``X``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Rows with the training table's columns.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Class probabilities, in the order of ``classes_`` (float64).

        Examples
        --------
        >>> from skmlp import TabularMLPClassifier
        >>> X = [[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]] * 10
        >>> y = [0, 0, 1, 1] * 10
        >>> clf = TabularMLPClassifier((8,), max_iter=5, random_state=0).fit(X, y)
        >>> proba = clf.predict_proba(X[:2])
        >>> proba.shape, proba.dtype
        ((2, 2), dtype('float64'))
        """
        return self._mean_output(X, "predict_proba")

    def predict_log_proba(self, X):
        """The log of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Rows with the training table's columns.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log class probabilities, in the order of ``classes_``.

        Examples
        --------
        >>> from skmlp import TabularMLPClassifier
        >>> X = [[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]] * 10
        >>> y = [0, 0, 1, 1] * 10
        >>> clf = TabularMLPClassifier((8,), max_iter=5, random_state=0).fit(X, y)
        >>> bool((clf.predict_log_proba(X[:2]) <= 0).all())
        True
        """
        return np.log(self.predict_proba(X))

    def score(self, X, y, sample_weight=None):
        """Mean accuracy of :meth:`predict` on ``X`` against ``y``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Rows with the training table's columns.

        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            True labels; subset accuracy for multilabel targets.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            The mean accuracy.

        Examples
        --------
        >>> from skmlp import TabularMLPClassifier
        >>> X = [[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]] * 10
        >>> y = [0, 0, 1, 1] * 10
        >>> clf = TabularMLPClassifier((8,), max_iter=5, random_state=0).fit(X, y)
        >>> 0.0 <= clf.score(X, y) <= 1.0
        True
        """
        return super().score(X, y, sample_weight)


class TabularMLPRegressor(RegressorMixin, TabularMLP):
    __doc__ = (
        """An MLP regressor for tables, with its preprocessing and a fixed recipe.

    Takes a DataFrame (or array) with numeric and categorical columns and
    missing values, and fits everything on the training rows only: numeric
    columns robustly scaled and soft-clipped beside their piecewise-linear
    encoding, categorical columns one-hot encoded, the target standardised,
    then three MLPs (three hidden layers of 128 SiLU units, dropout, Adam on
    a cosine schedule), each from its own seed and with early stopping on
    its own held-out squared error, keeping the weights of its best epoch;
    their predictions are averaged. The defaults were chosen once, on the
    benchmark of :doc:`/user_guide/tabular`; nothing is tuned per dataset.

    Parameters
    ----------"""
        + SHARED_PARAMETERS
        + """
    Attributes
    ----------
    target_mean_ : ndarray of shape (n_outputs,)
        The training targets' mean (weighted by ``sample_weight``).

    target_scale_ : ndarray of shape (n_outputs,)
        Their standard deviation (1 where it is 0): the network learns
        ``(y - target_mean_) / target_scale_``."""
        + SHARED_ATTRIBUTES
        + """
    See Also
    --------
    TabularMLPClassifier : The same for classification.
    MLPRegressorScratch : The network alone, every parameter open.

    Examples
    --------
    >>> import numpy as np
    >>> from skmlp import TabularMLPRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-2, 2, size=(300, 2))
    >>> y = 1000 + 50 * X[:, 0] ** 2 - 20 * X[:, 1]
    >>> reg = TabularMLPRegressor(max_iter=30, random_state=0).fit(X, y)
    >>> bool(reg.score(X, y) > 0.9)
    True
    """
    )

    _network_class = MLPRegressorScratch

    def __init__(
        self,
        hidden_layer_sizes=(128, 128, 128),
        activation="silu",
        *,
        dropout=0.1,
        learning_rate_init=1e-3,
        weight_decay=0.0,
        batch_size=256,
        max_iter=100,
        n_iter_no_change=10,
        validation_fraction=0.1,
        n_members=3,
        n_bins=16,
        max_categories=32,
        categorical_features="from_dtype",
        random_state=None,
        verbose=False,
        backend="numpy",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.learning_rate_init = learning_rate_init
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.n_iter_no_change = n_iter_no_change
        self.validation_fraction = validation_fraction
        self.n_members = n_members
        self.n_bins = n_bins
        self.max_categories = max_categories
        self.categorical_features = categorical_features
        self.random_state = random_state
        self.verbose = verbose
        self.backend = backend

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the preprocessing and the network to ``X`` and ``y``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The training table.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The targets.

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row in the loss.

        Returns
        -------
        self : TabularMLPRegressor
            The fitted regressor.

        Examples
        --------
        >>> from skmlp import TabularMLPRegressor
        >>> X = [[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]] * 10
        >>> y = [10.0, 20.0, 30.0, 40.0] * 10
        >>> reg = TabularMLPRegressor((8,), max_iter=5, random_state=0).fit(X, y)
        >>> reg.target_mean_, reg.target_scale_.round(3)
        (array([25.]), array([11.18]))
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        weights = None if sample_weight is None else _check_sample_weight(sample_weight, y)
        self.target_mean_ = np.atleast_1d(np.average(y, axis=0, weights=weights))
        spread = np.sqrt(np.average((y - self.target_mean_.reshape(y.shape[1:])) ** 2,
                                    axis=0, weights=weights))
        self.target_scale_ = np.atleast_1d(np.where(spread > 0, spread, 1.0))
        standardised = (y - self.target_mean_.reshape(y.shape[1:])) / self.target_scale_.reshape(
            y.shape[1:]
        )
        encoded = self._fit_preprocessor(X, y)
        return self._fit_members(encoded, standardised.astype(TRAINING_DTYPE), sample_weight)

    def predict(self, X):
        """Predict the targets of ``X``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Rows with the training table's columns.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predictions, in the units of the training targets.

        Examples
        --------
        >>> from skmlp import TabularMLPRegressor
        >>> X = [[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]] * 10
        >>> y = [10.0, 20.0, 30.0, 40.0] * 10
        >>> reg = TabularMLPRegressor((8,), max_iter=5, random_state=0).fit(X, y)
        >>> reg.predict(X[:2]).shape
        (2,)
        """
        standardised = self._mean_output(X, "predict")
        shape = standardised.shape[1:]
        return standardised * self.target_scale_.reshape(shape) + self.target_mean_.reshape(shape)

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R^2 of :meth:`predict` on ``X``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Rows with the training table's columns.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True targets.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            R^2 (averaged uniformly over several outputs).

        Examples
        --------
        >>> from skmlp import TabularMLPRegressor
        >>> X = [[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]] * 10
        >>> y = [10.0, 20.0, 30.0, 40.0] * 10
        >>> reg = TabularMLPRegressor((8,), max_iter=5, random_state=0).fit(X, y)
        >>> bool(reg.score(X, y) <= 1.0)
        True
        """
        return super().score(X, y, sample_weight)
