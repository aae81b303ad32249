"""Sparse X (SciPy CSR/CSC, matrices and arrays) for fit and predict, never
densified as a whole."""

import numpy as np
import pytest
import scipy.sparse as sp
from _parity_helpers import (
    assert_same_loss_curve,
    digits,
    fit_both,
    fit_quietly,
    integer_weights,
)
from sklearn.neural_network import MLPRegressor

from skmlp import MLPClassifierScratch, MLPRegressorScratch

CONTAINERS = [sp.csr_matrix, sp.csc_matrix, sp.csr_array, sp.csc_array]


def sparse_digits(n_samples=300):
    # Digits are about half zeros already; zero out more for a real test.
    X, y = digits(n_samples)
    X = X * (np.random.RandomState(0).rand(*X.shape) < 0.5)
    return X, y


@pytest.fixture
def densified():
    """Column counts of every SciPy sparse matrix densified while the test
    runs (scikit-learn's label binarizer densifies its own small ones)."""
    widths = []
    with pytest.MonkeyPatch.context() as patch:
        for container in (*CONTAINERS, sp.coo_matrix, sp.coo_array):
            original = container.toarray

            def recording(self, *args, _original=original, **kwargs):
                widths.append(self.shape[1])
                return _original(self, *args, **kwargs)

            patch.setattr(container, "toarray", recording)
        yield widths


@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize(
    "params",
    [
        {"solver": "adam"},
        {"solver": "sgd", "shuffle": False},
        {"solver": "adam", "early_stopping": True},
        {"solver": "lbfgs"},
    ],
    ids=["adam", "sgd-no-shuffle", "early-stopping", "lbfgs"],
)
def test_sparse_fit_equals_dense_fit(container, params, densified):
    X, y = sparse_digits()
    X_sparse = container(X)
    setting = dict(hidden_layer_sizes=(10,), max_iter=8, random_state=0, **params)
    dense = fit_quietly(MLPClassifierScratch(**setting), X, y)
    sparse = fit_quietly(MLPClassifierScratch(**setting), X_sparse, y)
    np.testing.assert_allclose(sparse.loss_, dense.loss_, rtol=1e-12)
    for a, b in zip(sparse.coefs_, dense.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        sparse.predict_proba(X_sparse), dense.predict_proba(X), rtol=1e-12, atol=1e-14
    )
    assert X.shape[1] not in densified


def test_sparse_matches_sklearn_with_sample_weight():
    X, y = sparse_digits()
    X_sparse, weights = sp.csr_matrix(X), integer_weights(len(y))
    ours, theirs = fit_both(
        MLPClassifierScratch,
        X_sparse,
        y,
        weights,
        hidden_layer_sizes=(10,),
        max_iter=10,
        random_state=0,
    )
    assert_same_loss_curve(ours, theirs)


def test_sparse_regressor_partial_fit(densified):
    X, y = sparse_digits()
    target = y / 9.0
    ours = MLPRegressorScratch(hidden_layer_sizes=(10,), shuffle=False, random_state=0)
    theirs = MLPRegressor(hidden_layer_sizes=(10,), shuffle=False, random_state=0)
    for chunk in np.array_split(np.arange(len(y)), 3):
        ours.partial_fit(sp.csr_matrix(X[chunk]), target[chunk])
    for chunk in np.array_split(np.arange(len(y)), 3):
        theirs.partial_fit(X[chunk], target[chunk])
    assert_same_loss_curve(ours, theirs)
    assert not densified


def test_float32_sparse_stays_float32():
    X, y = sparse_digits()
    X32 = sp.csr_matrix(X.astype(np.float32))
    clf = fit_quietly(
        MLPClassifierScratch(hidden_layer_sizes=(10,), max_iter=3), X32, y
    )
    assert clf.coefs_[0].dtype == np.float32
    assert clf.predict_proba(X32).dtype == np.float32


def test_wide_sparse_input_predicts_in_chunks(densified):
    # 5000 rows x 20000 columns would be 800 MB dense; as CSR it is tiny.
    rng = np.random.RandomState(0)
    rows, cols = rng.randint(0, 5000, 20000), rng.randint(0, 20000, 20000)
    X = sp.csr_matrix((rng.rand(20000), (rows, cols)), shape=(5000, 20000))
    y = np.asarray(X.sum(axis=1)).ravel()
    reg = fit_quietly(
        MLPRegressorScratch(hidden_layer_sizes=(4,), max_iter=2, random_state=0), X, y
    )
    assert reg.predict(X).shape == (5000,)
    assert reg.predict(X.tocsc()[:10]).shape == (10,)
    assert not densified
