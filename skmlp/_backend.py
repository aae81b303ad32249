"""Array backends: which array module holds the numbers and how they move.

The network, losses, activations and optimizers only ever talk to a
:class:`Backend`: its ``xp`` array module (NumPy's API), its ``expit`` and its
host <-> device transfers. A CuPy backend drops in by providing the same names.
"""

import numpy as np
from scipy.special import expit as _numpy_expit

BACKENDS = ("numpy",)


class NumpyBackend:
    """Everything on the host, in NumPy arrays."""

    name = "numpy"
    xp = np

    @staticmethod
    def expit(z, out):
        return _numpy_expit(z, out=out)

    @staticmethod
    def to_device(array, dtype=None):
        """Return ``array`` as a backend array (no copy when already one)."""
        return np.asarray(array, dtype=dtype)

    @staticmethod
    def to_host(array):
        """Return ``array`` as a NumPy array (no copy for NumPy input)."""
        return np.asarray(array)


def get_backend(name):
    """Return the backend called ``name`` (one of :data:`BACKENDS`)."""
    if name == "numpy":
        return NumpyBackend()
    raise ValueError(f"Unknown backend {name!r}; choose one of {BACKENDS}.")
