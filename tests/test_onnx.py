"""ONNX export: skl2onnx converts both estimators, bare and in Pipelines, and
onnxruntime predicts what skmlp predicts on rows the model did not train on."""

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

ort = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")
skmlp_onnx = pytest.importorskip("skmlp.onnx")

DTYPES = [np.float32, np.float64]


def onnx_predict(model, X_fit_sample, X, **options):
    """Convert ``model`` (typed by a sample of its input) and run ``X``
    through onnxruntime; returns every output."""
    onx = skl2onnx.to_onnx(model, X_fit_sample[:1], options=options or None)
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
@pytest.mark.parametrize("activation", sorted(_activations.ACTIVATIONS))
def test_multiclass_labels_are_exact_and_probabilities_close(activation, dtype):
    X, y = load_iris(return_X_y=True)
    X_train, X_test, y_train, _ = split(X, y, dtype)
    clf = fitted(
        MLPClassifierScratch(
            (8, 6), activation=activation, max_iter=100, random_state=0
        ),
        X_train,
        y_train,
    )
    labels, proba = onnx_predict(clf, X_train, X_test, zipmap=False)
    assert_array_equal(labels, clf.predict(X_test))
    assert proba.dtype == dtype
    assert_allclose(proba, clf.predict_proba(X_test), atol=1e-5, rtol=0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "target",
    ["binary_strings", "binary_bools", "multilabel", "float_classes"],
)
def test_other_targets(target, dtype):
    X, y = load_iris(return_X_y=True)
    y = {
        "binary_strings": np.array(["no", "yes"])[(y == 1).astype(int)],
        "binary_bools": y == 2,
        "multilabel": np.c_[y == 1, y == 2, y != 0].astype(int),
        "float_classes": y.astype(float) * 2,
    }[target]
    X_train, X_test, y_train, _ = split(X, y, dtype)
    clf = fitted(
        MLPClassifierScratch((8,), max_iter=100, random_state=0), X_train, y_train
    )
    labels, proba = onnx_predict(clf, X_train, X_test, zipmap=False)
    assert_array_equal(labels, clf.predict(X_test))
    assert_allclose(proba, clf.predict_proba(X_test), atol=1e-5, rtol=0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch_norm", [False, True])
def test_dropout_is_absent_and_batch_norm_folded(batch_norm, dtype):
    X, y = load_iris(return_X_y=True)
    X_train, X_test, y_train, _ = split(X, y, dtype)
    clf = fitted(
        MLPClassifierScratch(
            (8, 6), dropout=0.2, batch_norm=batch_norm, max_iter=60, random_state=0
        ),
        X_train,
        y_train,
    )
    onx = skl2onnx.to_onnx(clf, X_train[:1], options={"zipmap": False})
    ops = {node.op_type for node in onx.graph.node}
    assert "Dropout" not in ops
    # Folded: one MatMul per dense layer, no separate normalization.
    assert sum(node.op_type == "MatMul" for node in onx.graph.node) == 3
    assert "BatchNormalization" not in ops and "Mul" not in ops
    labels, proba = onnx_predict(clf, X_train, X_test, zipmap=False)
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


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_regression_values_shaped_n_samples_by_n_outputs(n_outputs, loss, dtype):
    X, Y = load_linnerud(return_X_y=True)
    Y = Y[:, :n_outputs] / Y.mean(axis=0)[:n_outputs]
    X_train, X_test, y_train, _ = split(X, Y.squeeze(), dtype)
    reg = fitted(
        MLPRegressorScratch(
            loss=loss, hidden_layer_sizes=(8,), max_iter=200, random_state=0
        ),
        X_train,
        y_train,
    )
    (values,) = onnx_predict(reg, X_train, X_test)
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
