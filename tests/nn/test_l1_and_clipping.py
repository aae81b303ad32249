"""The L1 penalty (``l1``) and gradient-norm clipping (``clip_grad_norm``).

L1: backprop against finite differences away from 0, the reported loss
includes it, it shrinks irrelevant weights and overfits less on a small noisy
set, with every solver. Clipping: PyTorch's ``clip_grad_norm_`` on the same
gradients, one training step along the clipped finite-difference gradient,
every stochastic solver sees clipped gradients, and a learning rate that
diverges without it trains with it.
"""

import numpy as np
import pytest
from _parity_helpers import finite_difference_gradient, fit_quietly, objective_by_hand
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

from skmlp import MLPClassifierScratch, MLPRegressorScratch
from skmlp._backends import NumpyBackend
from skmlp._nn import OPTIMIZERS, Network, Penalty
from skmlp._training import clip_gradient_norm

BACKEND = NumpyBackend()


def l1_term(coefs, l1, total_weight):
    return l1 / total_weight * sum(np.abs(W).sum() for W in coefs)


# ------------------------------------------------------------------ L1
@pytest.mark.parametrize("output", ["identity", "softmax"])
@settings(max_examples=15, deadline=None)
@given(
    hidden=st.lists(st.integers(1, 4), min_size=0, max_size=2),
    n_features=st.integers(1, 3),
    n_samples=st.integers(1, 6),
    alpha=st.sampled_from([0.0, 0.3]),
    l1=st.sampled_from([0.05, 1.0]),
    weighted=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_l1_backprop_matches_finite_differences(
    output, hidden, n_features, n_samples, alpha, l1, weighted, seed
):
    rng = np.random.RandomState(seed)
    units = [n_features, *hidden, 3]
    network = Network(
        units, "tanh", output, BACKEND, np.float64, penalty=Penalty(alpha, l1)
    )
    network.initialize(rng)
    # Away from |W|'s kink at 0: finite differences step by 1e-6.
    assume(np.abs(network.params[: network.n_coefs]).min() > 1e-5)
    X = rng.normal(size=(n_samples, n_features))
    Y = np.eye(3)[rng.randint(3, size=n_samples)]
    weights = rng.uniform(0.5, 2, n_samples) if weighted else None
    total = n_samples if weights is None else weights.sum()

    loss = float(network.loss_gradient(X, Y, weights))
    backprop = network.grads.copy()
    coefs = [d.coef for d in network.dense_layers]
    intercepts = [d.intercept for d in network.dense_layers]
    expected = objective_by_hand(
        coefs, intercepts, X, Y, activation="tanh", output=output, alpha=alpha,
        sample_weight=weights,
    ) + l1_term(coefs, l1, total)
    assert loss == pytest.approx(expected, rel=1e-12)

    (numeric,) = finite_difference_gradient(
        lambda: float(network.loss_gradient(X, Y, weights)), [network.params]
    )
    np.testing.assert_allclose(backprop, numeric, rtol=1e-6, atol=1e-8)


def test_l1_gradient_is_zero_at_a_zero_weight():
    weights = np.array([0.0, 2.0, -3.0])
    grads = np.zeros(3)
    value = Penalty(l1=0.5).add(np, weights, grads, 5.0, np.empty(3))
    assert float(value) == pytest.approx(0.5 / 5 * 5)
    np.testing.assert_array_equal(grads, [0.0, 0.1, -0.1])
    assert repr(Penalty(alpha=0.1, l1=0.5)) == "Penalty(alpha=0.1, l1=0.5)"


def noisy_regression(n, rng):
    """Two informative features among 30."""
    X = rng.normal(size=(n, 30))
    return X, X[:, 0] - 2 * X[:, 1] + 0.5 * rng.normal(size=n)


def test_l1_shrinks_irrelevant_weights_and_overfits_less():
    rng = np.random.RandomState(0)
    X, y = noisy_regression(60, rng)
    X_test, y_test = noisy_regression(2000, rng)
    params = {
        "hidden_layer_sizes": (16,), "alpha": 0.0, "learning_rate_init": 0.01,
        "max_iter": 500, "random_state": 0,
    }
    plain = fit_quietly(MLPRegressorScratch(**params), X, y)
    sparse = fit_quietly(MLPRegressorScratch(l1=1.0, **params), X, y)

    assert plain.score(X, y) > 0.99 and plain.score(X_test, y_test) < 0.5
    assert sparse.score(X_test, y_test) > 0.8
    irrelevant = np.abs(sparse.coefs_[0][2:]).mean()
    assert irrelevant < 0.05 * np.abs(plain.coefs_[0][2:]).mean()
    assert irrelevant < 0.1 * np.abs(sparse.coefs_[0][:2]).mean()


def test_lbfgs_minimises_the_objective_with_l1():
    """The reported loss is the L1-penalised objective, and L-BFGS lowers it
    (running to max_iter: its gradient test rarely passes at the kinks)."""
    rng = np.random.RandomState(0)
    X, y = noisy_regression(60, rng)
    params = {"hidden_layer_sizes": (8,), "solver": "lbfgs", "alpha": 0.0,
              "max_iter": 40, "random_state": 0}
    plain = fit_quietly(MLPRegressorScratch(**params), X, y)
    model = fit_quietly(MLPRegressorScratch(l1=1.0, **params), X, y)
    objective = objective_by_hand(
        model.coefs_, model.intercepts_, X, y[:, None], activation="relu",
        output="identity", alpha=0.0,
    ) + l1_term(model.coefs_, 1.0, len(X))
    assert model.loss_ == pytest.approx(objective, rel=1e-9)
    assert model.loss_curve_[-1] < 0.5 * model.loss_curve_[0]
    assert np.abs(model.coefs_[0]).sum() < 0.5 * np.abs(plain.coefs_[0]).sum()


# ------------------------------------------------------------ clipping
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fraction", [0.1, 0.999, 1.5])
def test_clipping_matches_torch(dtype, fraction):
    """The whole gradient, every layer and the penalty's share, clipped as
    ``torch.nn.utils.clip_grad_norm_`` clips a model's parameters."""
    torch = pytest.importorskip("torch")
    rng = np.random.RandomState(0)
    network = Network(
        [4, 5, 3, 2], "relu", "identity", BACKEND, dtype, penalty=Penalty(0.5, 0.1)
    )
    network.initialize(rng)
    X, Y = rng.normal(size=(7, 4)).astype(dtype), rng.normal(size=(7, 2)).astype(dtype)
    network.loss_gradient(X, Y)
    norm = np.linalg.norm(network.grads.astype(np.float64))
    max_norm = fraction * norm

    dense = network.dense_layers
    layers = [d.coef_grad for d in dense] + [d.intercept_grad for d in dense]
    tensors = [torch.zeros(g.shape, dtype=torch.float64) for g in layers]
    for tensor, grad in zip(tensors, layers):
        tensor.grad = torch.tensor(grad.astype(np.float64))
    torch.nn.utils.clip_grad_norm_(tensors, max_norm)

    clip_gradient_norm(np, network.grads, max_norm)
    assert network.grads.dtype == dtype
    clipped = [g.copy() for g in layers]  # views of grads, clipped in place
    rtol = 1e-6 if dtype == np.float32 else 1e-13
    for ours, theirs in zip(clipped, tensors):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=rtol, atol=0)
    assert np.linalg.norm(network.grads) <= max(max_norm, norm) * (1 + rtol)


@pytest.mark.parametrize("clip", [None, 0.05, 1e3])
def test_one_step_follows_the_clipped_finite_difference_gradient(clip):
    """One full-batch SGD step (no momentum) moves the weights by
    ``-learning_rate`` times the finite-difference gradient of the loss at the
    initial weights (L2 and L1 included), clipped as torch clips it; the
    reported loss is that of the initial weights."""
    rng = np.random.RandomState(1)
    X, y = rng.normal(size=(12, 3)), rng.normal(size=12)
    params = {"hidden_layer_sizes": (4,), "activation": "tanh", "alpha": 0.3,
              "l1": 0.2, "solver": "sgd", "momentum": 0.0,
              "nesterovs_momentum": False, "batch_size": 12, "shuffle": False,
              "learning_rate_init": 0.1, "max_iter": 1, "random_state": 0}
    model = fit_quietly(MLPRegressorScratch(clip_grad_norm=clip, **params), X, y)

    start = Network([3, 4, 1], "tanh", "identity", BACKEND, np.float64,
                    penalty=Penalty(0.3, 0.2))
    start.initialize(check_random_state(0))

    def objective():
        return float(start.loss_gradient(X, y[:, None]))

    assert model.loss_curve_ == [pytest.approx(objective(), rel=1e-12)]
    (gradient,) = finite_difference_gradient(objective, [start.params])
    if clip is not None:
        gradient *= min(1, clip / (np.linalg.norm(gradient) + 1e-6))
    expected = start.params - 0.1 * gradient
    got = np.concatenate([a.ravel() for a in model.coefs_ + model.intercepts_])
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("solver", sorted(OPTIMIZERS))
def test_every_stochastic_solver_steps_with_clipped_gradients(monkeypatch, solver):
    norms = []
    make_step = NumpyBackend.optimizer_step

    def recording(optimizer, penalty=None, n_coefs=0, weight_decay=0.0):
        # The norm of the gradient the optimizer's step (compiled or not) gets
        # (with clipping, the penalty's gradient is in it, not added later).
        step = make_step(optimizer, penalty, n_coefs, weight_decay)

        def recorded_step(params, grads, learning_rate, scratch, total_weight):
            norms.append(np.linalg.norm(grads))
            step(params, grads, learning_rate, scratch, total_weight)

        return recorded_step

    monkeypatch.setattr(NumpyBackend, "optimizer_step", staticmethod(recording))
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(40, 5)), rng.randint(3, size=40)
    params = {"solver": solver, "hidden_layer_sizes": (6,), "batch_size": 10,
              "max_iter": 3, "random_state": 0}
    fit_quietly(MLPClassifierScratch(**params), X, y)
    assert max(norms) > 0.1
    norms.clear()
    fit_quietly(MLPClassifierScratch(clip_grad_norm=0.1, **params), X, y)
    assert len(norms) == 12
    assert max(norms) <= 0.1 * (1 + 1e-12)


# NumPy's overflow warnings on the way to the non-finite weights.
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_clipping_keeps_a_too_high_learning_rate_from_diverging():
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()
    params = {"hidden_layer_sizes": (32,), "solver": "sgd", "learning_rate_init": 0.5,
              "max_iter": 50, "random_state": 0}
    with pytest.raises(
        ValueError,
        match=r"non-finite parameter weights.* lower learning_rate_init \(it is "
        r"0\.5\) or set clip_grad_norm \(e\.g\. 1\.0\)",
    ):
        fit_quietly(MLPRegressorScratch(**params), X, y)
    model = fit_quietly(MLPRegressorScratch(clip_grad_norm=1.0, **params), X, y)
    assert np.isfinite(model.loss_curve_).all()
    assert model.score(X, y) > 0.4
