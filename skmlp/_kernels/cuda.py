"""CUDA kernels of the CuPy backend, and the layers that call them.

The elementwise kernels are CuPy's compilations of
:mod:`skmlp._kernels.specs` (:func:`cupy_elementwise`); the output kernels
here -- softmax over each row of the output, and each output loss as one
reduction -- are CUDA only (loops, clipping) and are checked by the GPU tests
and compiled by NVRTC in CI (``tests/test_cuda_compile.py``). This module
imports without CuPy: the backend hands it the module.
"""

from .._nn import (
    ACTIVATIONS,
    Dropout,
    IdentitySquaredError,
    SigmoidLogLoss,
    SoftmaxLogLoss,
)


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
