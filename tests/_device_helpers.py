"""Stand-ins for a device and for CuPy's kernels, shared by the backend,
kernel and estimator tests: a simulated device backend (NumPy arithmetic in
arrays marked as device memory), CuPy's kernel calling convention run by
NumPy, and a counter of compiled-kernel calls."""

import collections
import pickle
import types

import numpy as np

from skmlp._backends import NumpyBackend, base
from skmlp._kernels import cpu as nk
from skmlp._kernels import specs
from skmlp._nn import adding_penalty


# ------------------------------------------- the estimators on a simulated device
class DeviceArray(np.ndarray):
    """Stands for an array in device memory."""


class _DeviceNumpy:
    """NumPy's namespace, creating :class:`DeviceArray` s."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def zeros(*args, **kwargs):
        return np.zeros(*args, **kwargs).view(DeviceArray)

    @staticmethod
    def empty(*args, **kwargs):
        return np.empty(*args, **kwargs).view(DeviceArray)

    @staticmethod
    def zeros_like(a, *args, **kwargs):
        return np.zeros_like(a, *args, **kwargs).view(DeviceArray)

    @staticmethod
    def empty_like(a, *args, **kwargs):
        return np.empty_like(a, *args, **kwargs).view(DeviceArray)


class SimulatedOutOfMemory(Exception):
    pass


class SimulatedDeviceBackend(NumpyBackend):
    """NumPy arithmetic, but every array the backend makes is a DeviceArray;
    uploads larger than ``upload_limit`` bytes run out of memory, and the
    device fails (RuntimeError) at optimizer step number ``failing_step``."""

    name = "simulated-device"
    xp = _DeviceNumpy()
    # What a device backend declares: its arrays are not host memory.
    supports_sparse = False
    shares_host_memory = False
    out_of_memory_errors = (SimulatedOutOfMemory,)

    def __init__(self, upload_limit=np.inf, failing_step=None):
        self.upload_limit = upload_limit
        self.failing_step = failing_step
        self.uploads = []

    def to_device(self, array, dtype=None):
        array = np.array(base.host_input(array), dtype=dtype)
        if array.nbytes > self.upload_limit:
            raise SimulatedOutOfMemory(f"cannot allocate {array.nbytes} bytes")
        self.uploads.append(array.shape)
        return array.view(DeviceArray)

    @staticmethod
    def to_host(array):
        return np.array(array)

    def optimizer_step(self, optimizer, penalty=None, n_coefs=0, weight_decay=0.0):
        if self.failing_step is None:
            return adding_penalty(optimizer.step, penalty, n_coefs, self.xp, weight_decay)
        steps = []

        def step(*args):
            steps.append(1)
            if len(steps) == self.failing_step:
                raise RuntimeError("the device failed")
            optimizer.step(*args)

        return adding_penalty(step, penalty, n_coefs, self.xp, weight_decay)


def held_objects(value, seen=None):
    """Every object reachable from ``value`` through attributes, dicts and
    sequences (what pickle would store)."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return
    seen.add(id(value))
    yield value
    if isinstance(value, dict):
        children = [*value.keys(), *value.values()]
    elif isinstance(value, (list, tuple, set, frozenset)):
        children = list(value)
    elif isinstance(value, (np.ndarray, type, types.ModuleType)):
        children = []
    else:
        children = list(getattr(value, "__dict__", {}).values())
    for child in children:
        yield from held_objects(child, seen)


def assert_host_only(estimator):
    for value in held_objects(estimator):
        assert not isinstance(value, (DeviceArray, types.ModuleType, NumpyBackend)), (
            f"the fitted estimator holds {type(value).__name__}"
        )
    for value in held_objects(pickle.loads(pickle.dumps(estimator))):
        assert not isinstance(value, DeviceArray)


# ------------------------------------------------- fused kernels, run by NumPy
class NumpyElementwiseKernel:
    """``cupy.ElementwiseKernel``'s calling convention, evaluating the body
    with NumPy: inputs then outputs, outputs updated in place."""

    def __init__(self, in_params, out_params, operation, name, **options):
        def names(params):
            return [p.split()[-1] for p in params.split(",")]

        self.inputs, self.outputs = names(in_params), names(out_params)
        self.operation, self.name = operation, name

    def __call__(self, *args):
        assert len(args) == len(self.inputs) + len(self.outputs)
        values = dict(zip(self.inputs + self.outputs, args))
        # T(x): a constant in the arrays' dtype, as CUDA's typedef makes it.
        dtype = np.result_type(*args[len(self.inputs):])
        exec(self.operation, specs.reference_namespace(dtype), values)  # noqa: S102
        for name, array in zip(self.outputs, args[len(self.inputs):]):
            array[...] = values[name]


def numpy_kernels():
    return specs.ElementwiseKernels(lambda spec: NumpyElementwiseKernel(*spec))


# ------------------------------------------------ which compiled kernels ran
def count_kernel_calls(monkeypatch):
    """A Counter of the calls of every compiled kernel from now on, by name:
    the spec's, or the written-out kernel's."""
    calls = collections.Counter()
    call = nk.CompiledElementwise.__call__
    written_out = nk.KernelState.written_out

    def counted_call(self, *args, **kwargs):
        calls[self.spec.name] += 1
        return call(self, *args, **kwargs)

    def counted_written_out(self, name, make_source, array):
        kernel = written_out(self, name, make_source, array)
        if kernel is None:
            return None

        def counted(*args):
            calls[name] += 1
            return kernel(*args)

        return counted

    monkeypatch.setattr(nk.CompiledElementwise, "__call__", counted_call)
    monkeypatch.setattr(nk.KernelState, "written_out", counted_written_out)
    return calls
