from .cpu import reference_only
from .cuda import BIAS_ACTIVATION, FUSED_OUTPUTS, FusedActivation

__all__ = [
    "BIAS_ACTIVATION",
    "FUSED_OUTPUTS",
    "FusedActivation",
    "reference_only",
]
