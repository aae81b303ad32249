"""The network as a stack of layers: what layers declare (parameters, state,
what their backward step needs) and how the network honours it."""

import numpy as np
import pytest
from _parity_helpers import finite_difference_gradient
from scipy.special import expit

from skmlp import MLPClassifierScratch, MLPRegressorScratch
from skmlp._backends import NumpyBackend
from skmlp._nn import (
    ACTIVATIONS,
    INITIALIZERS,
    REGRESSION_LOSSES,
    Activation,
    Dense,
    Network,
    Penalty,
    bind,
    parameter_slots,
    state_slots,
)
from skmlp._training import SOLVERS


class Softplus:
    """log(1 + e^z), differentiated from z: a test-only activation that says
    its derivative needs the pre-activation. (Given the output ``a`` instead,
    ``expit(a)`` would be the wrong derivative, so the test below fails.)"""

    name = "softplus"
    init_gain = 6.0
    derivative_from_output = False

    def __init__(self, backend):
        pass

    def forward(self, z, bias):
        z += bias
        np.logaddexp(0, z, out=z)

    def backward(self, z, delta):
        delta *= expit(z)


@pytest.fixture
def softplus(monkeypatch):
    monkeypatch.setitem(ACTIVATIONS, "softplus", Softplus)


def test_activation_needing_its_input_gets_the_pre_activation(softplus):
    rng = np.random.RandomState(0)
    network = Network(
        [3, 4, 5, 2],
        "softplus",
        "identity",
        NumpyBackend(),
        np.float64,
        penalty=Penalty(alpha=0.1),
    )
    network.initialize(rng)
    X, Y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    network.loss_gradient(X, Y)
    backprop = network.grads.copy()

    (numeric,) = finite_difference_gradient(
        lambda: float(network.loss_gradient(X, Y)), [network.params]
    )
    np.testing.assert_allclose(backprop, numeric, rtol=1e-6, atol=1e-9)


def test_activation_keeps_its_pre_activation_only_while_training(softplus):
    network = Network([2, 3, 1], "softplus", "identity", NumpyBackend(), np.float64)
    activation = network.layers[1]
    assert isinstance(activation, Activation)
    X = np.ones((4, 2))
    network.forward(X, training=False)
    assert activation._kept is None
    network.forward(X, training=True)
    # z + bias, apart from the layer's output (which holds softplus of it).
    dense = network.dense_layers[0]
    expected = X @ dense.coef + dense.intercept
    np.testing.assert_allclose(activation._kept, expected)


def test_activation_taking_its_derivative_from_the_output_keeps_no_copy():
    network = Network([2, 3, 1], "tanh", "identity", NumpyBackend(), np.float64)
    network.forward(np.ones((4, 2)), training=True)
    dense, activation = network.layers[:2]
    assert np.shares_memory(activation._kept, dense._output(4))
    assert activation._pre_activation is None


class Scaled:
    """A test-only layer declaring an unpenalised vector (as batch
    normalization's scale) and non-trainable state."""

    def __init__(self, units):
        self.parameters = {"scale": ("unpenalised", (units,))}
        self.state = {"running_mean": (units,), "count": ()}


def test_layout_puts_every_weight_first_and_state_apart():
    dense = Dense(3, 2, NumpyBackend(), np.float64)
    extra = Scaled(2)
    last = Dense(2, 1, NumpyBackend(), np.float64)
    layers = [dense, extra, last]
    slots, sizes = parameter_slots(layers)
    assert sizes == {"weights": 3 * 2 + 2 * 1, "biases": 2 + 1, "unpenalised": 2}
    assert [(layer, name) for layer, name, *_ in slots] == [
        (dense, "coef"),
        (last, "coef"),
        (dense, "intercept"),
        (last, "intercept"),
        (extra, "scale"),
    ]
    params = np.arange(13.0)
    bind(slots, params)
    np.testing.assert_array_equal(extra.scale, [11.0, 12.0])
    assert np.shares_memory(last.coef, params[:8])

    state = np.zeros(3)
    bind(state_slots(layers), state)
    extra.running_mean += 1
    assert extra.count.shape == ()
    np.testing.assert_array_equal(state, [1.0, 1.0, 0.0])


def test_network_of_todays_layers_has_no_state():
    network = Network([3, 2, 1], "relu", "identity", NumpyBackend(), np.float32)
    assert network.state.shape == (0,)
    assert network.state.dtype == np.float32


def test_initial_gain_comes_from_the_activation(softplus, monkeypatch):
    monkeypatch.setattr(Softplus, "init_gain", 0.0, raising=True)
    network = Network([3, 2, 1], "softplus", "identity", NumpyBackend(), np.float64)
    network.initialize(np.random.RandomState(0))
    assert not network.params.any()


def test_repr_lists_the_layers_of_a_network_without_hidden_layers():
    network = Network([3, 1], "logistic", "identity", NumpyBackend(), np.float32)
    assert repr(network) == (
        "Network of 4 float32 parameters on numpy, Penalty(alpha=0.0):\n"
        "  Dense(3, 1)\n"
        "  IdentitySquaredError()"
    )


@pytest.mark.parametrize(
    "parameter, registry",
    [
        ("activation", ACTIVATIONS),
        ("weight_init", INITIALIZERS),
        ("solver", SOLVERS),
    ],
)
def test_allowed_values_come_from_the_registries(parameter, registry):
    for Estimator in (MLPClassifierScratch, MLPRegressorScratch):
        (options,) = Estimator._parameter_constraints[parameter]
        assert options.options == set(registry)
    (losses,) = MLPRegressorScratch._parameter_constraints["loss"]
    assert losses.options == set(REGRESSION_LOSSES)
