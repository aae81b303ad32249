"""Output layers: the output activation paired with its loss.

An output layer is the last layer of the network. ``forward(z, training)``
activates the last dense layer's output in place; ``loss(...)`` is the mean
loss; ``delta(prediction, Y, sample_weight, total_weight, out)`` writes the
gradient of the *summed-then-divided-by-total_weight* loss with respect to the
output pre-activation ``z`` into ``out`` (backprop starts from it). Most
pairs are canonical links, so that delta is simply ``(prediction - target)``
(times the sample weights) times a constant (:meth:`gradient_scale`); the
identity output's other regression losses (absolute error, Huber, pinball)
are not, and write ``l'(prediction - target)`` instead. Losses are means over
samples (weighted means when sample weights are given), so they and their
gradients do not grow with the batch size.

:data:`OUTPUTS` names the output layers by their activation, which is all
prediction needs (``out_activation_``); :data:`REGRESSION_LOSSES` names the
regressor's by its ``loss``. Huber's ``huber_delta`` and the pinball loss's
``quantile`` are arguments of their classes.

``loss(y, p, sample_weight, work)`` may be handed ``work``, an array shaped like
``p`` that it is free to overwrite, so that the training loop computes the
unweighted loss without allocating (the network passes the output delta
buffer, filled only after).
"""


def _sample_mean(per_entry, sample_weight):
    """Mean over samples (rows) of the row sums of ``per_entry``; with
    ``sample_weight``, the weighted mean ``sum_i w_i s_i / sum_i w_i``."""
    if sample_weight is None:
        return per_entry.sum() / per_entry.shape[0]
    return (sample_weight @ per_entry).sum() / sample_weight.sum()


class _OutputLayer:
    """What every output layer shares: a layer owning no parameters and no
    state, whose ``forward`` applies its ``activate`` in place."""

    def __init__(self, backend):
        self._xp = backend.xp
        self.parameters, self.state = {}, {}

    def __repr__(self):
        return f"{type(self).__name__}()"

    def forward(self, z, training):
        """Activate ``z`` (the last dense layer's output) in place."""
        self.activate(z)
        return z

    def _weighted(self, out, sample_weight, total_weight):
        """``out`` (the per-entry gradient of the loss) times each row's
        sample weight and :meth:`gradient_scale`, in place."""
        if sample_weight is not None:
            out *= sample_weight[:, None]
        out *= self.gradient_scale(total_weight, out.shape[1])
        return out


def _entry_mean_scale(n_samples, n_outputs):
    """The gradient scale of a loss averaged over samples and outputs."""
    return 1.0 / (n_samples * n_outputs)


class CanonicalLinkOutput(_OutputLayer):
    """An output activation with the loss of its canonical link: the loss's
    gradient with respect to ``z`` is ``(p - y) * gradient_scale(...)``."""

    def delta(self, prediction, Y, sample_weight, total_weight, out):
        """Write d(loss) / dz into ``out``: the loss of every row, weighted by
        ``sample_weight`` (or not), summed and divided by ``total_weight``."""
        self._xp.subtract(prediction, Y, out=out)
        return self._weighted(out, sample_weight, total_weight)


class _LogLoss(CanonicalLinkOutput):
    """Shared by the softmax and sigmoid outputs: probabilities clipped to
    ``[eps, 1 - eps]`` before the log, as scikit-learn does."""

    def __init__(self, backend):
        super().__init__(backend)
        self._expit = backend.expit

    def _clipped_log(self, p, out=None):
        """``log(clip(p, eps, 1 - eps))``, computed in ``out`` (or a new array)."""
        xp = self._xp
        out = _work_like(xp, p, out)
        eps = xp.finfo(p.dtype).eps
        xp.clip(p, eps, 1 - eps, out=out)
        return xp.log(out, out=out)

    @staticmethod
    def gradient_scale(n_samples, n_outputs):
        return 1.0 / n_samples


class SoftmaxLogLoss(_LogLoss):
    """Softmax over classes with the categorical log-loss (multiclass)."""

    name = "softmax"

    def __init__(self, backend):
        super().__init__(backend)
        self._row_values = None

    def _column(self, z):
        """A ``(n_rows, 1)`` buffer for per-row maxima and sums, kept for the
        largest ``z`` so far (so a batch allocates nothing)."""
        n_rows = z.shape[0]
        if self._row_values is None or self._row_values.shape[0] < n_rows or (
            self._row_values.dtype != z.dtype
        ):
            self._row_values = self._xp.empty((n_rows, 1), z.dtype)
        return self._row_values[:n_rows]

    def activate(self, z):
        xp = self._xp
        row = self._column(z)
        z -= z.max(axis=1, keepdims=True, out=row)  # exp cannot overflow
        xp.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True, out=row)

    def loss(self, y, p, sample_weight=None, work=None):
        """Mean over samples of ``-sum_k y_k log p_k``."""
        log_p = self._clipped_log(p, out=work)
        if sample_weight is None:
            return -self._xp.vdot(y, log_p) / p.shape[0]
        log_p *= y
        return -_sample_mean(log_p, sample_weight)


class SigmoidLogLoss(_LogLoss):
    """Independent sigmoids with the binary log-loss (binary and multilabel)."""

    name = "logistic"

    def activate(self, z):
        self._expit(z, out=z)

    def loss(self, y, p, sample_weight=None, work=None):
        """Mean over samples of ``-sum_k [y_k log p_k + (1 - y_k) log(1 - p_k)]``,
        summed as ``y . log p + sum log(1 - p) - y . log(1 - p)`` so that one
        work array suffices."""
        xp = self._xp
        work = _work_like(xp, p, work)
        if sample_weight is None:
            total = xp.vdot(y, self._clipped_log(p, out=work))
            xp.subtract(1, p, out=work)
            log_not_p = self._clipped_log(work, out=work)
            total = total + log_not_p.sum() - xp.vdot(y, log_not_p)
            return -total / p.shape[0]
        # Weighted: the same three terms, each a weighted sum over rows.
        log_p = self._clipped_log(p, out=work)
        log_p *= y
        total = sample_weight @ log_p
        xp.subtract(1, p, out=work)
        log_not_p = self._clipped_log(work, out=work)
        total = total + sample_weight @ log_not_p
        log_not_p *= y
        total = total - sample_weight @ log_not_p
        return -total.sum() / sample_weight.sum()


class IdentitySquaredError(CanonicalLinkOutput):
    """Identity output with half the squared error, averaged over samples and
    outputs (scikit-learn's ``loss_`` value)."""

    name = "identity"

    def activate(self, z):
        pass

    def loss(self, y, p, sample_weight=None, work=None):
        diff = self._xp.subtract(p, y, out=_work_like(self._xp, p, work))
        if sample_weight is None:
            return 0.5 * self._xp.vdot(diff, diff) / diff.size
        diff *= diff
        return 0.5 * _sample_mean(diff, sample_weight) / diff.shape[1]

    # The loss is a mean over outputs too; scikit-learn's gradient forgets
    # this and is n_outputs times too large for multi-output regression.
    gradient_scale = staticmethod(_entry_mean_scale)


class ExpPoissonDeviance(CanonicalLinkOutput):
    """Exponential output with half the Poisson deviance, summed over outputs
    and averaged over samples (scikit-learn's ``loss='poisson'``): the
    canonical link of the Poisson distribution, so predictions stay positive."""

    name = "exp"

    def activate(self, z):
        self._xp.exp(z, out=z)

    def loss(self, y, p, sample_weight=None, work=None):
        """Mean over samples of ``sum_k [y_k log(y_k / p_k) - y_k + p_k]``,
        where ``y log(y / p)`` is 0 for ``y = 0``."""
        xp = self._xp
        deviance = _work_like(xp, p, work)
        # y log(max(y, tiny) / p): the same where y >= tiny (the smallest
        # normal number), and 0 * finite = 0 where y = 0, with no log(0).
        # The ratio is capped at the largest finite number: where exp(z)
        # underflowed to p = 0, y = 0 must still give 0, not 0 * inf = NaN.
        finfo = xp.finfo(p.dtype)
        xp.maximum(y, finfo.tiny, out=deviance)
        deviance /= p
        xp.minimum(deviance, finfo.max, out=deviance)
        xp.log(deviance, out=deviance)
        deviance *= y
        deviance -= y
        deviance += p
        return _sample_mean(deviance, sample_weight)

    @staticmethod
    def gradient_scale(n_samples, n_outputs):
        # d/dz [y log(y / e^z) - y + e^z] = e^z - y: the canonical-link delta,
        # and the loss is summed (not averaged) over outputs.
        return 1.0 / n_samples


class _IdentityResidualLoss(_OutputLayer):
    """Identity output with a loss ``l(r)`` of each residual ``r = p - y``
    other than the squared error. Not a canonical link, so it writes its own
    delta, ``l'(r)``. Averaged over samples and outputs (weighted over
    samples) with the squared error's scale, so that ``alpha``, ``l1`` and the
    learning rate mean the same for every regression loss."""

    name = "identity"
    gradient_scale = staticmethod(_entry_mean_scale)

    def activate(self, z):
        pass

    def delta(self, prediction, Y, sample_weight, total_weight, out):
        """Write ``l'(p - y)`` per entry, weighted and scaled as the mean,
        into ``out``."""
        self._xp.subtract(prediction, Y, out=out)
        self.residual_gradient(out)
        return self._weighted(out, sample_weight, total_weight)

    @staticmethod
    def _mean(per_entry, sample_weight):
        """Mean over samples (weighted) and outputs."""
        return _sample_mean(per_entry, sample_weight) / per_entry.shape[1]


class IdentityAbsoluteError(_IdentityResidualLoss):
    """Identity output with the absolute error ``|p - y|`` (PyTorch's
    ``L1Loss``). Its gradient at ``p = y`` is taken as 0, a subgradient."""

    def loss(self, y, p, sample_weight=None, work=None):
        residual = self._xp.subtract(p, y, out=_work_like(self._xp, p, work))
        return self._mean(self._xp.abs(residual, out=residual), sample_weight)

    def residual_gradient(self, residual):
        """``sign(r)`` in place (0 at ``r = 0``)."""
        self._xp.sign(residual, out=residual)


class IdentityHuberLoss(_IdentityResidualLoss):
    """Identity output with the Huber loss: ``r^2 / 2`` where ``|r| <=
    huber_delta``, ``huber_delta * (|r| - huber_delta / 2)`` beyond (PyTorch's
    ``HuberLoss(delta=huber_delta)``): squared error near the fit, absolute
    error, whose gradient is bounded, for outliers."""

    def __init__(self, backend, huber_delta=1.0):
        super().__init__(backend)
        self.huber_delta = huber_delta

    def __repr__(self):
        return f"{type(self).__name__}(huber_delta={self.huber_delta!r})"

    def loss(self, y, p, sample_weight=None, work=None):
        """The mean of ``min(|r|, d)^2 / 2 + d * max(|r| - d, 0)`` (the same
        function), summed one part at a time so that one work array
        suffices."""
        xp, threshold = self._xp, self.huber_delta
        entries = _work_like(xp, p, work)
        xp.abs(xp.subtract(p, y, out=entries), out=entries)
        entries -= threshold
        linear = self._mean(xp.maximum(entries, 0, out=entries), sample_weight)
        xp.abs(xp.subtract(p, y, out=entries), out=entries)
        xp.minimum(entries, threshold, out=entries)
        entries *= entries
        return 0.5 * self._mean(entries, sample_weight) + threshold * linear

    def residual_gradient(self, residual):
        """``clip(r, -huber_delta, huber_delta)`` in place."""
        self._xp.clip(residual, -self.huber_delta, self.huber_delta, out=residual)


class IdentityPinballLoss(_IdentityResidualLoss):
    """Identity output with the pinball loss of ``quantile`` q:
    ``q * (y - p)`` where ``y >= p``, ``(1 - q) * (p - y)`` where ``p > y``,
    whose minimiser is the conditional q-quantile (q = 0.5: half the absolute
    error). Its gradient at ``p = y`` is taken as 0, a subgradient."""

    def __init__(self, backend, quantile=0.5):
        super().__init__(backend)
        self.quantile = quantile

    def __repr__(self):
        return f"{type(self).__name__}(quantile={self.quantile!r})"

    def loss(self, y, p, sample_weight=None, work=None):
        """``(1 - q) * mean(max(p - y, 0)) + q * mean(max(y - p, 0))``, the
        over- and under-predictions one at a time in one work array."""
        xp, q = self._xp, self.quantile
        entries = _work_like(xp, p, work)
        xp.maximum(xp.subtract(p, y, out=entries), 0, out=entries)
        over = self._mean(entries, sample_weight)
        xp.maximum(xp.subtract(y, p, out=entries), 0, out=entries)
        under = self._mean(entries, sample_weight)
        return (1 - q) * over + q * under

    def residual_gradient(self, residual):
        """In place: ``sign(r)`` (-1, 0 or 1) clipped to ``[-q, 1 - q]`` is
        the slope on either side, and 0 at ``r = 0``."""
        xp = self._xp
        xp.sign(residual, out=residual)
        xp.clip(residual, -self.quantile, 1 - self.quantile, out=residual)


def _work_like(xp, p, work):
    """``work`` if given, else a fresh array shaped like ``p``."""
    return xp.empty_like(p) if work is None else work


OUTPUTS = {
    cls.name: cls
    for cls in (
        SoftmaxLogLoss,
        SigmoidLogLoss,
        IdentitySquaredError,
        ExpPoissonDeviance,
    )
}

# The regressor's ``loss`` parameter: its values and the output each picks.
REGRESSION_LOSSES = {
    "squared_error": IdentitySquaredError,
    "poisson": ExpPoissonDeviance,
    "absolute_error": IdentityAbsoluteError,
    "huber": IdentityHuberLoss,
    "quantile": IdentityPinballLoss,
}
