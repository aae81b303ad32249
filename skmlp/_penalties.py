"""The weight penalty added to the training loss.

:class:`Penalty` is the one place that knows the penalty's terms; the network
holds one and applies it to ``params[:n_coefs]`` (the weights of every dense
layer, never biases or other parameters) after each backward pass, so neither
the training loop nor L-BFGS passes penalty strengths around.
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

    def add(self, xp, weights, weight_grads, total_weight, scratch):
        """Add the penalty's gradient to ``weight_grads`` and return its value
        (0 when there is no penalty); ``scratch`` is a temporary shaped like
        ``weights``."""
        value = 0.0
        if self.alpha:
            xp.multiply(weights, self.alpha / total_weight, out=scratch)
            weight_grads += scratch
            value = 0.5 * self.alpha / total_weight * xp.vdot(weights, weights)
        if self.l1:
            signs = xp.sign(weights, out=scratch)
            # sign(W) . W is sum |W|.
            value = value + self.l1 / total_weight * xp.vdot(signs, weights)
            signs *= self.l1 / total_weight
            weight_grads += signs
        return value
