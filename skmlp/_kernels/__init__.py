from .batch_norm import FusedBatchNorm
from .cpu import (
    CompiledActivation,
    CompiledBatchNorm,
    CompiledDropout,
    KernelState,
    compiled_step,
)
from .cuda import (
    FUSED_OUTPUTS,
    FusedActivation,
    FusedDropout,
    OutputKernels,
    cupy_elementwise,
)
from .specs import BIAS_ACTIVATION, ElementwiseKernels
from .steps import fused_step

__all__ = [
    "BIAS_ACTIVATION",
    "FUSED_OUTPUTS",
    "CompiledActivation",
    "CompiledBatchNorm",
    "CompiledDropout",
    "ElementwiseKernels",
    "FusedActivation",
    "FusedBatchNorm",
    "FusedDropout",
    "KernelState",
    "OutputKernels",
    "compiled_step",
    "cupy_elementwise",
    "fused_step",
]
