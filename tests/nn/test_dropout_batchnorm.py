"""Dropout and batch normalization: the layers against independent
computations (finite differences, PyTorch, the written-out formulas), and the
estimators' ``dropout`` / ``batch_norm`` parameters end to end."""

import pickle
import warnings

import numpy as np
import pytest
from _device_helpers import numpy_kernels
from _parity_helpers import finite_difference_gradient
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss

from skmlp import MLPClassifierScratch, MLPRegressorScratch
from skmlp._backends import NumpyBackend
from skmlp._estimators import base as _base
from skmlp._kernels import batch_norm
from skmlp._kernels import cuda as _cupy_kernels
from skmlp._nn import BatchNorm, Dropout, Network


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture
def classification():
    return make_classification(
        n_samples=120, n_features=6, n_informative=4, n_classes=3, random_state=0
    )


def fixed_masks(seed):
    """The NumPy backend's generator of dropout draws, taking the same key at
    every step: the same draws, so a fixed mask (the compiled layers remake
    the draws of the key in both forward and backward)."""
    uniform = NumpyBackend.uniform(np.random.RandomState(seed))
    key = uniform.next_key()
    uniform.next_key = lambda: key
    return uniform


# ------------------------------------------------- gradients vs differences
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize(
    "features",
    [
        {"batch_norm": True},
        {"dropout": (0.4, 0.25)},
        {"dropout": (0.3, 0.0), "batch_norm": True},
    ],
    ids=["batch_norm", "dropout", "both"],
)
def test_backprop_matches_finite_differences(activation, features):
    rng = np.random.RandomState(1)
    X = rng.normal(size=(9, 5))
    Y = np.eye(2)[rng.randint(2, size=9)]
    network = Network(
        [5, 4, 4, 2], activation, "softmax", NumpyBackend(), np.float64, **features
    )
    network.initialize(rng)
    for layer in network.batch_norm_layers:
        layer.scale[...] = rng.uniform(0.5, 1.5, layer.width)
        layer.shift[...] = rng.normal(scale=0.3, size=layer.width)
    for layer in network.dropout_layers:
        layer.uniform = fixed_masks(0)
    network.loss_gradient(X, Y)
    grads = network.grads.copy()
    [expected] = finite_difference_gradient(
        lambda: float(network.loss_gradient(X, Y)), [network.params]
    )
    assert_allclose(grads, expected, rtol=1e-5, atol=1e-8)
    if features.get("batch_norm"):
        # The dense bias under a batch normalization has no effect in
        # training (the batch mean removes it).
        n_biases = 4 + 4
        start = network.n_coefs
        assert_allclose(grads[start : start + n_biases], 0, atol=1e-12)


# ------------------------------------------------------- BatchNorm vs torch
def bound_batch_norm(width, momentum, scale, shift):
    layer = BatchNorm(width, momentum, NumpyBackend(), np.float64)
    layer.scale, layer.shift = scale.copy(), shift.copy()
    layer.scale_grad, layer.shift_grad = np.empty(width), np.empty(width)
    layer.running_mean, layer.running_var = np.zeros(width), np.ones(width)
    return layer


@pytest.mark.parametrize("momentum", [0.1, 0.7])
def test_batch_norm_matches_torch_in_train_and_eval_mode(momentum):
    torch = pytest.importorskip("torch")
    rng = np.random.RandomState(0)
    width = 5
    scale, shift = rng.uniform(0.5, 2, width), rng.normal(size=width)
    ours = bound_batch_norm(width, momentum, scale, shift)
    theirs = torch.nn.BatchNorm1d(width, momentum=momentum, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(scale))
        theirs.bias.copy_(torch.from_numpy(shift))

    theirs.train()
    for n_rows in (8, 13, 2, 8):
        z = rng.normal(loc=3, scale=2, size=(n_rows, width))
        delta = rng.normal(size=(n_rows, width))
        z_torch = torch.tensor(z, requires_grad=True)
        out_torch = theirs(z_torch)
        out_torch.backward(torch.from_numpy(delta))
        out = ours.forward(z.copy(), training=True)
        assert_allclose(out, out_torch.detach().numpy(), rtol=1e-12, atol=1e-12)
        delta_in = ours.backward(delta.copy())
        assert_allclose(delta_in, z_torch.grad.numpy(), rtol=1e-10, atol=1e-12)
        assert_allclose(ours.scale_grad, theirs.weight.grad.numpy(), rtol=1e-10)
        assert_allclose(ours.shift_grad, theirs.bias.grad.numpy(), rtol=1e-10)
        theirs.weight.grad = theirs.bias.grad = None
        assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-12)
        assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-12)

    theirs.eval()
    z = rng.normal(loc=3, scale=2, size=(7, width))
    out = ours.forward(z.copy(), training=False)
    assert_allclose(out, theirs(torch.from_numpy(z)).detach().numpy(), rtol=1e-12)


def test_one_row_batch_leaves_the_running_statistics():
    layer = bound_batch_norm(3, 0.1, np.ones(3), np.zeros(3))
    out = layer.forward(np.array([[1.0, 2.0, 3.0]]), training=True)
    assert_array_equal(out, 0)
    assert_array_equal(layer.running_mean, 0)
    assert_array_equal(layer.running_var, 1)


# ------------------------------------------------------ dropout vs formula
def test_dropout_is_the_written_out_inverted_dropout():
    rng = np.random.RandomState(0)
    rate = 0.3
    a = rng.normal(size=(6, 4))
    noise = rng.uniform(size=(6, 4))
    layer = Dropout(rate, 4, NumpyBackend(), np.float64)
    layer.uniform = lambda out: out.__setitem__(Ellipsis, noise)
    mask = (noise >= rate) / (1 - rate)
    assert_allclose(layer.forward(a.copy(), training=True), a * mask, rtol=1e-15)
    delta = rng.normal(size=(6, 4))
    assert_allclose(layer.backward(delta.copy()), delta * mask, rtol=1e-15)
    assert layer.forward(a, training=False) is a


def test_dropout_drops_its_rate_on_average():
    layer = Dropout(0.25, 50, NumpyBackend(), np.float64)
    layer.uniform = NumpyBackend.uniform(np.random.RandomState(0))
    out = layer.forward(np.ones((400, 50)), training=True)
    assert abs((out == 0).mean() - 0.25) < 0.01
    assert set(np.unique(out)) == {0.0, 1 / 0.75}


# ------------------------------------------ fused kernels, run through NumPy
class _KernelBackend(NumpyBackend):
    kernels = numpy_kernels()

    def kernels_for(self, array):
        return self.kernels


def test_fused_dropout_matches_the_reference():
    rng = np.random.RandomState(0)
    a, delta = rng.normal(size=(7, 5)), rng.normal(size=(7, 5))
    results = []
    for make in (Dropout, _cupy_kernels.FusedDropout):
        layer = make(0.4, 5, _KernelBackend(), np.float64)
        layer.uniform = fixed_masks(3)
        results.append(
            (
                layer.forward(a.copy(), training=True).copy(),
                layer.backward(delta.copy()),
            )
        )
    for reference, fused in zip(*results):
        assert_array_equal(fused, reference)


@pytest.mark.parametrize("training", [True, False])
def test_fused_batch_norm_matches_the_reference(training):
    rng = np.random.RandomState(0)
    z, delta = rng.normal(2, 3, size=(9, 5)), rng.normal(size=(9, 5))
    scale, shift = rng.uniform(0.5, 2, 5), rng.normal(size=5)
    running_mean = rng.normal(size=5)
    results = []
    for make in (BatchNorm, batch_norm.FusedBatchNorm):
        layer = make(5, 0.1, _KernelBackend(), np.float64)
        layer.scale, layer.shift = scale.copy(), shift.copy()
        layer.scale_grad, layer.shift_grad = np.empty(5), np.empty(5)
        layer.running_mean, layer.running_var = running_mean.copy(), np.full(5, 2.0)
        out = layer.forward(z.copy(), training=training).copy()
        grads = ()
        if training:
            grads = (layer.backward(delta.copy()), layer.scale_grad, layer.shift_grad)
        results.append((out, layer.running_mean, layer.running_var, *grads))
    for reference, fused in zip(*results):
        assert_allclose(fused, reference, rtol=1e-14, atol=1e-14)


# ---------------------------------------------------------- the estimators
FEATURES = {"dropout": 0.2, "batch_norm": True}


def test_defaults_leave_the_model_unchanged(classification):
    X, y = classification
    params = {"max_iter": 5, "random_state": 0, "hidden_layer_sizes": (8, 6)}
    default = MLPClassifierScratch(**params).fit(X, y)
    explicit = MLPClassifierScratch(dropout=[0.0, 0.0], batch_norm=False, **params)
    explicit.fit(X, y)
    assert explicit.loss_curve_ == default.loss_curve_
    for a, b in zip(default.coefs_, explicit.coefs_):
        assert_array_equal(a, b)
    assert default.batch_norm_scales_ == default.batch_norm_running_vars_ == []


@pytest.mark.parametrize("estimator", [MLPClassifierScratch, MLPRegressorScratch])
def test_inference_is_deterministic_and_per_row(classification, estimator):
    X, y = classification
    model = estimator(max_iter=5, random_state=0, batch_size=16, **FEATURES)
    model.fit(X, y)
    predict = getattr(model, "predict_proba", model.predict)
    full = predict(X)
    assert_array_equal(predict(X), full)
    rows = np.vstack([predict(X[i : i + 1]) for i in range(0, len(X), 17)])
    assert_allclose(rows.reshape(full[::17].shape), full[::17], rtol=1e-12)


def test_fixed_random_state_reproduces_the_model(classification):
    X, y = classification
    fits = [
        MLPClassifierScratch(max_iter=4, random_state=seed, **FEATURES).fit(X, y)
        for seed in (3, 3, 4)
    ]
    assert fits[0].loss_curve_ == fits[1].loss_curve_
    assert_array_equal(
        fits[0].batch_norm_running_means_[0], fits[1].batch_norm_running_means_[0]
    )
    assert fits[0].loss_curve_ != fits[2].loss_curve_


def test_dropout_reduces_overfitting_on_a_small_noisy_set():
    X, y = make_classification(
        n_samples=400, n_features=20, n_informative=5, flip_y=0.3, random_state=0
    )
    X_train, y_train, X_test, y_test = X[:150], y[:150], X[150:], y[150:]
    gaps, losses = {0.0: [], 0.5: []}, {0.0: [], 0.5: []}
    for seed in range(3):  # one seed's effect is noisy (ratios 0.6-1.0)
        for rate in (0.0, 0.5):
            model = MLPClassifierScratch(
                hidden_layer_sizes=(128,), alpha=0.0, max_iter=150,
                learning_rate_init=0.01, dropout=rate, random_state=seed,
            ).fit(X_train, y_train)
            gaps[rate].append(model.score(X_train, y_train) - model.score(X_test, y_test))
            losses[rate].append(log_loss(y_test, model.predict_proba(X_test)))
    assert np.mean(gaps[0.5]) < np.mean(gaps[0.0])
    assert np.mean(losses[0.5]) < 0.8 * np.mean(losses[0.0])


def test_early_stopping_restores_the_best_epochs_statistics(
    classification, monkeypatch
):
    X, y = classification
    seen = []
    split = _base.BaseMLPScratch._validation_split

    def recording_split(self, *args):
        rows, score = split(self, *args)

        def recording_score(network):
            seen.append((network.params.copy(), network.state.copy()))
            return score(network)

        return rows, recording_score

    monkeypatch.setattr(_base.BaseMLPScratch, "_validation_split", recording_split)
    model = MLPClassifierScratch(
        early_stopping=True,
        n_iter_no_change=3,
        max_iter=60,
        learning_rate_init=0.05,
        batch_size=16,
        random_state=0,
        **FEATURES,
    ).fit(X, y)
    best = int(np.argmax(model.validation_scores_))
    assert best < len(seen) - 1, "training must go past its best epoch"
    params, state = seen[best]
    assert_array_equal(model.coefs_[0].ravel(), params[: model.coefs_[0].size])
    network = Network(
        [6, 100, 3], "relu", "softmax", NumpyBackend(), np.float64, batch_norm=True
    )
    network.state[...] = state
    assert_array_equal(
        model.batch_norm_running_means_[0], network.batch_norm_layers[0].running_mean
    )
    assert_array_equal(
        model.batch_norm_running_vars_[0], network.batch_norm_layers[0].running_var
    )


def test_warm_start_and_partial_fit_carry_the_statistics_on(classification):
    X, y = classification
    params = {"batch_norm": True, "shuffle": False, "batch_size": 16, "random_state": 0}
    once = MLPClassifierScratch(max_iter=2, **params).fit(X, y)
    warm = MLPClassifierScratch(max_iter=1, warm_start=True, **params)
    warm.fit(X, y).fit(X, y)
    partial = MLPClassifierScratch(**params)
    partial.partial_fit(X, y, classes=[0, 1, 2]).partial_fit(X, y)
    for model in (warm, partial):
        for name in (
            "batch_norm_running_means_",
            "batch_norm_running_vars_",
            "batch_norm_scales_",
            "coefs_",
        ):
            for a, b in zip(getattr(model, name), getattr(once, name)):
                assert_allclose(a, b, rtol=1e-12)


def test_lbfgs_predicts_with_the_statistics_of_all_rows():
    X, y = make_regression(n_samples=60, n_features=4, random_state=0)
    model = MLPRegressorScratch(
        hidden_layer_sizes=(5,),
        solver="lbfgs",
        batch_norm=True,
        max_iter=30,
        random_state=0,
    ).fit(X, y)
    z = X @ model.coefs_[0] + model.intercepts_[0]
    assert_allclose(model.batch_norm_running_means_[0], z.mean(axis=0), rtol=1e-10)
    assert_allclose(
        model.batch_norm_running_vars_[0], z.var(axis=0, ddof=1), rtol=1e-10
    )


def test_prediction_is_the_written_out_forward_pass():
    X, y = make_regression(n_samples=50, n_features=4, random_state=0)
    model = MLPRegressorScratch(
        hidden_layer_sizes=(6,),
        activation="tanh",
        max_iter=5,
        random_state=0,
        batch_norm=True,
    ).fit(X, y)
    # Assigned by hand: predict copies them instead of wrapping fit's buffer.
    model.batch_norm_scales_ = [np.linspace(0.5, 2, 6)]
    model.batch_norm_shifts_ = [np.linspace(-1, 1, 6)]
    (W1, W2), (b1, b2) = model.coefs_, model.intercepts_
    z = X @ W1 + b1
    mean, var = model.batch_norm_running_means_[0], model.batch_norm_running_vars_[0]
    hidden = np.tanh(
        (z - mean) / np.sqrt(var + 1e-5) * model.batch_norm_scales_[0]
        + model.batch_norm_shifts_[0]
    )
    assert_allclose(model.predict(X), (hidden @ W2 + b2).ravel(), rtol=1e-12)


def test_pickle_round_trip_keeps_the_model(classification):
    X, y = classification
    model = MLPClassifierScratch(max_iter=3, random_state=0, **FEATURES).fit(X, y)
    loaded = pickle.loads(pickle.dumps(model))
    assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    for name in ("batch_norm_scales_", "batch_norm_running_vars_"):
        for a, b in zip(getattr(loaded, name), getattr(model, name)):
            assert_array_equal(a, b)
    # Gathered again into one flat buffer, which predict wraps without copying.
    assert loaded._kept_flat_params()[0] is not None


# ------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "params, message",
    [
        ({"dropout": [0.1]}, "dropout has 1 rates but hidden_layer_sizes has 2"),
        ({"dropout": [0.1, 1.0]}, r"Every dropout rate must be in \[0, 1\)"),
        ({"dropout": 1.0}, "The 'dropout' parameter"),
        ({"dropout": 0.5, "solver": "lbfgs"}, "Use a stochastic solver"),
        ({"batch_norm_momentum": 0.0}, "The 'batch_norm_momentum' parameter"),
        ({"batch_norm": "yes"}, "The 'batch_norm' parameter"),
    ],
)
def test_invalid_settings_say_what_to_do(classification, params, message):
    X, y = classification
    with pytest.raises(ValueError, match=message):
        MLPClassifierScratch(hidden_layer_sizes=(4, 3), **params).fit(X, y)


def test_warm_start_cannot_switch_batch_norm_on(classification):
    X, y = classification
    model = MLPClassifierScratch(max_iter=2, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="batch_norm cannot change between calls"):
        model.set_params(batch_norm=True).fit(X, y)


def test_network_stacks_batch_norm_before_and_dropout_after_the_activation():
    network = Network(
        [4, 3, 2, 2],
        "relu",
        "softmax",
        NumpyBackend(),
        np.float64,
        dropout=(0.5, 0.0),
        batch_norm=True,
    )
    assert repr(network).splitlines()[1:] == [
        "  Dense(4, 3)",
        "  BatchNorm(3, momentum=0.1)",
        "  Activation(relu)",
        "  Dropout(0.5)",
        "  Dense(3, 2)",
        "  BatchNorm(2, momentum=0.1)",
        "  Activation(relu)",
        "  Dense(2, 2)",
        "  SoftmaxLogLoss()",
    ]
    # Scale and shift after every weight and bias: the penalty never sees them.
    assert network.n_coefs == 4 * 3 + 3 * 2 + 2 * 2
    assert network.params.size == network.n_coefs + 3 + 2 + 2 + 2 * (3 + 2)
    assert network.state.size == 2 * (3 + 2)


def test_a_scorer_predicts_with_each_epochs_running_statistics(classification):
    X, y = classification
    seen = []

    def scorer(estimator, X_val, y_val):
        seen.append(estimator.batch_norm_running_means_[0].copy())
        return estimator.score(X_val, y_val)

    model = MLPClassifierScratch(
        early_stopping=True,
        scoring=scorer,
        n_iter_no_change=3,
        max_iter=30,
        batch_size=16,
        random_state=0,
        batch_norm=True,
    ).fit(X, y)
    assert len(seen) == model.n_iter_
    assert not np.array_equal(seen[0], seen[1])
    best = int(np.argmax(model.validation_scores_))
    assert_array_equal(model.batch_norm_running_means_[0], seen[best])


def test_running_statistics_at_other_weights_leave_the_network_as_it_was():
    # What a callback's L-BFGS snapshot computes between two evaluations,
    # where the line search keeps the running statistics frozen.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(20, 4))
    network = Network([4, 3, 2], "relu", "softmax", NumpyBackend(), np.float64,
                      batch_norm=True)
    network.initialize(rng)
    params, state = network.params.copy(), network.state.copy()
    other = params + 0.5
    with network.batch_norm_momentum_set_to(None):
        at_other = network.running_statistics_at(other, X)
        assert network.batch_norm_layers[0].momentum is None
    assert_array_equal(network.params, params)
    assert_array_equal(network.state, state)
    network.params[...] = other
    network.set_running_statistics(X)
    assert_array_equal(at_other, network.state)


def test_running_statistics_that_overflow_are_reported_as_divergence():
    # Normalised, the weights stay finite while a huge column's running
    # variance overflows float32: the model would predict a constant.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 5)).astype(np.float32)
    X[:, 0] *= 1e20
    y = rng.randint(0, 2, 200)
    model = MLPClassifierScratch(
        hidden_layer_sizes=(8,), batch_norm=True, max_iter=5, random_state=0
    )
    expected = pytest.raises(ValueError, match="non-finite parameter weights.*Scale")
    with expected, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
