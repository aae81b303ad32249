"""Dropout's counter-based uniform draws: the compiled dropout kernels remake
the NumPy reference's draws bit for bit, and the draws look uniform and
independent."""

import contextlib
import warnings

import numpy as np
import pytest
from _device_helpers import count_kernel_calls
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal
from scipy import stats
from sklearn.datasets import load_digits

from skmlp import MLPClassifierScratch
from skmlp._backends import NumpyBackend
from skmlp._kernels import cpu as nk
from skmlp._nn import random as _random

numba = pytest.importorskip("numba")


def reference(low, high, out):
    _random.fill_reference(
        low, high, out, np.arange(out.size, dtype=np.uint32), np.empty((2, out.size), np.uint32)
    )
    return out


@pytest.fixture(scope="module")
def kernels_everywhere():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(NumpyBackend.kernel_state, "min_size", 0)
        yield


@pytest.mark.usefixtures("kernels_everywhere")
@settings(max_examples=25, deadline=None)
@given(
    rows=st.integers(1, 40),
    cols=st.integers(1, 70),
    dtype=st.sampled_from([np.float32, np.float64]),
    strided=st.booleans(),
    low=st.integers(0, 2**32 - 1),
    high=st.integers(0, 2**32 - 1),
    rate=st.floats(0.01, 0.99),
)
def test_compiled_dropout_kernels_remake_the_reference_draws(
    rows, cols, dtype, strided, low, high, rate
):
    # Forward: a * (draw >= rate) * scale; backward: the same mask on delta,
    # each from the draws of the key, written through strided views too.
    def array():
        if strided:
            return np.ones((rows, 3 * cols), dtype)[:, ::3]
        return np.ones((rows, cols), dtype)

    cast = np.dtype(dtype).type
    key = np.uint32(low), np.uint32(high), _random.unit(dtype)
    scale = 1 / (1 - rate)
    a, out, delta = array(), array(), array()
    a *= 3
    delta *= -2
    state = NumpyBackend.kernel_state
    forward = state.written_out("skmlp_dropout_forward", nk.counter_kernel_source, a)
    forward(*key, cast(rate), cast(scale), a, out)
    backward = state.written_out(
        "skmlp_dropout_backward", nk.counter_kernel_source, delta
    )
    backward(*key, cast(rate), cast(scale), delta)
    keep = reference(low, high, np.empty((rows, cols), dtype)) >= rate
    expected = np.where(keep, cast(3) * cast(scale), 0).astype(dtype)
    assert_array_equal(out, expected)
    assert_array_equal(delta, np.where(keep, cast(-2) * cast(scale), 0).astype(dtype))


def test_generator_reproduces_from_random_state():
    def draws(seed):
        fill = NumpyBackend.uniform(np.random.RandomState(seed))
        out = [np.empty((50, 30), np.float32) for _ in range(3)]
        for array in out:
            fill(array)
        return out

    first, again, other = draws(0), draws(0), draws(1)
    for a, b, c in zip(first, again, other):
        assert_array_equal(a, b)
        assert not np.array_equal(a, c)
    assert not np.array_equal(first[0], first[1])  # a fresh key every call
    assert_array_equal(first[0], reference(*_first_key(0), np.empty((50, 30), np.float32)))


def _first_key(seed):
    """The key of the first call of NumpyBackend.uniform(RandomState(seed))."""
    keys = np.random.default_rng(np.random.RandomState(seed).randint(np.iinfo(np.int32).max))
    raw = int(keys.bit_generator.random_raw())
    return raw & 0xFFFFFFFF, raw >> 32


def test_draws_look_uniform_and_independent():
    fill = NumpyBackend.uniform(np.random.RandomState(0))
    out = np.empty((1000, 512), np.float32)
    fill(out)
    draws = out.ravel().astype(np.float64)
    assert draws.min() >= 0 and draws.max() < 1
    # Uniform: a chi-square test over 256 bins, and the mean and variance.
    counts = np.bincount((draws * 256).astype(int), minlength=256)
    assert stats.chisquare(counts).pvalue > 1e-4
    assert abs(draws.mean() - 0.5) < 3e-3
    assert abs(draws.var() - 1 / 12) < 1e-3
    # Independent of their neighbours (counters k and k + 1), the unit above
    # (k + 512) and the next call's draw of the same counter.
    following = np.empty_like(out)
    fill(following)
    for a, b in (
        (draws[:-1], draws[1:]),
        (draws[:-512], draws[512:]),
        (draws, following.ravel()),
    ):
        assert abs(np.corrcoef(a, b)[0, 1]) < 5e-3
    # Dropout's keep rate at 0.2 over many rows.
    assert abs((out >= 0.2).mean() - 0.8) < 2e-3


@settings(max_examples=20, deadline=None)
@given(
    rows=st.integers(1, 30),
    cols=st.integers(1, 50),
    dtype=st.sampled_from([np.float32, np.float64]),
    rate=st.sampled_from([0.1, 0.5, 0.9]),
    seed=st.integers(0, 2**31 - 1),
)
def test_compiled_dropout_remakes_the_reference_masks(rows, cols, dtype, rate, seed):
    # The kernels draw inside forward and backward; the reference writes the
    # same key's draws to a noise array and keeps a mask. Two layers share one
    # generator, each step taking the next key, in either way.
    backend = NumpyBackend()
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(rows, cols)).astype(dtype)
    delta = rng.normal(size=(rows, cols)).astype(dtype)

    def steps(kernels):
        uniform = backend.uniform(np.random.RandomState(seed))
        layers = [backend.dropout(rate, cols, dtype) for _ in range(2)]
        results = []
        state = NumpyBackend.kernel_state
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(state, "min_size", 0)
            with contextlib.nullcontext() if kernels else state.reference_only():
                for layer in layers:
                    layer.uniform = uniform
                    results.append(layer.forward(a, True).copy())
                for layer in reversed(layers):
                    results.append(layer.backward(delta.copy()).copy())
        return results

    for compiled, reference in zip(steps(True), steps(False)):
        assert_array_equal(compiled, reference)
    assert_array_equal(backend.dropout(rate, cols, dtype).forward(a, False), a)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_dropout_fits_equal_with_kernels_or_without(monkeypatch, solver):
    X, y = load_digits(n_class=4, return_X_y=True)
    X = (X[:200] / 16).astype(np.float32)

    def fit():
        return MLPClassifierScratch(
            hidden_layer_sizes=(30, 20), dropout=[0.3, 0.1], solver=solver,
            max_iter=3, batch_size=50, random_state=0,
        ).fit(X, y[:200])

    state = NumpyBackend.kernel_state
    monkeypatch.setattr(state, "min_size", 0)
    calls = count_kernel_calls(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with_kernels = fit()
        assert calls["skmlp_dropout_forward"] and calls["skmlp_dropout_backward"]
        calls.clear()
        with state.reference_only():
            without = fit()
        assert not calls
    assert with_kernels.loss_curve_ == without.loss_curve_
    for a, b in zip(with_kernels.coefs_, without.coefs_):
        assert_array_equal(a, b)
