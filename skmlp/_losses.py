"""Output layers: the output activation paired with its loss.

Each pair is a canonical link, so the gradient of the loss with respect to the
output pre-activation is simply ``(prediction - target)`` times a constant
(:meth:`gradient_scale`). Losses are means over samples, so they and their
gradients do not grow with the batch size.
"""


class _LogLoss:
    """Shared by the softmax and sigmoid outputs: probabilities clipped to
    ``[eps, 1 - eps]`` before the log, as scikit-learn does."""

    def __init__(self, backend):
        self._xp = backend.xp
        self._expit = backend.expit

    def _clipped_log(self, p):
        xp = self._xp
        eps = xp.finfo(p.dtype).eps
        return xp.log(xp.clip(p, eps, 1 - eps))

    @staticmethod
    def gradient_scale(n_samples, n_outputs):
        return 1.0 / n_samples


class SoftmaxLogLoss(_LogLoss):
    """Softmax over classes with the categorical log-loss (multiclass)."""

    name = "softmax"

    def activate(self, z):
        xp = self._xp
        z -= z.max(axis=1, keepdims=True)  # exp cannot overflow
        xp.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)

    def loss(self, y, p):
        """Mean over samples of ``-sum_k y_k log p_k``."""
        return -(y * self._clipped_log(p)).sum() / p.shape[0]


class SigmoidLogLoss(_LogLoss):
    """Independent sigmoids with the binary log-loss (binary and multilabel)."""

    name = "logistic"

    def activate(self, z):
        self._expit(z, out=z)

    def loss(self, y, p):
        """Mean over samples of ``-sum_k [y_k log p_k + (1 - y_k) log(1 - p_k)]``."""
        log_p = self._clipped_log(p)
        log_not_p = self._clipped_log(1 - p)
        return -(y * log_p + (1 - y) * log_not_p).sum() / p.shape[0]


class IdentitySquaredError:
    """Identity output with half the squared error, averaged over samples and
    outputs (scikit-learn's ``loss_`` value)."""

    name = "identity"

    def __init__(self, backend):
        self._xp = backend.xp

    def activate(self, z):
        pass

    def loss(self, y, p):
        diff = p - y
        return 0.5 * self._xp.vdot(diff, diff) / diff.size

    @staticmethod
    def gradient_scale(n_samples, n_outputs):
        # The loss is a mean over outputs too; scikit-learn's gradient forgets
        # this and is n_outputs times too large for multi-output regression.
        return 1.0 / (n_samples * n_outputs)


OUTPUTS = {cls.name: cls for cls in (SoftmaxLogLoss, SigmoidLogLoss, IdentitySquaredError)}
