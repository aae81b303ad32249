"""The elementwise kernels, described once, for every device.

Each :class:`ElementwiseSpec` does in one pass over memory what the NumPy
reference does in several array operations: bias + activation of a hidden
layer, the activation's derivative times the incoming delta, dropout's mask
made and applied, batch normalization's elementwise steps, and the whole
optimizer step over the flat ``params`` / ``grads`` / state buffers (the
weight penalty's gradient and decoupled weight decay folded in). CuPy compiles them for the GPU
(:mod:`skmlp._kernels.cuda`), numba for the CPU (:mod:`skmlp._kernels.cpu`);
:class:`ElementwiseKernels` gathers them, made by either.

The bodies are plain data, so this module imports without CuPy or numba.
They use only arithmetic, comparisons, the functions of :data:`FUNCTIONS`
(``max`` of two values) and ``T(x)`` (a literal in the arrays' dtype: a bare
``0.5`` is a double in C and would take a float32 expression to double
precision), which makes them valid Python as well as CUDA C: the CPU test
suite evaluates them with NumPy (:func:`reference_namespace`) and compares
them with the reference activations and optimizers. Non-integer constants
are written ``T(x)``; a comparison is 0 or 1 in arithmetic (``s * (s > 0)``
is ReLU), but never divide one by an integer (``(s > 0) / 100`` is integer
division in C).
"""

import ast
import re
from typing import NamedTuple

import numpy as np
from scipy.special import erf

from .._nn import INV_SQRT_2PI, SQRT_HALF


class ElementwiseSpec(NamedTuple):
    """Arguments of ``cupy.ElementwiseKernel``: ``T`` is the array dtype;
    scalars passed for ``T`` parameters are cast to it, as NumPy does with
    Python scalars."""

    in_params: str
    out_params: str
    operation: str
    name: str


class Function(NamedTuple):
    """A function a kernel body may call."""

    # The NumPy/SciPy ufunc computing it: the CPU tests evaluate the bodies
    # with these (reference_namespace).
    ufunc: object
    # Whether numba turns its calls into vector instructions. A body calling
    # any other (exp, tanh, expm1, erf; or T, the cast of a constant) is left
    # to NumPy's vectorised ufuncs on the CPU, which beat numba's calls of
    # the C library's scalar functions (float32 tanh ten times over).
    vectorised: bool


# The one list of the functions a body may call: each is in CUDA's math
# library (float and double overloads) and in Python (its math module, or the
# builtin max), so a body is valid CUDA C and valid Python.
FUNCTIONS = {
    "exp": Function(np.exp, vectorised=False),
    "expm1": Function(np.expm1, vectorised=False),
    "tanh": Function(np.tanh, vectorised=False),
    "sqrt": Function(np.sqrt, vectorised=True),
    "erf": Function(erf, vectorised=False),
    "max": Function(np.maximum, vectorised=True),
}


def reference_namespace(dtype):
    """The names a body reads, as NumPy arrays of ``dtype``: the ufuncs of
    :data:`FUNCTIONS`, and ``T``, the cast to ``dtype``."""
    return {
        **{name: function.ufunc for name, function in FUNCTIONS.items()},
        "T": np.dtype(dtype).type,
    }


def calls_only_vectorised(spec):
    """Whether every call in ``spec``'s body is of a vectorised function."""
    calls = (
        node.func.id
        for node in ast.walk(ast.parse(spec.operation))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    )
    return all(
        name in FUNCTIONS and FUNCTIONS[name].vectorised for name in calls
    )


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

# The parts Adam and RMSprop share, in skmlp._nn.optimizers' operation order.
_ADAM_MOMENTS = (
    "m = m * beta_1 + g * (1 - beta_1); v = v * beta_2 + g * g * (1 - beta_2)"
)


def _divided_step(numerator, v, rate):
    return f"p = p - {numerator} / (sqrt({v}) + epsilon) * {rate}"


# name -> (scalar parameters, state buffers, body); every kernel reads the
# gradient g and updates the parameters p and the state in place. The
# operation order follows skmlp._nn.optimizers, so results agree to rounding.
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
        f"{_ADAM_MOMENTS}; {_divided_step('m', 'v', 'rate')}",
    ),
    # Adam's body with the running maximum of v in the denominator. (CUDA's
    # max returns the other operand where one is NaN; p is NaN then anyway,
    # since m is.)
    "amsgrad": (
        ("beta_1", "beta_2", "epsilon", "rate"),
        ("m", "v", "v_max"),
        (
            f"{_ADAM_MOMENTS}; v_max = max(v_max, v); "
            f"{_divided_step('m', 'v_max', 'rate')}"
        ),
    ),
    "rmsprop": (
        ("rho", "epsilon", "lr"),
        ("v",),
        f"v = v * rho + g * g * (1 - rho); {_divided_step('g', 'v', 'lr')}",
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


def penalised_step_spec(name, terms, decoupled=False):
    """The step of optimizer ``name`` on weights whose gradient ``g`` lacks
    the penalty terms ``terms`` (keys of :data:`PENALTY_TERMS`, in its
    order): each use of ``g`` reads ``g`` plus the terms, so no pass over
    memory adds them first. The terms read the weights ``p`` before the step,
    which is the body's last statement (checked).

    With ``decoupled``, the step also shrinks the weights by the scalar
    ``shrink`` (``1 - lr * weight_decay``, decoupled weight decay as
    ``torch.optim.AdamW``): the last statement ``p = p ...`` reads ``p *
    shrink`` for its leading ``p``, which rounds as the reference's ``p *=
    shrink`` before the step does, while the terms still read the weights the
    gradient was taken at."""
    scalars, states, body = OPTIMIZER_STEPS[name]
    statements = [s.strip() for s in body.split(";")]
    if any(re.search(r"\bp\b\s*=(?!=)", s) for s in statements[:-1]):
        raise ValueError(f"The {name} step updates p before its last statement.")
    rates = [PENALTY_TERMS[term][0] for term in terms]
    gradient = "(" + " + ".join(["g", *(PENALTY_TERMS[t][1] for t in terms)]) + ")"
    statements = [re.sub(r"\bg\b", gradient, s) for s in statements]
    if decoupled:
        if not re.match(r"p = p [-+] ", statements[-1]):
            raise ValueError(f"The {name} step does not end with p = p + or p = p -.")
        statements[-1] = "p = p * shrink" + statements[-1][len("p = p"):]
        rates.append("shrink")
    suffix = "_".join([*terms, *(["decoupled"] if decoupled else [])])
    return ElementwiseSpec(
        _typed(("g", *rates, *scalars)),
        _typed(("p", *states)),
        "; ".join(statements),
        f"skmlp_{name}_step_{suffix}",
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

    def penalised_step(self, name, terms, decoupled=False):
        """The kernel of :func:`penalised_step_spec` ``(name, terms,
        decoupled)``."""
        key = name, tuple(terms), bool(decoupled)
        if key not in self._penalised_steps:
            self._penalised_steps[key] = self._make(penalised_step_spec(*key))
        return self._penalised_steps[key]
