"""The regressor's robust and quantile losses: 'absolute_error', 'huber' and
'quantile' (pinball).

Each loss and its delta against PyTorch's L1Loss / HuberLoss and a pinball
loss written out here (and scikit-learn's mean_pinball_loss), backprop
against finite differences, and on data: robust losses resist outliers,
quantile models cover what their quantile says on held-out data.
"""

from functools import partial

import numpy as np
import pytest
from _parity_helpers import finite_difference_gradient, fit_quietly
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.metrics import mean_pinball_loss

from skmlp import MLPRegressorScratch
from skmlp._backends import NumpyBackend
from skmlp._nn import (
    REGRESSION_LOSSES,
    IdentityAbsoluteError,
    IdentityHuberLoss,
    IdentityPinballLoss,
    IdentitySquaredError,
    Network,
    Penalty,
)

BACKEND = NumpyBackend()

# loss name -> (output layer, its loss per entry of the residual r = p - y)
LOSSES = {
    "absolute_error": (IdentityAbsoluteError(BACKEND), np.abs),
    "huber": (
        IdentityHuberLoss(BACKEND, huber_delta=0.7),
        lambda r: np.where(np.abs(r) <= 0.7, 0.5 * r**2, 0.7 * (np.abs(r) - 0.35)),
    ),
    "quantile": (
        IdentityPinballLoss(BACKEND, quantile=0.8),
        lambda r: np.maximum(0.8 * -r, (1 - 0.8) * r),
    ),
}


def loss_and_delta(output, y, p, sample_weight=None):
    """The output layer's mean loss (through a work array, which the
    training loop hands it) and its delta."""
    work = np.full_like(p, np.nan)
    loss = output.loss(y, p, sample_weight, work=work)
    total = len(y) if sample_weight is None else sample_weight.sum()
    delta = output.delta(p, y, sample_weight, total, np.empty_like(p))
    return float(loss), delta


def draw(seed, n_samples, n_outputs):
    rng = np.random.RandomState(seed)
    y = rng.normal(scale=2, size=(n_samples, n_outputs))
    p = rng.normal(scale=2, size=(n_samples, n_outputs))
    return rng, y, p


def test_every_loss_is_registered_with_the_identity_output():
    assert set(REGRESSION_LOSSES) == {
        "squared_error", "poisson", "absolute_error", "huber", "quantile"
    }
    for name in ("absolute_error", "huber", "quantile"):
        assert REGRESSION_LOSSES[name].name == "identity"


# ------------------------------------------------- against PyTorch and by hand
@pytest.mark.parametrize("huber_delta", [None, 0.3, 1.0, 2.5])
@settings(max_examples=20, deadline=None)
@given(
    n_samples=st.integers(1, 9),
    n_outputs=st.integers(1, 3),
    seed=st.integers(0, 2**31 - 1),
)
def test_absolute_and_huber_match_torch(huber_delta, n_samples, n_outputs, seed):
    torch = pytest.importorskip("torch")
    _, y, p = draw(seed, n_samples, n_outputs)
    if huber_delta is None:
        output, reference = IdentityAbsoluteError(BACKEND), torch.nn.L1Loss()
    else:
        output = IdentityHuberLoss(BACKEND, huber_delta=huber_delta)
        reference = torch.nn.HuberLoss(delta=huber_delta)
    p_torch = torch.tensor(p, requires_grad=True)
    expected = reference(p_torch, torch.tensor(y))
    expected.backward()

    loss, delta = loss_and_delta(output, y, p)
    assert loss == pytest.approx(expected.item(), rel=1e-12)
    np.testing.assert_allclose(delta, p_torch.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(LOSSES))
@settings(max_examples=20, deadline=None)
@given(
    n_samples=st.integers(1, 9),
    n_outputs=st.integers(1, 3),
    seed=st.integers(0, 2**31 - 1),
)
def test_weighted_loss_is_the_weighted_mean_over_samples_and_outputs(
    name, n_samples, n_outputs, seed
):
    """The squared error's convention: per entry, averaged over outputs, and
    over samples with the sample weights."""
    rng, y, p = draw(seed, n_samples, n_outputs)
    weights = rng.randint(0, 4, n_samples).astype(float)
    assume(weights.sum() > 0)
    output, per_entry = LOSSES[name]
    expected = weights @ per_entry(p - y).mean(axis=1) / weights.sum()
    assert loss_and_delta(output, y, p, weights)[0] == pytest.approx(expected)
    unweighted = per_entry(p - y).mean()
    assert loss_and_delta(output, y, p)[0] == pytest.approx(unweighted)


def test_pinball_loss_matches_scikit_learn():
    rng, y, p = draw(0, 40, 2)
    weights = rng.uniform(0, 2, 40)
    for q in (0.1, 0.5, 0.93):
        output = IdentityPinballLoss(BACKEND, quantile=q)
        for w in (None, weights):
            expected = mean_pinball_loss(y, p, sample_weight=w, alpha=q)
            assert loss_and_delta(output, y, p, w)[0] == pytest.approx(expected)


def test_pinball_of_the_median_is_half_the_absolute_error():
    _, y, p = draw(1, 10, 2)
    median = loss_and_delta(IdentityPinballLoss(BACKEND, quantile=0.5), y, p)
    absolute = loss_and_delta(IdentityAbsoluteError(BACKEND), y, p)
    assert median[0] == pytest.approx(absolute[0] / 2)
    np.testing.assert_allclose(median[1], absolute[1] / 2)


def test_huber_with_a_huge_delta_is_the_squared_error():
    _, y, p = draw(2, 10, 3)
    huber = loss_and_delta(IdentityHuberLoss(BACKEND, huber_delta=1e9), y, p)
    squared = loss_and_delta(IdentitySquaredError(BACKEND), y, p)
    assert huber[0] == pytest.approx(squared[0], rel=1e-12)
    np.testing.assert_allclose(huber[1], squared[1], rtol=1e-12)


@pytest.mark.parametrize("name", ["absolute_error", "quantile"])
def test_gradient_at_a_perfect_prediction_is_zero(name):
    """The documented subgradient where p = y exactly."""
    y = np.array([[1.0, -2.0], [0.5, 3.0]])
    p = y.copy()
    p[1, 1] += 1.0
    _, delta = loss_and_delta(LOSSES[name][0], y, p)
    assert delta[0, 0] == delta[0, 1] == delta[1, 0] == 0.0
    assert delta[1, 1] > 0


def test_loss_leaves_targets_and_predictions_alone():
    _, y, p = draw(3, 6, 2)
    y_copy, p_copy = y.copy(), p.copy()
    for output, _ in LOSSES.values():
        loss_and_delta(output, y, p, np.ones(6))
        np.testing.assert_array_equal(y, y_copy)
        np.testing.assert_array_equal(p, p_copy)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_diverged_predictions_give_a_nan_loss(name):
    y = np.zeros((3, 1))
    p = np.array([[np.nan], [1.0], [np.inf]])
    loss, _ = loss_and_delta(LOSSES[name][0], y, p)
    assert np.isnan(loss)


# ------------------------------------------------------------ backprop
@pytest.mark.parametrize("name", sorted(LOSSES))
@settings(max_examples=12, deadline=None)
@given(
    hidden=st.lists(st.integers(1, 4), min_size=0, max_size=2),
    n_features=st.integers(1, 3),
    n_outputs=st.integers(1, 3),
    n_samples=st.integers(1, 6),
    weighted=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_backprop_matches_finite_differences(
    name, hidden, n_features, n_outputs, n_samples, weighted, seed
):
    output, per_entry = LOSSES[name]
    factory = partial(type(output), **_parameters(output))
    rng = np.random.RandomState(seed)
    network = Network(
        [n_features, *hidden, n_outputs],
        "tanh",
        factory,
        BACKEND,
        np.float64,
        penalty=Penalty(alpha=0.1),
    )
    network.initialize(rng)
    X = rng.normal(size=(n_samples, n_features))
    Y = rng.normal(size=(n_samples, n_outputs))
    weights = rng.uniform(0.5, 2, n_samples) if weighted else None
    # Away from the kinks: a step of 1e-6 in a parameter moves a prediction by
    # far less than 1e-4.
    residual = network.predict(X) - Y
    assume(np.abs(residual).min() > 1e-4)
    if name == "huber":
        assume(np.abs(np.abs(residual) - output.huber_delta).min() > 1e-4)

    loss = float(network.loss_gradient(X, Y, weights))
    backprop = network.grads.copy()
    w = np.ones(n_samples) if weights is None else weights
    penalty = 0.05 / w.sum() * sum((d.coef**2).sum() for d in network.dense_layers)
    expected = w @ per_entry(residual).mean(axis=1) / w.sum() + penalty
    assert loss == pytest.approx(expected, rel=1e-12)

    (numeric,) = finite_difference_gradient(
        lambda: float(network.loss_gradient(X, Y, weights)), [network.params]
    )
    np.testing.assert_allclose(backprop, numeric, rtol=1e-6, atol=1e-8)


def _parameters(output):
    return {
        name: getattr(output, name)
        for name in ("huber_delta", "quantile")
        if hasattr(output, name)
    }


def test_network_shows_the_loss_and_its_parameter():
    network = Network(
        [2, 1], "relu", partial(IdentityHuberLoss, huber_delta=2.0), BACKEND, float
    )
    assert repr(network).endswith("IdentityHuberLoss(huber_delta=2.0)")


# ------------------------------------------------------------ on data
def outlier_line(n=200, seed=0):
    """``y = 2x + 1`` with a little noise, and 15% of targets off by +30."""
    rng = np.random.RandomState(seed)
    X = rng.uniform(-2, 2, size=(n, 1))
    y = 2 * X[:, 0] + 1 + 0.1 * rng.normal(size=n)
    y[rng.rand(n) < 0.15] += 30
    return X, y


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_robust_losses_resist_outliers(solver):
    X, y = outlier_line()
    grid = np.linspace(-2, 2, 50)[:, None]

    def distance_to_the_clean_line(loss):
        model = MLPRegressorScratch(
            loss=loss, hidden_layer_sizes=(), solver=solver, alpha=0.0,
            learning_rate_init=0.1, max_iter=300, random_state=0,
        )
        fit_quietly(model, X, y)
        return np.abs(model.predict(grid) - (2 * grid[:, 0] + 1)).mean()

    squared = distance_to_the_clean_line("squared_error")
    assert squared > 3  # the outliers pull the least-squares line up by ~4.5
    assert distance_to_the_clean_line("absolute_error") < 0.1
    # Each outlier pulls Huber's fit with a force of at most huber_delta=1.
    assert distance_to_the_clean_line("huber") < 0.5


def heteroscedastic(n, seed):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-3, 3, size=(n, 1))
    y = np.sin(X[:, 0]) + (0.2 + 0.2 * np.abs(X[:, 0])) * rng.normal(size=n)
    return X, y


@pytest.mark.parametrize("quantile", [0.1, 0.9])
def test_quantile_model_covers_its_quantile_on_held_out_data(quantile):
    X, y = heteroscedastic(1000, seed=0)
    X_test, y_test = heteroscedastic(4000, seed=1)
    model = MLPRegressorScratch(
        loss="quantile", quantile=quantile, hidden_layer_sizes=(16,),
        learning_rate_init=0.01, batch_size=100, random_state=0,
    )
    fit_quietly(model, X, y)
    coverage = np.mean(y_test <= model.predict(X_test))
    assert coverage == pytest.approx(quantile, abs=0.04)


def test_loss_parameters_are_ignored_by_other_losses():
    X, y = outlier_line(60)
    params = {"hidden_layer_sizes": (4,), "max_iter": 5, "random_state": 0}
    plain = fit_quietly(MLPRegressorScratch(**params), X, y)
    other = fit_quietly(
        MLPRegressorScratch(huber_delta=5.0, quantile=0.1, **params), X, y
    )
    assert other.loss_curve_ == plain.loss_curve_
    huber = fit_quietly(MLPRegressorScratch(loss="huber", quantile=0.1, **params), X, y)
    huber_alone = fit_quietly(MLPRegressorScratch(loss="huber", **params), X, y)
    assert huber.loss_curve_ == huber_alone.loss_curve_


@pytest.mark.parametrize("loss", ["absolute_error", "huber", "quantile"])
def test_robust_models_predict_with_the_identity_and_pickle(loss):
    import pickle

    X, y = outlier_line(60)
    model = fit_quietly(
        MLPRegressorScratch(loss=loss, hidden_layer_sizes=(4,), max_iter=5), X, y
    )
    assert model.out_activation_ == "identity"
    hidden = np.maximum(X @ model.coefs_[0] + model.intercepts_[0], 0)
    by_hand = (hidden @ model.coefs_[1] + model.intercepts_[1]).ravel()
    np.testing.assert_allclose(model.predict(X), by_hand)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
