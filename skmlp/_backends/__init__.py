from .backends import (
    BACKENDS,
    BackendUnavailableError,
    CupyBackend,
    NumpyBackend,
    explain_out_of_memory,
    get_backend,
    host_input,
    like_input,
    out_of_memory_message,
    predict_out_of_memory_message,
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
