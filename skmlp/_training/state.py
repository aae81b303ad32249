"""What training leaves behind: the record the estimator turns into its
fitted attributes."""

from dataclasses import dataclass

import numpy as np


@dataclass
class FittedState:
    """A trained network on the host, and the trainer that continues it.

    Attributes
    ----------
    params : 1-D NumPy array
        The network's flat parameters: weights, biases, then the batch
        normalizations' scales and shifts (``Network.params``' layout).
    shapes : list of (int, int)
        ``(fan_in, fan_out)`` of each dense layer.
    state : 1-D NumPy array
        The batch normalizations' running means and variances
        (``Network.state``' layout; empty without them).
    output : str
        The output layer's name (``out_activation_``).
    trainer : Trainer or None
        The stochastic solvers' trainer: optimizer state, learning rate,
        counters and history, which ``warm_start`` and ``partial_fit``
        continue (what an L-BFGS fit was given, which it leaves as it is).
    """

    params: np.ndarray
    shapes: list
    state: np.ndarray
    output: str
    trainer: object = None

    @classmethod
    def of(cls, network, trainer=None):
        """The state ``network`` holds now (on NumPy, views of its buffers)."""
        backend = network.backend
        return cls(
            backend.to_host(network.params),
            network.shapes,
            backend.to_host(network.state),
            network.output.name,
            trainer,
        )

    @classmethod
    def at(cls, network, params, state=None, X=None):
        """A copy of ``network`` with weights ``params`` (on its backend, or
        SciPy's float64) and running statistics ``state``, in the network's
        dtype; a ``state`` of None is the one fit_lbfgs ends with: the
        statistics of all rows of ``X`` (the network's input) at
        ``params``."""
        backend = network.backend
        flat = np.array(backend.to_host(params), dtype=network.dtype)  # a copy
        if state is None:
            state = network.running_statistics_at(params, X)
        return cls(flat, network.shapes, backend.to_host(state), network.output.name)

    def is_finite(self):
        """Whether every weight and running statistic is finite."""
        return bool(np.isfinite(self.params).all() and np.isfinite(self.state).all())
