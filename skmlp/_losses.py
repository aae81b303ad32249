"""Output layers: the output activation paired with its loss.

Each pair is a canonical link, so the gradient of the loss with respect to the
output pre-activation is simply ``(prediction - target)`` times a constant
(:meth:`gradient_scale`). Losses are means over samples (weighted means when
sample weights are given), so they and their gradients do not grow with the
batch size.
"""


def _sample_mean(per_entry, sample_weight):
    """Mean over samples (rows) of the row sums of ``per_entry``; with
    ``sample_weight``, the weighted mean ``sum_i w_i s_i / sum_i w_i``."""
    if sample_weight is None:
        return per_entry.sum() / per_entry.shape[0]
    return (sample_weight @ per_entry).sum() / sample_weight.sum()


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

    def loss(self, y, p, sample_weight=None):
        """Mean over samples of ``-sum_k y_k log p_k``."""
        return -_sample_mean(y * self._clipped_log(p), sample_weight)


class SigmoidLogLoss(_LogLoss):
    """Independent sigmoids with the binary log-loss (binary and multilabel)."""

    name = "logistic"

    def activate(self, z):
        self._expit(z, out=z)

    def loss(self, y, p, sample_weight=None):
        """Mean over samples of ``-sum_k [y_k log p_k + (1 - y_k) log(1 - p_k)]``."""
        log_p = self._clipped_log(p)
        log_not_p = self._clipped_log(1 - p)
        return -_sample_mean(y * log_p + (1 - y) * log_not_p, sample_weight)


class IdentitySquaredError:
    """Identity output with half the squared error, averaged over samples and
    outputs (scikit-learn's ``loss_`` value)."""

    name = "identity"

    def __init__(self, backend):
        self._xp = backend.xp

    def activate(self, z):
        pass

    def loss(self, y, p, sample_weight=None):
        diff = p - y
        if sample_weight is not None:
            return 0.5 * _sample_mean(diff * diff, sample_weight) / diff.shape[1]
        return 0.5 * self._xp.vdot(diff, diff) / diff.size

    @staticmethod
    def gradient_scale(n_samples, n_outputs):
        # The loss is a mean over outputs too; scikit-learn's gradient forgets
        # this and is n_outputs times too large for multi-output regression.
        return 1.0 / (n_samples * n_outputs)


class ExpPoissonDeviance:
    """Exponential output with half the Poisson deviance, summed over outputs
    and averaged over samples (scikit-learn's ``loss='poisson'``): the
    canonical link of the Poisson distribution, so predictions stay positive."""

    name = "exp"

    def __init__(self, backend):
        self._xp = backend.xp

    def activate(self, z):
        self._xp.exp(z, out=z)

    def loss(self, y, p, sample_weight=None):
        """Mean over samples of ``sum_k [y_k log(y_k / p_k) - y_k + p_k]``,
        where ``y log(y / p)`` is 0 for ``y = 0``."""
        xp = self._xp
        positive = y > 0
        # Where y = 0 the log term is 0; divide by 1 there so no log(0) is taken.
        y_log_ratio = y * xp.log(xp.where(positive, y, 1) / p)
        deviance = xp.where(positive, y_log_ratio, 0) - y + p
        return _sample_mean(deviance, sample_weight)

    @staticmethod
    def gradient_scale(n_samples, n_outputs):
        # d/dz [y log(y / e^z) - y + e^z] = e^z - y: the canonical-link delta,
        # and the loss is summed (not averaged) over outputs.
        return 1.0 / n_samples


OUTPUTS = {
    cls.name: cls
    for cls in (
        SoftmaxLogLoss,
        SigmoidLogLoss,
        IdentitySquaredError,
        ExpPoissonDeviance,
    )
}
