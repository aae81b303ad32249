"""The weight penalty added to the training loss.

:class:`Penalty` is the one place that knows the penalty's terms; the network
holds one and applies it to ``params[:n_coefs]`` (the weights of every dense
layer, never biases or other parameters) after each backward pass, so neither
the training loop nor L-BFGS passes penalty strengths around.
"""


class Penalty:
    """L2 penalty ``alpha / (2 n) * ||W||^2`` on the weights ``W``.

    ``n`` is the number of samples of the batch, or the sum of their sample
    weights (scikit-learn's scaling), so the penalty's share of the loss does
    not depend on the batch size's units.

    Parameters
    ----------
    alpha : float, default=0.0
        Strength of the L2 term; 0 adds nothing (and costs nothing).

    Examples
    --------
    >>> import numpy as np
    >>> weights = np.array([1.0, -2.0])
    >>> grads = np.zeros(2)
    >>> float(Penalty(alpha=0.5).add(np, weights, grads, 10, np.empty(2)))
    0.125
    >>> grads
    array([ 0.05, -0.1 ])
    """

    def __init__(self, alpha=0.0):
        self.alpha = alpha

    def __repr__(self):
        return f"Penalty(alpha={self.alpha!r})"

    def add(self, xp, weights, weight_grads, total_weight, scratch):
        """Add the penalty's gradient to ``weight_grads`` and return its value
        (0 when there is no penalty); ``scratch`` is a temporary shaped like
        ``weights``."""
        if not self.alpha:
            return 0.0
        xp.multiply(weights, self.alpha / total_weight, out=scratch)
        weight_grads += scratch
        return 0.5 * self.alpha / total_weight * xp.vdot(weights, weights)
