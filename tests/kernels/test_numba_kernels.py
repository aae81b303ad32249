"""The numba kernels of the NumPy backend against their NumPy ufunc reference.

Every kernel is compiled from the same ``ElementwiseSpec`` the CuPy backend
uses; here each one must give the reference's results bit for bit (float32
and float64, odd shapes, strided views), a fit must not change when the
kernels are switched off, small fits must never start numba, and where numba
cannot be imported the reference runs after one warning.
"""

import inspect
import pickle
import platform
import re
import sys
import warnings

import numpy as np
import pytest
from _device_helpers import count_kernel_calls
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits

from skmlp import MLPClassifierScratch, MLPRegressorScratch
from skmlp._backends import NumpyBackend
from skmlp._kernels import cpu as nk
from skmlp._kernels import specs
from skmlp._kernels.cpu import cache, layers, source
from skmlp._nn import ACTIVATIONS, SGD, Adam, BatchNorm, Penalty, RMSprop

numba = pytest.importorskip("numba")

DTYPES = [np.float32, np.float64]
OPTIMIZERS = {
    "nesterov": lambda: SGD(momentum=0.9, nesterov=True),
    "momentum": lambda: SGD(momentum=0.7, nesterov=False),
    "adam": lambda: Adam(beta_1=0.8, beta_2=0.99, epsilon=1e-7),
    "amsgrad": lambda: Adam(beta_1=0.8, beta_2=0.99, epsilon=1e-7, amsgrad=True),
    "rmsprop": lambda: RMSprop(rho=0.7, epsilon=1e-6),
}


def fresh_kernel_state(monkeypatch, **settings):
    """A new kernel state, nothing loaded, for the NumPy backends."""
    state = nk.KernelState(**settings)
    monkeypatch.setattr(NumpyBackend, "kernel_state", state)
    return state


@pytest.fixture
def kernels_everywhere(monkeypatch):
    """Kernels for every array size (as once numba has started)."""
    monkeypatch.setattr(NumpyBackend.kernel_state, "min_size", 0)


def _arrays(draw, shape, dtype, strided):
    """A random array of ``shape``; with ``strided``, a non-contiguous view
    (every other row, every third column) into a larger array."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if not strided:
        return rng.normal(scale=2, size=shape).astype(dtype)
    big_shape = tuple(n * k for n, k in zip(shape, (2, 3)[-len(shape) :]))
    big = rng.normal(scale=2, size=big_shape).astype(dtype)
    view = big[::2, ::3] if len(shape) == 2 else big[::3]
    assert not view.flags.c_contiguous or view.size <= 1
    return view


layouts = st.fixed_dictionaries(
    {
        "rows": st.integers(1, 37),
        "cols": st.integers(1, 67),
        "dtype": st.sampled_from(DTYPES),
        "strided": st.booleans(),
    }
)


# ---------------------------------------------------------------- layers
@pytest.mark.usefixtures("kernels_everywhere")
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@settings(max_examples=15, deadline=None)
@given(layout=layouts, data=st.data())
def test_compiled_activation_equals_the_reference_bit_for_bit(name, layout, data):
    shape = (layout["rows"], layout["cols"])
    dtype, strided = layout["dtype"], layout["strided"]
    z = _arrays(data.draw, shape, dtype, strided)
    z[0, 0] = 0.0  # the kink of relu
    bias = _arrays(data.draw, shape[1:], dtype, strided)
    delta = _arrays(data.draw, shape, dtype, strided)
    reference = ACTIVATIONS[name](NumpyBackend())
    compiled = NumpyBackend().activation(name)
    assert compiled.name == reference.name

    a_reference, a_compiled = z.copy(), z.copy()
    if strided:  # keep the views: the kernels must write through them
        a_compiled = _arrays(data.draw, shape, dtype, strided)
        a_compiled[...] = z
    reference.forward(a_reference, bias)
    compiled.forward(a_compiled, bias)
    assert_array_equal(a_compiled, a_reference)
    assert a_compiled.dtype == dtype

    delta_reference, delta_compiled = delta.copy(), delta.copy()
    reference.backward(a_reference.copy(), delta_reference)
    compiled.backward(a_compiled.copy(), delta_compiled)  # (it may overwrite a)
    assert_array_equal(delta_compiled, delta_reference)

    # With the bias's gradient: the column sums of the result, as NumPy adds
    # them up (row after row), into a (maybe strided) vector.
    delta_summed = delta
    sums = _arrays(data.draw, shape[1:], dtype, strided)
    compiled.backward_summing(a_compiled, delta_summed, sums)
    assert_array_equal(delta_summed, delta_reference)
    assert_array_equal(sums, delta_reference.sum(axis=0))


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_compiled_activation_keeps_the_reference_interface(name):
    reference = ACTIVATIONS[name](NumpyBackend())
    compiled = NumpyBackend().activation(name)
    for attribute in ("name", "init_gain", "derivative_from_output"):
        assert getattr(compiled, attribute) == getattr(reference, attribute)
    # The layers call both positionally; the first argument of backward is
    # the output or, where the function needs it, the pre-activation.
    for method in ("forward", "backward"):
        compiled_kinds, reference_kinds = (
            [p.kind for p in inspect.signature(getattr(f, method)).parameters.values()]
            for f in (compiled, reference)
        )
        assert compiled_kinds == reference_kinds


@pytest.mark.usefixtures("kernels_everywhere")
@pytest.mark.parametrize("training", [True, False])
@settings(max_examples=20, deadline=None)
@given(layout=layouts, data=st.data())
def test_compiled_batch_norm_equals_the_reference_bit_for_bit(layout, training, data):
    shape = (layout["rows"], layout["cols"])
    dtype, strided = layout["dtype"], layout["strided"]
    width = shape[1]
    z = _arrays(data.draw, shape, dtype, strided)
    delta = _arrays(data.draw, shape, dtype, strided)
    delta[:, -1] = -0.0  # sums to +0 in NumPy: its sums start at 0
    vectors = [_arrays(data.draw, (width,), dtype, strided) for _ in range(4)]
    scale, shift, running_mean, running_var = vectors
    running_var[...] = np.abs(running_var)

    results = []
    for layer in (
        BatchNorm(width, 0.1, NumpyBackend(), dtype),
        NumpyBackend().batch_norm(width, 0.1, dtype),
    ):
        # Views, as into the network's flat buffers (strided ones here).
        layer.scale, layer.shift = scale.copy(), shift.copy()
        layer.scale_grad = _arrays(data.draw, (width,), dtype, strided)
        layer.shift_grad = _arrays(data.draw, (width,), dtype, strided)
        layer.running_mean, layer.running_var = running_mean.copy(), running_var.copy()
        z_in = _arrays(data.draw, shape, dtype, strided)
        z_in[...] = z
        out = layer.forward(z_in, training=training).copy()
        grads = ()
        if training:
            delta_in = _arrays(data.draw, shape, dtype, strided)
            delta_in[...] = delta
            grads = (layer.backward(delta_in), layer.scale_grad, layer.shift_grad)
        results.append((out, layer.running_mean, layer.running_var, *grads))
    assert isinstance(layer, nk.CompiledBatchNorm)
    for compiled, reference in zip(results[1], results[0]):
        assert compiled.dtype == dtype
        assert_array_equal(compiled, reference)
        assert_array_equal(np.signbit(compiled), np.signbit(reference))


@pytest.mark.usefixtures("kernels_everywhere")
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("dtype", DTYPES)
@settings(max_examples=10, deadline=None)
@given(n_params=st.integers(1, 3000), seed=st.integers(0, 2**32 - 1))
def test_compiled_optimizer_step_equals_the_reference_bit_for_bit(
    name, dtype, n_params, seed
):
    rng = np.random.default_rng(seed)
    params_reference = rng.normal(size=n_params).astype(dtype)
    params_compiled = params_reference.copy()
    reference, compiled = OPTIMIZERS[name](), OPTIMIZERS[name]()
    reference.prepare(params_reference, NumpyBackend())
    compiled.prepare(params_compiled, NumpyBackend())
    step = NumpyBackend().optimizer_step(compiled)
    scratch = np.empty_like(params_reference)
    for learning_rate in (0.1, 0.05, 0.01):
        grads = rng.normal(size=n_params).astype(dtype)
        reference.step(params_reference, grads, learning_rate, scratch)
        step(params_compiled, grads, learning_rate, scratch, 1)
    assert_same_optimizers(params_compiled, compiled, params_reference, reference)


def assert_same_optimizers(params, optimizer, params_reference, reference):
    assert_array_equal(params, params_reference)
    for state in reference.state_names:
        assert_array_equal(getattr(optimizer, state), getattr(reference, state))
    assert vars(optimizer).get("t") == vars(reference).get("t")


@pytest.mark.usefixtures("kernels_everywhere")
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("alpha, l1", [(1e-2, 0.0), (0.0, 1e-3), (0.3, 0.02)])
@settings(max_examples=5, deadline=None)
@given(n_params=st.integers(2, 3000), data=st.data())
def test_penalty_folded_into_the_step_equals_adding_it_first(
    name, dtype, alpha, l1, n_params, data
):
    # The reference adds the penalty's gradient to the weights' (the first
    # n_coefs entries), then steps; the compiled step does both in one pass.
    n_coefs = data.draw(st.integers(1, n_params - 1))
    total_weight = data.draw(st.sampled_from([1000, 7, np.asarray(3.5, dtype)]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    params_reference = rng.normal(size=n_params).astype(dtype)
    params_reference[rng.random(n_params) < 0.1] = 0  # sign(0) is 0
    params_compiled = params_reference.copy()
    reference, compiled = OPTIMIZERS[name](), OPTIMIZERS[name]()
    reference.prepare(params_reference, NumpyBackend())
    compiled.prepare(params_compiled, NumpyBackend())
    penalty = Penalty(alpha=alpha, l1=l1)
    step = NumpyBackend().optimizer_step(compiled, penalty, n_coefs)
    scratch = np.empty_like(params_reference)
    for learning_rate in (0.1, 0.05, 0.01):
        grads = rng.normal(size=n_params).astype(dtype)
        given_grads = grads.copy()
        step(params_compiled, grads, learning_rate, scratch, total_weight)
        assert_array_equal(grads, given_grads)  # left without the penalty
        penalty.add_gradient(
            np, params_reference[:n_coefs], grads[:n_coefs], total_weight,
            scratch[:n_coefs],
        )
        reference.step(params_reference, grads, learning_rate, scratch)
    assert_same_optimizers(params_compiled, compiled, params_reference, reference)


@pytest.mark.usefixtures("kernels_everywhere")
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("alpha, l1", [(0.0, 0.0), (1e-2, 0.0), (0.3, 0.02)])
def test_weight_decay_folded_into_the_step_equals_the_reference(
    monkeypatch, name, dtype, alpha, l1
):
    # The reference adds the penalty's gradient, shrinks the weights (the
    # first n_coefs entries) by 1 - lr * weight_decay, then steps; the
    # compiled step does it all in one kernel over the weights, and the plain
    # kernel over the rest (which no decay touches).
    n_params, n_coefs, weight_decay, total_weight = 1001, 700, 0.05, 7
    rng = np.random.default_rng(3)
    params_reference = rng.normal(size=n_params).astype(dtype)
    params_reference[rng.random(n_params) < 0.1] = 0
    params_compiled = params_reference.copy()
    reference, compiled = OPTIMIZERS[name](), OPTIMIZERS[name]()
    reference.prepare(params_reference, NumpyBackend())
    compiled.prepare(params_compiled, NumpyBackend())
    penalty = Penalty(alpha=alpha, l1=l1) if alpha or l1 else None
    calls = count_kernel_calls(monkeypatch)
    step = NumpyBackend().optimizer_step(compiled, penalty, n_coefs, weight_decay)
    scratch = np.empty_like(params_reference)
    for learning_rate in (0.1, 0.05, 0.01):
        grads = rng.normal(size=n_params).astype(dtype)
        given_grads = grads.copy()
        step(params_compiled, grads, learning_rate, scratch, total_weight)
        assert_array_equal(grads, given_grads)
        if penalty is not None:
            penalty.add_gradient(
                np, params_reference[:n_coefs], grads[:n_coefs], total_weight,
                scratch[:n_coefs],
            )
        params_reference[:n_coefs] *= 1 - learning_rate * weight_decay
        reference.step(params_reference, grads, learning_rate, scratch)
    assert_same_optimizers(params_compiled, compiled, params_reference, reference)
    terms = "_".join([*(penalty.terms if penalty else ()), "decoupled"])
    assert calls[f"skmlp_{name}_step_{terms}"] == 3  # the weights' kernel ran
    assert calls[f"skmlp_{name}_step"] == 3  # and the plain one on the rest


@pytest.mark.parametrize("name", sorted(specs.OPTIMIZER_STEPS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_optimizer_kernels_write_through_strided_views(name, dtype):
    # The network's buffers are contiguous; a strided view is computed in
    # place all the same (numba compiles the kernel for that layout).
    spec = specs.optimizer_step_spec(name)
    kernel = nk.CompiledElementwise(spec, numba)
    reference = _NumpyEvaluated(spec)
    scalars, states, _ = specs.OPTIMIZER_STEPS[name]
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=40).astype(dtype) for _ in range(2 + len(states))]
    arrays[2:] = [np.abs(a) for a in arrays[2:]]  # v >= 0 under sqrt
    values = [0.5 + i / 10 for i in range(len(scalars))]
    expected = [a[::3].copy() for a in arrays]
    reference(expected[0], *values, *expected[1:])
    views = [a[::3] for a in arrays]
    kernel(views[0], *values, *views[1:])
    for view, want in zip(views, expected):
        assert_array_equal(view, want)


class _NumpyEvaluated:
    """A spec's body evaluated with NumPy on whole arrays, Python scalars
    as NumPy treats them (the CPU check of the CuPy kernels uses the same)."""

    def __init__(self, spec):
        self.inputs = source.parameter_names(spec.in_params)
        self.outputs = source.parameter_names(spec.out_params)
        self.operation = spec.operation

    def __call__(self, *args):
        values = dict(zip(self.inputs + self.outputs, args))
        functions = {"exp": np.exp, "tanh": np.tanh, "sqrt": np.sqrt, "max": np.maximum}
        exec(self.operation, functions, values)  # noqa: S102
        for name, array in zip(self.outputs, args[len(self.inputs) :]):
            array[...] = values[name]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "spec",
    [
        specs.bias_activation_spec("logistic"),
        specs.bias_activation_spec("tanh"),
        specs.EXPIT,
    ],
    ids=lambda spec: spec.name,
)
def test_transcendental_kernels_compile_but_are_left_to_numpy(spec, dtype):
    # They compile and agree to rounding (the C library's exp and tanh are
    # not NumPy's, so not bit for bit), but numba calls them element by
    # element, so the backend runs NumPy's vectorised ufuncs instead.
    rng = np.random.default_rng(1)
    x = rng.normal(scale=3, size=(9, 13)).astype(dtype)
    arguments = [x[0], x.copy()] if spec.name != "skmlp_expit" else [x, x.copy()]
    expected = [a.copy() for a in arguments]
    _NumpyEvaluated(spec)(*expected)
    nk.CompiledElementwise(spec, numba)(*arguments)
    assert_allclose(arguments[1], expected[1], rtol=4 * np.finfo(dtype).eps)
    assert NumpyBackend.kernel_state.elementwise().bias_activation["tanh"] is None
    assert NumpyBackend.kernel_state.elementwise().expit is None


@pytest.mark.skipif(
    platform.machine().lower() not in ("x86_64", "amd64"), reason="x86 assembly"
)
@pytest.mark.parametrize(
    "spec, pattern",
    [
        (specs.bias_activation_spec("relu"), ("row", "full")),
        (specs.derivative_spec("relu"), ("full", "full")),
        (specs.derivative_spec("logistic"), ("full", "full")),
        (
            specs.optimizer_step_spec("adam"),
            ("full",) + ("scalar",) * 4 + ("full",) * 3,
        ),
        (
            specs.penalised_step_spec("adam", ("l2", "l1")),
            ("full",) + ("scalar",) * 6 + ("full",) * 3,
        ),
    ],
    ids=lambda value: getattr(value, "name", ""),
)
@pytest.mark.parametrize("summed", [False, True], ids=["", "column sums"])
def test_float32_kernels_are_vectorised(monkeypatch, spec, pattern, summed):
    # Packed (SIMD) float32 arithmetic in the machine code: what the typed
    # constants and error_model='numpy' are for. numba cannot show the code
    # of a kernel loaded from its cache, so this one is compiled in memory.
    monkeypatch.setattr(cache, "kernel_dir", lambda: None)
    kernel = nk.CompiledElementwise(spec, numba)
    n_inputs = len(source.parameter_names(spec.in_params))
    arguments = [
        0.5
        if kind == "scalar"
        else np.ones(64 if kind == "row" else (4, 64), np.float32)
        for kind in pattern
    ]
    if summed and not spec.name.endswith("_backward"):
        pytest.skip("column sums are for derivatives")
    sums = {"column_sums": np.ones(64, np.float32)} if summed else {}
    kernel(*arguments[:n_inputs], *arguments[n_inputs:], **sums)
    compiled = kernel._kernel(pattern, np.dtype(np.float32), summed=summed)
    (assembly,) = compiled.inspect_asm().values()
    packed = set(re.findall(r"\bv?(?:add|sub|mul|div|sqrt|cmp\w*)ps\b", assembly))
    assert packed, "no packed float32 instructions"
    assert not re.search(r"\bv?cvtss2sd\b", assembly), "float32 widened to float64"


@pytest.mark.skipif(
    platform.machine().lower() not in ("x86_64", "amd64"), reason="x86 assembly"
)
@pytest.mark.parametrize("name", ["centre_and_variance", "scale_gradient"])
def test_float32_batch_norm_sums_are_vectorised(monkeypatch, name):
    # The column sums run along the rows, so the loop over the columns is
    # vectorised without reordering any sum.
    monkeypatch.setattr(cache, "kernel_dir", lambda: None)
    kernel = cache.compile_source(numba, layers._BATCH_NORM_SUMS, name)
    row, full = np.ones(64, np.float32), np.ones((4, 64), np.float32)
    arguments = {
        "centre_and_variance": (row, full, full.copy(), row.copy()),
        "scale_gradient": (full, full, row),
    }[name]
    kernel(*arguments)
    (assembly,) = kernel.inspect_asm().values()
    packed = {op.lstrip("v") for op in re.findall(r"\bv?(?:add|mul)ps\b", assembly)}
    assert packed == {"addps", "mulps"}


def test_kernel_source_types_constants_and_hoists_scalars():
    source = nk.kernel_source(
        specs.optimizer_step_spec("adam"),
        ("full",) + ("scalar",) * 4 + ("full",) * 3,
        np.float32,
    )
    # 1 - beta_1 computed once, in double, then rounded: NumPy's way.
    assert "_h0 = np.float32(1 - _beta_1)" in source
    assert "m = m * beta_1 + g * _h0" in source
    relu = nk.kernel_source(
        specs.bias_activation_spec("relu"), ("row", "full"), np.float32
    )
    assert "_c0 = np.float32(0)" in relu
    assert "b = _b[_j]" in relu


def test_kernel_source_rejects_what_it_cannot_compile():
    bad_name = specs.ElementwiseSpec("T x", "T y", "y = log(x)", "k")
    with pytest.raises(ValueError, match=r"Unknown names \['log'\] in kernel k"):
        nk.kernel_source(bad_name, ("full", "full"), np.float64)
    bad_type = specs.ElementwiseSpec("int64 n", "T y", "y = n", "k")
    with pytest.raises(ValueError, match="Unsupported kernel parameter 'int64 n'"):
        nk.kernel_source(bad_type, ("scalar", "full"), np.float64)


def test_kernel_calls_are_checked():
    kernel = nk.CompiledElementwise(specs.derivative_spec("relu"), numba)
    a = np.ones((3, 4))
    with pytest.raises(TypeError, match="takes 1 inputs and 1 outputs, got 3"):
        kernel(a, a, a)
    with pytest.raises(TypeError, match="every array must be float64, got float32"):
        kernel(a.astype(np.float32), a)
    with pytest.raises(
        ValueError, match=r"shape \(4, 3\) does not fit outputs of shape"
    ):
        kernel(a.T, a)
    with pytest.raises(ValueError, match=r"column sums of outputs of shape \(3, 4\)"):
        kernel(a, a.copy(), column_sums=np.ones(3))



def _fits_with_and_without_kernels(monkeypatch, make, X, y):
    """Fits by ``make()`` without the kernels and with them, and the calls of
    each compiled kernel in the second (the first runs none)."""
    state = NumpyBackend.kernel_state
    monkeypatch.setattr(state, "min_size", 0)
    calls = count_kernel_calls(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with state.reference_only():
            without = make().fit(X, y)
        assert state.min_size == 0  # restored
        assert not calls
        with_kernels = make().fit(X, y)
    assert calls, "no compiled kernel ran"
    return without, with_kernels, calls


# The activations whose steps call a function numba does not vectorise
# (skmlp._kernels.specs.FUNCTIONS): NumPy's ufuncs run those steps.
WITHOUT_FORWARD_KERNEL = {"elu", "gelu", "logistic", "silu", "tanh"}
WITHOUT_DERIVATIVE_KERNEL = {"gelu", "identity", "silu"}  # identity's is 1


def test_the_activations_without_compiled_kernels_are_these():
    kernels = NumpyBackend.kernel_state.elementwise()
    forward, derivative = kernels.bias_activation, kernels.derivative
    assert {name for name in ACTIVATIONS if forward[name] is None} == (
        WITHOUT_FORWARD_KERNEL
    )
    assert {name for name in ACTIVATIONS if derivative.get(name) is None} == (
        WITHOUT_DERIVATIVE_KERNEL
    )


def _activation_kernels(activation):
    """The names of the kernels of the hidden ``activation``."""
    names = set()
    if activation not in WITHOUT_FORWARD_KERNEL:
        names.add(f"skmlp_{activation}_forward")
    if activation not in WITHOUT_DERIVATIVE_KERNEL:
        names.add(f"skmlp_{activation}_backward")
    return names


def _step_kernel(solver, nesterov=True, amsgrad=False):
    """How the name of ``solver``'s step kernel starts (a penalised step's
    goes on with the penalty's terms); None for L-BFGS, which has none."""
    if solver == "sgd":
        return "skmlp_nesterov_step" if nesterov else "skmlp_momentum_step"
    if solver == "adam" and amsgrad:
        return "skmlp_amsgrad_step"
    return None if solver == "lbfgs" else f"skmlp_{solver}_step"


def _assert_ran(calls, names, step=None):
    assert names <= set(calls), sorted(calls)
    if step is not None:
        assert any(name.startswith(step) for name in calls), sorted(calls)


SOLVERS = ("sgd", "adam", "rmsprop", "lbfgs")
# L-BFGS with an activation without kernels runs none: such a fit would
# compare the reference with itself.
ACTIVATION_SOLVERS = [
    (activation, solver)
    for activation in sorted(ACTIVATIONS)
    for solver in SOLVERS
    if _activation_kernels(activation) or _step_kernel(solver)
]


def test_the_fits_without_compiled_kernels_are_these():
    every = {(activation, solver) for activation in ACTIVATIONS for solver in SOLVERS}
    assert every - set(ACTIVATION_SOLVERS) == {("gelu", "lbfgs"), ("silu", "lbfgs")}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation, solver", ACTIVATION_SOLVERS)
def test_fits_with_kernels_equal_fits_without(monkeypatch, solver, activation, dtype):
    X, y = load_digits(n_class=4, return_X_y=True)
    X = (X[:200] / 16).astype(dtype)
    nesterov = activation != "tanh"

    def make():
        return MLPClassifierScratch(
            hidden_layer_sizes=(23, 9),
            activation=activation,
            solver=solver,
            max_iter=3,
            batch_size=64,
            nesterovs_momentum=nesterov,
            random_state=0,
        )

    without, with_kernels, calls = _fits_with_and_without_kernels(
        monkeypatch, make, X, y[:200]
    )
    _assert_ran(calls, _activation_kernels(activation), _step_kernel(solver, nesterov))
    _assert_equal_fits(with_kernels, without, dtype, ["coefs_", "intercepts_"])


def _assert_equal_fits(model, other, dtype, attributes):
    """The same loss curve and, bit for bit, the same arrays of dtype in each
    of ``attributes`` (lists of arrays)."""
    assert_array_equal(model.loss_curve_, other.loss_curve_)
    for name in attributes:
        for a, b in zip(getattr(model, name), getattr(other, name), strict=True):
            assert a.dtype == dtype
            assert_array_equal(a, b)


FEATURES = {
    "dropout": {"dropout": [0.3, 0.2]},
    "batch_norm": {"batch_norm": True},
    "both": {"dropout": 0.2, "batch_norm": True},
    # The penalty folded into the optimizer kernel, with weighted batches
    # (its rates then divide by a sum of weights), and left out of it where
    # clipping needs the whole gradient first.
    "l1, l2, class weights": {"l1": 1e-3, "alpha": 1e-2, "class_weight": "balanced"},
    "clipping": {"clip_grad_norm": 0.5, "l1": 1e-3},
    "amsgrad, nesterov": {"amsgrad": True, "nesterovs_momentum": False},
    # A new rate at every step: the kernel takes each.
    "per-batch cosine, warmup": {
        "learning_rate": "cosine",
        "schedule_unit": "batch",
        "warmup": 1.5,
    },
}
FEATURE_KERNELS = {
    "dropout": {"skmlp_dropout_forward", "skmlp_dropout_backward"},
    "batch_norm": {
        "centre_and_variance",
        "scale_gradient",
        "skmlp_batch_norm_normalise",
        "skmlp_batch_norm_backward",
    },
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("features", sorted(FEATURES))
def test_fits_with_features_equal_fits_without_kernels(
    monkeypatch, features, solver, dtype
):
    refused = ("dropout", "clip_grad_norm", "warmup")
    if solver == "lbfgs" and any(name in FEATURES[features] for name in refused):
        pytest.skip("dropout, clipping and warmup do not work with L-BFGS")
    X, y = load_digits(n_class=4, return_X_y=True)
    X = (X[:200] / 16).astype(dtype)

    def make():
        # 200 rows in batches of 64: the last batch has 8.
        return MLPClassifierScratch(
            hidden_layer_sizes=(23, 9),
            solver=solver,
            max_iter=3,
            batch_size=64,
            random_state=0,
            **FEATURES[features],
        )

    without, with_kernels, calls = _fits_with_and_without_kernels(
        monkeypatch, make, X, y[:200]
    )
    parameters = FEATURES[features]
    names = _activation_kernels("relu").union(
        *(FEATURE_KERNELS[name] for name in parameters if name in FEATURE_KERNELS)
    )
    step = _step_kernel(
        solver,
        parameters.get("nesterovs_momentum", True),
        parameters.get("amsgrad", False),
    )
    if step and "clip_grad_norm" not in parameters:
        # The penalty folded in (default alpha: l2).
        step += "_l2_l1" if "l1" in parameters else "_l2"
    _assert_ran(calls, names, step)
    # scales, shifts, running means and variances
    batch_norm = [a for a in vars(without) if re.fullmatch("batch_norm_.*_", a)]
    assert len(batch_norm) == 4  # (empty lists without batch norm)
    _assert_equal_fits(
        with_kernels, without, dtype, ["coefs_", "intercepts_", *batch_norm]
    )
    assert_array_equal(with_kernels.predict_proba(X), without.predict_proba(X))

    # What was fitted with kernels pickles without them.
    dumped = pickle.dumps(with_kernels)
    assert b"numba" not in dumped
    assert_array_equal(pickle.loads(dumped).predict_proba(X), without.predict_proba(X))


@pytest.mark.parametrize(
    "make, target",
    [
        (
            lambda: MLPClassifierScratch(hidden_layer_sizes=(17,), max_iter=3),
            "multilabel",
        ),
        (lambda: MLPClassifierScratch(hidden_layer_sizes=(17,), max_iter=3), "binary"),
        (
            lambda: MLPRegressorScratch(hidden_layer_sizes=(17,), max_iter=3),
            "multioutput",
        ),
        (
            lambda: MLPRegressorScratch(
                hidden_layer_sizes=(17,), loss="poisson", max_iter=3
            ),
            "counts",
        ),
        *(
            (
                lambda loss=loss: MLPRegressorScratch(
                    hidden_layer_sizes=(17,), loss=loss, max_iter=3
                ),
                "multioutput",
            )
            for loss in ("absolute_error", "huber", "quantile")
        ),
    ],
)
def test_every_output_fits_alike_with_kernels(monkeypatch, make, target):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 6))
    y = {
        "multilabel": rng.integers(0, 2, (120, 3)),
        "binary": rng.integers(0, 2, 120),
        "multioutput": rng.normal(size=(120, 2)),
        "counts": rng.poisson(2.0, 120),
    }[target]
    without, with_kernels, calls = _fits_with_and_without_kernels(
        monkeypatch, lambda: make().set_params(random_state=0), X, y
    )
    _assert_ran(calls, _activation_kernels("relu"), _step_kernel("adam"))
    assert_array_equal(with_kernels.loss_curve_, without.loss_curve_)
    assert_array_equal(with_kernels.predict(X), without.predict(X))


@pytest.mark.parametrize("features", [{}, FEATURES["both"]], ids=["plain", "both"])
def test_small_fits_never_start_numba(monkeypatch, features):
    # Digits' arrays are all below MIN_KERNEL_SIZE: numba is not started
    # (that would cost more than the whole fit), so nothing is loaded.
    state = fresh_kernel_state(monkeypatch)
    X, y = load_digits(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MLPClassifierScratch(max_iter=2, random_state=0, **features).fit(X, y)
    assert not state.started


def test_large_arrays_start_the_kernels(monkeypatch):
    state = fresh_kernel_state(monkeypatch)
    z = np.zeros((state.min_size // 64, 64))
    NumpyBackend().activation("relu").forward(z, np.ones(64))
    assert state.started
    assert state.elementwise() is not None
    assert_array_equal(z, 1.0)


# ---------------------------------------------------------------- without numba
def test_without_numba_the_reference_runs_after_one_warning(monkeypatch):
    state = fresh_kernel_state(monkeypatch, min_size=0)
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba fails
    X, y = load_digits(n_class=3, return_X_y=True)
    model = MLPClassifierScratch(hidden_layer_sizes=(11,), max_iter=2, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
        model.fit(X, y)
    numba_warnings = [w for w in caught if "could not import numba" in str(w.message)]
    assert len(numba_warnings) == 1
    assert "pip install numba" in str(numba_warnings[0].message)
    assert numba_warnings[0].filename == __file__  # points at the user's call
    assert state.started
    assert state.elementwise() is None

    with warnings.catch_warnings(), state.reference_only():
        warnings.simplefilter("ignore")
        reference = MLPClassifierScratch(
            hidden_layer_sizes=(11,), max_iter=2, random_state=0
        ).fit(X, y)
    assert_array_equal(model.loss_curve_, reference.loss_curve_)


# ---------------------------------------------------------------- caching
def test_kernel_dir_follows_numba_cache_dir_and_is_never_the_package(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    cache.kernel_dir.cache_clear()
    try:
        assert cache.kernel_dir() == str(tmp_path / "skmlp" / "kernels")
    finally:
        cache.kernel_dir.cache_clear()


def test_unwritable_cache_dir_compiles_in_memory(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(blocker))
    cache.kernel_dir.cache_clear()
    try:
        assert cache.kernel_dir() is None
        kernel = nk.CompiledElementwise(specs.derivative_spec("tanh"), numba)
        a, delta = np.full((2, 3), 0.5), np.ones((2, 3))
        kernel(a, delta)
        assert_array_equal(delta, 0.75)
    finally:
        cache.kernel_dir.cache_clear()


def test_kernels_are_cached_on_disk_and_reloaded(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    cache.kernel_dir.cache_clear()
    try:
        spec = specs.derivative_spec("logistic")
        a, delta = np.full((2, 3), 0.5), np.ones((2, 3))
        nk.CompiledElementwise(spec, numba)(a, delta)
        (source,) = (tmp_path / "skmlp" / "kernels").glob(
            "skmlp_logistic_backward_*.py"
        )
        mtime = source.stat().st_mtime_ns
        again = nk.CompiledElementwise(spec, numba)  # as in a new process
        again(a, delta)
        (dispatcher,) = again._compiled.values()
        assert sum(dispatcher.stats.cache_hits.values()) == 1
        assert source.stat().st_mtime_ns == mtime  # not rewritten
        assert_array_equal(delta, 0.0625)
    finally:
        cache.kernel_dir.cache_clear()
