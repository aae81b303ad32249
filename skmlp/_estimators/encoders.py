"""The numeric feature encodings of :mod:`skmlp.preprocessing` (the public
module), which the tabular estimators build on."""

import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import (
    BaseEstimator,
    OneToOneFeatureMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import (
    FLOAT_DTYPES,
    _check_feature_names_in,
    check_is_fitted,
    column_or_1d,
    validate_data,
)


def _nan_tolerant_tags(tags):
    """Tags of a transformer that accepts NaN and keeps float32 float32."""
    tags.input_tags.allow_nan = True
    tags.transformer_tags.preserves_dtype = ["float64", "float32"]
    return tags


def _check_X(transformer, X, *, reset):
    """``X`` as a float array (float32 kept, NaN allowed, infinity refused),
    its features recorded (``reset=True``, in fit) or checked against fit's."""
    if not reset:
        check_is_fitted(transformer)
    return validate_data(
        transformer, X, dtype=FLOAT_DTYPES, ensure_all_finite="allow-nan", reset=reset
    )


class RobustSoftClipScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Robust scaling followed by a smooth clip, RealMLP's numeric preprocessing.

    Each column is centred by its median and divided by its interquartile
    range (the 75th minus the 25th percentile); then the smooth clip
    ``x / sqrt(1 + (x / clip) ** 2)`` maps it into ``(-clip, clip)``, almost
    linear near 0 and flattening outliers. Where the interquartile range is
    0 (a column that is mostly one value), the spread is half the range,
    ``(max - min) / 2``, instead; a constant column is mapped to 0. These
    fallbacks are RealMLP's (Holzmüller et al. 2024, as in ``pytabkit``).

    Where the interquartile range is positive, the scaling equals
    scikit-learn's ``RobustScaler()`` before the clip.

    Parameters
    ----------
    clip : float, default=3.0
        The bound of the smooth clip: outputs lie in ``(-clip, clip)``, and a
        scaled value of ``clip`` becomes ``clip / sqrt(2)``.

    fill_value : float or None, default=None
        What a missing value (NaN) becomes in the output: None keeps NaN, a
        number replaces it (0 is the training median), so that no imputer
        need follow.

    Attributes
    ----------
    center_ : ndarray of shape (`n_features_in_`,)
        Median of each column in the training data (NaN ignored; 0 for a
        column that is all NaN).

    scale_ : ndarray of shape (`n_features_in_`,)
        Robust spread of each column: the interquartile range, else half the
        range, else 0 for a constant column (whose output is 0).

    n_features_in_ : int
        Number of features seen during :meth:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during :meth:`fit`, when ``X`` has string
        column names.

    See Also
    --------
    sklearn.preprocessing.RobustScaler : The scaling without the clip.
    PiecewiseLinearEncoder : Another encoding of numeric features for MLPs.

    Notes
    -----
    NaN is ignored when fitting and kept as NaN by :meth:`transform`, as
    scikit-learn's scalers do, unless ``fill_value`` says what it becomes.
    float32 input gives float32 output; anything else gives float64. There
    is no ``inverse_transform``: the clip is not invertible for a constant
    column, and near ``clip`` the inverse loses most of its digits.

    Examples
    --------
    >>> import numpy as np
    >>> from skmlp.preprocessing import RobustSoftClipScaler
    >>> X = np.array([[1.0], [2.0], [3.0], [4.0], [100.0]])
    >>> RobustSoftClipScaler().fit_transform(X).ravel().round(3)
    array([-0.949, -0.493,  0.   ,  0.493,  2.994])
    """

    _parameter_constraints: ClassVar[dict] = {
        "clip": [Interval(Real, 0, None, closed="neither")],
        "fill_value": [Real, None],
    }

    def __init__(self, clip=3.0, *, fill_value=None):
        self.clip = clip
        self.fill_value = fill_value

    def __sklearn_tags__(self):
        return _nan_tolerant_tags(super().__sklearn_tags__())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn each column's median and robust spread.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; NaN is ignored.

        y : None
            Ignored.

        Returns
        -------
        self : RobustSoftClipScaler
            The fitted scaler.

        Examples
        --------
        >>> from skmlp.preprocessing import RobustSoftClipScaler
        >>> scaler = RobustSoftClipScaler().fit([[1.0], [2.0], [3.0], [4.0]])
        >>> scaler.center_, scaler.scale_
        (array([2.5]), array([1.5]))
        """
        X = _check_X(self, X, reset=True)
        # Statistics in float64 whatever the input, so that float32 data
        # gets the same centre and spread to its precision.
        X = X.astype(np.float64, copy=False)
        with warnings.catch_warnings():
            # An all-NaN column has no statistics: its output stays NaN.
            warnings.simplefilter("ignore", RuntimeWarning)
            q25, median, q75 = np.nanquantile(X, [0.25, 0.5, 0.75], axis=0)
            half_range = (np.nanmax(X, axis=0) - np.nanmin(X, axis=0)) / 2
        spread = np.where(q75 - q25 > 0, q75 - q25, half_range)
        self.center_ = np.nan_to_num(median)
        self.scale_ = np.nan_to_num(spread)
        return self

    def transform(self, X):
        """Scale and softly clip ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to transform; NaN stays NaN.

        Returns
        -------
        X_out : ndarray of shape (n_samples, n_features)
            The scaled data, in ``(-clip, clip)``; float32 for float32 input.

        Examples
        --------
        >>> from skmlp.preprocessing import RobustSoftClipScaler
        >>> scaler = RobustSoftClipScaler(clip=1.0).fit([[0.0], [1.0], [2.0]])
        >>> scaler.transform([[1.0], [2.0], [1e6]]).round(4)
        array([[0.    ],
               [0.7071],
               [1.    ]])
        >>> scaler.set_params(fill_value=0.0).transform([[np.nan], [2.0]]).round(4)
        array([[0.    ],
               [0.7071]])
        """
        X = _check_X(self, X, reset=False)
        # A constant column's factor is 0, not 1/0: its output is 0.
        positive = self.scale_ > 0
        factor = np.divide(
            1.0, self.scale_, out=np.zeros_like(self.scale_), where=positive
        )
        # validate_data may return the caller's array: compute into a new one.
        clip = X.dtype.type(self.clip)
        with np.errstate(over="ignore"):
            scaled = (X - self.center_.astype(X.dtype)) * factor.astype(X.dtype)
            squared = np.square(scaled / clip)
            clipped = scaled / np.sqrt(1 + squared)
        # Where the square overflows (|x| beyond ~1e19 in float32), the
        # formula gives 0 or NaN; its limit there is +-clip.
        overflowed = np.isinf(squared)
        clipped[overflowed] = np.copysign(clip, scaled[overflowed])
        if self.fill_value is not None:
            clipped[np.isnan(X)] = self.fill_value
        return clipped


class PiecewiseLinearEncoder(TransformerMixin, BaseEstimator):
    """Piecewise-linear encoding of numeric features on quantile or tree bins.

    Each column's range is cut into bins; a value ``x`` becomes one number
    per bin: 1 for the bins wholly below ``x``, ``(x - left) / (right -
    left)`` for the bin that holds it, 0 for the bins above. A column with
    ``T`` bins gives ``T`` outputs, which together keep ``x`` exactly (their
    sum is its position in the bins) while letting the first layer of an MLP
    treat each range of ``x`` differently (Gorishniy et al. 2022, "On
    Embeddings for Numerical Features in Tabular Deep Learning").

    The bin edges are the quantiles of the training column (``n_bins + 1``
    of them, equal edges merged, so a column with few distinct values gets
    fewer bins), or, with ``target_aware=True``, the minimum, the thresholds
    of a decision tree fitted to predict ``y`` from that column alone, with
    at most ``n_bins`` leaves, and the maximum: a regression tree for a
    continuous ``y``, a classification tree otherwise.

    Parameters
    ----------
    n_bins : int, default=16
        Most bins per column (at least 2).

    target_aware : bool, default=False
        Whether the edges come from a decision tree on ``y`` (which ``fit``
        then needs) rather than from the quantiles.

    min_samples_leaf : int or float, default=1
        The tree's ``min_samples_leaf`` (``target_aware=True`` only): an
        int is a count of samples, a float in (0, 1) a fraction of them.

    extrapolate : bool, default=True
        Whether values outside the training range continue the line: the
        first bin's value goes below 0 for ``x`` below the training minimum
        and the last bin's above 1 beyond the maximum, as in the paper.
        False clips every value to ``[0, 1]``.

    add_indicator : bool, default=False
        Whether to append, for each column with NaN in the training data, a
        column that is 1 where the value is missing and 0 elsewhere.

    random_state : int, RandomState instance or None, default=None
        Seed of the trees (``target_aware=True`` only), which break ties
        between equally good splits at random.

    Attributes
    ----------
    bin_edges_ : ndarray of ndarray of shape (`n_features_in_`,)
        Each column's edges, increasing; ``n_bins_[j] + 1`` of them, two
        equal ones for a constant column.

    n_bins_ : ndarray of shape (`n_features_in_`,), dtype int
        Number of bins of each column (1 for a constant column).

    indicator_features_ : ndarray of shape (n_indicators,), dtype int
        The columns whose missing-value indicator is appended (with
        ``add_indicator=True``: those with NaN in the training data).

    n_features_in_ : int
        Number of features seen during :meth:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during :meth:`fit`, when ``X`` has string
        column names.

    See Also
    --------
    sklearn.preprocessing.KBinsDiscretizer : Bins with a one-hot (step)
        encoding.
    sklearn.preprocessing.SplineTransformer : Smooth basis functions.
    RobustSoftClipScaler : Robust scaling with a smooth clip.

    Notes
    -----
    A missing value (NaN) encodes as 0 in every bin of its column (the same
    as the training minimum); ``add_indicator=True`` tells the two apart. A
    constant column has one bin and encodes as 0: it told nothing in
    training. float32 input gives float32 output; anything else gives
    float64.

    Examples
    --------
    >>> import numpy as np
    >>> from skmlp.preprocessing import PiecewiseLinearEncoder
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0]])
    >>> encoder = PiecewiseLinearEncoder(n_bins=4).fit(X)
    >>> encoder.bin_edges_[0]
    array([0., 1., 2., 3., 4.])
    >>> encoder.transform([[2.5], [-1.0], [np.nan]])
    array([[ 1. ,  1. ,  0.5,  0. ],
           [-1. ,  0. ,  0. ,  0. ],
           [ 0. ,  0. ,  0. ,  0. ]])
    >>> encoder.get_feature_names_out(["age"])
    array(['age_bin0', 'age_bin1', 'age_bin2', 'age_bin3'], dtype=object)
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_bins": [Interval(Integral, 2, None, closed="left")],
        "target_aware": ["boolean"],
        "min_samples_leaf": [
            Interval(Integral, 1, None, closed="left"),
            Interval(Real, 0, 1, closed="neither"),
        ],
        "extrapolate": ["boolean"],
        "add_indicator": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_bins=16,
        *,
        target_aware=False,
        min_samples_leaf=1,
        extrapolate=True,
        add_indicator=False,
        random_state=None,
    ):
        self.n_bins = n_bins
        self.target_aware = target_aware
        self.min_samples_leaf = min_samples_leaf
        self.extrapolate = extrapolate
        self.add_indicator = add_indicator
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = _nan_tolerant_tags(super().__sklearn_tags__())
        tags.target_tags.required = self.target_aware
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Find each column's bin edges.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; NaN is left out of each column's edges.

        y : array-like of shape (n_samples,), default=None
            The target, for ``target_aware=True`` (ignored otherwise).

        Returns
        -------
        self : PiecewiseLinearEncoder
            The fitted encoder.

        Examples
        --------
        >>> from skmlp.preprocessing import PiecewiseLinearEncoder
        >>> X = [[0.0], [1.0], [2.0], [3.0]]
        >>> encoder = PiecewiseLinearEncoder(n_bins=3, target_aware=True)
        >>> encoder.fit(X, [0, 0, 1, 1]).bin_edges_[0]
        array([0. , 1.5, 3. ])
        """
        X = _check_X(self, X, reset=True)
        if self.target_aware:
            if y is None:
                raise ValueError(
                    "PiecewiseLinearEncoder(target_aware=True) bins on the "
                    "target, so it requires y to be passed, but the target y is "
                    "None: pass y to fit, or set target_aware=False for quantile "
                    "bins."
                )
            y = column_or_1d(y, warn=True)
            if len(y) != len(X):
                raise ValueError(
                    f"y has {len(y)} samples but X has {len(X)}: they must match."
                )
        X = X.astype(np.float64, copy=False)
        edges = []
        for column in X.T:
            present = ~np.isnan(column)
            values = column[present]
            if not len(values):
                edges.append(np.zeros(2))  # an all-NaN column: one empty bin
            elif self.target_aware:
                edges.append(self._tree_edges(values, y[present]))
            else:
                edges.append(self._quantile_edges(values))
        self.bin_edges_ = np.empty(len(edges), dtype=object)
        self.bin_edges_[:] = edges
        self.n_bins_ = np.array([len(e) - 1 for e in edges], dtype=int)
        self.indicator_features_ = (
            np.flatnonzero(np.isnan(X).any(axis=0))
            if self.add_indicator
            else np.array([], dtype=int)
        )
        return self

    def _quantile_edges(self, values):
        edges = np.unique(np.quantile(values, np.linspace(0, 1, self.n_bins + 1)))
        # A constant column: one bin, of width 0.
        return edges if len(edges) > 1 else np.repeat(edges, 2)

    def _tree_edges(self, values, y):
        continuous = type_of_target(y).startswith("continuous")
        Tree = DecisionTreeRegressor if continuous else DecisionTreeClassifier
        tree = Tree(
            max_leaf_nodes=self.n_bins,
            min_samples_leaf=self.min_samples_leaf,
            random_state=self.random_state,
        ).fit(values[:, None], y)
        # Leaves have feature -2 (TREE_UNDEFINED) and a meaningless threshold.
        splits = tree.tree_.threshold[tree.tree_.feature >= 0]
        return np.concatenate([[values.min()], np.sort(splits), [values.max()]])

    def transform(self, X):
        """Encode each column as one value per bin.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode; NaN encodes as 0 in every bin.

        Returns
        -------
        X_out : ndarray of shape (n_samples, n_features_out)
            Each column's bins in order (``n_bins_.sum()`` columns), then
            the missing-value indicators; float32 for float32 input.

        Examples
        --------
        >>> from skmlp.preprocessing import PiecewiseLinearEncoder
        >>> encoder = PiecewiseLinearEncoder(n_bins=2, extrapolate=False)
        >>> encoder.fit([[0.0], [1.0], [2.0]]).transform([[0.5], [9.0]])
        array([[0.5, 0. ],
               [1. , 1. ]])
        """
        X = _check_X(self, X, reset=False)
        missing = np.isnan(X)
        blocks = []
        for column, edges in zip(X.T, self.bin_edges_):
            left, width = edges[:-1], np.diff(edges)
            # A zero-width bin (a constant column) encodes as 0.
            scale = np.divide(1.0, width, out=np.zeros_like(width), where=width > 0)
            encoded = (column[:, None] - left.astype(X.dtype)) * scale.astype(X.dtype)
            if self.extrapolate and len(left) > 1:
                # The outer bins keep their line beyond the training range.
                encoded[:, 1:-1] = np.clip(encoded[:, 1:-1], 0, 1)
                encoded[:, 0] = np.minimum(encoded[:, 0], 1)
                encoded[:, -1] = np.maximum(encoded[:, -1], 0)
            elif not self.extrapolate:
                np.clip(encoded, 0, 1, out=encoded)
            blocks.append(encoded)
        out = np.concatenate(blocks, axis=1)
        out[np.isnan(out)] = 0
        indicators = missing[:, self.indicator_features_].astype(X.dtype)
        return np.hstack([out, indicators])

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: ``"{feature}_bin{k}"``, then
        ``"{feature}_missing"`` for the missing-value indicators.

        Parameters
        ----------
        input_features : array-like of str, default=None
            The input's column names; None for ``feature_names_in_``, or
            ``x0``, ``x1``, ... without them.

        Returns
        -------
        feature_names_out : ndarray of str objects
            One name per output column.

        Examples
        --------
        >>> from skmlp.preprocessing import PiecewiseLinearEncoder
        >>> encoder = PiecewiseLinearEncoder(n_bins=2).fit([[0.0, 1.0], [1.0, 1.0]])
        >>> encoder.get_feature_names_out()
        array(['x0_bin0', 'x0_bin1', 'x1_bin0'], dtype=object)
        """
        check_is_fitted(self)
        features = _check_feature_names_in(self, input_features)
        names = [
            f"{feature}_bin{k}"
            for feature, n_bins in zip(features, self.n_bins_)
            for k in range(n_bins)
        ]
        names += [f"{features[j]}_missing" for j in self.indicator_features_]
        return np.asarray(names, dtype=object)
