"""skmlp.preprocessing: the scaler's and the encoder's numbers, against the
formulas written out and scikit-learn where they coincide, and the
scikit-learn contract."""

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import RobustScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmlp import MLPClassifierScratch
from skmlp.preprocessing import PiecewiseLinearEncoder, RobustSoftClipScaler


@parametrize_with_checks(
    [
        RobustSoftClipScaler(),
        RobustSoftClipScaler(clip=1.5, fill_value=0.0),
        PiecewiseLinearEncoder(),
        PiecewiseLinearEncoder(n_bins=3, extrapolate=False, add_indicator=True),
        PiecewiseLinearEncoder(n_bins=4, target_aware=True, random_state=0),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _data(seed=0, n=200, d=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * [1.0, 10.0, 0.1] + [0.0, 5.0, -2.0]
    X[:5, 0] = [40.0, -30.0, 25.0, 60.0, -80.0]  # outliers
    return X


# ------------------------------------------------------------------- scaler
def test_scaler_is_the_soft_clip_of_the_robust_scaling():
    X = _data()
    clip = 2.5
    out = RobustSoftClipScaler(clip=clip).fit_transform(X)
    expected = np.empty_like(X)
    for j in range(X.shape[1]):
        column = X[:, j]
        median = np.median(column)
        iqr = np.percentile(column, 75) - np.percentile(column, 25)
        for i, x in enumerate(column):
            z = (x - median) / iqr
            expected[i, j] = z / (1 + (z / clip) ** 2) ** 0.5
    assert_allclose(out, expected, rtol=1e-12, atol=1e-15)
    assert np.all(np.abs(out) < clip)


def test_scaler_matches_robust_scaler_before_the_clip():
    X = _data()
    # With a huge clip the smooth clip is the identity to ~1e-12.
    ours = RobustSoftClipScaler(clip=1e8).fit(X)
    theirs = RobustScaler().fit(X)
    assert_allclose(ours.center_, theirs.center_, rtol=1e-14)
    assert_allclose(ours.scale_, theirs.scale_, rtol=1e-14)
    assert_allclose(ours.transform(X), theirs.transform(X), rtol=1e-10, atol=1e-12)


def test_scaler_falls_back_to_half_the_range_then_zero():
    # Column 0: IQR 0 (mostly zeros) -> half the range; column 1 constant.
    X = np.array([[0.0, 7.0]] * 9 + [[4.0, 7.0]])
    scaler = RobustSoftClipScaler().fit(X)
    assert_array_equal(scaler.center_, [0.0, 7.0])
    assert_array_equal(scaler.scale_, [2.0, 0.0])
    out = scaler.transform([[4.0, 7.0], [0.0, 100.0]])
    assert_allclose(out[:, 0], [2 / np.sqrt(1 + (2 / 3) ** 2), 0.0])
    assert_array_equal(out[:, 1], [0.0, 0.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scaler_takes_values_too_large_to_square_to_the_clip(dtype):
    # The square of x / clip overflows: the limit, +-clip, not 0 or NaN.
    huge = np.finfo(dtype).max
    X = np.array([[0.0], [1.0], [2.0], [3.0], [huge], [-huge], [huge / 1e10]], dtype)
    out = RobustSoftClipScaler(clip=3.0).fit(X[:4]).transform(X)
    assert out.dtype == dtype
    assert_array_equal(out[4:].ravel(), [3.0, -3.0, 3.0])


@pytest.mark.parametrize("fill_value", [0.0, -5.0])
def test_scaler_fill_value_replaces_only_the_missing_entries(fill_value):
    X = np.array([[1.0, np.nan], [2.0, 4.0], [np.nan, 8.0], [4.0, 1.0]])
    kept = RobustSoftClipScaler().fit(X)
    filled = RobustSoftClipScaler(fill_value=fill_value).fit(X)
    expected = kept.transform(X)
    expected[np.isnan(X)] = fill_value
    np.testing.assert_array_equal(filled.transform(X), expected)
    np.testing.assert_array_equal(filled.center_, kept.center_)
    # The caller's array still has its NaN.
    assert np.isnan(X).sum() == 2


def test_scaler_ignores_nan_in_fit_and_keeps_it_in_transform():
    X = _data()
    X_nan = X.copy()
    X_nan[::7, 1] = np.nan
    X_nan[:, 2] = np.nan  # all missing: no statistics
    scaler = RobustSoftClipScaler().fit(X_nan)
    present = ~np.isnan(X_nan[:, 1])
    clean = [
        RobustSoftClipScaler().fit(X[:, [0]]),
        RobustSoftClipScaler().fit(X[present, 1:2]),
    ]
    assert_allclose(scaler.center_[:2], [c.center_[0] for c in clean], rtol=1e-15)
    assert_allclose(scaler.scale_[:2], [c.scale_[0] for c in clean], rtol=1e-15)
    assert_array_equal([scaler.center_[2], scaler.scale_[2]], [0.0, 0.0])
    out = scaler.transform(X_nan)
    assert_array_equal(np.isnan(out), np.isnan(X_nan))


# ------------------------------------------------------------------ encoder
def _encode_by_hand(x, edges, extrapolate=True):
    """The encoding of one value, bin by bin, as the paper defines it."""
    n = len(edges) - 1
    values = []
    for k in range(n):
        left, right = edges[k], edges[k + 1]
        if np.isnan(x) or right == left:
            value = 0.0
        elif x >= right and not (extrapolate and k == n - 1):
            value = 1.0
        elif x < left and not (extrapolate and k == 0):
            value = 0.0
        else:
            value = (x - left) / (right - left)
        if not extrapolate:
            value = min(max(value, 0.0), 1.0)
        values.append(value)
    return values


@pytest.mark.parametrize("extrapolate", [True, False])
def test_encoder_matches_the_loop_written_out(extrapolate):
    X = np.array([[0.0, 10.0], [1.0, 10.0], [3.0, 12.0], [4.0, 11.0], [8.0, 10.0]])
    encoder = PiecewiseLinearEncoder(n_bins=4, extrapolate=extrapolate).fit(X)
    assert_allclose(encoder.bin_edges_[0], [0.0, 1.0, 3.0, 4.0, 8.0])
    assert_allclose(encoder.bin_edges_[1], [10.0, 11.0, 12.0])  # equal edges merged
    X_new = np.array([[2.0, 10.5], [-2.0, 13.0], [9.0, np.nan], [4.0, 12.0]])
    out = encoder.transform(X_new)
    expected = [
        _encode_by_hand(row[0], encoder.bin_edges_[0], extrapolate)
        + _encode_by_hand(row[1], encoder.bin_edges_[1], extrapolate)
        for row in X_new
    ]
    assert_allclose(out, expected, rtol=0, atol=1e-15)
    # Written out once more for the first row: 1 below, the fraction, 0 above.
    assert_allclose(out[0], [1.0, 0.5, 0.0, 0.0, 0.5, 0.0])


def test_encoder_edges_are_the_quantiles():
    X = _data()
    encoder = PiecewiseLinearEncoder(n_bins=5).fit(X)
    for j in range(X.shape[1]):
        quantiles = np.quantile(X[:, j], np.linspace(0, 1, 6))
        assert_allclose(encoder.bin_edges_[j], quantiles, rtol=1e-15)
    assert_array_equal(encoder.n_bins_, [5, 5, 5])


def test_encoder_is_monotone_and_keeps_x():
    X = _data()
    encoder = PiecewiseLinearEncoder(n_bins=6).fit(X)
    grid = np.linspace(X.min(axis=0) - 1, X.max(axis=0) + 1, 500)
    out = encoder.transform(grid)
    assert np.all(np.diff(out, axis=0) >= 0)  # every output rises with x
    # The sum of a column's outputs maps x back along its bins.
    for j, (edges, start) in enumerate(zip(encoder.bin_edges_, [0, 6, 12])):
        inside = (grid[:, j] >= edges[0]) & (grid[:, j] <= edges[-1])
        position = out[inside, start : start + 6].sum(axis=1)
        assert_allclose(np.interp(position, np.arange(7), edges), grid[inside, j])
        assert out[inside, start : start + 6].min() >= 0
        assert out[inside, start : start + 6].max() <= 1


@pytest.mark.parametrize(
    "Tree, y_of",
    [
        (DecisionTreeRegressor, lambda X: np.sin(X[:, 0]) + X[:, 1] / 10),
        (DecisionTreeClassifier, lambda X: (X[:, 0] > 0.3).astype(int) + (X[:, 1] > 5)),
    ],
)
def test_target_aware_edges_are_the_tree_thresholds(Tree, y_of):
    X = _data()
    y = y_of(X)
    encoder = PiecewiseLinearEncoder(
        n_bins=5, target_aware=True, min_samples_leaf=3, random_state=0
    ).fit(X, y)
    for j in range(X.shape[1]):
        tree = Tree(max_leaf_nodes=5, min_samples_leaf=3, random_state=0)
        tree.fit(X[:, [j]], y)
        thresholds = sorted(
            t for t, f in zip(tree.tree_.threshold, tree.tree_.feature) if f == 0
        )
        expected = [X[:, j].min()] + thresholds + [X[:, j].max()]
        assert_allclose(encoder.bin_edges_[j], expected, rtol=0)
        assert encoder.n_bins_[j] == tree.get_n_leaves()


def test_target_aware_needs_y():
    with pytest.raises(
        ValueError,
        match="requires y to be passed.*pass y to fit, or set target_aware=False",
    ):
        PiecewiseLinearEncoder(target_aware=True).fit(_data())
    with pytest.raises(ValueError, match="y has 3 samples but X has 200: they must"):
        PiecewiseLinearEncoder(target_aware=True).fit(_data(), [0, 1, 0])


def test_encoder_nan_is_zero_with_an_optional_indicator():
    X = _data()
    X[::4, 1] = np.nan
    encoder = PiecewiseLinearEncoder(n_bins=4, add_indicator=True).fit(X)
    clean = PiecewiseLinearEncoder(n_bins=4).fit(X[~np.isnan(X[:, 1])])
    assert_allclose(encoder.bin_edges_[1], clean.bin_edges_[1])
    assert_array_equal(encoder.indicator_features_, [1])
    out = encoder.transform(X)
    assert out.shape == (len(X), 13)
    assert_array_equal(out[::4, 4:8], 0)
    assert_array_equal(out[:, -1], np.isnan(X[:, 1]))
    assert not np.isnan(out).any()
    # A constant column and an all-NaN column: one bin each, encoded as 0.
    X2 = np.column_stack([np.full(6, 3.0), np.full(6, np.nan), np.arange(6.0)])
    encoder2 = PiecewiseLinearEncoder(n_bins=2).fit(X2)
    assert_array_equal(encoder2.n_bins_, [1, 1, 2])
    assert_array_equal(encoder2.transform(X2 + 1)[:, :2], 0)


# ------------------------------------------------------------ both of them
BOTH = [RobustSoftClipScaler(), PiecewiseLinearEncoder(n_bins=3, add_indicator=True)]


def _frame():
    X = _data(n=40)
    X[3, 0] = np.nan
    return pd.DataFrame(X, columns=["age", "income", "debt"])


@pytest.mark.parametrize("transformer", BOTH, ids=type)
def test_feature_names_and_pandas_output(transformer):
    frame = _frame()
    out = transformer.set_output(transform="pandas").fit(frame).transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert_array_equal(transformer.feature_names_in_, frame.columns)
    names = list(transformer.get_feature_names_out())
    assert list(out.columns) == names
    if isinstance(transformer, RobustSoftClipScaler):
        assert names == ["age", "income", "debt"]
    else:
        assert names == [f"{f}_bin{k}" for f in frame.columns for k in range(3)] + [
            "age_missing"
        ]
    transformer.set_output(transform="default")


@pytest.mark.parametrize("transformer", BOTH, ids=type)
def test_input_is_not_modified_and_float32_stays(transformer):
    X = _data().astype(np.float32)
    X[2, 1] = np.nan
    before = X.copy()
    out = transformer.fit(X).transform(X)
    assert_array_equal(X, before)
    assert out.dtype == np.float32
    assert transformer.fit(X.astype(np.float64)).transform(X).dtype == np.float32
    assert transformer.transform(np.nan_to_num(X).astype(int)).dtype == np.float64


@pytest.mark.parametrize(
    "transformer, message",
    [
        (RobustSoftClipScaler(clip=0), "The 'clip' parameter of RobustSoftClipScaler"),
        (PiecewiseLinearEncoder(n_bins=1), "The 'n_bins' parameter"),
        (PiecewiseLinearEncoder(target_aware="yes"), "The 'target_aware' parameter"),
        (
            PiecewiseLinearEncoder(min_samples_leaf=0),
            "The 'min_samples_leaf' parameter",
        ),
        (PiecewiseLinearEncoder(extrapolate=None), "The 'extrapolate' parameter"),
        (PiecewiseLinearEncoder(add_indicator=1.0), "The 'add_indicator' parameter"),
    ],
)
def test_parameters_are_validated_at_fit(transformer, message):
    with pytest.raises(ValueError, match=message):
        transformer.fit(_data())


@pytest.mark.parametrize(
    "encoding",
    [RobustSoftClipScaler(), PiecewiseLinearEncoder(n_bins=8, target_aware=True)],
    ids=type,
)
def test_in_a_pipeline_with_the_mlp(encoding):
    X, y = load_breast_cancer(return_X_y=True)
    model = make_pipeline(
        encoding,
        MLPClassifierScratch(hidden_layer_sizes=(16,), max_iter=20, random_state=0),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X[::2], y[::2])
    # Only that it trains and predicts: no accuracy is promised here.
    assert model.predict_proba(X[1::2]).shape == (len(X[1::2]), 2)
    assert 0 <= model.score(X[1::2], y[1::2]) <= 1
