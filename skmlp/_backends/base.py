"""What the backends share: the base class, and how inputs of either array
kind reach the host or the device."""

import importlib

import numpy as np
import scipy.sparse as sp


class Backend:
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


def seed_from(random_state):
    """One draw of the NumPy ``random_state``, to seed another generator."""
    return int(random_state.randint(np.iinfo(np.int32).max))


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
