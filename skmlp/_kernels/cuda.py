"""CUDA kernels of the CuPy backend, and the layers and optimizer steps that
call them.

Each kernel does in one pass over memory what the NumPy backend does in
several array operations:

- bias + activation of a hidden layer (one elementwise kernel per activation),
- the activation's derivative times the incoming delta,
- dropout's mask made and applied, and batch normalization's elementwise
  steps (normalise, scale, their backward),
- the whole optimizer step for every layer at once, over the flat
  ``params`` / ``grads`` / state buffers,
- softmax over each row of the output, and each output loss (one reduction).

The elementwise kernels are plain data here (:class:`ElementwiseSpec`), so
this module imports without CuPy. Their bodies use only arithmetic,
comparisons, the functions of :data:`FUNCTIONS` (``max`` of two values) and ``T(x)`` (a literal in
the arrays' dtype: a bare ``0.5`` is a double in C and would take a float32
expression to double precision), which makes them valid Python as well as
CUDA C: the CPU test suite evaluates them with NumPy through the very
dispatch code below and compares them with the reference activations and
optimizers. Non-integer constants are written ``T(x)``; a comparison is 0 or
1 in arithmetic (``s * (s > 0)`` is ReLU), but never divide one by an
integer (``(s > 0) / 100`` is integer division in C). The output kernels
(loops, clipping) are CUDA only and are checked by the GPU tests.
"""

import math
import re
from typing import NamedTuple

import numpy as np
from scipy.special import erf

from .._nn import (
    ACTIVATIONS,
    INV_SQRT_2PI,
    SGD,
    SQRT_HALF,
    Adam,
    BatchNorm,
    Dropout,
    IdentitySquaredError,
    RMSprop,
    SigmoidLogLoss,
    SoftmaxLogLoss,
)


class ElementwiseSpec(NamedTuple):
    """Arguments of ``cupy.ElementwiseKernel``: ``T`` is the array dtype;
    scalars passed for ``T`` parameters are cast to it, as NumPy does with
    Python scalars."""

    in_params: str
    out_params: str
    operation: str
    name: str


# The functions a body may call: each is in CUDA's math library (float and
# double overloads) and in Python's math module, and here is its NumPy/SciPy
# ufunc, with which the CPU tests evaluate the bodies.
FUNCTIONS = {
    "exp": np.exp,
    "expm1": np.expm1,
    "tanh": np.tanh,
    "sqrt": np.sqrt,
    "erf": erf,
    "max": np.maximum,
}

# z holds a_in @ W on entry; b is the layer's bias, broadcast over rows.
BIAS_ACTIVATION = {
    "identity": "z = z + b",
    "logistic": "z = 1 / (1 + exp(-(z + b)))",
    "tanh": "z = tanh(z + b)",
    # max(s, 0) written as s * (s > 0): NaN stays NaN, as with np.maximum.
    "relu": "z = (z + b) * (z + b > 0)",
    "leaky_relu": "z = (z + b) * (z + b > 0) + (z + b) * (z + b <= 0) / 100",
    # expm1 of min(s, 0): a large s must not overflow exp into inf * 0.
    "elu": "z = (z + b) * (z + b > 0) + expm1((z + b) * (z + b <= 0))",
    "gelu": f"z = (z + b) * (1 + erf((z + b) * T({SQRT_HALF!r}))) / 2",
    "silu": "z = (z + b) / (1 + exp(-(z + b)))",
}

# f'(z) multiplied into delta, from the activation's output a -- or, for an
# activation with derivative_from_output = False (gelu, silu), from the
# pre-activation z + b, which the layer passes as a. The identity has none:
# its derivative is 1.
DERIVATIVE = {
    "logistic": "delta = delta * a * (1 - a)",
    "tanh": "delta = delta * (1 - a * a)",
    "relu": "delta = delta * (a > 0)",
    "leaky_relu": "delta = delta * (a > 0) + delta * (a <= 0) / 100",
    # exp(z) = a + 1 where z <= 0
    "elu": "delta = delta * (a * (a <= 0) + 1)",
    # Phi(z) + z phi(z)
    "gelu": (
        f"delta = delta * ((1 + erf(a * T({SQRT_HALF!r}))) / 2"
        f" + a * exp(-(a * a) / 2) * T({INV_SQRT_2PI!r}))"
    ),
    # expit(z) * (1 + z * (1 - expit(z)))
    "silu": "delta = delta / (1 + exp(-a)) * (1 + a * (1 - 1 / (1 + exp(-a))))",
}

# name -> (scalar parameters, state buffers, body); every kernel reads the
# gradient g and updates the parameters p and the state in place. The
# operation order follows _optimizers.py, so results agree to rounding.
OPTIMIZER_STEPS = {
    "momentum": (
        ("momentum", "lr"),
        ("velocity",),
        "velocity = velocity * momentum - g * lr; p = p + velocity",
    ),
    "nesterov": (
        ("momentum", "lr"),
        ("velocity",),
        (
            "velocity = velocity * momentum - g * lr; "
            "p = p - g * lr + velocity * momentum"
        ),
    ),
    "adam": (
        ("beta_1", "beta_2", "epsilon", "rate"),
        ("m", "v"),
        (
            "m = m * beta_1 + g * (1 - beta_1); "
            "v = v * beta_2 + g * g * (1 - beta_2); "
            "p = p - m / (sqrt(v) + epsilon) * rate"
        ),
    ),
    # Adam's body with the running maximum of v in the denominator. (CUDA's
    # max returns the other operand where one is NaN; p is NaN then anyway,
    # since m is.)
    "amsgrad": (
        ("beta_1", "beta_2", "epsilon", "rate"),
        ("m", "v", "v_max"),
        (
            "m = m * beta_1 + g * (1 - beta_1); "
            "v = v * beta_2 + g * g * (1 - beta_2); "
            "v_max = max(v_max, v); "
            "p = p - m / (sqrt(v_max) + epsilon) * rate"
        ),
    ),
    "rmsprop": (
        ("rho", "epsilon", "lr"),
        ("v",),
        "v = v * rho + g * g * (1 - rho); p = p - g / (sqrt(v) + epsilon) * lr",
    ),
}

EXPIT = ElementwiseSpec("T x", "T y", "y = 1 / (1 + exp(-x))", "skmlp_expit")

# Dropout's mask made from the uniform noise and applied in the same pass
# (forward), and again from the kept noise in backward: no mask is stored.
DROPOUT_FORWARD = ElementwiseSpec(
    "T noise, T rate, T scale, T a", "T out",
    "out = a * (noise >= rate) * scale", "skmlp_dropout_forward",
)
DROPOUT_BACKWARD = ElementwiseSpec(
    "T noise, T rate, T scale", "T delta",
    "delta = delta * (noise >= rate) * scale", "skmlp_dropout_backward",
)

# Batch normalization's elementwise steps, in the order of the operations of
# skmlp._nn.layers.BatchNorm's methods of the same names.
BATCH_NORM = {
    "centre": ElementwiseSpec(
        "T mean", "T z, T centred",
        "centred = z - mean; z = centred * centred", "skmlp_batch_norm_centre",
    ),
    "normalise": ElementwiseSpec(
        "T inv_std, T scale", "T normalised, T z",
        "normalised = normalised * inv_std; z = normalised * scale",
        "skmlp_batch_norm_normalise",
    ),
    "infer": ElementwiseSpec(
        "T mean, T factor", "T z", "z = (z - mean) * factor", "skmlp_batch_norm_infer",
    ),
    "backward_step": ElementwiseSpec(
        "T normalised, T shift_grad_mean, T scale_grad_mean, T factor", "T delta",
        "delta = (delta - shift_grad_mean - normalised * scale_grad_mean) * factor",
        "skmlp_batch_norm_backward",
    ),
}


def _typed(names):
    return ", ".join(f"T {name}" for name in names)


def bias_activation_spec(name):
    return ElementwiseSpec("T b", "T z", BIAS_ACTIVATION[name], f"skmlp_{name}_forward")


def derivative_spec(name):
    return ElementwiseSpec("T a", "T delta", DERIVATIVE[name], f"skmlp_{name}_backward")


def optimizer_step_spec(name):
    scalars, states, body = OPTIMIZER_STEPS[name]
    return ElementwiseSpec(
        _typed(("g", *scalars)), _typed(("p", *states)), body, f"skmlp_{name}_step"
    )


# The weight penalty's gradient terms (skmlp._nn.penalties.Penalty), added to the
# gradient g by the penalised optimizer steps in the order Penalty.add_gradient
# adds them: W * (alpha / n), then sign(W) * (l1 / n), written without a sign
# function (sign(W) * x is x, -x or 0, exactly, for any W but NaN, where the
# weights are NaN either way).
PENALTY_TERMS = {
    "l2": ("decay", "p * decay"),
    "l1": ("l1_rate", "((p > 0) * l1_rate - (p < 0) * l1_rate)"),
}


def penalised_step_spec(name, terms):
    """The step of optimizer ``name`` on weights whose gradient ``g`` lacks
    the penalty terms ``terms`` (keys of :data:`PENALTY_TERMS`, in its
    order): each use of ``g`` reads ``g`` plus the terms, so no pass over
    memory adds them first. The terms read the weights ``p`` before the step,
    which is the body's last statement (checked)."""
    scalars, states, body = OPTIMIZER_STEPS[name]
    statements = [s.strip() for s in body.split(";")]
    if any(re.search(r"\bp\b\s*=(?!=)", s) for s in statements[:-1]):
        raise ValueError(f"The {name} step updates p before its last statement.")
    rates = [PENALTY_TERMS[term][0] for term in terms]
    gradient = "(" + " + ".join(["g", *(PENALTY_TERMS[t][1] for t in terms)]) + ")"
    return ElementwiseSpec(
        _typed(("g", *rates, *scalars)),
        _typed(("p", *states)),
        re.sub(r"\bg\b", gradient, body),
        f"skmlp_{name}_step_{'_'.join(terms)}",
    )


class ElementwiseKernels:
    """Every elementwise kernel of the backend, made from its spec by
    ``make(spec)`` (``cupy.ElementwiseKernel`` on a GPU). The penalised
    optimizer steps are made at their first use (:meth:`penalised_step`)."""

    def __init__(self, make):
        self._make = make
        self._penalised_steps = {}
        self.bias_activation = {
            name: make(bias_activation_spec(name)) for name in BIAS_ACTIVATION
        }
        self.derivative = {name: make(derivative_spec(name)) for name in DERIVATIVE}
        self.optimizer_steps = {
            name: make(optimizer_step_spec(name)) for name in OPTIMIZER_STEPS
        }
        self.expit = make(EXPIT)
        self.dropout_forward = make(DROPOUT_FORWARD)
        self.dropout_backward = make(DROPOUT_BACKWARD)
        self.batch_norm = {name: make(spec) for name, spec in BATCH_NORM.items()}

    def penalised_step(self, name, terms):
        """The kernel of :func:`penalised_step_spec` ``(name, terms)``."""
        key = name, tuple(terms)
        if key not in self._penalised_steps:
            self._penalised_steps[key] = self._make(penalised_step_spec(*key))
        return self._penalised_steps[key]


def cupy_elementwise(cupy):
    """``make(spec)`` building a CuPy kernel (compiled at its first call and
    cached on disk by CuPy)."""

    def make(spec):
        return cupy.ElementwiseKernel(
            spec.in_params, spec.out_params, spec.operation, spec.name,
            no_return=True,
        )

    return make


# --------------------------------------------------------------- layers
class FusedActivation:
    """A hidden activation as two kernels, with the interface of
    :mod:`skmlp._nn.activations`: ``forward(z, bias)`` adds the bias and
    activates in one pass, ``backward(a, delta)`` multiplies the derivative
    into ``delta`` in one pass (``a``, the output or the pre-activation as
    the activation declares, is left unchanged). Its declarations
    (``init_gain``, ``derivative_from_output``) are the reference
    activation's: the kernels compute the same function."""

    def __init__(self, name, kernels):
        reference = ACTIVATIONS[name]
        self.name = name
        self.init_gain = reference.init_gain
        self.derivative_from_output = reference.derivative_from_output
        self._forward = kernels.bias_activation[name]
        self._derivative = kernels.derivative.get(name)

    def forward(self, z, bias):
        self._forward(bias, z)

    def backward(self, a, delta):
        if self._derivative is not None:
            self._derivative(a, delta)


class FusedDropout(Dropout):
    """:class:`~skmlp._nn.layers.Dropout` with its mask made and applied in one
    kernel; backward remakes the mask from the kept noise."""

    def __init__(self, rate, width, backend, dtype):
        super().__init__(rate, width, backend, dtype)
        self._kernels = backend.kernels

    def _apply(self, noise, a, out):
        self._kept = noise
        self._kernels.dropout_forward(noise, self.rate, self.scale, a, out)

    def backward(self, delta):
        self._kernels.dropout_backward(self._kept, self.rate, self.scale, delta)
        return delta


class FusedBatchNorm(BatchNorm):
    """:class:`~skmlp._nn.layers.BatchNorm` with each elementwise step one
    kernel (the reductions stay the array module's). The kernels come from
    ``backend.kernels_for(array)``: the CUDA kernels on a GPU; on the CPU
    numba's (:mod:`skmlp._kernels.cpu`), or None -- small arrays before
    numba has started, or no numba -- where the reference's ufunc steps run
    instead. Both give the same values."""

    def __init__(self, width, momentum, backend, dtype):
        super().__init__(width, momentum, backend, dtype)
        self._kernels_for = backend.kernels_for

    def _step(self, name, *arrays):
        """Run step ``name`` on ``arrays`` (inputs, then outputs) as a kernel,
        else as the reference's method ``_name``."""
        kernels = self._kernels_for(arrays[-1])
        if kernels is None:
            getattr(super(), f"_{name}")(*arrays)
        else:
            kernels.batch_norm[name](*arrays)

    def _centre(self, mean, z, centred):
        self._step("centre", mean, z, centred)

    def _normalise(self, inv_std, scale, normalised, z):
        self._step("normalise", inv_std, scale, normalised, z)

    def _infer(self, mean, factor, z):
        self._step("infer", mean, factor, z)

    def _backward_step(self, normalised, shift_grad_mean, scale_grad_mean, factor, delta):
        self._step(
            "backward_step", normalised, shift_grad_mean, scale_grad_mean, factor, delta
        )


def fused_step(optimizer, kernels):
    """``step(params, grads, learning_rate, scratch)`` running ``optimizer``'s
    update as one kernel from ``kernels`` (name -> kernel, as built from
    :data:`OPTIMIZER_STEPS`); the optimizer's own array step when it has no
    kernel. Scalars are worked out on the host, so nothing waits for the
    device."""
    arguments = _STEP_ARGUMENTS.get(type(optimizer))
    if arguments is None:
        return optimizer.step

    def step(params, grads, learning_rate, scratch):
        name, scalars, states = arguments(optimizer, learning_rate)
        kernels[name](grads, *scalars, params, *states)

    return step


def penalised_fused_step(optimizer, kernels, penalty, n_coefs):
    """``step(params, grads, learning_rate, scratch, total_weight)`` running
    ``optimizer``'s update with the gradient of the active ``penalty`` (a
    :class:`~skmlp._nn.penalties.Penalty`) of the weights ``params[:n_coefs]``
    folded in: one kernel of :meth:`ElementwiseKernels.penalised_step` over
    the weights, the plain one over the rest. ``grads`` lacks the penalty's
    gradient, and keeps lacking it. None where the optimizer has no kernel."""
    arguments = _STEP_ARGUMENTS.get(type(optimizer))
    if arguments is None:
        return None
    terms = penalty.terms

    def step(params, grads, learning_rate, scratch, total_weight):
        name, scalars, states = arguments(optimizer, learning_rate)
        rates = penalty.rates(total_weight)
        n = n_coefs
        kernels.penalised_step(name, terms)(
            grads[:n], *rates, *scalars, params[:n], *(state[:n] for state in states)
        )
        kernels.optimizer_steps[name](
            grads[n:], *scalars, params[n:], *(state[n:] for state in states)
        )

    return step


def _sgd_arguments(sgd, learning_rate):
    name = "nesterov" if sgd.nesterov else "momentum"
    return name, (sgd.momentum, learning_rate), (sgd.velocity,)


def _adam_arguments(adam, learning_rate):
    adam.t += 1
    # Bias corrections folded into the rate, as in Adam.step.
    rate = (
        learning_rate * math.sqrt(1 - adam.beta_2**adam.t) / (1 - adam.beta_1**adam.t)
    )
    states = (adam.first_moment, adam.second_moment)
    if adam.amsgrad:
        return "amsgrad", (adam.beta_1, adam.beta_2, adam.epsilon, rate), (
            *states,
            adam.max_second_moment,
        )
    return "adam", (adam.beta_1, adam.beta_2, adam.epsilon, rate), states


def _rmsprop_arguments(rmsprop, learning_rate):
    return (
        "rmsprop",
        (rmsprop.rho, rmsprop.epsilon, learning_rate),
        (rmsprop.square_average,),
    )


_STEP_ARGUMENTS = {
    SGD: _sgd_arguments,
    Adam: _adam_arguments,
    RMSprop: _rmsprop_arguments,
}


# --------------------------------------------------------------- outputs
# log(clip(p, eps, 1 - eps)) as in _losses._LogLoss; NaN stays NaN.
_CLIPPED_LOG = """
template <typename T>
__device__ T skmlp_clipped_log(T p, T eps) {
    return log(p < eps ? eps : (p > 1 - eps ? 1 - eps : p));
}
"""


class OutputKernels:
    """Softmax over rows and the mean output losses, each one kernel."""

    def __init__(self, cupy):
        # One thread per row: classes are few next to samples.
        self.softmax = cupy.ElementwiseKernel(
            "int64 n_cols",
            "raw T z",
            """
            const ptrdiff_t start = i * n_cols;
            T top = z[start];
            for (ptrdiff_t j = 1; j < n_cols; ++j) {
                top = z[start + j] > top ? z[start + j] : top;
            }
            T total = 0;
            for (ptrdiff_t j = 0; j < n_cols; ++j) {
                z[start + j] = exp(z[start + j] - top);
                total += z[start + j];
            }
            for (ptrdiff_t j = 0; j < n_cols; ++j) {
                z[start + j] /= total;
            }
            """,
            "skmlp_softmax_rows",
            no_return=True,
        )
        reduction = {
            "softmax": "y * skmlp_clipped_log(p, eps)",
            "logistic": "y * skmlp_clipped_log(p, eps)"
            " + (1 - y) * skmlp_clipped_log(1 - p, eps)",
        }
        self.log_loss = {
            name: cupy.ReductionKernel(
                "T y, T p, T eps, T n_rows",
                "T loss",
                expression,
                "a + b",
                "loss = -a / n_rows",
                "0",
                f"skmlp_{name}_log_loss",
                preamble=_CLIPPED_LOG,
            )
            for name, expression in reduction.items()
        }
        self.squared_error = cupy.ReductionKernel(
            "T y, T p, T n_values",
            "T loss",
            "(p - y) * (p - y)",
            "a + b",
            "loss = a / 2 / n_values",
            "0",
            "skmlp_squared_error",
        )


def _scalar(value, like):
    # Reductions take their scalars in the arrays' dtype.
    return like.dtype.type(value)


class _FusedLogLoss:
    """The mean log-loss as one reduction, ``self._loss`` (weighted losses
    take the unfused path)."""

    def loss(self, y, p, sample_weight=None, work=None):
        if sample_weight is not None:
            return super().loss(y, p, sample_weight, work)
        eps = self._xp.finfo(p.dtype).eps
        return self._loss(y, p, _scalar(eps, p), _scalar(p.shape[0], p))


class FusedSoftmaxLogLoss(_FusedLogLoss, SoftmaxLogLoss):
    def __init__(self, backend):
        super().__init__(backend)
        self._softmax = backend.output_kernels.softmax
        self._loss = backend.output_kernels.log_loss[self.name]

    def activate(self, z):
        n_rows, n_cols = z.shape
        self._softmax(n_cols, z, size=n_rows)


class FusedSigmoidLogLoss(_FusedLogLoss, SigmoidLogLoss):
    # activate is the backend's fused expit already.
    def __init__(self, backend):
        super().__init__(backend)
        self._loss = backend.output_kernels.log_loss[self.name]


class FusedSquaredError(IdentitySquaredError):
    def __init__(self, backend):
        super().__init__(backend)
        self._loss = backend.output_kernels.squared_error

    def loss(self, y, p, sample_weight=None, work=None):
        if sample_weight is not None:
            return super().loss(y, p, sample_weight, work)
        return self._loss(y, p, _scalar(p.size, p))


FUSED_OUTPUTS = {
    cls.name: cls
    for cls in (FusedSoftmaxLogLoss, FusedSigmoidLogLoss, FusedSquaredError)
}
