"""Decoupled weight decay (``weight_decay``) against PyTorch and its formula.

Every stochastic solver shrinks the weights -- the first ``n_coefs`` entries
of the flat buffer, never biases or batch normalization's scale and shift --
by ``1 - lr * weight_decay`` before its update, as ``torch.optim.AdamW``
does; the steps run both as the NumPy reference (small arrays) and as the
compiled kernel (every size, ``kernels_everywhere``).
"""

import numpy as np
import pytest
from _device_helpers import count_kernel_calls
from _parity_helpers import fit_quietly
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_iris

from skmlp import MLPClassifierScratch, MLPRegressorScratch
from skmlp._backends import NumpyBackend
from skmlp._nn import SGD, Adam, Network, RMSprop

N_PARAMS, N_COEFS = 11, 7
RATES = [0.1, 0.05, 0.2, 0.01, 0.1]  # a schedule's rates, changing between steps
WEIGHT_DECAY = 0.3


@pytest.fixture(params=["reference", "compiled"])
def path(request, monkeypatch):
    """Which step runs: the NumPy reference, or the compiled kernel (numba
    on every array size)."""
    if request.param == "compiled":
        pytest.importorskip("numba")
        monkeypatch.setattr(NumpyBackend.kernel_state, "min_size", 0)
    return request.param


def run_steps(optimizer, rates=RATES, weight_decay=WEIGHT_DECAY):
    """The flat buffers before and after each step of ``optimizer`` with
    decoupled decay through the backend's step, at ``rates``, and the
    gradients."""
    rng = np.random.RandomState(0)
    params = rng.normal(size=N_PARAMS)
    optimizer.prepare(params, NumpyBackend())
    step = NumpyBackend.optimizer_step(optimizer, None, N_COEFS, weight_decay)
    scratch = np.empty_like(params)
    history, gradients = [params.copy()], []
    for rate in rates:
        grads = rng.normal(size=N_PARAMS)
        gradients.append(grads.copy())
        step(params, grads, rate, scratch, None)
        history.append(params.copy())
    return history, gradients


def torch_steps(make_optimizer, history, gradients, rates=RATES, decay_by_hand=False):
    """The same steps by ``torch.optim``: the weights and the rest of the
    buffer as two parameter groups, the decay on the first only (AdamW's
    ``weight_decay``, or ``decay_by_hand`` before an optimizer without
    decoupled decay: the PyTorch equivalent of skmlp's decay for SGD and
    RMSprop)."""
    torch = pytest.importorskip("torch")
    start = torch.tensor(history[0], dtype=torch.float64)
    weights = start[:N_COEFS].clone().requires_grad_(True)
    rest = start[N_COEFS:].clone().requires_grad_(True)
    decay = 0.0 if decay_by_hand else WEIGHT_DECAY
    optimizer = make_optimizer(
        [{"params": [weights], "weight_decay": decay}, {"params": [rest], "weight_decay": 0.0}]
    )
    got = []
    for rate, grads in zip(rates, gradients, strict=True):
        for group in optimizer.param_groups:
            group["lr"] = rate  # as a scheduler sets it
        if decay_by_hand:
            with torch.no_grad():
                weights.mul_(1 - rate * WEIGHT_DECAY)
        weights.grad = torch.tensor(grads[:N_COEFS])
        rest.grad = torch.tensor(grads[N_COEFS:])
        optimizer.step()
        got.append(torch.cat([weights, rest]).detach().numpy().copy())
    return got


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_with_weight_decay_is_torch_adamw(path, amsgrad):
    # epsilon=0, where its placement (ours after the bias correction of v,
    # PyTorch's before) does not matter.
    torch = pytest.importorskip("torch")
    history, gradients = run_steps(Adam(0.8, 0.9, 0.0, amsgrad=amsgrad))
    expected = torch_steps(
        lambda groups: torch.optim.AdamW(
            groups, lr=0.1, betas=(0.8, 0.9), eps=0.0, amsgrad=amsgrad
        ),
        history,
        gradients,
    )
    assert_allclose(history[1:], expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize(
    "make_optimizer, make_torch, rates",
    [
        (
            lambda: SGD(0.9, False),
            lambda torch: lambda g: torch.optim.SGD(g, lr=0.1, momentum=0.9),
            [0.1] * 5,
        ),
        (
            lambda: SGD(0.9, True),
            lambda torch: lambda g: torch.optim.SGD(g, lr=0.1, momentum=0.9, nesterov=True),
            [0.1] * 5,
        ),
        (
            lambda: RMSprop(0.8, 1e-3),
            lambda torch: lambda g: torch.optim.RMSprop(g, lr=0.1, alpha=0.8, eps=1e-3),
            RATES,
        ),
    ],
    ids=["sgd", "nesterov", "rmsprop"],
)
def test_sgd_and_rmsprop_decay_as_torch_with_the_decay_by_hand(
    path, make_optimizer, make_torch, rates
):
    # torch.optim.SGD's and RMSprop's weight_decay is the coupled L2 penalty
    # (our alpha); the decoupled form is the shrink before their step. SGD at
    # a constant rate: PyTorch's velocity holds gradients, ours gradients
    # times the rate, the same steps only while the rate stays put.
    torch = pytest.importorskip("torch")
    history, gradients = run_steps(make_optimizer(), rates)
    expected = torch_steps(
        make_torch(torch), history, gradients, rates, decay_by_hand=True
    )
    assert_allclose(history[1:], expected, rtol=1e-13, atol=1e-15)


def test_rmsprop_decay_follows_the_written_out_formula(path):
    rho, epsilon = 0.8, 1e-3
    history, gradients = run_steps(RMSprop(rho, epsilon))
    params, v = history[0].copy(), np.zeros(N_PARAMS)
    for rate, g, got in zip(RATES, gradients, history[1:], strict=True):
        v = rho * v + (1 - rho) * g * g
        params[:N_COEFS] *= 1 - rate * WEIGHT_DECAY
        params = params - g / (np.sqrt(v) + epsilon) * rate
        assert_allclose(got, params, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_only_the_weights_decay(path, batch_norm):
    # With zero gradients Adam's update is 0, so only the decay moves
    # anything: the weights by exactly 1 - lr * weight_decay, nothing else.
    network = Network(
        [4, 5, 5, 3], "relu", "softmax", NumpyBackend(), np.float64,
        batch_norm=batch_norm,
    )
    network.initialize(np.random.RandomState(0))
    network.params[network.n_coefs:] = np.random.RandomState(1).normal(
        size=network.params.size - network.n_coefs
    )
    assert network.n_coefs == 4 * 5 + 5 * 5 + 5 * 3
    before = network.params.copy()
    optimizer = Adam()
    optimizer.prepare(network.params, NumpyBackend())
    step = NumpyBackend.optimizer_step(optimizer, None, network.n_coefs, 0.5)
    step(network.params, np.zeros_like(before), 0.1, np.empty_like(before), None)
    n = network.n_coefs
    assert_array_equal(network.params[:n], before[:n] * (1 - 0.1 * 0.5))
    assert_array_equal(network.params[n:], before[n:])


def test_zero_weight_decay_runs_no_decaying_kernel(monkeypatch):
    # The default takes the step it took before weight_decay existed: the
    # plain kernel (or the penalised one, for a penalty), never a decoupled one.
    pytest.importorskip("numba")
    monkeypatch.setattr(NumpyBackend.kernel_state, "min_size", 0)
    calls = count_kernel_calls(monkeypatch)
    X, y = load_iris(return_X_y=True)
    for alpha in (0.0, 1e-3):
        fit_quietly(MLPClassifierScratch(alpha=alpha, max_iter=2, random_state=0), X, y)
    assert calls["skmlp_adam_step"] > 0 and calls["skmlp_adam_step_l2"] > 0
    assert not [name for name in calls if "decoupled" in name]
    fit_quietly(MLPClassifierScratch(weight_decay=1e-2, max_iter=2, random_state=0), X, y)
    assert calls["skmlp_adam_step_l2_decoupled"] > 0


@pytest.mark.parametrize("Estimator", [MLPClassifierScratch, MLPRegressorScratch])
def test_lbfgs_refuses_weight_decay(Estimator):
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match=r"weight_decay=0\.1 applies to the stochastic"):
        Estimator(solver="lbfgs", weight_decay=0.1).fit(X, y)
    with pytest.raises(ValueError, match="Use alpha"):
        Estimator(solver="lbfgs", weight_decay=0.1).fit(X, y)
    fit_quietly(Estimator(solver="lbfgs", weight_decay=0.0, max_iter=5), X, y)


@pytest.mark.parametrize("value", [-0.1, "0.1", np.nan])
def test_weight_decay_must_be_a_non_negative_float(value):
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="weight_decay"):
        MLPClassifierScratch(weight_decay=value).fit(X, y)


@pytest.mark.parametrize("solver", ["adam", "sgd", "rmsprop"])
def test_decay_shrinks_the_weights_and_continues_across_calls(solver):
    X, y = load_iris(return_X_y=True)
    params = {"solver": solver, "hidden_layer_sizes": (8,), "shuffle": False,
              "random_state": 0, "learning_rate_init": 0.01}
    plain = fit_quietly(MLPClassifierScratch(max_iter=6, **params), X, y)
    decayed = fit_quietly(
        MLPClassifierScratch(max_iter=6, weight_decay=1.0, **params), X, y
    )
    assert np.linalg.norm(decayed.coefs_[0]) < np.linalg.norm(plain.coefs_[0])
    # warm_start and partial_fit carry on the same steps as one fit.
    twice = MLPClassifierScratch(max_iter=3, warm_start=True, weight_decay=1.0, **params)
    fit_quietly(fit_quietly(twice, X, y), X, y)
    streamed = MLPClassifierScratch(weight_decay=1.0, **params)
    for _ in range(6):
        streamed.partial_fit(X, y, classes=np.unique(y))
    for model in (twice, streamed):
        for got, expected in zip(model.coefs_, decayed.coefs_, strict=True):
            assert_allclose(got, expected, rtol=0, atol=1e-13)
