"""What of the compiled kernels is loaded, and from what size they run."""

import contextlib
import importlib
import math

from .cache import compile_source
from .elementwise import load_kernels

# Numba is started (imported, its compiler set up, the cached kernels loaded:
# 0.5-3 s, see docs/benchmarks.md) at the first array of at least this many
# entries -- one layer's outputs for a batch, or all the parameters -- so
# that small fits, which would not win that time back, never pay for it.
MIN_KERNEL_SIZE = 2**15


class KernelState:
    """What of the compiled kernels is loaded, and from what array size they
    start: the NumPy backend's (``NumpyBackend.kernel_state``), which its
    compiled layers and steps ask at every call, and which tests and
    benchmarks configure (``min_size``, :meth:`reference_only`)."""

    def __init__(self, min_size=MIN_KERNEL_SIZE):
        # Numba is started at the first array of at least this many entries.
        self.min_size = min_size
        self._unload()

    def _unload(self):
        # Whether numba was asked for (and the kernels made, or None
        # without numba), and the written-out kernels compiled since.
        self.started = False
        self._elementwise = None
        self._written_out = {}

    def for_array(self, array):
        """The compiled kernels, or None where the NumPy reference is to run:
        where numba cannot be imported, or where it is not started yet and
        ``array`` is too small to be worth starting it for. Once started,
        the kernels serve every size: they give the reference's results bit
        for bit, and are faster even on small arrays."""
        if self.started:
            return self._elementwise
        if array.size < self.min_size:
            return None
        return self.elementwise()

    def elementwise(self):
        """Every elementwise kernel worth compiling for the CPU (None for
        those that call a function numba does not vectorise), each compiled
        by numba on first use; None, after one warning, where numba cannot
        be imported."""
        if not self.started:
            self._elementwise = load_kernels()
            self.started = True
        return self._elementwise

    def written_out(self, name, make_source, array):
        """The numba dispatcher of the function ``name`` of the source
        ``make_source(name)`` (made only then), compiled (or loaded from the
        cache) at its first use -- for kernels written out here rather than
        generated from an ``ElementwiseSpec`` -- or None where the NumPy
        reference is to run (as :meth:`for_array` decides for ``array``)."""
        if self.for_array(array) is None:
            return None
        kernel = self._written_out.get(name)
        if kernel is None:
            numba = importlib.import_module("numba")
            kernel = self._written_out[name] = compile_source(
                numba, make_source(name), name
            )
        return kernel

    @contextlib.contextmanager
    def reference_only(self):
        """Run the NumPy reference everywhere inside the block, as without
        numba (benchmarks compare the two in one process)."""
        saved = self.min_size, self.started, self._elementwise, self._written_out
        self.min_size = math.inf
        self._unload()
        try:
            yield
        finally:
            self.min_size, self.started, self._elementwise, self._written_out = saved
