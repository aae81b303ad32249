"""The weight penalty added to the training loss.

:class:`Penalty` is the one place that knows the penalty's terms; the network
holds one and applies it to ``params[:n_coefs]`` (the weights of every dense
layer, never biases or other parameters): its value always with the loss, and
its gradient either after the backward pass (L-BFGS, clipping) or inside the
optimizer step (``adding_penalty``, or on the CPU folded into the compiled
kernel), which the stochastic trainer asks of the backend.
"""


class Penalty:
    """L2 and L1 penalty ``alpha / (2 n) * ||W||^2 + l1 / n * sum |W|`` on
    the weights ``W``.

    ``n`` is the number of samples of the batch, or the sum of their sample
    weights (scikit-learn's scaling of ``alpha``, which ``l1`` shares), so the
    penalty's share of the loss does not depend on the batch size's units.
    The L1 term's gradient is ``l1 / n * sign(W)``, 0 at ``W = 0`` (a
    subgradient).

    Parameters
    ----------
    alpha : float, default=0.0
        Strength of the L2 term; 0 adds nothing (and costs nothing).
    l1 : float, default=0.0
        Strength of the L1 term; 0 adds nothing (and costs nothing).

    Examples
    --------
    >>> import numpy as np
    >>> weights = np.array([1.0, -2.0])
    >>> grads = np.zeros(2)
    >>> float(Penalty(alpha=0.5).add(np, weights, grads, 10, np.empty(2)))
    0.125
    >>> grads
    array([ 0.05, -0.1 ])
    >>> round(float(Penalty(l1=2.0).add(np, weights, grads, 10, np.empty(2))), 12)
    0.6
    >>> grads
    array([ 0.25, -0.3 ])
    """

    def __init__(self, alpha=0.0, l1=0.0):
        self.alpha = alpha
        self.l1 = l1

    def __repr__(self):
        l1 = f", l1={self.l1!r}" if self.l1 else ""
        return f"Penalty(alpha={self.alpha!r}{l1})"

    @property
    def terms(self):
        """Names of the terms that add something, in the order their
        gradients are added: ``'l2'``, ``'l1'``."""
        return tuple(
            name for name, strength in (("l2", self.alpha), ("l1", self.l1)) if strength
        )

    def rates(self, total_weight):
        """The gradient factors of :attr:`terms` (of ``W`` for 'l2', of
        ``sign(W)`` for 'l1'): ``alpha / n`` and ``l1 / n`` for ``n`` =
        ``total_weight``."""
        return tuple(
            strength / total_weight for strength in (self.alpha, self.l1) if strength
        )

    def value(self, xp, weights, total_weight, scratch):
        """The penalty of ``weights`` (0 when there is none); ``scratch`` is
        a temporary shaped like ``weights``."""
        value = 0.0
        if self.alpha:
            value = 0.5 * self.alpha / total_weight * xp.vdot(weights, weights)
        if self.l1:
            # sign(W) . W is sum |W|.
            signs = xp.sign(weights, out=scratch)
            value = value + self.l1 / total_weight * xp.vdot(signs, weights)
        return value

    def add_gradient(self, xp, weights, weight_grads, total_weight, scratch):
        """Add the penalty's gradient to ``weight_grads``. (An optimizer
        kernel may add it itself instead: see
        :func:`skmlp._kernels.specs.penalised_step_spec`, which must give the
        same values.)"""
        if self.alpha:
            xp.multiply(weights, self.alpha / total_weight, out=scratch)
            weight_grads += scratch
        if self.l1:
            signs = xp.sign(weights, out=scratch)
            signs *= self.l1 / total_weight
            weight_grads += signs

    def add(self, xp, weights, weight_grads, total_weight, scratch):
        """Add the penalty's gradient to ``weight_grads`` and return its value
        (0 when there is no penalty)."""
        value = self.value(xp, weights, total_weight, scratch)
        self.add_gradient(xp, weights, weight_grads, total_weight, scratch)
        return value


def decay_weights(weights, learning_rate, weight_decay):
    """Decoupled weight decay (Loshchilov & Hutter), as ``torch.optim.AdamW``
    applies it before its update: ``W <- W * (1 - learning_rate *
    weight_decay)``, in place. Not a gradient, so no optimizer rescales it;
    the compiled steps fold the same product into their kernel
    (:func:`skmlp._kernels.specs.penalised_step_spec`, bit for bit)."""
    weights *= 1 - learning_rate * weight_decay


def adding_penalty(step, penalty, n_coefs, xp, weight_decay=0.0):
    """``step(params, grads, learning_rate, scratch, total_weight)`` that adds
    the gradient of ``penalty`` (none for None) on the weights
    ``params[:n_coefs]`` to ``grads``, decays those weights by
    ``weight_decay`` (:func:`decay_weights`; 0: not at all) and then runs
    ``step(params, grads, learning_rate, scratch)``: the optimizer step of
    the trainer, for a backend that does not fold the penalty and the decay
    into its optimizer kernel."""

    def penalised_step(params, grads, learning_rate, scratch, total_weight):
        n = n_coefs
        if penalty is not None:
            penalty.add_gradient(xp, params[:n], grads[:n], total_weight, scratch[:n])
        if weight_decay:
            decay_weights(params[:n], learning_rate, weight_decay)
        step(params, grads, learning_rate, scratch)

    return penalised_step
