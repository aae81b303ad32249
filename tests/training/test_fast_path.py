"""The in-place, buffer-reusing hot path computes the defining formulas.

Each fast path (activations in place, the loss computed in a work buffer, the
softmax's kept row buffer, rows gathered with ``take``) is checked against a
plain NumPy expression of the same mathematics, and the whole backward pass
against central finite differences.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.special import erf

from skmlp._backends import get_backend
from skmlp._nn import ACTIVATIONS, OUTPUTS, Network, Penalty
from skmlp._training.trainer import _take_rows

BACKEND = get_backend("numpy")
# Activations whose derivative jumps at 0 (elu's is continuous there).
KINKED = {"relu", "leaky_relu"}


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _normal_cdf(z):
    return (1 + erf(z / np.sqrt(2))) / 2


# name -> (f(z), f'(z))
DEFINITIONS = {
    "identity": (lambda z: z, lambda z: np.ones_like(z)),
    "logistic": (_sigmoid, lambda z: _sigmoid(z) * (1 - _sigmoid(z))),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(z.dtype)),
    "leaky_relu": (
        lambda z: np.where(z > 0, z, 0.01 * z),
        lambda z: np.where(z > 0, 1, 0.01).astype(z.dtype),
    ),
    "elu": (
        lambda z: np.where(z > 0, z, np.exp(z) - 1),
        lambda z: np.where(z > 0, 1, np.exp(z)),
    ),
    "gelu": (
        lambda z: z * _normal_cdf(z),
        lambda z: _normal_cdf(z) + z * np.exp(-(z**2) / 2) / np.sqrt(2 * np.pi),
    ),
    "silu": (
        lambda z: z * _sigmoid(z),
        lambda z: _sigmoid(z) * (1 + z * (1 - _sigmoid(z))),
    ),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_forward_and_backward_match_definitions(name, dtype):
    rng = np.random.default_rng(0)
    z = rng.standard_normal((7, 5)).astype(dtype)
    bias = rng.standard_normal(5).astype(dtype)
    # At the kink z + bias = 0, relu's and leaky_relu's derivative is taken
    # from the left (0, 0.01); elu's is 1 from either side.
    z[0, :2] = -bias[:2]
    delta = rng.standard_normal((7, 5)).astype(dtype)
    function, derivative = DEFINITIONS[name]
    pre_activation = z + bias
    expected_a = function(pre_activation)

    activation = ACTIVATIONS[name](BACKEND)
    a = z.copy()
    activation.forward(a, bias)
    np.testing.assert_allclose(a, expected_a, rtol=1e-6)
    assert a.dtype == dtype

    got = delta.copy()
    kept = a if activation.derivative_from_output else pre_activation
    activation.backward(kept.copy(), got)
    np.testing.assert_allclose(
        got, delta * derivative(pre_activation), rtol=1e-5, atol=1e-7
    )
    assert got.dtype == dtype


def _probabilities(output, rng, shape):
    z = rng.standard_normal(shape)
    if output == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    if output == "logistic":
        return 1 / (1 + np.exp(-z))
    if output == "exp":
        return np.exp(z)
    return z


def _defining_loss(output, y, p):
    eps = np.finfo(p.dtype).eps
    q = np.clip(p, eps, 1 - eps)
    if output == "softmax":
        return -np.sum(y * np.log(q)) / len(p)
    if output == "logistic":
        return -np.sum(y * np.log(q) + (1 - y) * np.log(1 - q)) / len(p)
    if output == "exp":  # half the Poisson deviance; y log(y / p) is 0 at y = 0
        y_log_ratio = np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / p), 0)
        return np.sum(y_log_ratio - y + p) / len(p)
    return 0.5 * np.mean((p - y) ** 2)


@pytest.mark.parametrize("output", sorted(OUTPUTS))
@pytest.mark.parametrize("use_work", [False, True])
def test_loss_matches_definition_with_or_without_work_buffer(output, use_work):
    rng = np.random.default_rng(1)
    p = _probabilities(output, rng, (9, 4))
    if output in ("softmax", "logistic"):
        p[0, 0] = 0.0  # exercises the clipping
    y = (rng.random((9, 4)) > 0.5).astype(float)
    p_before, y_before = p.copy(), y.copy()
    work = np.full_like(p, np.nan) if use_work else None
    loss = OUTPUTS[output](BACKEND).loss(y, p, work=work)
    assert float(loss) == pytest.approx(_defining_loss(output, y, p_before), rel=1e-12)
    np.testing.assert_array_equal(p, p_before)
    np.testing.assert_array_equal(y, y_before)


def test_softmax_row_buffer_follows_shape_and_dtype():
    softmax = OUTPUTS["softmax"](BACKEND)
    rng = np.random.default_rng(2)
    for n_rows, dtype in [
        (5, np.float64),
        (12, np.float64),
        (3, np.float32),
        (8, np.float64),
    ]:
        z = rng.standard_normal((n_rows, 4)).astype(dtype) * 30
        expected = np.exp(z - z.max(axis=1, keepdims=True))
        expected /= expected.sum(axis=1, keepdims=True)
        softmax.activate(z)
        np.testing.assert_allclose(z, expected, rtol=1e-5)
        assert z.dtype == dtype


def test_relu_mask_buffer_serves_layers_of_any_size():
    """One kept boolean mask serves every layer: shapes growing and shrinking
    in turn still give the defining derivative."""
    relu = ACTIVATIONS["relu"](BACKEND)
    rng = np.random.default_rng(3)
    for shape in [(6, 5), (2, 3), (9, 7), (4, 7)]:
        a = np.maximum(rng.standard_normal(shape), 0)
        delta = rng.standard_normal(shape)
        expected = delta * (a > 0)
        relu.backward(a, delta)
        np.testing.assert_array_equal(delta, expected)


def test_network_wraps_given_params_without_copying():
    units = (3, 4, 2)
    n_params = 3 * 4 + 4 * 2 + 4 + 2
    params = np.arange(n_params, dtype=np.float64)
    network = Network(units, "relu", "softmax", BACKEND, np.float64, params)
    assert network.params is params
    assert all(np.shares_memory(d.coef, params) for d in network.dense_layers)
    np.testing.assert_array_equal(network.dense_layers[1].intercept, params[-2:])
    with pytest.raises(ValueError, match="flat float32 array of 26 entries"):
        Network(units, "relu", "softmax", BACKEND, np.float32, params)
    with pytest.raises(ValueError, match="of 26 entries, got float64 of shape"):
        Network(units, "relu", "softmax", BACKEND, np.float64, params[:-1])


def test_take_rows_gathers_without_changing_the_source():
    rng = np.random.default_rng(3)
    source = rng.standard_normal((20, 3))
    rows = rng.permutation(20)[:7]
    out = np.empty((7, 3))
    _take_rows(np, source, rows, out)
    np.testing.assert_array_equal(out, source[rows])


def _distance_to_kink(network, X, activation):
    """Smallest |pre-activation| of the network's hidden units on X."""
    function = DEFINITIONS[activation][0]
    a, smallest = X, np.inf
    for dense in network.dense_layers[:-1]:
        z = a @ dense.coef + dense.intercept
        smallest = min(smallest, np.abs(z).min())
        a = function(z)
    return smallest


@settings(max_examples=15, deadline=None)
@given(
    activation=st.sampled_from(sorted(ACTIVATIONS)),
    output=st.sampled_from(sorted(OUTPUTS)),
    hidden=st.lists(st.integers(1, 6), min_size=1, max_size=2),
    n_samples=st.integers(1, 6),
    alpha=st.sampled_from([0.0, 0.3]),
    seed=st.integers(0, 2**16),
)
def test_loss_gradient_matches_finite_differences(
    activation, output, hidden, n_samples, alpha, seed
):
    rng = np.random.default_rng(seed)
    n_outputs = 3
    network = Network(
        [4, *hidden, n_outputs],
        activation,
        output,
        BACKEND,
        np.float64,
        penalty=Penalty(alpha=alpha),
    )
    network.initialize(np.random.RandomState(seed))
    X = rng.standard_normal((n_samples, 4))
    if output == "softmax":
        Y = np.eye(n_outputs)[rng.integers(0, n_outputs, n_samples)]
    elif output == "logistic":
        Y = (rng.random((n_samples, n_outputs)) > 0.5).astype(float)
    elif output == "exp":  # Poisson: counts
        Y = rng.poisson(2.0, (n_samples, n_outputs)).astype(float)
    else:
        Y = rng.standard_normal((n_samples, n_outputs))
    # Finite differences are meaningless across a kink at 0.
    assume(
        activation not in KINKED or _distance_to_kink(network, X, activation) > 1e-4
    )
    network.loss_gradient(X, Y)
    gradient = network.grads.copy()

    step = 1e-6
    numeric = np.empty_like(gradient)
    for k in range(network.params.size):
        saved = network.params[k]
        network.params[k] = saved + step
        up = float(network.loss_gradient(X, Y))
        network.params[k] = saved - step
        down = float(network.loss_gradient(X, Y))
        network.params[k] = saved
        numeric[k] = (up - down) / (2 * step)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("solver", ["adam", "sgd", "rmsprop"])
def test_float32_input_trains_in_float32_end_to_end(solver):
    from skmlp import MLPClassifierScratch

    rng = np.random.default_rng(4)
    X = rng.standard_normal((60, 5)).astype(np.float32)
    y = rng.integers(0, 3, 60)
    clf = MLPClassifierScratch(
        hidden_layer_sizes=(6,), solver=solver, max_iter=3, random_state=0
    )
    with pytest.warns(Warning):  # ConvergenceWarning after 3 epochs
        clf.fit(X, y)
    arrays = [*clf.coefs_, *clf.intercepts_, clf.predict_proba(X)]
    optimizer = clf._trainer.optimizer
    arrays += [getattr(optimizer, name) for name in optimizer.state_names]
    assert {a.dtype for a in arrays} == {np.dtype(np.float32)}
