"""ONNX export: skl2onnx converts both estimators, bare and in Pipelines, to
a valid graph at every opset from 7 to the newest, and onnxruntime predicts
what skmlp predicts on rows the model did not train on."""

import copy
import functools
import inspect
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_iris, load_linnerud
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skmlp import MLPClassifierScratch, MLPRegressorScratch
from skmlp._nn import activations as _activations
from skmlp._nn import layers as _layers
from skmlp._nn import losses as _losses

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")
skmlp_onnx = pytest.importorskip("skmlp.onnx")

DTYPES = [np.float32, np.float64]
# 7: the oldest that onnxruntime runs and scikit-learn's MLP converts at;
# Clip, Max, Min, Where and Erf change or appear at 8 to 11; the newest is
# skl2onnx's default.
NEWEST_OPSET = skl2onnx.get_latest_tested_opset_version()
OPSETS = [7, 8, 9, 10, 11, NEWEST_OPSET]
# The oldest opset of each hidden activation that needs a newer one than 7:
# the leaky ReLU and ELU use Max or Min (broadcasting from 8), GELU Erf (9).
FIRST_OPSET = {"leaky_relu": 8, "elu": 8, "gelu": 9}


def first_opset(activation):
    return FIRST_OPSET.get(activation, 7)


def onnx_predict(model, X_fit_sample, X, target_opset=None, **options):
    """Convert ``model`` (typed by a sample of its input) to a graph that the
    ONNX checker passes for ``target_opset`` and run ``X`` through
    onnxruntime; returns every output."""
    onx = skl2onnx.to_onnx(
        model, X_fit_sample[:1], target_opset=target_opset, options=options or None
    )
    onnx.checker.check_model(onx, full_check=True)
    session = ort.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {session.get_inputs()[0].name: X})


def split(X, y, dtype):
    X_train, X_test, y_train, y_test = train_test_split(
        StandardScaler().fit_transform(X).astype(dtype), y, random_state=0
    )
    return X_train, X_test, y_train, y_test


def fitted(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of short fits
        return estimator.fit(X, y)


# Each model is fitted once and converted at every opset (conversion leaves
# it as it is).
@functools.cache
def iris_classifier(dtype, activation="relu", target="multiclass", **params):
    X, y = load_iris(return_X_y=True)
    y = {
        "multiclass": y,
        "binary_strings": np.array(["no", "yes"])[(y == 1).astype(int)],
        "binary_bools": y == 2,
        "multilabel": np.c_[y == 1, y == 2, y != 0].astype(int),
        "float_classes": y.astype(float) * 2,
    }[target]
    X_train, X_test, y_train, _ = split(X, y, dtype)
    params = {"hidden_layer_sizes": (8, 6), "max_iter": 100, **params}
    clf = MLPClassifierScratch(activation=activation, random_state=0, **params)
    return fitted(clf, X_train, y_train), X_train, X_test


@functools.cache
def linnerud_regressor(dtype, loss, n_outputs):
    X, Y = load_linnerud(return_X_y=True)
    Y = Y[:, :n_outputs] / Y.mean(axis=0)[:n_outputs]
    X_train, X_test, y_train, _ = split(X, Y.squeeze(), dtype)
    reg = MLPRegressorScratch(
        loss=loss, hidden_layer_sizes=(8,), max_iter=200, random_state=0
    )
    return fitted(reg, X_train, y_train), X_train, X_test


def test_every_layer_activation_and_output_has_a_converter():
    # A new layer, activation or output layer in skmlp needs its ONNX mapping
    # in skmlp/onnx.py: this fails until it has one.
    layer_classes = {
        name
        for name, cls in inspect.getmembers(_layers, inspect.isclass)
        if cls.__module__ == _layers.__name__ and hasattr(cls, "backward")
    }
    assert set(skmlp_onnx.LAYERS) == layer_classes
    assert set(skmlp_onnx.HIDDEN_ACTIVATIONS) == set(_activations.ACTIVATIONS)
    assert set(skmlp_onnx.OUTPUTS) == set(_losses.OUTPUTS)
    # Every regression loss predicts through an output of the registry
    # (the robust and quantile losses through the identity).
    assert {loss.name for loss in _losses.REGRESSION_LOSSES.values()} <= set(
        skmlp_onnx.OUTPUTS
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "activation, opset",
    [
        (activation, opset)
        for activation in sorted(_activations.ACTIVATIONS)
        for opset in OPSETS
        if opset >= first_opset(activation)
    ],
)
def test_multiclass_labels_are_exact_and_probabilities_close(activation, opset, dtype):
    clf, X_train, X_test = iris_classifier(dtype, activation)
    labels, proba = onnx_predict(clf, X_train, X_test, opset, zipmap=False)
    assert_array_equal(labels, clf.predict(X_test))
    assert proba.dtype == dtype
    assert_allclose(proba, clf.predict_proba(X_test), atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    "activation, opset",
    [
        (activation, opset)
        for activation in sorted(_activations.ACTIVATIONS)
        for opset in OPSETS
        if opset < first_opset(activation)
    ],
)
def test_an_opset_too_old_for_an_activation_names_the_one_that_works(
    activation, opset
):
    clf, X_train, _ = iris_classifier(np.float32, activation)
    first = first_opset(activation)
    with pytest.raises(
        ValueError,
        match=rf"needs the operator (Max|Min|Erf), .* from opset {first} on, but "
        rf"target_opset is {opset}\. Convert with target_opset={first} or newer",
    ):
        skl2onnx.to_onnx(clf, X_train[:1], target_opset=opset)


def test_an_opset_older_than_7_is_refused():
    clf, X_train, _ = iris_classifier(np.float32)
    with pytest.raises(ValueError, match=r"need target_opset=7 or newer \(got 6\)"):
        skl2onnx.to_onnx(clf, X_train[:1], target_opset=6)


@pytest.mark.parametrize("opset", OPSETS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "target",
    ["binary_strings", "binary_bools", "multilabel", "float_classes"],
)
def test_other_targets(target, dtype, opset):
    clf, X_train, X_test = iris_classifier(
        dtype, target=target, hidden_layer_sizes=(8,)
    )
    labels, proba = onnx_predict(clf, X_train, X_test, opset, zipmap=False)
    assert_array_equal(labels, clf.predict(X_test))
    assert_allclose(proba, clf.predict_proba(X_test), atol=1e-5, rtol=0)


@pytest.mark.parametrize("opset", OPSETS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("target", ["binary_bools", "multilabel"])
def test_sigmoid_probabilities_are_clipped_exactly_as_predict_proba_clips(
    target, dtype, opset
):
    # Pre-activations from -1000 to 1000 through one identity unit: sigmoids
    # that round to 0 or 1, or fall within eps of them (below and above
    # eps / 2, where the clipping's arithmetic differs), in both dtypes.
    fitted_clf, X_train, _ = iris_classifier(
        dtype, "identity", target, hidden_layer_sizes=(1,)
    )
    clf = copy.copy(fitted_clf)  # its weights are replaced, not the cached one's
    z = np.array([-1000, -40, -37.5, -36.5, -17, -16.2, 0, 16.2, 17, 36.5, 40, 1000])
    X = np.zeros((len(z), X_train.shape[1]), dtype)
    X[:, 0] = z
    n_outputs = clf.coefs_[-1].shape[1]
    clf.coefs_ = [np.eye(X.shape[1], 1, dtype=dtype), np.ones((1, n_outputs), dtype)]
    clf.intercepts_ = [np.zeros(1, dtype), np.zeros(n_outputs, dtype)]
    _, proba = onnx_predict(clf, X_train, X, opset, zipmap=False)
    expected = clf.predict_proba(X)
    eps = np.finfo(dtype).eps
    assert expected.min() == eps and expected.max() == 1 - eps
    at_a_bound = (expected == eps) | (expected == 1 - eps)
    assert_array_equal(proba[at_a_bound], expected[at_a_bound])
    assert_allclose(proba, expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize("opset", OPSETS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch_norm", [False, True])
def test_dropout_is_absent_and_batch_norm_folded(batch_norm, dtype, opset):
    clf, X_train, X_test = iris_classifier(
        dtype, dropout=0.2, batch_norm=batch_norm, max_iter=60
    )
    onx = skl2onnx.to_onnx(
        clf, X_train[:1], target_opset=opset, options={"zipmap": False}
    )
    ops = {node.op_type for node in onx.graph.node}
    assert "Dropout" not in ops
    # Folded: one MatMul per dense layer, no separate normalization.
    assert sum(node.op_type == "MatMul" for node in onx.graph.node) == 3
    assert "BatchNormalization" not in ops and "Mul" not in ops
    labels, proba = onnx_predict(clf, X_train, X_test, opset, zipmap=False)
    assert_array_equal(labels, clf.predict(X_test))
    assert_allclose(proba, clf.predict_proba(X_test), atol=1e-5, rtol=0)


def test_zipmap_by_default_gives_a_dict_per_row():
    X, y = load_iris(return_X_y=True)
    X_train, X_test, y_train, _ = split(X, np.array(["a", "b", "c"])[y], np.float32)
    clf = fitted(MLPClassifierScratch((8,), random_state=0), X_train, y_train)
    labels, proba = onnx_predict(clf, X_train, X_test)
    assert_array_equal(labels, clf.predict(X_test))
    assert sorted(proba[0]) == ["a", "b", "c"]
    expected = clf.predict_proba(X_test)
    assert_allclose([[row[c] for c in "abc"] for row in proba], expected, atol=1e-5)


@pytest.mark.parametrize("opset", OPSETS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_regression_values_shaped_n_samples_by_n_outputs(n_outputs, loss, dtype, opset):
    reg, X_train, X_test = linnerud_regressor(dtype, loss, n_outputs)
    (values,) = onnx_predict(reg, X_train, X_test, opset)
    assert values.shape == (len(X_test), n_outputs)
    assert values.dtype == dtype
    expected = reg.predict(X_test).reshape(len(X_test), n_outputs)
    assert_allclose(values, expected, atol=1e-5, rtol=1e-5)


def test_pipeline_with_a_scaler_and_an_encoder():
    rng = np.random.RandomState(0)
    X = np.c_[rng.randint(0, 3, 300), rng.normal(size=(300, 3))].astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 1).astype(int)
    X_train, X_test, y_train, _ = train_test_split(X, y, random_state=0)
    pipe = make_pipeline(
        ColumnTransformer(
            [
                ("category", OneHotEncoder(), [0]),
                ("numbers", StandardScaler(), [1, 2, 3]),
            ]
        ),
        MLPClassifierScratch((8,), max_iter=300, random_state=0),
    )
    fitted(pipe, X_train, y_train)
    labels, proba = onnx_predict(pipe, X_train, X_test, zipmap=False)
    assert_array_equal(labels, pipe.predict(X_test))
    assert_allclose(proba, pipe.predict_proba(X_test), atol=1e-5, rtol=0)
