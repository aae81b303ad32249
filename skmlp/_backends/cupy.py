"""The CuPy backend: the same core on an NVIDIA GPU. This module imports
without CuPy: :mod:`skmlp._backends.selection` hands it the module."""

from .._kernels import (
    FUSED_OUTPUTS,
    ElementwiseKernels,
    FusedActivation,
    FusedBatchNorm,
    FusedDropout,
    OutputKernels,
    cupy_elementwise,
    fused_step,
)
from .._nn import ACTIVATIONS, OUTPUTS, adding_penalty
from .base import Backend, seed_from


class CupyBackend(Backend):
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

    def optimizer_step(self, optimizer, penalty=None, n_coefs=0, weight_decay=0.0):
        """The whole update of ``optimizer`` as one kernel over the flat
        buffers (its own array step where no kernel exists), after adding
        the gradient of ``penalty`` (or None) on the weights
        ``params[:n_coefs]`` and decaying them by ``weight_decay``
        (decoupled): ``step(params, grads, learning_rate, scratch,
        total_weight)``. The penalty's gradient and the decay are array
        operations first (the decay one in-place multiply): folding them into
        the kernel, as the CPU does, waits for a GPU run to check it (the
        folded specs already compile with NVRTC)."""
        step = fused_step(optimizer, self.kernels.optimizer_steps)
        return adding_penalty(step, penalty, n_coefs, self.xp, weight_decay)

    def shuffler(self, random_state):
        """``shuffle(order)`` on the device, from a CuPy generator seeded by
        one draw of ``random_state`` (so runs reproduce; the order differs
        from the NumPy backend's)."""
        return self.xp.random.RandomState(seed_from(random_state)).shuffle

    def dropout(self, rate, width, dtype):
        """A dropout layer whose mask is made and applied by one kernel."""
        return FusedDropout(rate, width, self, dtype)

    def batch_norm(self, width, momentum, dtype):
        """A batch normalization whose elementwise steps are fused kernels."""
        return FusedBatchNorm(width, momentum, self, dtype)

    def uniform(self, random_state):
        """``uniform(out)`` filling ``out`` on the device from a CuPy
        generator seeded by one draw of ``random_state``."""
        generator = self.xp.random.RandomState(seed_from(random_state))

        def fill(out):
            out[...] = generator.random_sample(out.shape, dtype=out.dtype)

        return fill
