"""CPU kernels compiled by numba from the kernel descriptions.

The elementwise work of a training step -- bias + activation, the
activation's derivative, the whole optimizer step over the flat buffers --
is described once, as :class:`~skmlp._kernels.specs.ElementwiseSpec`
bodies that are valid Python as well as CUDA C. CuPy compiles them for the
GPU; this module compiles the same bodies for the CPU: each becomes a
single-threaded loop that does in one pass over memory what NumPy's ufuncs
do in several (Adam's step: one pass instead of twelve).

The modules: :mod:`.source` writes a spec out as a Python loop,
:mod:`.cache` compiles it (keeping the machine code on disk),
:mod:`.elementwise` makes every spec's kernel, :mod:`.state` says which are
loaded and from what array size they run, :mod:`.layers` and
:mod:`.dropout` are the backend's layers and optimizer step that call them.

Bodies that call a function that is not vectorised
(:data:`skmlp._kernels.specs.FUNCTIONS`: ``exp``, ``tanh``, ``expm1``,
``erf``, in the logistic, tanh, ELU, GELU and SiLU steps) are not compiled:
numba calls the C library's scalar functions for them, which NumPy's
vectorised ufuncs beat (float32 ``tanh`` ten times over).

The NumPy ufunc versions (:mod:`skmlp._nn.activations`, :mod:`skmlp._nn.optimizers`)
stay the readable reference the kernels are tested against, and run instead
of them on small arrays (where a kernel call costs more than it saves) and,
after one warning, where numba cannot be imported.
"""

from .dropout import CompiledDropout, counter_kernel_source
from .elementwise import CompiledElementwise
from .layers import CompiledActivation, CompiledBatchNorm, compiled_step
from .source import kernel_source
from .state import MIN_KERNEL_SIZE, KernelState

__all__ = [
    "MIN_KERNEL_SIZE",
    "CompiledActivation",
    "CompiledBatchNorm",
    "CompiledDropout",
    "CompiledElementwise",
    "KernelState",
    "compiled_step",
    "counter_kernel_source",
    "kernel_source",
]
