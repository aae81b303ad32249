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

from .base import host_input, like_input
from .cupy import CupyBackend
from .memory import (
    explain_out_of_memory,
    out_of_memory_message,
    predict_out_of_memory_message,
)
from .numpy import NumpyBackend
from .selection import (
    BACKENDS,
    BackendUnavailableError,
    get_backend,
    supports_sparse,
)

__all__ = [
    "BACKENDS",
    "BackendUnavailableError",
    "CupyBackend",
    "NumpyBackend",
    "explain_out_of_memory",
    "get_backend",
    "host_input",
    "like_input",
    "out_of_memory_message",
    "predict_out_of_memory_message",
    "supports_sparse",
]
