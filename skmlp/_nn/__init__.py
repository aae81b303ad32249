from .activations import ACTIVATIONS, INV_SQRT_2PI, SQRT_HALF
from .inference import MAX_REUSED_ROWS, Predictor, ReusedNetwork
from .initializers import INITIALIZERS
from .layers import Activation, BatchNorm, Dense, Dropout, is_sparse
from .losses import (
    OUTPUTS,
    REGRESSION_LOSSES,
    IdentityAbsoluteError,
    IdentityHuberLoss,
    IdentityPinballLoss,
    IdentitySquaredError,
    SigmoidLogLoss,
    SoftmaxLogLoss,
)
from .network import (
    PREDICT_CHUNK_ROWS,
    Network,
    batch_weight,
    bind,
    layer_views,
    paired_views,
    parameter_slots,
    state_slots,
)
from .optimizers import (
    OPTIMIZERS,
    SGD,
    Adam,
    RMSprop,
    optimizer_from_state,
    refuse_unknown_state,
)
from .penalties import Penalty, adding_penalty
from .random import CounterUniform

__all__ = [
    "ACTIVATIONS",
    "INITIALIZERS",
    "INV_SQRT_2PI",
    "MAX_REUSED_ROWS",
    "OPTIMIZERS",
    "OUTPUTS",
    "PREDICT_CHUNK_ROWS",
    "REGRESSION_LOSSES",
    "SGD",
    "SQRT_HALF",
    "Activation",
    "Adam",
    "BatchNorm",
    "CounterUniform",
    "Dense",
    "Dropout",
    "IdentityAbsoluteError",
    "IdentityHuberLoss",
    "IdentityPinballLoss",
    "IdentitySquaredError",
    "Network",
    "Penalty",
    "Predictor",
    "RMSprop",
    "ReusedNetwork",
    "SigmoidLogLoss",
    "SoftmaxLogLoss",
    "adding_penalty",
    "batch_weight",
    "bind",
    "is_sparse",
    "layer_views",
    "optimizer_from_state",
    "paired_views",
    "parameter_slots",
    "refuse_unknown_state",
    "state_slots",
]
