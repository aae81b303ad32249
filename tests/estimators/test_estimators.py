"""Estimator behaviour: early stopping, partial_fit, warm_start, the fitted
state as the model, persistence, reproducibility, dtypes, target kinds and
the scikit-learn tools around an estimator."""

import itertools
import pickle
import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

from skmlp import MLPClassifierScratch, MLPRegressorScratch
from skmlp._nn import Network


def fit_quietly(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def digits_split():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def binary_problem(n_samples=200, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, 5))
    y = (X[:, 0] + X[:, 1] ** 2 - 1 + 0.5 * rng.normal(size=n_samples) > 0).astype(int)
    return X, y


def assert_same_model(a, b):
    """Every weight and bias of the fitted models ``a`` and ``b`` is equal."""
    assert len(a.coefs_) == len(b.coefs_)
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(p, q)


def forward_by_hand(coefs, intercepts, X):
    """relu hidden layers and a softmax output, written out."""
    a = X
    for W, b in zip(coefs[:-1], intercepts[:-1]):
        a = np.maximum(a @ W + b, 0)
    z = a @ coefs[-1] + intercepts[-1]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# ---------------------------------------------------------- early stopping
EARLY = {
    "hidden_layer_sizes": (16,),
    "early_stopping": True,
    "n_iter_no_change": 4,
    "validation_fraction": 0.2,
    "learning_rate_init": 0.01,
    "batch_size": 32,
    "max_iter": 200,
    "random_state": 0,
}


def sklearn_validation_rows(
    random_state, layer_units, validation_fraction, y, stratify
):
    """The held-out rows as scikit-learn picks them: the random state first
    draws every layer's weights then biases, then ``train_test_split``
    (stratified by ``y`` for a binary classifier) takes the validation fraction."""
    rng = check_random_state(random_state)
    for fan_in, fan_out in itertools.pairwise(layer_units):
        rng.uniform(size=fan_in * fan_out)
        rng.uniform(size=fan_out)
    _, validation = train_test_split(
        np.arange(len(y)),
        random_state=rng,
        test_size=validation_fraction,
        stratify=y if stratify else None,
    )
    return validation


def test_early_stopping_stops_and_restores_the_best_model():
    X, y = binary_problem()
    est = MLPClassifierScratch(**EARLY).fit(X, y)
    assert est.n_iter_ < EARLY["max_iter"]
    assert len(est.validation_scores_) == est.n_iter_ == len(est.loss_curve_)
    best_epoch = int(np.argmax(est.validation_scores_))
    assert est.best_validation_score_ == est.validation_scores_[best_epoch]
    assert est.best_loss_ is None
    # The last epoch scored worse than the best one, so only restoring the
    # best weights gives the final model the best score.
    assert est.validation_scores_[-1] < est.best_validation_score_

    validation = sklearn_validation_rows(0, [5, 16, 1], 0.2, y, stratify=True)
    assert est.score(X[validation], y[validation]) == est.best_validation_score_


def test_early_stopping_keeps_the_weights_of_the_best_epoch():
    """Training is deterministic, so a run cut off right after the best epoch
    ends on exactly the weights the full run restored."""
    X, y = binary_problem()
    full = MLPClassifierScratch(**EARLY).fit(X, y)
    best_epoch = int(np.argmax(full.validation_scores_))
    cut = fit_quietly(
        MLPClassifierScratch(**{**EARLY, "max_iter": best_epoch + 1}), X, y
    )
    assert cut.validation_scores_ == full.validation_scores_[: best_epoch + 1]
    assert_same_model(full, cut)


@pytest.mark.parametrize("case", ["a class of one sample", "fewer held-out rows than classes"])
def test_multiclass_split_that_cannot_be_stratified_is_scikit_learns(case):
    """Where no stratified split can put every class on both sides, the
    held-out rows are drawn unstratified, as scikit-learn always draws them
    for multiclass targets, instead of refusing data scikit-learn takes."""
    X, y = iris()
    params = {**EARLY, "max_iter": 10}
    if case == "a class of one sample":
        y = y.copy()
        y[0] = 3
    else:
        params["validation_fraction"] = 0.01  # 2 held-out rows, 3 classes
    ours = fit_quietly(MLPClassifierScratch(**params), X, y)
    theirs = fit_quietly(MLPClassifier(**params), X, y)
    np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)


def test_binary_split_with_a_class_of_one_sample_is_drawn_unstratified():
    # scikit-learn's stratified split refuses such data.
    X, y = binary_problem()
    y = np.zeros_like(y)
    y[7] = 1
    est = fit_quietly(MLPClassifierScratch(**{**EARLY, "max_iter": 5}), X, y)
    validation = sklearn_validation_rows(0, [5, 16, 1], 0.2, y, stratify=False)
    assert est.best_validation_score_ == est.score(X[validation], y[validation])


def test_early_stopping_regressor_scores_with_r2():
    X, _ = binary_problem()
    noise = np.random.RandomState(1).normal(scale=3, size=len(X))
    target = X @ np.arange(1.0, 6.0) + noise
    params = {**EARLY, "hidden_layer_sizes": (32,), "learning_rate_init": 0.02}
    est = MLPRegressorScratch(**params).fit(X, target)
    assert est.n_iter_ < EARLY["max_iter"]
    assert est.best_validation_score_ == max(est.validation_scores_)
    assert est.validation_scores_[-1] < est.best_validation_score_
    validation = sklearn_validation_rows(0, [5, 32, 1], 0.2, target, stratify=False)
    assert est.score(X[validation], target[validation]) == pytest.approx(
        est.best_validation_score_, rel=1e-12
    )
    assert est.best_validation_score_ > 0.5


def test_without_early_stopping_the_training_loss_stops_training():
    X, y = iris()
    est = MLPClassifierScratch(
        hidden_layer_sizes=(10,),
        learning_rate_init=0.05,
        tol=1e-3,
        n_iter_no_change=3,
        max_iter=500,
        random_state=0,
    ).fit(X, y)
    assert est.n_iter_ < 500
    assert est.best_loss_ == min(est.loss_curve_)
    assert est.validation_scores_ is None and est.best_validation_score_ is None
    # The rule, replayed on the loss curve: stop at the first epoch that is
    # the (n_iter_no_change + 1)-th in a row not beating the best by tol.
    best, count, stop_epoch = np.inf, 0, None
    for epoch, loss in enumerate(est.loss_curve_, start=1):
        count = count + 1 if loss > best - 1e-3 else 0
        best = min(best, loss)
        if count > 3:
            stop_epoch = epoch
            break
    assert stop_epoch == est.n_iter_


def test_convergence_warning_when_max_iter_is_reached():
    X, y = iris()
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        MLPClassifierScratch(max_iter=3, random_state=0).fit(X, y)
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(2\) reached"):
        MLPRegressorScratch(max_iter=2, random_state=0).fit(X, y.astype(float))


# ------------------------------------------------------------- partial_fit
# Without shuffling, training split over several calls can be compared with
# one call exactly.
UNSHUFFLED = {
    "hidden_layer_sizes": (6,),
    "batch_size": 40,
    "shuffle": False,
    "learning_rate_init": 0.01,
    "n_iter_no_change": 100,
    "random_state": 0,
}


def test_partial_fit_streaming_learns():
    X_train, X_test, y_train, y_test = digits_split()
    est = MLPClassifierScratch(
        hidden_layer_sizes=(32,), learning_rate_init=0.01, batch_size=32, random_state=0
    )
    classes = np.unique(y_train)
    chunks = np.array_split(np.arange(len(X_train)), 7)
    accuracies = []
    with warnings.catch_warnings():
        # One epoch per call is the point: no ConvergenceWarning (as sklearn).
        warnings.simplefilter("error", ConvergenceWarning)
        for _ in range(3):
            for rows in chunks:
                est.partial_fit(X_train[rows], y_train[rows], classes=classes)
                accuracies.append(est.score(X_test, y_test))
    assert accuracies[0] < 0.8
    assert accuracies[-1] > 0.93
    assert np.mean(accuracies[-7:]) > np.mean(accuracies[:7]) + 0.1
    assert est.t_ == 3 * len(X_train)
    assert len(est.loss_curve_) == 21


def test_partial_fit_needs_classes_on_the_first_call():
    X, y = iris()
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        MLPClassifierScratch().partial_fit(X, y)


def test_partial_fit_chunk_without_every_class():
    X, y = iris()
    est = MLPClassifierScratch(random_state=0)
    est.partial_fit(X[y == 0], y[y == 0], classes=[0, 1, 2])
    assert est.predict_proba(X).shape == (150, 3)
    np.testing.assert_array_equal(est.classes_, [0, 1, 2])


@pytest.mark.parametrize("solver", ["sgd", "adam", "rmsprop"])
def test_partial_fit_continues_the_optimizer(solver):
    """Without shuffling, k calls of partial_fit train exactly as fit with
    max_iter=k: the optimizer state (Adam's step count and moments, the
    velocity, the square average) carries over from call to call."""
    X, y = iris()
    params = {**UNSHUFFLED, "solver": solver}
    streamed = MLPClassifierScratch(**params)
    for _ in range(3):
        streamed.partial_fit(X, y, classes=[0, 1, 2])
    whole = fit_quietly(MLPClassifierScratch(max_iter=3, **params), X, y)
    assert streamed.loss_curve_ == whole.loss_curve_
    assert_same_model(streamed, whole)
    if solver == "adam":
        assert streamed._trainer.optimizer.t == 3 * 4  # 4 batches of <= 40 per epoch


def test_regressor_partial_fit_continues_like_fit():
    X, y = iris()
    streamed = MLPRegressorScratch(**UNSHUFFLED)
    for _ in range(2):
        streamed.partial_fit(X, y.astype(float))
    whole = fit_quietly(
        MLPRegressorScratch(max_iter=2, **UNSHUFFLED), X, y.astype(float)
    )
    assert streamed.loss_curve_ == whole.loss_curve_
    assert_same_model(streamed, whole)


# -------------------------------------------------------------- warm_start
@pytest.mark.parametrize("solver", ["sgd", "adam", "rmsprop"])
def test_warm_start_continues_the_optimizer_and_loss_curve(solver):
    """Without shuffling, fitting 3 then 4 more epochs with warm_start trains
    exactly as 7 epochs at once (scikit-learn resets the optimizer instead)."""
    X, y = iris()
    params = {**UNSHUFFLED, "solver": solver}
    warm = fit_quietly(
        MLPClassifierScratch(max_iter=3, warm_start=True, **params), X, y
    )
    warm.set_params(max_iter=4)
    fit_quietly(warm, X, y)
    whole = fit_quietly(MLPClassifierScratch(max_iter=7, **params), X, y)
    assert warm.n_iter_ == 4
    assert warm.t_ == 7 * len(X)
    np.testing.assert_array_equal(warm.loss_curve_, whole.loss_curve_)
    assert_same_model(warm, whole)
    if solver == "adam":
        assert warm._trainer.optimizer.t == 7 * 4  # 4 batches of <= 40 per epoch


def test_refit_without_warm_start_starts_over():
    X, y = iris()
    est = fit_quietly(MLPClassifierScratch(max_iter=5, random_state=0), X, y)
    first = [c.copy() for c in est.coefs_]
    fit_quietly(est, X, y)
    assert len(est.loss_curve_) == 5
    for a, b in zip(first, est.coefs_):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------ the fitted state is the model
def test_assigned_weights_change_predictions():
    X, y = iris()
    est = fit_quietly(
        MLPClassifierScratch(hidden_layer_sizes=(7, 4), max_iter=20, random_state=0),
        X,
        y,
    )
    rng = np.random.RandomState(1)
    est.coefs_ = [rng.normal(size=c.shape) for c in est.coefs_]
    est.intercepts_ = [rng.normal(size=b.shape) for b in est.intercepts_]
    expected = forward_by_hand(est.coefs_, est.intercepts_, X)
    np.testing.assert_allclose(est.predict_proba(X), expected, rtol=1e-12)
    np.testing.assert_array_equal(est.predict(X), np.argmax(expected, axis=1))


def _forbid_weight_copies(monkeypatch):
    """Make copying weights into a prediction network fail loudly."""

    def copy_layers(self, coefs, intercepts):
        raise AssertionError("predict copied the weights")

    monkeypatch.setattr(Network, "set_layers", copy_layers)


@pytest.mark.parametrize("round_trip", [False, True], ids=["fitted", "unpickled"])
def test_predict_uses_fitted_weights_in_place(monkeypatch, round_trip):
    """Fitted (and unpickled) coefs_ / intercepts_ are views of one flat array
    that predict wraps without copying, so edits in place take effect."""
    X, y = iris()
    est = fit_quietly(
        MLPClassifierScratch(hidden_layer_sizes=(7, 4), max_iter=20, random_state=0),
        X,
        y,
    )
    if round_trip:
        est = pickle.loads(pickle.dumps(est))
    _forbid_weight_copies(monkeypatch)
    rng = np.random.RandomState(1)
    for layer in est.coefs_ + est.intercepts_:
        layer[...] = rng.normal(size=layer.shape)
    expected = forward_by_hand(est.coefs_, est.intercepts_, X)
    np.testing.assert_allclose(est.predict_proba(X), expected, rtol=1e-12)


def test_predict_copies_assigned_weights(monkeypatch):
    """Once one layer is replaced, predict copies the weights (the views fit
    made no longer describe the model) and uses the new array."""
    X, y = iris()
    est = fit_quietly(
        MLPClassifierScratch(hidden_layer_sizes=(7,), max_iter=20, random_state=0),
        X,
        y,
    )
    est.coefs_[1] = np.ones_like(est.coefs_[1])
    expected = forward_by_hand(est.coefs_, est.intercepts_, X)
    np.testing.assert_allclose(est.predict_proba(X), expected, rtol=1e-12)
    _forbid_weight_copies(monkeypatch)
    with pytest.raises(AssertionError, match="copied the weights"):
        est.predict(X)


def test_weights_set_on_an_estimator_that_never_fitted_predict():
    """Fitted attributes assigned to a fresh estimator (weights brought in
    from elsewhere) are the model, as with weights assigned after a fit."""
    X, y = iris()
    y = y.astype(float)
    fitted = fit_quietly(
        MLPRegressorScratch(hidden_layer_sizes=(7,), max_iter=20, random_state=0),
        X,
        y,
    )
    fresh = MLPRegressorScratch(hidden_layer_sizes=(7,))
    fresh.coefs_ = [c.copy() for c in fitted.coefs_]
    fresh.intercepts_ = [b.copy() for b in fitted.intercepts_]
    for name in ("n_features_in_", "n_layers_", "n_outputs_", "out_activation_"):
        setattr(fresh, name, getattr(fitted, name))
    hidden = np.maximum(X @ fresh.coefs_[0] + fresh.intercepts_[0], 0)
    expected = (hidden @ fresh.coefs_[1] + fresh.intercepts_[1]).ravel()
    np.testing.assert_allclose(fresh.predict(X), expected, rtol=1e-12)


def test_concurrent_predicts_do_not_share_buffers():
    """Threads predicting at once (a web server, joblib's threading backend)
    each get their own answer: one borrows the model's reused network, the
    others build their own."""
    from concurrent.futures import ThreadPoolExecutor

    X, y = digits_split()[::2]
    est = fit_quietly(
        MLPClassifierScratch(hidden_layer_sizes=(64, 32), max_iter=5, random_state=0),
        X,
        y,
    )
    chunks = [X[i::8] for i in range(8)] * 4
    expected = [est.predict_proba(chunk) for chunk in chunks]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(est.predict_proba, chunks))
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


def test_pickle_holds_each_weight_once(monkeypatch):
    """The flat array behind coefs_ is left out of the pickle (the layers
    hold its values), without being taken from the pickled model itself."""
    X, y = iris()
    est = fit_quietly(
        MLPClassifierScratch(hidden_layer_sizes=(50,), max_iter=5, random_state=0),
        X,
        y,
    )
    pickled = pickle.dumps(est)
    assert b"_flat_layers" not in pickled
    assert b"_flat_layers" not in pickle.dumps(pickle.loads(pickled))
    _forbid_weight_copies(monkeypatch)
    est.predict(X)


def test_unpickling_refuses_weights_that_do_not_fit_together():
    """Wrongly sized biases are refused: predict refuses them, and loading a
    pickle of them says so at once rather than re-slicing them into the sizes
    the weights imply (here 6 + 2 bias values, as many as the right 5 + 3)."""
    X, y = iris()
    est = fit_quietly(
        MLPClassifierScratch(hidden_layer_sizes=(5,), max_iter=5, random_state=0),
        X,
        y,
    )
    est.intercepts_ = [np.arange(6.0), np.arange(2.0)]
    with pytest.raises(ValueError, match=r"intercepts_\[0\] shape \(6,\)"):
        est.predict(X)
    pickled = pickle.dumps(est)
    with pytest.raises(ValueError, match=r"\[\(6,\), \(2,\)\]\) do not form a network"):
        pickle.loads(pickled)


@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
def test_training_continues_from_assigned_weights(how):
    """After assigning new coefs_ and intercepts_, one plain gradient step
    starts from them: compare with scikit-learn given the same weights."""
    from sklearn.neural_network import MLPClassifier

    X, y = iris()
    params = {
        "hidden_layer_sizes": (5,),
        "solver": "sgd",
        "momentum": 0.0,
        "shuffle": False,
        "batch_size": len(X),
        "learning_rate_init": 0.1,
        "max_iter": 1,
        "random_state": 0,
    }
    ours = fit_quietly(MLPClassifierScratch(**params), X, y)
    theirs = fit_quietly(MLPClassifier(**params), X, y)
    rng = np.random.RandomState(2)
    coefs = [rng.normal(size=c.shape) for c in ours.coefs_]
    intercepts = [rng.normal(size=b.shape) for b in ours.intercepts_]
    for model in (ours, theirs):
        model.coefs_ = [c.copy() for c in coefs]
        model.intercepts_ = [b.copy() for b in intercepts]
        if how == "partial_fit":
            model.partial_fit(X, y)
        else:
            fit_quietly(model.set_params(warm_start=True), X, y)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert not np.allclose(ours.coefs_[0], coefs[0])


def test_predict_on_more_rows_than_one_chunk():
    """predict works through large inputs in chunks; the rows come out as a
    hand-written forward pass computes them."""
    X, y = iris()
    est = fit_quietly(MLPClassifierScratch(hidden_layer_sizes=(7, 4), max_iter=5), X, y)
    big = np.random.RandomState(0).normal(size=(9000, 4))
    expected = forward_by_hand(est.coefs_, est.intercepts_, big)
    np.testing.assert_allclose(est.predict_proba(big), expected, rtol=1e-12)


def test_assigning_weights_of_the_wrong_shape_is_refused_by_partial_fit():
    X, y = iris()
    est = fit_quietly(MLPClassifierScratch(hidden_layer_sizes=(5,), max_iter=1), X, y)
    est.coefs_ = [np.zeros((4, 6)), np.zeros((6, 3))]
    est.intercepts_ = [np.zeros(6), np.zeros(3)]
    with pytest.raises(ValueError, match=r"coefs_\[0\] has shape \(4, 6\)"):
        est.partial_fit(X, y)


# ------------------------------------------------------------- reproducibility
def test_same_seed_same_model_different_seed_different_model():
    X, y = iris()
    params = {"hidden_layer_sizes": (8,), "max_iter": 10}
    a = fit_quietly(MLPClassifierScratch(random_state=4, **params), X, y)
    b = fit_quietly(MLPClassifierScratch(random_state=4, **params), X, y)
    c = fit_quietly(MLPClassifierScratch(random_state=5, **params), X, y)
    assert_same_model(a, b)
    assert a.loss_curve_ == b.loss_curve_
    assert not np.allclose(a.coefs_[0], c.coefs_[0])
    assert a.loss_curve_ != c.loss_curve_


def test_random_state_instance_is_not_reused_silently():
    """A RandomState instance is consumed, so a second fit differs (as sklearn)."""
    X, y = iris()
    rng = np.random.RandomState(0)
    est = MLPClassifierScratch(hidden_layer_sizes=(8,), max_iter=5, random_state=rng)
    first = fit_quietly(est, X, y).coefs_[0].copy()
    second = fit_quietly(est, X, y).coefs_[0]
    assert not np.allclose(first, second)


# ----------------------------------------------------------------- persistence
@pytest.mark.parametrize("Estimator", [MLPClassifierScratch, MLPRegressorScratch])
def test_pickle_and_joblib_round_trip(Estimator, tmp_path):
    X, y = iris()
    est = fit_quietly(
        Estimator(hidden_layer_sizes=(8,), max_iter=10, random_state=0), X, y
    )
    path = tmp_path / "model.joblib"
    joblib.dump(est, path)
    # mmap_mode="r" loads every array read-only (as joblib.Parallel passes
    # large ones to its workers): training must still go on.
    copies = [
        pickle.loads(pickle.dumps(est)),
        joblib.load(path),
        joblib.load(path, mmap_mode="r"),
    ]
    for copy in copies:
        np.testing.assert_array_equal(copy.predict(X), est.predict(X))
        if Estimator is MLPClassifierScratch:
            np.testing.assert_array_equal(copy.predict_proba(X), est.predict_proba(X))
    # The optimizer state and the shuffling stream travel too: every copy
    # goes on training exactly as the original.
    est.partial_fit(X, y)
    for copy in copies:
        copy.partial_fit(X, y)
        assert copy.loss_curve_ == est.loss_curve_
        assert_same_model(copy, est)


# -------------------------------------------------------------- user arrays
@pytest.mark.parametrize("read_only", [False, True])
@pytest.mark.parametrize("Estimator", [MLPClassifierScratch, MLPRegressorScratch])
def test_user_arrays_are_not_modified(Estimator, read_only):
    X, y = iris()
    X = np.asfortranarray(X)
    y = y.astype(float) if Estimator is MLPRegressorScratch else y
    X_copy, y_copy = X.copy(), y.copy()
    if read_only:
        X.setflags(write=False)
        y.setflags(write=False)
    est = Estimator(
        hidden_layer_sizes=(4,), max_iter=3, early_stopping=True, random_state=0
    )
    fit_quietly(est, X, y)
    est.predict(X)
    if Estimator is MLPClassifierScratch:
        est.predict_proba(X)
        est.predict_log_proba(X)
    est.set_params(early_stopping=False).partial_fit(X, y)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)


def test_assigned_weights_are_not_modified_by_training():
    X, y = iris()
    est = fit_quietly(MLPClassifierScratch(hidden_layer_sizes=(4,), max_iter=2), X, y)
    coefs = [c.copy() for c in est.coefs_]
    saved = [c.copy() for c in coefs]
    est.coefs_ = coefs
    est.partial_fit(X, y)
    for c, s in zip(coefs, saved):
        np.testing.assert_array_equal(c, s)


# ---------------------------------------------------------------------- dtypes
def test_float32_input_trains_float32():
    X, y = iris()
    X32 = X.astype(np.float32)
    clf = fit_quietly(
        MLPClassifierScratch(hidden_layer_sizes=(8,), max_iter=20, random_state=0),
        X32,
        y,
    )
    assert all(c.dtype == np.float32 for c in clf.coefs_ + clf.intercepts_)
    assert clf.predict_proba(X32).dtype == np.float32
    np.testing.assert_allclose(clf.predict_proba(X32).sum(axis=1), 1, rtol=1e-6)
    reg = fit_quietly(
        MLPRegressorScratch(hidden_layer_sizes=(8,), max_iter=20, random_state=0),
        X32,
        y.astype(np.float32),
    )
    assert reg.coefs_[0].dtype == np.float32
    assert reg.predict(X32).dtype == np.float32

    # The same model trained in float64 ends close by.
    clf64 = fit_quietly(
        MLPClassifierScratch(hidden_layer_sizes=(8,), max_iter=20, random_state=0), X, y
    )
    np.testing.assert_allclose(clf.coefs_[0], clf64.coefs_[0], rtol=1e-3, atol=1e-4)


def test_integer_input_trains_float64():
    X, y = load_digits(return_X_y=True)
    X, y = X[:200].astype(np.int64), y[:200]
    est = fit_quietly(MLPClassifierScratch(hidden_layer_sizes=(8,), max_iter=3), X, y)
    assert est.coefs_[0].dtype == np.float64


# ---------------------------------------------------------------- target kinds
def trained(Estimator, X, y, hidden=16, max_iter=300):
    est = Estimator(
        hidden_layer_sizes=(hidden,),
        max_iter=max_iter,
        learning_rate_init=0.01,
        random_state=0,
    )
    return fit_quietly(est, X, y)


def test_multilabel_targets_train_sigmoid_outputs():
    X, y = iris()
    Y = np.column_stack([y == 0, y == 1, X[:, 0] > 0]).astype(int)
    est = trained(MLPClassifierScratch, X, Y)
    assert est.out_activation_ == "logistic"
    assert est.n_outputs_ == 3
    proba = est.predict_proba(X)
    assert proba.shape == (150, 3)
    assert not np.allclose(proba.sum(axis=1), 1)  # independent sigmoids
    assert np.all((proba > 0) & (proba < 1))
    predicted = est.predict(X)
    assert predicted.shape == (150, 3)
    np.testing.assert_array_equal(predicted, (proba > 0.5).astype(int))
    assert est.score(X, Y) > 0.8  # subset accuracy


def test_binary_and_string_labels():
    X, y = iris()
    labels = np.array(["setosa", "other"])[(y > 0).astype(int)]
    est = trained(MLPClassifierScratch, X, labels, hidden=8, max_iter=100)
    assert est.out_activation_ == "logistic"
    np.testing.assert_array_equal(est.classes_, ["other", "setosa"])
    proba = est.predict_proba(X)
    assert proba.shape == (150, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    np.testing.assert_array_equal(est.predict(X), est.classes_[proba.argmax(axis=1)])
    np.testing.assert_allclose(est.predict_log_proba(X), np.log(proba))
    assert est.score(X, labels) > 0.95


def test_multiclass_uses_softmax():
    X, y = iris()
    est = fit_quietly(MLPClassifierScratch(max_iter=50, random_state=0), X, y)
    assert est.out_activation_ == "softmax"
    assert est.n_layers_ == 3 and est.n_outputs_ == 3 and est.n_features_in_ == 4
    assert [c.shape for c in est.coefs_] == [(4, 100), (100, 3)]
    assert [b.shape for b in est.intercepts_] == [(100,), (3,)]


def test_multi_output_regression():
    X, _ = iris()
    rng = np.random.RandomState(0)
    Y = X @ rng.normal(size=(4, 3))
    est = trained(MLPRegressorScratch, X, Y, max_iter=200)
    assert est.out_activation_ == "identity"
    assert est.n_outputs_ == 3
    assert est.predict(X).shape == (150, 3)
    assert est.score(X, Y) > 0.9
    single = fit_quietly(MLPRegressorScratch(max_iter=5), X, Y[:, 0])
    assert single.predict(X).shape == (150,)


# ------------------------------------------------------- scikit-learn tooling
def test_pipeline_grid_search_and_cross_validation():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(
        StandardScaler(),
        MLPClassifierScratch(max_iter=100, learning_rate_init=0.01, random_state=0),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.85
    search = GridSearchCV(
        clone(pipe),
        {
            "mlpclassifierscratch__hidden_layer_sizes": [(4,), (16,)],
            "mlpclassifierscratch__solver": ["adam", "rmsprop"],
        },
        cv=3,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    assert search.best_params_["mlpclassifierscratch__hidden_layer_sizes"] in [
        (4,),
        (16,),
    ]
    assert search.score(X, y) > 0.85


def test_continued_training_keeps_optimizer_state_but_takes_new_hyperparameters():
    X, y = load_iris(return_X_y=True)
    model = MLPClassifierScratch(hidden_layer_sizes=(5,), random_state=0)
    model.partial_fit(X, y, classes=np.unique(y))
    moment = model._trainer.optimizer.first_moment.copy()
    model.set_params(beta_1=0.5).partial_fit(X, y)
    optimizer = model._trainer.optimizer
    assert optimizer.beta_1 == 0.5
    # Adam's step count carried on (its moments too: see the partial_fit vs
    # fit equivalence tests above).
    assert optimizer.t == 2 * int(np.ceil(len(X) / 200))

    model.set_params(solver="rmsprop").partial_fit(X, y)
    assert type(model._trainer.optimizer).__name__ == "RMSprop"
    assert model._trainer.optimizer.square_average.shape == moment.shape
