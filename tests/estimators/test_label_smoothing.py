"""The classifier's ``label_smoothing``: PyTorch's
``CrossEntropyLoss(label_smoothing=eps)`` for several classes, and its
binary form (``BCEWithLogitsLoss`` on ``y * (1 - eps) + eps / 2``) for binary
and multilabel targets.

The estimator smooths the encoded targets once per fit; the output layers'
log-losses and their delta ``p - y`` take any targets in [0, 1], which is
checked here against PyTorch on logits (float64) and against finite
differences.
"""

import numpy as np
import pytest
from _parity_helpers import digits, fit_quietly
from numpy.testing import assert_allclose
from sklearn.datasets import load_iris
from sklearn.utils._param_validation import InvalidParameterError

from skmlp import MLPClassifierScratch, MLPRegressorScratch
from skmlp._backends import NumpyBackend
from skmlp._nn import SigmoidLogLoss, SoftmaxLogLoss

BACKEND = NumpyBackend()
EPS = 0.2


def logits(seed, n_samples=7, n_outputs=4):
    return np.random.RandomState(seed).normal(scale=2, size=(n_samples, n_outputs))


def smoothed(clf, Y):
    """The targets ``clf`` trains on for the encoded targets ``Y``."""
    return clf._training_targets(Y.astype(np.float64))


def loss_and_delta(output, Y, z, sample_weight=None):
    """The output layer's mean loss and its delta at the logits ``z``."""
    p = output.forward(z.copy(), training=True)
    loss = output.loss(Y, p, sample_weight, work=np.empty_like(p))
    total = len(Y) if sample_weight is None else sample_weight.sum()
    delta = output.delta(p, Y, sample_weight, total, np.empty_like(p))
    return float(loss), delta


def multiclass_fit(**params):
    X, y = load_iris(return_X_y=True)
    clf = MLPClassifierScratch(hidden_layer_sizes=(5,), max_iter=2, **params)
    return fit_quietly(clf, X, y)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_softmax_matches_torch_cross_entropy_with_label_smoothing(seed, weighted):
    torch = pytest.importorskip("torch")
    z = logits(seed)
    labels = np.random.RandomState(seed).randint(4, size=len(z))
    clf = multiclass_fit(label_smoothing=EPS)
    clf._label_binarizer.y_type_ = "multiclass"
    Y = smoothed(clf, np.eye(4)[labels])
    assert_allclose(Y, (1 - EPS) * np.eye(4)[labels] + EPS / 4)
    weight = np.random.RandomState(seed).uniform(0.5, 2, len(z)) if weighted else None
    loss, delta = loss_and_delta(SoftmaxLogLoss(BACKEND), Y, z, weight)

    logits_t = torch.tensor(z, requires_grad=True)
    per_row = torch.nn.CrossEntropyLoss(label_smoothing=EPS, reduction="none")(
        logits_t, torch.tensor(labels)
    )
    w = (
        torch.ones(len(z), dtype=torch.float64)
        if weight is None
        else torch.tensor(weight)
    )
    expected = (per_row * w).sum() / w.sum()
    expected.backward()
    assert_allclose(loss, expected.item(), rtol=1e-12)
    assert_allclose(delta, logits_t.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n_labels", [1, 3])
def test_sigmoid_matches_torch_bce_on_smoothed_targets(seed, n_labels):
    torch = pytest.importorskip("torch")
    z = logits(seed, n_outputs=n_labels)
    Y01 = np.random.RandomState(seed).randint(2, size=z.shape).astype(float)
    clf = multiclass_fit(label_smoothing=EPS)
    clf._label_binarizer.y_type_ = "binary" if n_labels == 1 else "multilabel-indicator"
    Y = smoothed(clf, Y01)
    assert_allclose(Y, Y01 * (1 - EPS) + EPS / 2)
    loss, delta = loss_and_delta(SigmoidLogLoss(BACKEND), Y, z)

    logits_t = torch.tensor(z, requires_grad=True)
    # Our loss sums over labels and averages over samples.
    expected = torch.nn.BCEWithLogitsLoss(reduction="sum")(
        logits_t, torch.tensor(Y)
    ) / len(z)
    expected.backward()
    assert_allclose(loss, expected.item(), rtol=1e-12)
    assert_allclose(delta, logits_t.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("output", [SoftmaxLogLoss(BACKEND), SigmoidLogLoss(BACKEND)])
def test_smoothed_loss_gradient_against_finite_differences(output):
    z = logits(3, n_outputs=3)
    onehot = np.eye(3)[np.random.RandomState(3).randint(3, size=len(z))]
    Y = onehot * (1 - EPS) + EPS / 3
    _, delta = loss_and_delta(output, Y, z)
    step = 1e-6
    numeric = np.empty_like(z)
    for index in np.ndindex(z.shape):
        up, down = z.copy(), z.copy()
        up[index] += step
        down[index] -= step
        numeric[index] = (
            loss_and_delta(output, Y, up)[0] - loss_and_delta(output, Y, down)[0]
        ) / (2 * step)
    assert_allclose(delta, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_zero_smoothing_trains_on_the_encoded_targets_themselves(solver):
    # At 0 the loss sees the encoded targets themselves (no copy, no
    # arithmetic: scikit-learn parity stays bit for bit), while the
    # smallest smoothing already changes the fit (the path is live).
    X, y = digits(300)
    params = {"hidden_layer_sizes": (16,), "max_iter": 5, "random_state": 0,
              "solver": solver}
    model = fit_quietly(MLPClassifierScratch(**params), X, y)
    Y = model._label_binarizer.transform(y).astype(float)
    assert model._training_targets(Y) is Y
    smoothed = fit_quietly(MLPClassifierScratch(label_smoothing=1e-3, **params), X, y)
    assert smoothed.loss_ != model.loss_
    assert not np.array_equal(smoothed.coefs_[0], model.coefs_[0])


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_smoothing_makes_probabilities_less_extreme_on_digits(solver):
    X, y = digits(600)
    params = {
        "hidden_layer_sizes": (32,),
        "max_iter": 200,
        "random_state": 0,
        "solver": solver,
    }
    plain = fit_quietly(MLPClassifierScratch(**params), X, y)
    smooth = fit_quietly(MLPClassifierScratch(label_smoothing=0.2, **params), X, y)
    plain_max = plain.predict_proba(X).max(axis=1)
    smooth_max = smooth.predict_proba(X).max(axis=1)
    assert smooth_max.mean() < plain_max.mean()
    assert smooth_max.max() < plain_max.max()
    # The training labels are still learned.
    assert smooth.score(X, y) > 0.95


@pytest.mark.parametrize("target", ["binary", "multilabel"])
def test_sigmoid_targets_are_smoothed_toward_one_half(target):
    X, y = load_iris(return_X_y=True)
    y = (
        (y == 2).astype(int)
        if target == "binary"
        else np.c_[y == 2, y == 0].astype(int)
    )
    params = {
        "hidden_layer_sizes": (8,),
        "max_iter": 500,
        "random_state": 0,
        "solver": "lbfgs",
    }
    plain = fit_quietly(MLPClassifierScratch(**params), X, y)
    smooth = fit_quietly(MLPClassifierScratch(label_smoothing=0.3, **params), X, y)
    # Smoothed targets are at least 0.15 from 0 and 1: so are the fitted
    # probabilities, roughly, while the unsmoothed ones go much closer.
    assert smooth.predict_proba(X).min() > 0.05
    assert plain.predict_proba(X).min() < smooth.predict_proba(X).min()


def test_class_and_sample_weights_still_apply():
    X, y = load_iris(return_X_y=True)
    params = {
        "hidden_layer_sizes": (5,),
        "max_iter": 3,
        "random_state": 0,
        "label_smoothing": 0.1,
    }
    weight = np.where(y == 0, 3.0, 1.0)
    by_sample = fit_quietly(MLPClassifierScratch(**params), X, y, sample_weight=weight)
    by_class = fit_quietly(MLPClassifierScratch(class_weight={0: 3.0}, **params), X, y)
    unweighted = fit_quietly(MLPClassifierScratch(**params), X, y)
    assert_allclose(by_sample.loss_curve_, by_class.loss_curve_)
    assert not np.allclose(by_sample.loss_curve_, unweighted.loss_curve_)


def test_held_out_loss_is_the_plain_log_loss(monkeypatch):
    """Early stopping's ``scoring='loss'`` measures the held-out rows against
    their own 0/1 targets; training minimises (and reports) the smoothed
    loss, which the entropy of the smoothed targets bounds from below."""
    from skmlp._estimators import base

    seen = []

    def spy(X, Y, sample_weight):
        seen.append(np.asarray(Y).copy())
        return held_out_loss_score(X, Y, sample_weight)

    held_out_loss_score = base.held_out_loss_score
    monkeypatch.setattr(base, "held_out_loss_score", spy)
    X, y = digits(300)
    smooth = fit_quietly(
        MLPClassifierScratch(
            hidden_layer_sizes=(16,),
            max_iter=3,
            random_state=0,
            early_stopping=True,
            scoring="loss",
            label_smoothing=0.1,
        ),
        X,
        y,
    )
    (Y_val,) = seen
    assert set(np.unique(Y_val)) == {0.0, 1.0}
    entropy = -(0.9 + 0.01) * np.log(0.9 + 0.01) - 9 * 0.01 * np.log(0.01)
    assert min(smooth.loss_curve_) > entropy
    assert np.all(np.isfinite(smooth.validation_scores_))


@pytest.mark.parametrize("value", [1.0, -0.1, 1.5])
def test_label_smoothing_outside_zero_one_is_refused(value):
    X, y = load_iris(return_X_y=True)
    with pytest.raises(
        InvalidParameterError,
        match=r"The 'label_smoothing' parameter of MLPClassifierScratch must be "
        r"a float in the range \[0.0, 1.0\)",
    ):
        MLPClassifierScratch(label_smoothing=value).fit(X, y)


def test_regressor_has_no_label_smoothing():
    assert "label_smoothing" not in MLPRegressorScratch().get_params()
    assert "label_smoothing" in MLPClassifierScratch().get_params()
