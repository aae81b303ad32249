"""Array backends: which array module holds the numbers and how they move.

The network, losses, activations, optimizers and the training loop only ever
talk to a backend: its ``xp`` array module (NumPy's API), its ``expit``, its
host <-> device transfers, and the pieces it builds for them -- the hidden
activation, the output layer, the optimizer step and the shuffle -- which a
GPU backend replaces by fused CUDA kernels. What differs between backends
beyond that is declared, not looked up by name: ``supports_sparse``,
``shares_host_memory`` and ``input(X, dtype)``. :class:`NumpyBackend` is the
reference; :class:`CupyBackend` runs the same core on an NVIDIA GPU.

CuPy is imported only when a CuPy backend is asked for ('cupy') or probed
('auto'); a NumPy-only install never touches it.
"""

import contextlib
import functools
import importlib
from itertools import pairwise

import numpy as np
import scipy.sparse as sp
from scipy.special import expit as _numpy_expit

from .._kernels import (
    BIAS_ACTIVATION,
    FUSED_OUTPUTS,
    CompiledActivation,
    CompiledBatchNorm,
    CompiledDropout,
    ElementwiseKernels,
    FusedActivation,
    FusedBatchNorm,
    FusedDropout,
    KernelState,
    OutputKernels,
    compiled_step,
    cupy_elementwise,
    fused_step,
)
from .._nn import ACTIVATIONS, OUTPUTS, CounterUniform, adding_penalty

BACKENDS = ("numpy", "cupy", "auto")


class BackendUnavailableError(ValueError):
    """The asked-for backend cannot run on this machine."""


class _Backend:
    """What the backends share. Their differences are attributes:

    - ``supports_sparse``: whether the network takes a sparse ``X``;
    - ``shares_host_memory``: whether the backend's arrays are NumPy arrays,
      so a fitted model's host weights can be wrapped without a copy.
    """

    def input(self, X, dtype=None):
        """``X`` as the network takes it: a dense array moved to the backend,
        or a sparse matrix as CSR (its row batches are cheap to gather), never
        densified as a whole."""
        if not sp.issparse(X):
            return self.to_device(X, dtype)
        if not self.supports_sparse:
            raise ValueError(
                f"Sparse X is supported with backend='numpy' only, not "
                f"{self.name!r}. Use backend='numpy', or pass X.toarray()."
            )
        return X.tocsr().astype(dtype or X.dtype, copy=False)


class NumpyBackend(_Backend):
    """Everything on the host, in NumPy arrays; the elementwise work of
    training on large arrays in kernels compiled by numba
    (:mod:`skmlp._kernels.cpu`), the rest in NumPy ufuncs."""

    name = "numpy"
    xp = np
    supports_sparse = True
    shares_host_memory = True
    # Exceptions meaning "the device is out of memory"; host memory errors are
    # Python's own MemoryError and need no translation.
    out_of_memory_errors = ()
    # Which compiled kernels are loaded and from what size they run: one
    # state for the process, so the kernels compile once.
    kernel_state = KernelState()

    @staticmethod
    def expit(z, out):
        return _numpy_expit(z, out=out)

    @staticmethod
    def to_device(array, dtype=None):
        """Return ``array`` (any array kind) as a NumPy array (no copy when
        already one of that dtype)."""
        return np.asarray(host_input(array), dtype=dtype)

    @staticmethod
    def to_host(array):
        """Return ``array`` as a NumPy array (no copy for NumPy input)."""
        return np.asarray(array)

    def activation(self, name):
        """The hidden activation called ``name``, compiled where a kernel
        describes it."""
        reference = ACTIVATIONS[name](self)
        if name not in BIAS_ACTIVATION:
            return reference
        return CompiledActivation(reference, self.kernel_state)

    def output(self, name):
        """The output activation and loss pair called ``name``."""
        return OUTPUTS[name](self)

    @classmethod
    def optimizer_step(cls, optimizer, penalty=None, n_coefs=0):
        """``step(params, grads, learning_rate, scratch, total_weight)`` of
        ``optimizer``, adding the gradient of ``penalty`` (or None) on the
        weights ``params[:n_coefs]``: one compiled kernel where one describes
        it, the penalty folded in."""
        return compiled_step(optimizer, penalty, n_coefs, cls.kernel_state)

    @staticmethod
    def shuffler(random_state):
        """``shuffle(order)`` shuffling an index array in place, drawing from
        the NumPy ``random_state`` (the draws scikit-learn's MLP makes)."""
        return random_state.shuffle

    @property
    def kernels_for(self):
        """``kernels_for(array)``: the compiled kernels for ``array``, or None
        where the ufuncs run (FusedBatchNorm asks)."""
        return self.kernel_state.for_array

    def dropout(self, rate, width, dtype):
        """A dropout layer of ``rate`` over ``width`` units, its draws made
        inside its compiled kernels on large arrays."""
        return CompiledDropout(rate, width, self, dtype)

    def batch_norm(self, width, momentum, dtype):
        """A batch normalization of ``width`` units, its elementwise steps
        and reductions compiled kernels on large arrays."""
        return CompiledBatchNorm(width, momentum, self, dtype)

    @staticmethod
    def uniform(random_state):
        """``uniform(out)`` filling the 2-D ``out`` with uniform draws in
        [0, 1) from :mod:`skmlp._nn.random`'s counter-based generator (whose
        draws the compiled dropout layers remake in their kernels), its keys
        drawn from a generator seeded by one draw of the NumPy
        ``random_state``."""
        return CounterUniform(np.random.default_rng(_seed(random_state)))


class CupyBackend(_Backend):
    """The same core on an NVIDIA GPU: CuPy arrays, cuBLAS GEMMs, and fused
    CUDA kernels (:mod:`skmlp._kernels.cuda`) for the elementwise work."""

    name = "cupy"
    supports_sparse = False
    shares_host_memory = False

    def __init__(self, cupy):
        self.xp = cupy
        self.kernels = ElementwiseKernels(cupy_elementwise(cupy))
        self.output_kernels = OutputKernels(cupy)
        self.out_of_memory_errors = (cupy.cuda.memory.OutOfMemoryError,)

    def expit(self, z, out):
        self.kernels.expit(z, out)
        return out

    def kernels_for(self, array):
        """The CUDA kernels, whatever the array."""
        return self.kernels

    def to_device(self, array, dtype=None):
        """Return ``array`` as a CuPy array (no copy when already one of that
        dtype; one upload for host arrays)."""
        return self.xp.asarray(array, dtype=dtype)

    def to_host(self, array):
        """Return ``array`` as a NumPy array (one download, which waits for
        the device to finish)."""
        return self.xp.asnumpy(array)

    def activation(self, name):
        """The hidden activation ``name`` as two fused kernels (bias +
        activation, derivative mask); NumPy's version where none exists."""
        if name in self.kernels.bias_activation:
            return FusedActivation(name, self.kernels)
        return ACTIVATIONS[name](self)

    def output(self, name):
        """The output pair ``name`` with a fused activation and loss; the
        generic array version where none exists."""
        fused = FUSED_OUTPUTS.get(name)
        return OUTPUTS[name](self) if fused is None else fused(self)

    def optimizer_step(self, optimizer, penalty=None, n_coefs=0):
        """The whole update of ``optimizer`` as one kernel over the flat
        buffers (its own array step where no kernel exists), after adding
        the gradient of ``penalty`` (or None) on the weights
        ``params[:n_coefs]``: ``step(params, grads, learning_rate, scratch,
        total_weight)``. The penalty's gradient is added by array operations
        first: folding it into the kernel, as the CPU does, waits for a GPU
        run to check it."""
        step = fused_step(optimizer, self.kernels.optimizer_steps)
        return adding_penalty(step, penalty, n_coefs, self.xp)

    def shuffler(self, random_state):
        """``shuffle(order)`` on the device, from a CuPy generator seeded by
        one draw of ``random_state`` (so runs reproduce; the order differs
        from the NumPy backend's)."""
        return self.xp.random.RandomState(_seed(random_state)).shuffle

    def dropout(self, rate, width, dtype):
        """A dropout layer whose mask is made and applied by one kernel."""
        return FusedDropout(rate, width, self, dtype)

    def batch_norm(self, width, momentum, dtype):
        """A batch normalization whose elementwise steps are fused kernels."""
        return FusedBatchNorm(width, momentum, self, dtype)

    def uniform(self, random_state):
        """``uniform(out)`` filling ``out`` on the device from a CuPy
        generator seeded by one draw of ``random_state``."""
        generator = self.xp.random.RandomState(_seed(random_state))

        def fill(out):
            out[...] = generator.random_sample(out.shape, dtype=out.dtype)

        return fill


def _seed(random_state):
    """One draw of the NumPy ``random_state``, to seed another generator."""
    return int(random_state.randint(np.iinfo(np.int32).max))


def get_backend(name):
    """Return the backend called ``name`` (one of :data:`BACKENDS`).

    Raises :class:`BackendUnavailableError` when 'cupy' cannot run here;
    'auto' then falls back to NumPy.
    """
    if name == "numpy":
        return NumpyBackend()
    if name == "cupy":
        return _cupy_backend()
    if name == "auto":
        try:
            return _cupy_backend()
        except BackendUnavailableError:
            return NumpyBackend()
    raise ValueError(f"Unknown backend {name!r}; choose one of {BACKENDS}.")


def supports_sparse(name):
    """Whether the backend parameter value ``name`` trains on sparse X,
    decided without making a CuPy backend ('auto': where it resolves)."""
    if name == "auto":
        return get_backend("auto").supports_sparse
    return {"numpy": NumpyBackend, "cupy": CupyBackend}[name].supports_sparse


def _cupy_backend():
    cupy, problem = _probe_cupy()
    if problem:
        raise BackendUnavailableError(problem)
    return _cached_cupy_backend(cupy)


@functools.cache
def _probe_cupy():
    """``(cupy, '')`` where CuPy can run kernels here, else ``(module or
    None, why not)``. Probed once per process: Python does not remember a
    failed import, and retrying it at every ``predict`` with backend='auto'
    doubled the time of a one-row prediction."""
    try:
        cupy = importlib.import_module("cupy")
    except ImportError as exc:
        return None, (
            f"backend='cupy' needs CuPy, which cannot be imported ({exc}). "
            "Install it with `pip install skmlp[gpu]` (CUDA 12 wheels), or "
            "use backend='numpy', or backend='auto' to use the GPU only where "
            "it works."
        )
    problem = _cuda_device_problem(cupy)
    if problem:
        return cupy, (
            f"backend='cupy' found CuPy {cupy.__version__} but no usable CUDA "
            f"device ({problem}). Check the NVIDIA driver and "
            "CUDA_VISIBLE_DEVICES, or use backend='numpy', or backend='auto' "
            "to use the GPU only where it works."
        )
    return cupy, ""


def _cuda_device_problem(cupy):
    """Why CuPy cannot run kernels here, or ``''`` when a device is usable."""
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    # Any failure of this probe (no driver, a driver too old for the CUDA
    # runtime, a missing library) means the same thing: no usable device.
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"
    return "" if count > 0 else "no CUDA device found"


@functools.cache
def _cached_cupy_backend(cupy):
    # One instance per process, so its kernels compile once per dtype.
    return CupyBackend(cupy)


# ------------------------------------------------------------------ inputs
def is_device_array(array):
    """Whether ``array`` is a CuPy (or cupyx sparse) array, decided without
    importing CuPy."""
    root = type(array).__module__.partition(".")[0]
    return root in ("cupy", "cupyx") and hasattr(array, "get")


def host_input(array):
    """``array`` ready for scikit-learn's validation: device arrays are copied
    to the host, anything else is returned unchanged."""
    return array.get() if is_device_array(array) else array


def like_input(X, result):
    """Return the NumPy ``result`` as a CuPy array when the input ``X`` was
    one, so predictions come back where the data lives. Values CuPy cannot
    hold (string class labels) stay NumPy."""
    if is_device_array(X) and result.dtype.kind in "biuf":
        return importlib.import_module("cupy").asarray(result)
    return result


# ------------------------------------------------------------------ memory
def _megabytes(n_bytes):
    return f"{n_bytes / 2**20:,.1f} MiB"


def out_of_memory_message(n_samples, layer_units, batch_size, dtype, full_batch=False):
    """What a fit of ``n_samples`` rows through ``layer_units`` (inputs first,
    outputs last) in mini-batches of ``batch_size`` keeps on the device, and
    what to lower when it does not fit. ``full_batch``: the solver (L-BFGS)
    has no mini-batches and computes on all rows at once."""
    itemsize = np.dtype(dtype).itemsize
    n_params = sum(a * b for a, b in pairwise(layer_units)) + sum(layer_units[1:])
    data = n_samples * (layer_units[0] + layer_units[-1]) * itemsize
    # params, grads, scratch, two optimizer states, early stopping's best copy
    parameters = 6 * n_params * itemsize
    if full_batch:
        batch_size = n_samples
        advice = (
            "L-BFGS computes on all rows at once: use solver='adam' or 'sgd' to "
            "train in mini-batches of batch_size rows"
        )
    else:
        advice = (
            "Lower batch_size, train on fewer samples at a time (partial_fit "
            "on chunks)"
        )
    return (
        f"The GPU ran out of memory. This fit keeps {_megabytes(data)} of "
        f"training data on the device ({n_samples} samples x "
        f"{layer_units[0]} features + {layer_units[-1]} targets, "
        f"{np.dtype(dtype).name}), about {_megabytes(parameters)} of "
        "parameters, gradients and optimizer state, and about "
        f"{_megabytes(_activation_bytes(batch_size, layer_units, itemsize))} of "
        f"activations for a batch of {batch_size} rows. {advice}, pass float32 "
        "data (half the memory of float64), or use backend='numpy'."
    )


def predict_out_of_memory_message(n_rows, layer_units, dtype, chunk_rows):
    """What predicting ``n_rows`` rows keeps on the device, and what to lower."""
    itemsize = np.dtype(dtype).itemsize
    data = n_rows * (layer_units[0] + layer_units[-1]) * itemsize
    chunk = min(chunk_rows, n_rows) * sum(layer_units[1:]) * itemsize
    return (
        f"The GPU ran out of memory while predicting. This call keeps "
        f"{_megabytes(data)} of input and output on the device ({n_rows} rows "
        f"x {layer_units[0]} features + {layer_units[-1]} outputs, "
        f"{np.dtype(dtype).name}) and about {_megabytes(chunk)} of activations "
        f"for {min(chunk_rows, n_rows)} rows at a time. Predict on fewer rows "
        "per call, pass float32 data, or move the model to the CPU with "
        "set_params(backend='numpy')."
    )


def _activation_bytes(n_rows, layer_units, itemsize):
    # one gathered batch, then one activation and one delta per layer
    return (
        n_rows
        * (layer_units[0] + layer_units[-1] + 2 * sum(layer_units[1:]))
        * itemsize
    )


@contextlib.contextmanager
def explain_out_of_memory(backend, message):
    """Re-raise the backend's out-of-memory error as a ``MemoryError`` whose
    text is ``message()`` (made only then): what the call keeps on the device
    and what to lower."""
    try:
        yield
    except backend.out_of_memory_errors as exc:
        raise MemoryError(message()) from exc
