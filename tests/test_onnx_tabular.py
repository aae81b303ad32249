"""ONNX export of the encoders and the tabular estimators: skl2onnx converts
them, bare and inside Pipelines and ColumnTransformers, to graphs the ONNX
checker passes, and onnxruntime gives what ``transform``, ``predict`` and
``predict_proba`` give, on rows with missing values, values beyond the
training range and categories unseen in training; what cannot convert is
refused at conversion with a message that says why."""

import functools
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from skmlp import TabularMLPClassifier, TabularMLPRegressor
from skmlp.preprocessing import PiecewiseLinearEncoder, RobustSoftClipScaler

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")
skmlp_onnx = pytest.importorskip("skmlp.onnx")
tabular_initial_types = skmlp_onnx.tabular_initial_types
tabular_inputs = skmlp_onnx.tabular_inputs
data_types = pytest.importorskip("skl2onnx.common.data_types")

NEWEST_OPSET = skl2onnx.get_latest_tested_opset_version()
# The tolerance of each dtype for graphs that repeat transform's arithmetic.
RTOL = {np.float32: 1e-6, np.float64: 1e-12}
ATOL = {np.float32: 1e-7, np.float64: 1e-15}


def onnx_session(model, sample=None, target_opset=None, initial_types=None, **options):
    """``model`` converted (typed by ``sample`` or ``initial_types``) to a
    graph the ONNX checker passes, in an onnxruntime session."""
    onx = skl2onnx.to_onnx(
        model,
        sample,
        initial_types=initial_types,
        target_opset=target_opset,
        options=options or None,
    )
    onnx.checker.check_model(onx, full_check=True)
    return ort.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )


def onnx_run(model, X, target_opset=None, **options):
    """Every output of ``model``'s graph for ``X``: a tabular model typed by
    :func:`tabular_initial_types`, anything else by skl2onnx's guess."""
    if hasattr(model, "members_"):
        session = onnx_session(
            model, None, target_opset, tabular_initial_types(model, X[:1]), **options
        )
        return session.run(None, tabular_inputs(session, X))
    session = onnx_session(model, X[:1], target_opset, **options)
    return session.run(None, {session.get_inputs()[0].name: X})


def numeric_table(dtype, n_rows=200, seed=0):
    """Columns: normal, heavy-tailed, constant, with NaN, two-valued."""
    rng = np.random.RandomState(seed)
    X = np.c_[
        rng.normal(size=n_rows),
        rng.lognormal(sigma=2, size=n_rows),
        np.full(n_rows, 7.0),
        rng.uniform(-3, 3, size=n_rows),
        rng.randint(0, 2, size=n_rows),
    ]
    X[::9, 3] = np.nan
    return X.astype(dtype)


def unseen_rows(X):
    """Rows the model did not train on: missing values and values far
    beyond the training range, in every column."""
    rows = np.array(
        [
            [np.nan] * 5,
            [1e3, 1e6, 7.0, 1e3, 5.0],
            [-1e3, -1.0, -8.0, -1e3, -5.0],
            [0.1, 0.5, 7.0, 0.2, 1.0],
        ]
    )
    return np.r_[X[:20], rows.astype(X.dtype)]


ENCODERS = {
    "scaler": RobustSoftClipScaler(),
    "scaler_fill": RobustSoftClipScaler(clip=1.5, fill_value=0.0),
    "scaler_fill_negative": RobustSoftClipScaler(fill_value=-2.5),
    "piecewise": PiecewiseLinearEncoder(n_bins=4),
    "piecewise_clipped": PiecewiseLinearEncoder(
        n_bins=8, extrapolate=False, add_indicator=True
    ),
    "piecewise_indicator": PiecewiseLinearEncoder(n_bins=3, add_indicator=True),
    "piecewise_tree": PiecewiseLinearEncoder(n_bins=5, target_aware=True),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ENCODERS)
def test_encoder_graph_gives_transform(name, dtype):
    X = numeric_table(dtype)
    y = (np.nan_to_num(X[:, 0]) > 0).astype(int)
    encoder = ENCODERS[name].fit(X, y)
    X_test = unseen_rows(X)
    (onnx_out,) = onnx_run(encoder, X_test)
    expected = encoder.transform(X_test)
    assert onnx_out.dtype == expected.dtype == dtype
    assert_allclose(onnx_out, expected, rtol=RTOL[dtype], atol=ATOL[dtype])


def test_encoders_convert_inside_a_pipeline():
    X = numeric_table(np.float64)
    y = np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 3])
    columns = ColumnTransformer(
        [
            ("scaled", RobustSoftClipScaler(fill_value=0.0), [0, 1, 2]),
            ("piecewise", PiecewiseLinearEncoder(n_bins=6, add_indicator=True), [3, 4]),
        ]
    )
    model = make_pipeline(columns, Ridge()).fit(X, y)
    X_test = unseen_rows(X)
    (onnx_out,) = onnx_run(model, X_test)
    assert_allclose(onnx_out.ravel(), model.predict(X_test), rtol=1e-10, atol=1e-12)


def test_encoders_refuse_an_opset_without_isnan():
    X = numeric_table(np.float32)
    with pytest.raises(ValueError, match="IsNaN.*target_opset=9 or newer"):
        skl2onnx.to_onnx(PiecewiseLinearEncoder().fit(X), X[:1], target_opset=8)
    # The scaler that keeps NaN needs no IsNaN: it converts at opset 7.
    (onnx_out,) = onnx_run(RobustSoftClipScaler().fit(X), X, target_opset=7)
    assert_allclose(onnx_out, RobustSoftClipScaler().fit_transform(X), rtol=1e-6)


def fitted(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimator.fit(X, y)


SMALL = {"hidden_layer_sizes": (16,), "max_iter": 5, "random_state": 0}


def mixed_table(n_rows=200, seed=0):
    """Numeric columns (float with NaN, int) beside categorical ones: a
    pandas category with NaN and rare levels, object strings with None, and
    bools."""
    rng = np.random.RandomState(seed)
    levels = list("abcdefg")
    return pd.DataFrame(
        {
            "age": np.where(rng.rand(n_rows) < 0.1, np.nan, rng.normal(40, 10, n_rows)),
            "visits": rng.randint(0, 20, n_rows),
            "plan": pd.Categorical(
                rng.choice(
                    levels + [None],
                    n_rows,
                    p=[0.3, 0.2, 0.2, 0.1, 0.1, 0.04, 0.03, 0.03],
                ),
            ),
            "city": rng.choice(["paris", "rome", None], n_rows).astype(object),
            "member": rng.rand(n_rows) < 0.5,
        }
    )


def unseen_table(X):
    """Rows with values the model did not see: NaN, far values, unseen
    categories (one column pools them as infrequent, one has no such column)."""
    rows = pd.DataFrame(
        {
            "age": [np.nan, 1e4, -1e4],
            "visits": [0, 1000, -5],
            "plan": pd.Categorical(["zzz", None, "g"]),
            "city": ["oslo", None, "rome"],
            "member": [True, False, True],
        }
    )
    return pd.concat([X.head(20), rows], ignore_index=True)


@functools.cache
def tabular_classifier(data, labels="ints"):
    if data == "mixed":
        X = mixed_table()
        score = np.nan_to_num(X["age"].to_numpy() - 40) + (X["plan"] == "a") * 5
    else:
        X = numeric_table(np.float64 if data == "float64" else np.float32)
        score = np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 3])
    y = np.digitize(score, np.quantile(score, [0.33, 0.66]))
    if labels == "strings":
        y = np.array(["no", "yes"])[(y > 0).astype(int)]
    model = TabularMLPClassifier(max_categories=4, **SMALL)
    return fitted(model, X, y), X


@functools.cache
def tabular_regressor(data, n_outputs=1):
    if data == "mixed":
        X = mixed_table()
        y = np.nan_to_num(X["age"].to_numpy()) * 10 + (X["city"] == "rome") * 100
    else:
        X = numeric_table(np.float64 if data == "float64" else np.float32)
        y = 1000 + 50 * np.nan_to_num(X[:, 0]) - 3 * X[:, 4]
    if n_outputs == 2:
        y = np.c_[y, -2 * y + 5]
    return fitted(TabularMLPRegressor(max_categories=4, **SMALL), X, y), X


def test_tabular_classifier_on_numeric_arrays():
    for data in ["float32", "float64"]:
        model, X = tabular_classifier(data)
        X_test = unseen_rows(X)
        labels, proba = onnx_run(model, X_test, zipmap=False)
        assert proba.dtype == np.float32  # the network's, whatever the input
        assert_array_equal(labels, model.predict(X_test))
        assert_allclose(proba, model.predict_proba(X_test), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("labels", ["ints", "strings"])
def test_tabular_classifier_on_a_mixed_dataframe(labels):
    model, X = tabular_classifier("mixed", labels)
    assert (
        model.preprocessor_.named_transformers_["categorical"].infrequent_categories_[0]
        is not None
    )
    X_test = unseen_table(X)
    label_out, proba = onnx_run(model, X_test, zipmap=False)
    assert_array_equal(label_out, model.predict(X_test))
    assert_allclose(proba, model.predict_proba(X_test), rtol=1e-5, atol=1e-6)


def test_tabular_classifier_zipmap_and_oldest_opset():
    model, X = tabular_classifier("mixed")
    X_test = unseen_table(X)
    labels, proba = onnx_run(model, X_test, target_opset=11)
    assert_array_equal(labels, model.predict(X_test))
    as_table = np.array([[row[c] for c in model.classes_] for row in proba])
    assert_allclose(as_table, model.predict_proba(X_test), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "data, n_outputs", [("float32", 1), ("float64", 2), ("mixed", 1)]
)
def test_tabular_regressor(data, n_outputs):
    model, X = tabular_regressor(data, n_outputs)
    X_test = unseen_table(X) if data == "mixed" else unseen_rows(X)
    (values,) = onnx_run(model, X_test)
    expected = model.predict(X_test).reshape(len(X_test), n_outputs)
    assert_allclose(values, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


def test_tabular_numeric_model_needs_opset_9():
    model, X = tabular_regressor("float64")
    with pytest.raises(ValueError, match="IsNaN.*target_opset=9 or newer"):
        skl2onnx.to_onnx(model, X[:1], target_opset=8)
    (values,) = onnx_run(model, X, target_opset=9)
    assert_allclose(values.ravel(), model.predict(X), rtol=1e-5)


def test_tabular_categorical_model_needs_opset_11():
    model, X = tabular_classifier("mixed")
    with pytest.raises(ValueError, match="Equal.*target_opset=11 or newer"):
        skl2onnx.to_onnx(
            model, initial_types=tabular_initial_types(model, X), target_opset=10
        )


def test_refuses_a_missing_category_that_a_string_would_share():
    X = pd.DataFrame(
        {
            "x": np.arange(60.0),
            "kind": pd.Series(["nan", "a", None] * 20, dtype=object).astype(object),
        }
    )
    X.loc[2::3, "kind"] = np.nan
    model = fitted(TabularMLPRegressor(**SMALL), X, np.arange(60.0))
    with pytest.raises(ValueError, match="not distinct as strings"):
        skl2onnx.to_onnx(model, initial_types=tabular_initial_types(model, X))


def test_refuses_inputs_that_do_not_fit_the_columns():
    model, X = tabular_classifier("mixed")
    types = dict(tabular_initial_types(model, X))
    T = data_types
    with pytest.raises(
        ValueError, match="hold 4 columns, but the model was fitted on 5"
    ):
        skl2onnx.to_onnx(model, initial_types=list(types.items())[:4])
    as_strings = [(name, T.StringTensorType([None, 1])) for name in types]
    with pytest.raises(TypeError, match="give numeric columns a float or integer"):
        skl2onnx.to_onnx(model, initial_types=as_strings)
    plan_as_numbers = {**types, "plan": T.DoubleTensorType([None, 1])}
    with pytest.raises(ValueError, match="feed it as strings"):
        skl2onnx.to_onnx(model, initial_types=list(plan_as_numbers.items()))


def test_skl2onnx_guess_of_a_category_column_is_refused_with_the_fix():
    # skl2onnx types a DataFrame column from its first row: a category
    # column whose first value is missing becomes int64 (its codes), which
    # cannot be matched with the categories.
    model, X = tabular_classifier("mixed")
    assert pd.isna(X["plan"].iloc[0])
    with pytest.raises(ValueError, match="tabular_initial_types"):
        skl2onnx.to_onnx(model, X[:1])
    # Where the first row holds strings, skl2onnx's guess converts too.
    sample = X[X["plan"].notna() & X["city"].notna()][:1]
    session = onnx_session(model, sample, zipmap=False)
    _, proba = session.run(None, tabular_inputs(session, X))
    assert_allclose(proba, model.predict_proba(X), rtol=1e-5, atol=1e-6)


def test_tabular_initial_types():
    model, X = tabular_classifier("mixed")
    types = {name: type(t).__name__ for name, t in tabular_initial_types(model, X)}
    assert types == {
        "age": "DoubleTensorType",
        "visits": "Int64TensorType",
        "plan": "StringTensorType",
        "city": "StringTensorType",
        "member": "BooleanTensorType",
    }
    model, X = tabular_regressor("float32")
    ((name, tensor),) = tabular_initial_types(model, X)
    assert (name, type(tensor).__name__, tensor.shape) == (
        "X",
        "FloatTensorType",
        [None, 5],
    )
