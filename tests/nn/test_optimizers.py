"""Each optimizer's step against its defining update, written out here.

The reference updates keep their own state in fresh arrays, and several steps
run with a learning rate that changes between steps (as a schedule would), so
state carried from one step to the next is checked too.
"""

import math

import numpy as np
import pytest

from skmlp._backends import NumpyBackend
from skmlp._nn import SGD, Adam, RMSprop

N_PARAMS = 7
RATES = [0.1, 0.05, 0.2, 0.01, 0.1]


def run_steps(optimizer, reference_step, seed=0):
    """Step ``optimizer`` and ``reference_step`` through the same gradients;
    return both parameter histories."""
    rng = np.random.RandomState(seed)
    params = rng.normal(size=N_PARAMS)
    expected = params.copy()
    scratch = np.empty_like(params)
    optimizer.prepare(params, NumpyBackend())
    state = {}
    got_history, expected_history = [], []
    for t, rate in enumerate(RATES, start=1):
        grads = rng.normal(size=N_PARAMS)
        grads_before = grads.copy()
        optimizer.step(params, grads, rate, scratch)
        np.testing.assert_array_equal(grads, grads_before)  # gradients untouched
        expected = reference_step(expected, grads, rate, t, state)
        got_history.append(params.copy())
        expected_history.append(expected.copy())
    return np.array(got_history), np.array(expected_history)


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.9])
def test_sgd_step(momentum, nesterov):
    def reference(p, g, lr, t, state):
        # scikit-learn's formulation: v <- mu v - lr g; p <- p + v, or with
        # Nesterov's momentum p <- p + mu v - lr g (v already updated).
        v = momentum * state.get("v", np.zeros_like(p)) - lr * g
        state["v"] = v
        if nesterov:
            return p + momentum * v - lr * g
        return p + v

    got, expected = run_steps(SGD(momentum, nesterov), reference)
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize(
    "beta_1, beta_2, epsilon", [(0.9, 0.999, 1e-8), (0.5, 0.7, 0.1)]
)
def test_adam_step(beta_1, beta_2, epsilon):
    def reference(p, g, lr, t, state):
        # Kingma & Ba with the bias corrections folded into the rate
        # (scikit-learn's form: epsilon is added to the uncorrected sqrt(v)).
        m = beta_1 * state.get("m", 0.0) + (1 - beta_1) * g
        v = beta_2 * state.get("v", 0.0) + (1 - beta_2) * g**2
        state["m"], state["v"] = m, v
        rate = lr * math.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        return p - rate * m / (np.sqrt(v) + epsilon)

    optimizer = Adam(beta_1, beta_2, epsilon)
    got, expected = run_steps(optimizer, reference)
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-15)
    assert optimizer.t == len(RATES)


@pytest.mark.parametrize("rho, epsilon", [(0.9, 1e-8), (0.5, 0.3)])
def test_rmsprop_step(rho, epsilon):
    def reference(p, g, lr, t, state):
        # PyTorch's RMSprop: v <- rho v + (1 - rho) g^2; p <- p - lr g / (sqrt(v) + eps)
        v = rho * state.get("v", 0.0) + (1 - rho) * g**2
        state["v"] = v
        return p - lr * g / (np.sqrt(v) + epsilon)

    got, expected = run_steps(RMSprop(rho, epsilon), reference)
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-15)


def test_matches_torch_optimizers():
    """The same steps as ``torch.optim`` where the definitions coincide:
    SGD (with and without Nesterov) at a constant rate, RMSprop, and Adam with
    epsilon=0 (where epsilon's placement does not matter)."""
    torch = pytest.importorskip("torch")
    cases = [
        (SGD(0.9, False), lambda w: torch.optim.SGD(w, lr=0.1, momentum=0.9)),
        (
            SGD(0.9, True),
            lambda w: torch.optim.SGD(w, lr=0.1, momentum=0.9, nesterov=True),
        ),
        (
            RMSprop(0.8, 1e-3),
            lambda w: torch.optim.RMSprop(w, lr=0.1, alpha=0.8, eps=1e-3),
        ),
        (
            Adam(0.8, 0.9, 0.0),
            lambda w: torch.optim.Adam(w, lr=0.1, betas=(0.8, 0.9), eps=0.0),
        ),
    ]
    rng = np.random.RandomState(3)
    for optimizer, make_torch in cases:
        params = rng.normal(size=N_PARAMS)
        weights = torch.tensor(params.copy(), dtype=torch.float64, requires_grad=True)
        reference = make_torch([weights])
        optimizer.prepare(params, NumpyBackend())
        scratch = np.empty_like(params)
        for _ in range(4):
            grads = rng.normal(size=N_PARAMS)
            optimizer.step(params, grads, 0.1, scratch)
            weights.grad = torch.tensor(grads)
            reference.step()
        np.testing.assert_allclose(params, weights.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    "optimizer, names",
    [
        (SGD(), ["velocity"]),
        (Adam(), ["first_moment", "second_moment"]),
        (RMSprop(), ["square_average"]),
    ],
)
def test_prepare_creates_zero_state(optimizer, names):
    params = np.arange(5, dtype=np.float32)
    optimizer.prepare(params, NumpyBackend())
    for name in names:
        state = getattr(optimizer, name)
        assert state.shape == params.shape
        assert state.dtype == np.float32
        assert not np.shares_memory(state, params)
        np.testing.assert_array_equal(state, 0)


def test_prepare_keeps_existing_state():
    optimizer = SGD()
    optimizer.prepare(np.zeros(4), NumpyBackend())
    optimizer.velocity[...] = [1.0, 2.0, 3.0, 4.0]
    optimizer.prepare(np.zeros(4), NumpyBackend())
    np.testing.assert_array_equal(optimizer.velocity, [1.0, 2.0, 3.0, 4.0])


@pytest.mark.parametrize("optimizer", [SGD(), Adam(), RMSprop()])
def test_prepare_rejects_state_of_another_network(optimizer):
    optimizer.prepare(np.zeros(3), NumpyBackend())
    with pytest.raises(
        ValueError,
        match="optimizer state has 3 entries but the network has 5 parameters",
    ):
        optimizer.prepare(np.zeros(5), NumpyBackend())
