"""CUDA kernels of the CuPy backend, and the layers that call them.

The elementwise kernels are CuPy's compilations of :mod:`skmlp._kernels.specs`
(:func:`~.kernels.cupy_elementwise`); the output kernels
(:class:`~.kernels.OutputKernels`: softmax over each row of the output, each
output loss as one reduction) are CUDA only (loops, clipping), checked by the
GPU tests and compiled by NVRTC in CI (``tests/kernels/test_cuda_compile.py``). The
package imports without CuPy: the backend hands it the module.
"""

from .kernels import OutputKernels, cupy_elementwise
from .layers import FUSED_OUTPUTS, FusedActivation, FusedDropout

__all__ = [
    "FUSED_OUTPUTS",
    "FusedActivation",
    "FusedDropout",
    "OutputKernels",
    "cupy_elementwise",
]
