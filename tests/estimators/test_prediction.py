"""Small predictions reuse one network and skip scikit-learn's general input
machinery, and must answer exactly as a freshly built network does."""

import copy
import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.datasets import load_iris

from skmlp import MLPClassifierScratch, MLPRegressorScratch
from skmlp._nn import MAX_REUSED_ROWS, Network


def fitted(**params):
    X, y = load_iris(return_X_y=True)
    params = {"hidden_layer_sizes": (7, 4), "max_iter": 30, "random_state": 0, **params}
    with pytest.warns(Warning):  # ConvergenceWarning
        return MLPClassifierScratch(**params).fit(X, y), X


def count_networks(monkeypatch):
    built = []
    init = Network.__init__

    def counting(self, *args, **kwargs):
        built.append(self)
        init(self, *args, **kwargs)

    monkeypatch.setattr(Network, "__init__", counting)
    return built


def fresh(model, row):
    """``row``'s prediction through a network built from scratch: that of a
    copy of ``model`` made as saving and loading make one."""
    return copy.deepcopy(model).predict_proba(row)


def test_one_row_predicts_build_one_network(monkeypatch):
    model, X = fitted()
    built = count_networks(monkeypatch)
    first = model.predict_proba(X[:1])
    for row in X[:5]:
        model.predict_proba(row[None])
    assert len(built) == 1
    np.testing.assert_array_equal(first, fresh(model, X[:1]))
    assert len(built) == 2  # the copy built its own
    model.predict_proba(np.repeat(X[:1], MAX_REUSED_ROWS + 1, axis=0))
    assert len(built) == 3  # so does a large prediction


def test_in_place_edits_show_in_the_reused_network():
    model, X = fitted(batch_norm=True)
    model.predict_proba(X[:1])
    rng = np.random.RandomState(0)
    for array in model.coefs_ + model.intercepts_ + model.batch_norm_running_means_:
        array += rng.normal(scale=0.5, size=array.shape)
    model.batch_norm_running_vars_[0] *= 2
    np.testing.assert_array_equal(model.predict_proba(X[:1]), fresh(model, X[:1]))


def test_parameters_set_after_fit_make_a_new_network(monkeypatch):
    model, X = fitted()
    before = model.predict_proba(X[:1])
    built = count_networks(monkeypatch)
    model.set_params(activation="tanh")
    after = model.predict_proba(X[:1])
    assert len(built) == 1
    assert not np.array_equal(before, after)
    np.testing.assert_array_equal(after, fresh(model, X[:1]))


def test_assigned_weights_are_not_served_by_the_old_network():
    model, X = fitted()
    model.predict_proba(X[:1])
    model.coefs_[0] = np.ones_like(model.coefs_[0])
    np.testing.assert_array_equal(model.predict_proba(X[:1]), fresh(model, X[:1]))


def test_threads_predicting_at_once_get_their_own_answers():
    model, X = fitted()
    rows = [X[i : i + 1] for i in range(0, 150, 3)] * 6
    expected = [fresh(model, row) for row in rows]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(model.predict_proba, rows))
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


def test_the_reused_network_is_not_saved_or_shared_by_copies():
    model, X = fitted()
    model.predict_proba(X[:1])
    assert b"ReusedNetwork" not in pickle.dumps(model)
    for other in (copy.copy(model), copy.deepcopy(model)):
        np.testing.assert_array_equal(other.predict_proba(X[:1]), model.predict_proba(X[:1]))


@pytest.mark.parametrize(
    "bad, error",
    [
        (np.full((1, 4), np.nan), "NaN"),
        (np.full((1, 4), np.inf), "infinity"),
        (np.ones((1, 3)), "3 features, but MLPClassifierScratch is expecting 4"),
        (np.ones(4), "Expected 2D array, got 1D array"),
        (np.ones((0, 4)), "0 sample"),
    ],
)
def test_small_inputs_are_still_validated(bad, error):
    model, _ = fitted()
    with pytest.raises(ValueError, match=error):
        model.predict(bad)


def test_small_inputs_of_other_kinds_are_converted():
    X, y = load_iris(return_X_y=True)
    model = MLPRegressorScratch(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
    with pytest.warns(Warning):
        model.fit(X, y.astype(float))
    expected = model.predict(X[:2])
    np.testing.assert_array_equal(model.predict(X[:2].tolist()), expected)
    np.testing.assert_array_equal(model.predict(np.asfortranarray(X[:2])), expected)
    np.testing.assert_allclose(
        model.predict(X[:2].astype(np.float32)), expected, rtol=1e-5
    )


def test_a_model_fitted_on_named_columns_still_warns_for_a_bare_row():
    pandas = pytest.importorskip("pandas")
    X, y = load_iris(return_X_y=True, as_frame=True)
    model = MLPClassifierScratch(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
    with pytest.warns(Warning):
        model.fit(X, y)
    assert isinstance(X, pandas.DataFrame)
    with pytest.warns(UserWarning, match="feature names"):
        model.predict(X.to_numpy()[:1])
