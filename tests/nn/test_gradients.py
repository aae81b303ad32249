"""Backpropagation against central finite differences of the loss.

Every hidden activation x every output/loss pair, with and without L2, on
networks whose shapes, batch and seed hypothesis draws. The loss value itself
is checked against the textbook formula written out here, so the finite
differences test the gradient of the right function.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.special import erf, expit, softmax

from skmlp._backends import NumpyBackend
from skmlp._nn import Network, Penalty

OUTPUTS = ["softmax", "logistic", "identity"]
STEP = 1e-6

HIDDEN_FUNCTIONS = {
    "identity": lambda z: z,
    "logistic": expit,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "elu": lambda z: np.where(z > 0, z, np.expm1(z)),
    "gelu": lambda z: z * (1 + erf(z / np.sqrt(2))) / 2,
    "silu": lambda z: z * expit(z),
}
HIDDEN = sorted(HIDDEN_FUNCTIONS)
# Activations whose derivative jumps at 0.
KINKED = {"relu", "leaky_relu"}


def reference_loss(coefs, intercepts, X, Y, activation, output, alpha):
    """The loss written from its definition; also returns the hidden
    pre-activations (to keep relu away from its kink)."""
    a, pre_activations = X, []
    for W, b in zip(coefs[:-1], intercepts[:-1]):
        z = a @ W + b
        pre_activations.append(z)
        a = HIDDEN_FUNCTIONS[activation](z)
    z = a @ coefs[-1] + intercepts[-1]
    n = X.shape[0]
    if output == "softmax":
        loss = -np.sum(Y * np.log(softmax(z, axis=1))) / n
    elif output == "logistic":
        p = expit(z)
        loss = -np.sum(Y * np.log(p) + (1 - Y) * np.log(1 - p)) / n
    else:
        loss = 0.5 * np.mean((z - Y) ** 2)
    l2 = sum(np.sum(W**2) for W in coefs)
    return loss + alpha / (2 * n) * l2, pre_activations


def draw_targets(rng, output, n_samples, n_outputs):
    if output == "softmax":
        return np.eye(n_outputs)[rng.randint(n_outputs, size=n_samples)]
    if output == "logistic":
        # Binary (one column) or multilabel (several independent 0/1 columns).
        return rng.randint(2, size=(n_samples, n_outputs)).astype(float)
    return rng.normal(size=(n_samples, n_outputs))


def finite_difference_gradient(network, X, Y):
    """Central differences of the network's loss in every parameter.

    ``loss_gradient`` is called afresh for each evaluation: its backward pass
    overwrites the hidden activations, so no forward result is reused."""
    params = network.params
    gradient = np.empty_like(params)
    for i in range(params.size):
        saved = params[i]
        params[i] = saved + STEP
        plus = float(network.loss_gradient(X, Y))
        params[i] = saved - STEP
        minus = float(network.loss_gradient(X, Y))
        params[i] = saved
        gradient[i] = (plus - minus) / (2 * STEP)
    return gradient


@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("activation", HIDDEN)
@settings(max_examples=15, deadline=None)
@given(
    hidden=st.lists(st.integers(1, 5), min_size=0, max_size=2),
    n_features=st.integers(1, 4),
    n_outputs=st.integers(1, 3),
    n_samples=st.integers(1, 7),
    alpha=st.sampled_from([0.0, 0.3]),
    seed=st.integers(0, 2**31 - 1),
)
def test_backprop_matches_finite_differences(
    activation, output, hidden, n_features, n_outputs, n_samples, alpha, seed
):
    if output == "softmax":
        n_outputs += 1  # softmax needs at least two classes
    rng = np.random.RandomState(seed)
    network = Network(
        [n_features, *hidden, n_outputs],
        activation,
        output,
        NumpyBackend(),
        np.float64,
        penalty=Penalty(alpha=alpha),
    )
    network.initialize(rng)
    X = rng.normal(size=(n_samples, n_features))
    Y = draw_targets(rng, output, n_samples, n_outputs)

    expected_loss, pre_activations = reference_loss(
        [d.coef.copy() for d in network.dense_layers],
        [d.intercept.copy() for d in network.dense_layers],
        X,
        Y,
        activation,
        output,
        alpha,
    )
    if activation in KINKED:
        # A step of STEP in one parameter moves a pre-activation by far less
        # than 1e-4 here; keep every unit that far from the kink at 0.
        assume(all(np.abs(z).min() > 1e-4 for z in pre_activations))
    if output == "logistic":
        # The loss takes log(1 - p), as scikit-learn's does. Within 1e-3 of
        # p = 1, its rounding (~1e-16 / (1 - p)) divided by the central
        # difference's 2 * STEP exceeds the tolerance below (p = 1 - 2e-6 gave
        # a 1e-5 relative error): the finite differences, not backprop, lose
        # their digits there.
        assume(network.predict(X).max() < 1 - 1e-3)

    loss = float(network.loss_gradient(X, Y))
    backprop = network.grads.copy()
    assert loss == pytest.approx(expected_loss, rel=1e-12, abs=1e-14)

    numeric = finite_difference_gradient(network, X, Y)
    np.testing.assert_allclose(backprop, numeric, rtol=1e-6, atol=1e-8)


def test_gradient_views_cover_the_flat_buffer():
    """Per-layer gradient views are the twin views of the parameter views, so
    an optimizer stepping the flat buffer steps every layer."""
    network = Network(
        [3, 4, 2], "tanh", "softmax", NumpyBackend(), np.float64, penalty=Penalty(0.1)
    )
    network.initialize(np.random.RandomState(0))
    rng = np.random.RandomState(1)
    X, Y = rng.normal(size=(5, 3)), np.eye(2)[rng.randint(2, size=5)]
    network.loss_gradient(X, Y)
    dense = network.dense_layers
    flat = np.concatenate(
        [d.coef_grad.ravel() for d in dense] + [d.intercept_grad for d in dense]
    )
    np.testing.assert_array_equal(flat, network.grads)
    assert all(np.shares_memory(d.coef_grad, network.grads) for d in dense)
    assert network.n_coefs == 3 * 4 + 4 * 2
