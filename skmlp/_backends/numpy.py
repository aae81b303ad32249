"""The NumPy backend: everything on the host, the reference."""

import numpy as np
from scipy.special import expit as _numpy_expit

from .._kernels import (
    CompiledActivation,
    CompiledBatchNorm,
    CompiledDropout,
    KernelState,
    compiled_step,
)
from .._nn import ACTIVATIONS, OUTPUTS, CounterUniform
from .base import Backend, host_input, seed_from


class NumpyBackend(Backend):
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
        """The hidden activation called ``name``, its steps compiled kernels
        on large arrays where numba vectorises them."""
        return CompiledActivation(ACTIVATIONS[name](self), self.kernel_state)

    def output(self, name):
        """The output activation and loss pair called ``name``."""
        return OUTPUTS[name](self)

    @classmethod
    def optimizer_step(cls, optimizer, penalty=None, n_coefs=0, weight_decay=0.0):
        """``step(params, grads, learning_rate, scratch, total_weight)`` of
        ``optimizer``, adding the gradient of ``penalty`` (or None) on the
        weights ``params[:n_coefs]`` and decaying them by ``weight_decay``
        (decoupled): one compiled kernel where one describes it, the penalty
        and the decay folded in."""
        return compiled_step(optimizer, penalty, n_coefs, cls.kernel_state, weight_decay)

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
        return CounterUniform(np.random.default_rng(seed_from(random_state)))
