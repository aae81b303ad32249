"""The CuPy backend on a real GPU: the same models as NumPy, scikit-learn's
contract, host-only fitted state, CuPy inputs, memory.

Skipped where CuPy or a CUDA device is missing. On a GPU machine run
``PYTHONPATH=. python3 -m pytest -q tests/backends/test_cupy.py``.

Equivalence is checked with ``shuffle=False``: with shuffling the GPU draws its
own sample order, so only the initial weights are shared with NumPy.
"""

import gc
import pickle
import subprocess
import sys
import textwrap
import types
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmlp import MLPClassifierScratch, MLPRegressorScratch
from skmlp._backends import CupyBackend, NumpyBackend, get_backend
from skmlp._backends.base import is_device_array
from skmlp._backends.selection import _cuda_device_problem
from skmlp._kernels import FUSED_OUTPUTS, FusedActivation
from skmlp._nn import ACTIVATIONS, OUTPUTS

cupy = pytest.importorskip("cupy")
if _cuda_device_problem(cupy):
    pytest.skip(
        f"no usable CUDA device: {_cuda_device_problem(cupy)}", allow_module_level=True
    )

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def multiclass():
    X, y = make_classification(
        n_samples=150, n_features=8, n_informative=5, n_classes=3, random_state=0
    )
    return X, y


def fit_both(estimator, X, y, **params):
    """The same estimator fitted on NumPy and on CuPy."""
    host = estimator(backend="numpy", **params).fit(X, y)
    device = estimator(backend="cupy", **params).fit(X, y)
    return host, device


def assert_same_model(host, device, X, rtol):
    assert device.n_iter_ == host.n_iter_
    assert_allclose(device.loss_curve_, host.loss_curve_, rtol=rtol)
    for device_layer, host_layer in zip(
        device.coefs_ + device.intercepts_, host.coefs_ + host.intercepts_
    ):
        assert isinstance(device_layer, np.ndarray)
        assert_allclose(device_layer, host_layer, rtol=rtol, atol=rtol)
    method = "predict_proba" if hasattr(host, "predict_proba") else "predict"
    assert_allclose(
        getattr(device, method)(X), getattr(host, method)(X), rtol=rtol, atol=rtol
    )


# ------------------------------------------------------- NumPy == CuPy
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize(
    "solver", [("sgd", True), ("sgd", False), ("adam", None), ("rmsprop", None)]
)
def test_every_solver_and_activation_matches_numpy(multiclass, solver, activation):
    X, y = multiclass
    name, nesterov = solver
    params = {
        "hidden_layer_sizes": (12, 7), "activation": activation, "solver": name,
        "nesterovs_momentum": bool(nesterov), "alpha": 1e-3, "batch_size": 32,
        "learning_rate_init": 0.01, "max_iter": 6, "shuffle": False, "random_state": 0,
    }
    host, device = fit_both(MLPClassifierScratch, X, y, **params)
    assert_same_model(host, device, X, rtol=1e-9)


@pytest.mark.parametrize(
    "schedule",
    [
        {"learning_rate": "constant"},
        {"learning_rate": "invscaling", "power_t": 0.3},
        {"learning_rate": "adaptive", "tol": 10.0, "n_iter_no_change": 1},
        {"learning_rate": "step", "step_size": 2, "gamma": 0.5},
        {"learning_rate": "cosine"},
    ],
    ids=lambda s: s["learning_rate"],
)
@pytest.mark.parametrize("solver", ["sgd", "adam", "rmsprop"])
def test_every_schedule_matches_numpy(multiclass, schedule, solver):
    X, y = multiclass
    params = dict(
        solver=solver, batch_size=40, learning_rate_init=0.02, max_iter=8,
        shuffle=False, random_state=1, **schedule,
    )
    host, device = fit_both(MLPClassifierScratch, X, y, **params)
    assert_same_model(host, device, X, rtol=1e-9)


def test_binary_multilabel_and_early_stopping_match_numpy(multiclass):
    X, y = multiclass
    params = {"max_iter": 6, "shuffle": False, "random_state": 0, "batch_size": 25}
    assert_same_model(*fit_both(MLPClassifierScratch, X, y == 1, **params), X, 1e-9)
    X_ml, Y_ml = make_multilabel_classification(n_samples=80, random_state=0)
    assert_same_model(*fit_both(MLPClassifierScratch, X_ml, Y_ml, **params), X_ml, 1e-9)
    host, device = fit_both(
        MLPClassifierScratch, X, y, early_stopping=True, validation_fraction=0.2,
        **params,
    )
    assert device.validation_scores_ == host.validation_scores_
    assert_same_model(host, device, X, 1e-9)


@pytest.mark.parametrize(
    "params",
    [
        {"amsgrad": True},
        {"class_weight": {0: 3.0}, "early_stopping": True, "scoring": "loss"},
        {"class_weight": "balanced", "early_stopping": True, "scoring": "f1_macro"},
    ],
    ids=["amsgrad", "class_weight-loss", "balanced-scorer"],
)
def test_training_features_match_numpy(multiclass, params):
    X, y = multiclass
    host, device = fit_both(
        MLPClassifierScratch, X, y, max_iter=6, shuffle=False, random_state=0,
        batch_size=25, validation_fraction=0.2, **params,
    )
    assert_allclose(device.validation_scores_ or [], host.validation_scores_ or [],
                    rtol=1e-9)
    assert_same_model(host, device, X, 1e-9)


def test_regression_matches_numpy(multiclass):
    X, _ = multiclass
    Y = np.column_stack([X[:, :3].sum(axis=1), np.sin(X[:, 3])])
    params = {
        "hidden_layer_sizes": (16,), "max_iter": 6, "shuffle": False, "random_state": 0,
        "batch_size": 30, "learning_rate_init": 0.01,
    }
    assert_same_model(*fit_both(MLPRegressorScratch, X, Y, **params), X, 1e-9)
    host, device = fit_both(MLPRegressorScratch, X, Y, early_stopping=True, **params)
    assert_same_model(host, device, X, 1e-9)


def test_lbfgs_matches_numpy(multiclass):
    X, y = multiclass
    params = {"solver": "lbfgs", "alpha": 1e-3, "max_iter": 10, "random_state": 0}
    # The line search sees the GPU's rounding: looser than one SGD pass.
    assert_same_model(*fit_both(MLPClassifierScratch, X, y, **params), X, 1e-6)


def test_sample_weights_and_poisson_match_numpy(multiclass):
    X, y = multiclass
    weights = np.random.RandomState(0).uniform(0, 2, size=len(y))
    weights[:25] = 0  # the first batch carries no weight and is skipped
    params = {
        "max_iter": 5, "shuffle": False, "random_state": 0, "batch_size": 25,
        "alpha": 1e-3,
    }
    for estimator, target in ((MLPClassifierScratch, y), (MLPRegressorScratch, X[:, 0])):
        host = estimator(**params).fit(X, target, sample_weight=weights)
        device = estimator(backend="cupy", **params).fit(X, target, sample_weight=weights)
        assert_same_model(host, device, X, 1e-9)
    counts = np.random.RandomState(1).poisson(np.exp(X[:, 0] / 3))
    assert_same_model(
        *fit_both(MLPRegressorScratch, X, counts, loss="poisson", **params), X, 1e-9
    )


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_robust_losses_l1_and_clipping_match_numpy(multiclass, solver):
    X, _ = multiclass
    y = X[:, 0] + np.where(np.arange(len(X)) % 10 == 0, 20.0, 0.0)  # outliers
    weights = np.random.RandomState(0).uniform(0.5, 2, size=len(y))
    params = {
        "solver": solver, "max_iter": 5, "shuffle": False, "random_state": 0,
        "batch_size": 25, "l1": 1e-2, "clip_grad_norm": 0.5,
    }
    for loss in (
        {"loss": "absolute_error"},
        {"loss": "huber", "huber_delta": 0.5},
        {"loss": "quantile", "quantile": 0.9},
    ):
        for sample_weight in (None, weights):
            host = MLPRegressorScratch(**params, **loss).fit(X, y, sample_weight)
            device = MLPRegressorScratch(backend="cupy", **params, **loss).fit(
                X, y, sample_weight
            )
            assert_same_model(host, device, X, 1e-9)


def test_float32_matches_numpy_to_float32_precision(multiclass):
    X, y = multiclass
    X = X.astype(np.float32)
    params = {"max_iter": 5, "shuffle": False, "random_state": 0, "batch_size": 32}
    host, device = fit_both(MLPClassifierScratch, X, y, **params)
    assert device.coefs_[0].dtype == np.float32
    assert_same_model(host, device, X, rtol=2e-4)


def test_partial_fit_and_warm_start_match_numpy(multiclass):
    X, y = multiclass
    params = {"max_iter": 3, "shuffle": False, "random_state": 0, "warm_start": True}
    host, device = fit_both(MLPClassifierScratch, X, y, **params)
    for model in (host, device):
        model.fit(X, y)
        model.partial_fit(X, y)
    assert_same_model(host, device, X, 1e-9)


def test_device_shuffle_reproduces_from_random_state(multiclass):
    X, y = multiclass
    params = {"backend": "cupy", "max_iter": 4, "random_state": 3, "batch_size": 20}
    first = MLPClassifierScratch(**params).fit(X, y)
    second = MLPClassifierScratch(**params).fit(X, y)
    unshuffled = MLPClassifierScratch(shuffle=False, **params).fit(X, y)
    assert first.loss_curve_ == second.loss_curve_
    assert first.loss_curve_ != unshuffled.loss_curve_


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_batch_norm_matches_numpy(multiclass, solver):
    X, y = multiclass
    host, device = fit_both(
        MLPClassifierScratch, X, y, solver=solver, batch_norm=True, shuffle=False,
        max_iter=5, batch_size=32, random_state=0,
    )
    assert_same_model(host, device, X, 1e-9)
    for name in ("batch_norm_scales_", "batch_norm_running_vars_"):
        for a, b in zip(getattr(device, name), getattr(host, name)):
            assert isinstance(a, np.ndarray)
            assert_allclose(a, b, rtol=1e-9)


def test_device_dropout_reproduces_from_random_state(multiclass):
    X, y = multiclass
    params = {"backend": "cupy", "max_iter": 4, "random_state": 3, "dropout": 0.3}
    first = MLPClassifierScratch(**params).fit(X, y)
    second = MLPClassifierScratch(**params).fit(X, y)
    other = MLPClassifierScratch(**{**params, "random_state": 4}).fit(X, y)
    assert first.loss_curve_ == second.loss_curve_
    assert first.loss_curve_ != other.loss_curve_
    assert_array_equal(first.predict_proba(X), first.predict_proba(X))


# ------------------------------------------------------- kernels one by one
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_fused_activation_kernels_match_numpy(name, dtype, rtol):
    rng = np.random.RandomState(0)
    z = rng.normal(scale=2, size=(33, 17)).astype(dtype)
    bias = rng.normal(size=17).astype(dtype)
    delta = rng.normal(size=(33, 17)).astype(dtype)
    reference = ACTIVATIONS[name](NumpyBackend())
    fused = get_backend("cupy").activation(name)
    assert isinstance(fused, FusedActivation)

    a = z.copy()
    reference.forward(a, bias)
    a_device = cupy.asarray(z)
    fused.forward(a_device, cupy.asarray(bias))
    assert_allclose(a_device.get(), a, rtol=rtol, atol=rtol)
    # The derivative from the output, or from z + bias where declared.
    if not reference.derivative_from_output:
        a, a_device = z + bias, cupy.asarray(z + bias)
    delta_ref = delta.copy()
    reference.backward(a.copy(), delta_ref)
    delta_device = cupy.asarray(delta)
    fused.backward(a_device, delta_device)
    assert_allclose(delta_device.get(), delta_ref, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("name", sorted(FUSED_OUTPUTS))  # 'exp' runs unfused
def test_fused_output_kernels_match_numpy(name, dtype, rtol):
    rng = np.random.RandomState(0)
    z = rng.normal(scale=3, size=(41, 5)).astype(dtype)
    y = rng.uniform(size=(41, 5)).astype(dtype)
    y[0] = 0  # clipped log of exact zeros and ones
    z[1] = [60, -60, 0, 1, 2]
    reference = OUTPUTS[name](NumpyBackend())
    fused = get_backend("cupy").output(name)
    assert type(fused) is not type(reference)

    p = z.copy()
    reference.activate(p)
    p_device = cupy.asarray(z)
    fused.activate(p_device)
    assert_allclose(p_device.get(), p, rtol=rtol, atol=rtol)
    loss = fused.loss(cupy.asarray(y), p_device)
    assert isinstance(loss, cupy.ndarray) and loss.shape == ()
    assert_allclose(float(loss), float(reference.loss(y, p)), rtol=rtol)


# ------------------------------------------------------- scikit-learn contract
@parametrize_with_checks(
    [MLPClassifierScratch(backend="cupy"), MLPRegressorScratch(backend="cupy")]
)
def test_sklearn_compatible_estimator_on_cupy(estimator, check):
    check(estimator)


# ------------------------------------------------------- state and inputs
def assert_no_device_objects(estimator):
    from test_backend import held_objects

    for value in held_objects(estimator):
        assert not is_device_array(value), type(value)
        assert not isinstance(value, (types.ModuleType, CupyBackend)), type(value)


@pytest.mark.parametrize("solver", ["sgd", "adam", "rmsprop"])
def test_fitted_model_holds_only_numpy(multiclass, solver):
    X, y = multiclass
    clf = MLPClassifierScratch(backend="cupy", solver=solver, max_iter=3)
    clf.fit(X, y).partial_fit(X, y)
    assert_no_device_objects(clf)
    reg = MLPRegressorScratch(backend="cupy", early_stopping=True, max_iter=3)
    assert_no_device_objects(reg.fit(X, y * 1.0))


def test_gpu_model_loads_and_predicts_without_cupy(multiclass, tmp_path):
    X, y = multiclass
    clf = MLPClassifierScratch(backend="cupy", max_iter=5, random_state=0).fit(X, y)
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(clf))
    np.save(tmp_path / "X.npy", X)
    script = textwrap.dedent(
        f"""
        import pickle, sys, warnings
        sys.modules["cupy"] = None  # this machine has no CuPy
        import numpy as np
        clf = pickle.loads(open({str(path)!r}, "rb").read())
        X = np.load({str(tmp_path / "X.npy")!r})
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            proba = clf.predict_proba(X)
        assert any("Predicting with NumPy" in str(w.message) for w in caught)
        clf.set_params(backend="numpy")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert np.array_equal(clf.predict_proba(X), proba)
        np.save({str(tmp_path / "proba.npy")!r}, proba)
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, env=_env_with_skmlp())
    assert_allclose(np.load(tmp_path / "proba.npy"), clf.predict_proba(X), rtol=1e-12)


def _env_with_skmlp():
    import os

    import skmlp

    root = os.path.dirname(os.path.dirname(skmlp.__file__))
    return {**os.environ, "PYTHONPATH": root}


def test_cupy_inputs_come_back_as_cupy(multiclass):
    X, y = multiclass
    host = MLPClassifierScratch(backend="cupy", max_iter=4, random_state=0).fit(X, y)
    device = MLPClassifierScratch(backend="cupy", max_iter=4, random_state=0)
    device.fit(cupy.asarray(X), cupy.asarray(y))
    assert device.loss_curve_ == host.loss_curve_
    for method in ("predict", "predict_proba", "predict_log_proba"):
        result = getattr(device, method)(cupy.asarray(X))
        assert isinstance(result, cupy.ndarray), method
        assert_array_equal(result.get(), getattr(host, method)(X))
    reg = MLPRegressorScratch(backend="numpy", max_iter=3).fit(cupy.asarray(X), y * 1.0)
    assert isinstance(reg.predict(cupy.asarray(X)), cupy.ndarray)
    assert device.score(cupy.asarray(X), cupy.asarray(y)) == host.score(X, y)


def test_set_params_numpy_moves_a_gpu_model_to_the_cpu(multiclass):
    X, y = multiclass
    params = {"max_iter": 3, "shuffle": False, "random_state": 0}
    moved = MLPClassifierScratch(backend="cupy", **params).fit(X, y)
    host = MLPClassifierScratch(**params).fit(X, y)
    moved.set_params(backend="numpy")
    moved.partial_fit(X, y)
    host.partial_fit(X, y)
    assert_same_model(host, moved, X, 1e-9)


# ------------------------------------------------------- memory
def test_repeated_fits_do_not_grow_device_memory(multiclass):
    X, y = multiclass
    pool = cupy.get_default_memory_pool()
    clf = MLPClassifierScratch(backend="cupy", max_iter=3, early_stopping=True)
    # One fit and predict first: the pool then holds blocks of every size the
    # loop asks for (predict's are larger than a batch's).
    clf.fit(X, y)
    clf.predict(X)
    gc.collect()
    used, total = pool.used_bytes(), pool.total_bytes()
    for _ in range(3):
        clf.fit(X, y)
        clf.predict(X)
    gc.collect()
    assert pool.used_bytes() == used
    assert pool.total_bytes() == total


def test_out_of_memory_says_what_to_lower():
    pool = cupy.get_default_memory_pool()
    X = np.random.RandomState(0).normal(size=(4000, 300))  # 9.2 MiB
    y = np.arange(4000) % 3
    gc.collect()
    pool.free_all_blocks()
    pool.set_limit(size=pool.total_bytes() + 4 * 2**20)
    try:
        clf = MLPClassifierScratch(backend="cupy", batch_size=500, max_iter=2)
        with pytest.raises(MemoryError, match="Lower batch_size") as error:
            clf.fit(X, y)
    finally:
        pool.set_limit(size=0)
    assert "4000 samples x 300 features + 3 targets" in str(error.value)
    assert isinstance(error.value.__cause__, cupy.cuda.memory.OutOfMemoryError)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X[:100], y[:100])  # the device is usable again
