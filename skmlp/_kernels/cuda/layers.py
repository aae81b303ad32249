"""The CuPy backend's layers and outputs, each step one kernel."""

from ..._nn import (
    ACTIVATIONS,
    Dropout,
    IdentitySquaredError,
    SigmoidLogLoss,
    SoftmaxLogLoss,
)


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
