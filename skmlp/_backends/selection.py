"""Which backend a fit gets: :func:`get_backend`, and CuPy probed once per
process."""

import functools
import importlib

from .cupy import CupyBackend
from .numpy import NumpyBackend

BACKENDS = ("numpy", "cupy", "auto")


class BackendUnavailableError(ValueError):
    """The asked-for backend cannot run on this machine."""


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
