"""Backends on the CPU: selection and its errors, what stays on the host, the
GPU kernels' math and dispatch evaluated with NumPy.

CI has no GPU, so everything about the CuPy backend that does not need a
device is tested here:

- selection ('numpy' / 'cupy' / 'auto') with CuPy missing, or importable but
  without a usable device (a stand-in module);
- the host/device plumbing of the estimators, with a *simulated device*: a
  NumPy backend whose arrays are a distinct ndarray subclass, so any array
  left "on the device" after fit (in the pickle, the optimizer state) shows;
- the fused CUDA kernels: their elementwise bodies are valid Python as well as
  CUDA C, so they run here through the same dispatch code as on the GPU and
  are compared with the reference activations and optimizers.
"""

import importlib.abc
import inspect
import sys
import types

import numpy as np
import pytest
import sklearn
from _device_helpers import (
    NumpyElementwiseKernel,
    SimulatedOutOfMemory,
    assert_host_only,
    numpy_kernels,
)
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from scipy.special import expit
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.fixes import parse_version

from skmlp import MLPClassifierScratch, MLPRegressorScratch
from skmlp.__main__ import main
from skmlp._backends import (
    BackendUnavailableError,
    CupyBackend,
    NumpyBackend,
    get_backend,
    out_of_memory_message,
    selection,
)
from skmlp._kernels import cuda as _cupy_kernels
from skmlp._kernels import steps
from skmlp._nn import (
    ACTIVATIONS,
    OPTIMIZERS,
    OUTPUTS,
    SGD,
    Adam,
    RMSprop,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def classification():
    return make_classification(
        n_samples=60, n_features=6, n_informative=4, n_classes=3, random_state=0
    )


@pytest.fixture(autouse=True)
def fresh_cupy_probe():
    """Tests here swap the 'cupy' module: probe it afresh in each one."""
    selection._probe_cupy.cache_clear()
    yield
    selection._probe_cupy.cache_clear()


@pytest.fixture
def without_cupy(monkeypatch):
    """Make ``import cupy`` fail, whether or not CuPy is installed."""
    monkeypatch.setitem(sys.modules, "cupy", None)
    selection._cached_cupy_backend.cache_clear()


def fake_cupy(device_count):
    """A module that imports as 'cupy' and reports ``device_count`` devices
    (or raises it, when it is an exception)."""

    def get_device_count():
        if isinstance(device_count, Exception):
            raise device_count
        return device_count

    module = types.ModuleType("cupy")
    module.__version__ = "0.0-test"
    module.cuda = types.SimpleNamespace(
        runtime=types.SimpleNamespace(getDeviceCount=get_device_count),
        memory=types.SimpleNamespace(OutOfMemoryError=MemoryError),
    )
    module.ElementwiseKernel = NumpyElementwiseKernel
    module.ReductionKernel = lambda *args, **kwargs: None
    module.asarray = np.asarray
    module.asnumpy = np.asarray
    return module


# ------------------------------------------------------------- selection
def test_numpy_backend_is_the_default_and_selectable():
    assert MLPClassifierScratch().backend == "numpy"
    assert get_backend("numpy").name == "numpy"


def test_unknown_backend_is_rejected(classification):
    with pytest.raises(ValueError, match="Unknown backend 'torch'"):
        get_backend("torch")
    X, y = classification
    with pytest.raises(ValueError, match="'backend' parameter"):
        MLPClassifierScratch(backend="gpu").fit(X, y)


def test_cupy_without_cupy_names_the_install_command(without_cupy, classification):
    with pytest.raises(BackendUnavailableError, match=r"pip install skmlp\[gpu\]"):
        get_backend("cupy")
    X, y = classification
    with pytest.raises(ValueError, match=r"needs CuPy.*pip install skmlp\[gpu\]"):
        MLPClassifierScratch(backend="cupy", max_iter=2).fit(X, y)


def test_auto_falls_back_to_numpy_without_cupy(without_cupy, classification):
    assert get_backend("auto").name == "numpy"
    X, y = classification
    auto = MLPClassifierScratch(backend="auto", max_iter=5, random_state=0).fit(X, y)
    plain = MLPClassifierScratch(max_iter=5, random_state=0).fit(X, y)
    assert auto.loss_curve_ == plain.loss_curve_


@pytest.mark.parametrize(
    "devices, reason",
    [(0, "no CUDA device found"), (RuntimeError("cudaErrorInsufficientDriver"),
                                   "cudaErrorInsufficientDriver")],
)
def test_cupy_without_a_device(monkeypatch, devices, reason):
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy(devices))
    with pytest.raises(BackendUnavailableError, match=f"no usable CUDA.*{reason}"):
        get_backend("cupy")
    assert get_backend("auto").name == "numpy"


def test_cupy_is_probed_once_per_process(monkeypatch):
    """A failed ``import cupy`` is not remembered by Python: backend='auto'
    must not retry it at every call."""
    recorder = _RecordCupyImports()
    monkeypatch.delitem(sys.modules, "cupy", raising=False)
    monkeypatch.setattr(sys, "meta_path", [recorder, *sys.meta_path])
    for _ in range(3):
        assert get_backend("auto").name == "numpy"
        with pytest.raises(BackendUnavailableError, match="cannot be imported"):
            get_backend("cupy")
    assert recorder.attempts == ["cupy"]


def test_auto_picks_cupy_where_a_device_answers(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy(1))
    backend = get_backend("auto")
    assert isinstance(backend, CupyBackend)
    assert get_backend("cupy") is backend  # one instance: kernels compile once


class _RecordCupyImports(importlib.abc.MetaPathFinder):
    def __init__(self):
        self.attempts = []

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("cupy", "cupyx"):
            self.attempts.append(name)
            raise ImportError("blocked by the test")


def test_numpy_backend_never_imports_cupy(monkeypatch, classification):
    for name in [m for m in sys.modules if m.partition(".")[0] in ("cupy", "cupyx")]:
        monkeypatch.delitem(sys.modules, name)
    selection._cached_cupy_backend.cache_clear()
    recorder = _RecordCupyImports()
    monkeypatch.setattr(sys, "meta_path", [recorder, *sys.meta_path])
    X, y = classification
    clf = MLPClassifierScratch(max_iter=3, early_stopping=True, random_state=0)
    clf.fit(X, y).predict_proba(X)
    clf.set_params(early_stopping=False).partial_fit(X, y)
    MLPRegressorScratch(max_iter=3).fit(X, y.astype(float)).predict(X)
    assert recorder.attempts == []
    # The recorder does see a probe: 'auto' tries CuPy, then uses NumPy.
    MLPClassifierScratch(backend="auto", max_iter=3).fit(X, y)
    assert recorder.attempts


def test_cli_lists_every_backend_and_explains_a_missing_one(without_cupy, capsys):
    with pytest.raises(SystemExit, match=r"pip install skmlp\[gpu\]"):
        main(["--backend", "cupy"])
    with pytest.raises(SystemExit):
        main(["--backend", "tpu"])
    usage = capsys.readouterr().err.replace(" ", "").replace("'", "")
    assert "numpy,cupy,auto" in usage


# ------------------------------------------- the estimators on a simulated device
@pytest.mark.parametrize("solver", ["sgd", "adam", "rmsprop"])
def test_simulated_device_trains_like_numpy(simulated_device, classification, solver):
    X, y = classification
    params = {"solver": solver, "max_iter": 4, "random_state": 0, "batch_size": 16}
    device = MLPClassifierScratch(backend="cupy", **params).fit(X, y)
    host = MLPClassifierScratch(**params).fit(X, y)
    assert device.loss_curve_ == host.loss_curve_
    assert_array_equal(device.predict_proba(X), host.predict_proba(X))


@pytest.mark.parametrize(
    "params",
    [
        {"loss": "absolute_error", "l1": 0.1},
        {"loss": "huber", "huber_delta": 0.5, "clip_grad_norm": 0.5},
        {"loss": "quantile", "quantile": 0.8, "clip_grad_norm": 0.5, "l1": 0.1},
    ],
    ids=lambda params: params["loss"],
)
def test_robust_losses_l1_and_clipping_run_on_a_device(
    simulated_device, classification, params
):
    """The robust losses, the L1 term and clipping (with sample weights: a
    total weight that is a device array) train on a device backend as on
    NumPy, and leave only host state."""
    X, y = classification
    y = y.astype(float)
    weights = np.linspace(0.5, 2, len(y))
    settings = {"max_iter": 4, "random_state": 0, "batch_size": 16, **params}
    device = MLPRegressorScratch(backend="cupy", **settings).fit(X, y, weights)
    host = MLPRegressorScratch(**settings).fit(X, y, weights)
    assert device.loss_curve_ == host.loss_curve_
    assert_array_equal(device.predict(X), host.predict(X))
    assert_host_only(device)


def test_training_data_is_uploaded_once(simulated_device, classification):
    X, y = classification
    MLPClassifierScratch(backend="cupy", max_iter=5, batch_size=10).fit(X, y)
    assert simulated_device.uploads.count(X.shape) == 1


@pytest.mark.parametrize(
    "params",
    [
        {"solver": "adam"},
        {"solver": "sgd", "early_stopping": True},
        {"solver": "rmsprop", "warm_start": True},
        {"solver": "adam", "amsgrad": True, "warm_start": True},
        {"early_stopping": True, "scoring": "loss"},
        {"early_stopping": True, "scoring": "explained_variance"},
    ],
)
@pytest.mark.parametrize("estimator", [MLPClassifierScratch, MLPRegressorScratch])
def test_fitted_state_is_host_only(simulated_device, classification, estimator, params):
    X, y = classification
    model = estimator(backend="cupy", max_iter=3, random_state=0, **params)
    model.fit(X, y).fit(X, y)
    assert_host_only(model)
    if not model.early_stopping:
        model.partial_fit(X, y)
        assert_host_only(model)


def test_interrupted_fit_leaves_host_state(simulated_device, classification):
    X, y = classification
    clf = MLPClassifierScratch(backend="cupy", max_iter=3, batch_size=10)
    clf.fit(X, y)
    simulated_device.failing_step = 3
    with pytest.raises(RuntimeError, match="the device failed"):
        clf.partial_fit(X, y)
    assert_host_only(clf)


def test_set_params_numpy_moves_a_device_model_to_the_cpu(
    simulated_device, classification
):
    X, y = classification
    params = {"max_iter": 3, "random_state": 0, "solver": "adam"}
    moved = MLPClassifierScratch(backend="cupy", **params).fit(X, y)
    expected = moved.predict_proba(X)
    moved.set_params(backend="numpy")
    n_uploads = len(simulated_device.uploads)
    assert_array_equal(moved.predict_proba(X), expected)
    # partial_fit continues on NumPy exactly as a NumPy-trained model would.
    host = MLPClassifierScratch(**params).fit(X, y)
    moved.partial_fit(X, y)
    host.partial_fit(X, y)
    assert moved.loss_curve_ == host.loss_curve_
    assert_array_equal(moved.predict_proba(X), host.predict_proba(X))
    assert len(simulated_device.uploads) == n_uploads


def test_out_of_memory_says_what_to_lower(simulated_device, classification):
    X, y = classification
    simulated_device.upload_limit = X.nbytes - 1
    clf = MLPClassifierScratch(backend="cupy", hidden_layer_sizes=(5,), batch_size=8)
    with pytest.raises(MemoryError, match="batch_size") as error:
        clf.fit(X, y)
    message = str(error.value)
    assert "60 samples x 6 features + 3 targets" in message
    assert "batch of 8 rows" in message
    assert isinstance(error.value.__cause__, SimulatedOutOfMemory)


def test_out_of_memory_while_making_optimizer_state_leaves_a_usable_model(
    simulated_device, classification
):
    X, y = classification
    clf = MLPClassifierScratch(
        backend="cupy", hidden_layer_sizes=(500,), solver="sgd", max_iter=2,
        warm_start=True, random_state=0,
    ).fit(X, y)
    # Room for the data and each layer, not for Adam's parameter-sized state.
    simulated_device.upload_limit = clf.coefs_[0].nbytes
    clf.set_params(solver="adam")
    with pytest.raises(MemoryError, match="Lower batch_size"):
        clf.fit(X, y)
    assert_host_only(clf)
    simulated_device.upload_limit = np.inf
    clf.fit(X, y)  # makes afresh the state it could not make before
    n_params = sum(a.size for a in clf.coefs_ + clf.intercepts_)
    assert clf._trainer.optimizer.first_moment.shape == (n_params,)


def test_out_of_memory_in_lbfgs_advises_mini_batches(simulated_device, classification):
    X, y = classification
    simulated_device.upload_limit = X.nbytes - 1
    clf = MLPClassifierScratch(backend="cupy", hidden_layer_sizes=(5,), solver="lbfgs")
    with pytest.raises(MemoryError, match="solver='adam' or 'sgd'") as error:
        clf.fit(X, y)
    assert "batch of 60 rows" in str(error.value)
    assert isinstance(error.value.__cause__, SimulatedOutOfMemory)


def test_out_of_memory_while_making_the_network_is_explained(
    simulated_device, classification
):
    X, y = classification
    # The data fits; the first weight matrix (6 x 400 float64) does not.
    simulated_device.upload_limit = X.nbytes
    clf = MLPClassifierScratch(backend="cupy", hidden_layer_sizes=(400,))
    with pytest.raises(MemoryError, match="Lower batch_size"):
        clf.fit(X, y)


def test_out_of_memory_while_predicting_says_what_to_lower(
    simulated_device, classification
):
    X, y = classification
    clf = MLPClassifierScratch(
        backend="cupy", hidden_layer_sizes=(5,), max_iter=2
    ).fit(X, y)
    big = np.tile(X, (10, 1))
    simulated_device.upload_limit = big.nbytes - 1
    with pytest.raises(MemoryError, match="while predicting") as error:
        clf.predict(big)
    message = str(error.value)
    assert "600 rows x 6 features + 3 outputs" in message
    assert "Predict on fewer rows" in message
    assert "set_params(backend='numpy')" in message
    assert isinstance(error.value.__cause__, SimulatedOutOfMemory)
    # Fewer rows at a time fit.
    assert_array_equal(clf.predict(big[:60]), clf.predict(X))


def test_out_of_memory_message_sizes():
    # 1000 x (784 + 10) float32 = 3,176,000 bytes of data; 784-100-10 has
    # 79,510 parameters; a batch of 100 rows keeps 100 x (784 + 10 + 2 x 110)
    # float32 values.
    message = out_of_memory_message(1000, [784, 100, 10], 100, np.float32)
    assert f"{3_176_000 / 2**20:,.1f} MiB of training data" in message
    assert f"about {6 * 79_510 * 4 / 2**20:,.1f} MiB of parameters" in message
    assert f"about {100 * 1014 * 4 / 2**20:,.1f} MiB of activations" in message


# scikit-learn 1.6 runs this check on sparse X whatever the sparse tag says
# (and skips it only on a TypeError); 1.7 consults the tag.
_SPARSE_CHECK_IGNORES_THE_TAG = {
    "check_sample_weight_equivalence_on_sparse_data": "the device takes no "
    "sparse X, as its tag says; scikit-learn < 1.7 does not read the tag"
} if parse_version(sklearn.__version__) < parse_version("1.7") else {}


@parametrize_with_checks(
    [MLPClassifierScratch(backend="cupy"), MLPRegressorScratch(backend="cupy")],
    expected_failed_checks=lambda estimator: _SPARSE_CHECK_IGNORES_THE_TAG,
)
def test_sklearn_contract_on_the_simulated_device(simulated_device, estimator, check):
    # Every host <-> device move of the estimators under scikit-learn's own
    # checks, as tests/backends/test_cupy.py runs them on a GPU.
    check(estimator)


def test_sparse_input_is_numpy_only_and_the_tag_says_so(
    simulated_device, monkeypatch, classification
):
    X, y = classification
    X_sparse = sparse.csr_matrix(X)
    device = MLPClassifierScratch(backend="cupy", max_iter=3, random_state=0)
    assert get_tags(device).input_tags.sparse is False
    with pytest.raises(ValueError, match="Sparse X is supported with backend='numpy'"):
        clone(device).fit(X_sparse, y)
    device.fit(X, y)
    with pytest.raises(ValueError, match=r"or pass X\.toarray\(\)"):
        device.predict(X_sparse)

    assert get_tags(MLPClassifierScratch()).input_tags.sparse is True
    # 'auto' takes sparse X where it resolves to NumPy, and not on a GPU.
    monkeypatch.setitem(sys.modules, "cupy", None)
    selection._cached_cupy_backend.cache_clear()
    assert get_tags(MLPRegressorScratch(backend="auto")).input_tags.sparse is True
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy(1))
    selection._probe_cupy.cache_clear()
    assert get_tags(MLPRegressorScratch(backend="auto")).input_tags.sparse is False


def test_predict_falls_back_to_numpy_where_cupy_is_missing(
    without_cupy, classification
):
    X, y = classification
    clf = MLPClassifierScratch(max_iter=3, random_state=0).fit(X, y)
    expected = clf.predict_proba(X)
    clf.set_params(backend="cupy")  # as loaded from a GPU machine
    with pytest.warns(UserWarning, match=r"Predicting with NumPy.*backend='numpy'"):
        assert_array_equal(clf.predict_proba(X), expected)
    with pytest.raises(ValueError, match="needs CuPy"):
        clf.fit(X, y)


# --------------------------------------------------------------- CuPy inputs
class FakeCupyArray:
    """Looks like a CuPy array to skmlp: its class lives in 'cupy' and
    ``get()`` downloads it."""

    __module__ = "cupy._core.core"

    def __init__(self, array):
        self.array = np.asarray(array)

    def get(self):
        return self.array.copy()


def test_device_inputs_are_validated_on_the_host_and_answered_in_kind(
    monkeypatch, classification
):
    cupy = types.ModuleType("cupy")
    cupy.asarray = FakeCupyArray
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    X, y = classification
    host = MLPClassifierScratch(max_iter=3, random_state=0).fit(X, y)
    device = MLPClassifierScratch(max_iter=3, random_state=0)
    device.fit(FakeCupyArray(X), FakeCupyArray(y))
    assert device.loss_curve_ == host.loss_curve_
    for method in ("predict", "predict_proba", "predict_log_proba"):
        result = getattr(device, method)(FakeCupyArray(X))
        assert isinstance(result, FakeCupyArray), method
        assert_array_equal(result.array, getattr(host, method)(X))
    assert isinstance(device.predict(X), np.ndarray)
    classes = FakeCupyArray([0, 1, 2])
    device.partial_fit(FakeCupyArray(X), FakeCupyArray(y), classes=classes)
    assert device.score(FakeCupyArray(X), FakeCupyArray(y)) == host.score(X, y)
    reg = MLPRegressorScratch(max_iter=3).fit(FakeCupyArray(X), FakeCupyArray(y * 1.0))
    assert isinstance(reg.predict(FakeCupyArray(X)), FakeCupyArray)
    assert reg.score(FakeCupyArray(X), FakeCupyArray(y * 1.0)) == reg.score(X, y * 1.0)


def test_string_labels_stay_numpy_for_device_input(classification):
    X, y = classification
    labels = np.array(["ant", "bee", "cat"])[y]
    clf = MLPClassifierScratch(max_iter=3, random_state=0).fit(X, labels)
    # No CuPy needed: string labels are returned as NumPy before any import.
    assert clf.predict(FakeCupyArray(X)).dtype.kind == "U"


# ------------------------------------------------- fused kernels, run by NumPy
def test_every_activation_output_and_optimizer_has_a_fused_version():
    kernels = numpy_kernels()
    assert set(kernels.bias_activation) == set(ACTIVATIONS)
    assert set(kernels.derivative) == set(ACTIVATIONS) - {"identity"}
    # The Poisson output (elementwise exp and a few reductions) runs unfused.
    assert set(_cupy_kernels.FUSED_OUTPUTS) == set(OUTPUTS) - {"exp"}
    for name, fused in _cupy_kernels.FUSED_OUTPUTS.items():
        assert issubclass(fused, OUTPUTS[name])
    optimizers = [optimizer() for optimizer in OPTIMIZERS.values()]
    for instance in [*optimizers, Adam(amsgrad=True)]:
        step = steps.fused_step(instance, kernels.optimizer_steps)
        assert step != instance.step


@pytest.mark.parametrize(
    "fused, reference, methods",
    [
        (_cupy_kernels.FusedActivation, ACTIVATIONS["relu"], ("forward", "backward")),
        *(
            (
                _cupy_kernels.FUSED_OUTPUTS[name],
                OUTPUTS[name],
                ("activate", "loss", "forward", "delta"),
            )
            for name in _cupy_kernels.FUSED_OUTPUTS
        ),
    ],
)
def test_fused_layers_keep_the_interface_of_the_numpy_ones(fused, reference, methods):
    # The fused layers only run on a GPU: a change of the NumPy layers'
    # signatures must show here, on the CPU, rather than there.
    for method in methods:
        assert inspect.signature(getattr(fused, method)) == inspect.signature(
            getattr(reference, method)
        ), method


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_fused_activation_matches_the_reference(name):
    rng = np.random.RandomState(0)
    z = rng.normal(scale=2, size=(7, 5))
    z[0, 0] = 0.0
    bias = rng.normal(size=5)
    delta = rng.normal(size=(7, 5))
    reference = ACTIVATIONS[name](NumpyBackend())
    fused = _cupy_kernels.FusedActivation(name, numpy_kernels())
    assert fused.name == reference.name
    assert fused.init_gain == reference.init_gain
    assert fused.derivative_from_output == reference.derivative_from_output

    a_ref, a_fused = z.copy(), z.copy()
    reference.forward(a_ref, bias)
    fused.forward(a_fused, bias)
    assert_allclose(a_fused, a_ref, rtol=1e-15, atol=0)
    # The derivative from the output, or from z + bias where declared.
    kept = a_ref if reference.derivative_from_output else z + bias
    delta_ref, delta_fused = delta.copy(), delta.copy()
    reference.backward(kept.copy(), delta_ref)
    fused.backward(kept, delta_fused)
    assert_allclose(delta_fused, delta_ref, rtol=1e-15, atol=0)


def test_fused_expit_matches_scipy():
    z = np.linspace(-30, 30, 61)
    out = np.empty_like(z)
    numpy_kernels().expit(z, out)
    assert_allclose(out, expit(z), rtol=1e-14)


@pytest.mark.parametrize(
    "make",
    [
        lambda: SGD(momentum=0.9, nesterov=True),
        lambda: SGD(momentum=0.5, nesterov=False),
        lambda: Adam(beta_1=0.8, beta_2=0.99, epsilon=1e-7),
        lambda: Adam(beta_1=0.8, beta_2=0.99, epsilon=1e-7, amsgrad=True),
        lambda: RMSprop(rho=0.7, epsilon=1e-6),
    ],
    ids=["nesterov", "momentum", "adam", "amsgrad", "rmsprop"],
)
def test_fused_optimizer_step_matches_the_reference(make):
    rng = np.random.RandomState(1)
    params_ref = rng.normal(size=40)
    params_fused = params_ref.copy()
    reference, fused = make(), make()
    reference.prepare(params_ref, NumpyBackend())
    fused.prepare(params_fused, NumpyBackend())
    step = steps.fused_step(fused, numpy_kernels().optimizer_steps)
    scratch = np.empty_like(params_ref)
    # Shrinking gradients: AMSGrad's maximum then differs from v.
    for learning_rate, scale in ((0.1, 1.0), (0.05, 0.5), (0.01, 0.1)):
        grads = rng.normal(size=40) * scale
        reference.step(params_ref, grads, learning_rate, scratch)
        step(params_fused, grads, learning_rate, scratch)
    assert_allclose(params_fused, params_ref, rtol=1e-14)
    for name in reference.state_names:
        assert_allclose(getattr(fused, name), getattr(reference, name), rtol=1e-14)
    assert vars(fused).get("t") == vars(reference).get("t")


def test_optimizers_without_a_kernel_keep_their_own_step():
    class ClippedSGD(SGD):
        """A variant the kernels know nothing about."""

    optimizer = ClippedSGD()
    step = steps.fused_step(optimizer, numpy_kernels().optimizer_steps)
    assert step == optimizer.step


def test_cupy_backend_builds_fused_layers_and_steps(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy(1))
    backend = get_backend("cupy")
    assert isinstance(backend.activation("tanh"), _cupy_kernels.FusedActivation)
    for name in _cupy_kernels.FUSED_OUTPUTS:
        assert isinstance(backend.output(name), _cupy_kernels.FUSED_OUTPUTS[name])
    assert type(backend.output("exp")) is OUTPUTS["exp"]
    adam = Adam()
    assert backend.optimizer_step(adam) != adam.step
    assert backend.out_of_memory_errors == (MemoryError,)
    z = np.array([-1.0, 0.0, 2.0])
    assert_allclose(backend.expit(z.copy(), z), expit([-1.0, 0.0, 2.0]))


def test_device_shuffle_is_seeded_once_per_call_from_random_state(monkeypatch):
    seeds = []

    class RecordingRandomState:
        def __init__(self, seed):
            seeds.append(seed)

        def shuffle(self, order):
            pass

    cupy = fake_cupy(1)
    cupy.random = types.SimpleNamespace(RandomState=RecordingRandomState)
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    backend = get_backend("cupy")
    backend.shuffler(np.random.RandomState(0))
    backend.shuffler(np.random.RandomState(0))
    assert seeds[0] == seeds[1] == np.random.RandomState(0).randint(2**31 - 1)


def test_numpy_shuffle_draws_what_scikit_learn_draws():
    order, expected = np.arange(10), np.arange(10)
    NumpyBackend.shuffler(np.random.RandomState(3))(order)
    np.random.RandomState(3).shuffle(expected)
    assert_array_equal(order, expected)
