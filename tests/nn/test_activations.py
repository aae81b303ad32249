"""The activations beyond scikit-learn's four (leaky_relu, elu, gelu, silu):
forward and derivative against PyTorch's, their fused kernels evaluated with
NumPy, and each one learning a non-linear boundary. Gradients through whole
networks are checked against finite differences in test_gradients.py and
test_fast_path.py, which cover every activation."""

import ast

import numpy as np
import pytest
from _device_helpers import numpy_kernels
from numpy.testing import assert_allclose
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split

from skmlp import MLPClassifierScratch
from skmlp._backends import NumpyBackend
from skmlp._kernels import cuda as _cupy_kernels
from skmlp._kernels import specs
from skmlp._nn import ACTIVATIONS

# PyTorch's functions of the same names, at their defaults: leaky_relu's
# negative_slope=0.01, elu's alpha=1.0, gelu's approximate='none'.
NEW = ["elu", "gelu", "leaky_relu", "silu"]
TOLERANCE = {np.float64: 1e-13, np.float32: 2e-6}


def pre_activations(dtype):
    """Values across each function's range, its kink at 0 and far tails
    (where a careless exp overflows)."""
    rng = np.random.RandomState(0)
    z = rng.normal(scale=3, size=(9, 8))
    z[0] = [0.0, -0.0, 1e-8, -1e-8, 30.0, -30.0, 100.0, -100.0]
    z[1] = [500.0, -500.0, 1e3, -1e3, 5.0, -5.0, 0.5, -0.5]
    return z.astype(dtype)


def torch_reference(name, z, delta):
    """f(z) and delta * f'(z), computed by PyTorch's autograd (the test is
    skipped where PyTorch is not installed)."""
    torch = pytest.importorskip("torch")
    s = torch.tensor(z, requires_grad=True)
    out = getattr(torch.nn.functional, name)(s)
    out.backward(torch.tensor(delta))
    return out.detach().numpy(), s.grad.numpy()


def run_activation(activation, z, bias, delta):
    """Forward of z with bias, then the backward step given what the
    activation declared it needs; returns (output, delta * f'(z + bias))."""
    a = z.copy()
    activation.forward(a, bias)
    kept = a.copy() if activation.derivative_from_output else z + bias
    got = delta.copy()
    activation.backward(kept, got)
    return a, got


# exp(-z) of a large negative z overflows to inf, as intended (1 / inf = 0):
# NumPy says so, CUDA does not.
@pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "make",
    [
        lambda name: ACTIVATIONS[name](NumpyBackend()),
        lambda name: _cupy_kernels.FusedActivation(name, numpy_kernels()),
    ],
    ids=["numpy", "fused-kernel"],
)
@pytest.mark.parametrize("name", NEW)
def test_activation_and_derivative_match_torch(name, make, dtype):
    z = pre_activations(dtype)
    bias = np.zeros(z.shape[1], dtype)
    delta = np.random.RandomState(1).normal(size=z.shape).astype(dtype)
    expected_a, expected_delta = torch_reference(name, z, delta)

    a, got = run_activation(make(name), z, bias, delta)
    assert a.dtype == got.dtype == dtype
    assert np.isfinite(a).all() and np.isfinite(got).all()
    rtol = TOLERANCE[dtype]
    assert_allclose(a, expected_a, rtol=rtol, atol=rtol)
    assert_allclose(got, expected_delta, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("name", NEW)
def test_bias_is_added_before_the_activation(name):
    rng = np.random.RandomState(2)
    z, bias = rng.normal(size=(5, 4)), rng.normal(size=4)
    delta = rng.normal(size=(5, 4))
    activation = ACTIVATIONS[name](NumpyBackend())
    a, got = run_activation(activation, z, bias, delta)
    expected_a, expected_delta = torch_reference(name, z + bias, delta)
    assert_allclose(a, expected_a, rtol=1e-13)
    assert_allclose(got, expected_delta, rtol=1e-13)


def test_leaky_relu_kernel_equals_its_reference_bit_for_bit():
    # No transcendental function: a compiled kernel (numba, CUDA) and the
    # ufunc reference round alike, so either may run.
    for dtype in (np.float32, np.float64):
        z = pre_activations(dtype)
        bias = np.random.RandomState(3).normal(size=z.shape[1]).astype(dtype)
        delta = np.random.RandomState(4).normal(size=z.shape).astype(dtype)
        reference = run_activation(ACTIVATIONS["leaky_relu"](NumpyBackend()), z, bias, delta)
        fused = run_activation(
            _cupy_kernels.FusedActivation("leaky_relu", numpy_kernels()), z, bias, delta
        )
        for got, expected in zip(fused, reference):
            np.testing.assert_array_equal(got, expected)


def test_kernel_bodies_call_only_the_shared_functions():
    """What a body may call is what CUDA, NumPy (the CPU tests) and Python's
    math (numba) all provide: FUNCTIONS, and T(x) for a typed constant."""
    allowed = set(specs.FUNCTIONS) | {"T"}
    for table in (specs.BIAS_ACTIVATION, specs.DERIVATIVE):
        for name, body in table.items():
            calls = {
                node.func.id
                for node in ast.walk(ast.parse(body))
                if isinstance(node, ast.Call)
            }
            assert calls <= allowed, name


def test_float_constants_keep_float32_kernels_in_float32():
    # T(x) rounds the constant to the arrays' dtype (a bare float literal is
    # a double in CUDA C).
    for table in (specs.BIAS_ACTIVATION, specs.DERIVATIVE):
        for name, body in table.items():
            tree = ast.parse(body)
            typed = {
                id(argument)
                for node in ast.walk(tree)
                if isinstance(node, ast.Call) and node.func.id == "T"
                for argument in node.args
            }
            bare = [
                node.value
                for node in ast.walk(tree)
                if isinstance(node, ast.Constant)
                and isinstance(node.value, float)
                and id(node) not in typed
            ]
            assert not bare, name
    assert "T(" in specs.BIAS_ACTIVATION["gelu"]


def test_every_activation_is_documented_and_validated():
    doc = MLPClassifierScratch.__doc__
    for name in ACTIVATIONS:
        assert f"- '{name}'" in doc
    X, y = make_moons(20, random_state=0)
    with pytest.raises(ValueError, match="'activation' parameter.*'gelu'"):
        MLPClassifierScratch(activation="swish").fit(X, y)


@pytest.mark.parametrize("name", NEW)
def test_each_new_activation_learns_two_moons(name):
    X, y = make_moons(300, noise=0.1, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    clf = MLPClassifierScratch(
        hidden_layer_sizes=(16, 16),
        activation=name,
        solver="lbfgs",
        max_iter=300,
        random_state=0,
    ).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.97
