"""Prediction with a fitted network: :class:`Predictor`, and the network a
fitted model predicts small batches with, built once (:class:`ReusedNetwork`).

Building a :class:`~skmlp._nn.network.Network` (its layer objects, the views
into the flat weights, the work buffers) takes longer than running one row
through it, so a model serving one request at a time would spend most of
each call building. :class:`ReusedNetwork` keeps the last network built and
lends it to the next call that asks for one of the same kind over the same
flat weights. The network's weights are views into the model's own flat
array, so in-place edits of ``coefs_`` (and of ``intercepts_``) show at the
next call. Its work buffers are shared state, so only one call borrows it at
a time: a call that finds it lent out (another thread predicting) builds a
network of its own, as every call did before.
"""

import contextlib
import threading

from .network import Network

# The most rows a reused network serves: it keeps work buffers for this many
# rows (0.7 MB for a 784-512-128-64-10 float32 network) for as long as the
# model lives. Larger predictions build their own network, whose cost is
# small beside theirs, and free its buffers when they return.
MAX_REUSED_ROWS = 256


class ReusedNetwork:
    """One network, lent to one caller at a time (see the module's text).

    Not part of a model's saved state: a copy or an unpickled model starts
    without one.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._key = None
        self._network = None

    @contextlib.contextmanager
    def borrow(self, key, params, build):
        """Lend the kept network if it was built for ``key`` (anything that
        says what ``build`` would make, compared with ``==``) over the flat
        array ``params`` (compared by identity), else one made by
        ``build()``, which is kept for the next call when this one is the
        only borrower."""
        if not self._lock.acquire(blocking=False):
            yield build()
            return
        try:
            network = self._network
            if network is None or self._key != key or network.params is not params:
                network = self._network = build()
                self._key = key
            yield network
        finally:
            self._lock.release()


class Predictor:
    """A fitted network's arrays, and the networks that predict with them.

    ``layer_units`` are the network's sizes (inputs first); ``activation``
    and ``output`` name its hidden activation and output layer; ``coefs``,
    ``intercepts`` and ``batch_norm`` (scales, shifts, running means and
    variances, as :meth:`Network.set_batch_norm` takes them; empty lists
    without batch normalization) are its per-layer arrays. ``flat``, when
    not None, is the flat host array that ``coefs``, ``intercepts`` and the
    batch normalizations' scales and shifts are views of (the layout of
    ``Network.params``), which a network on the host wraps without copying;
    ``reused`` (a :class:`ReusedNetwork`) then lends the network for small
    batches.
    """

    def __init__(
        self,
        layer_units,
        activation,
        output,
        coefs,
        intercepts,
        batch_norm=((), (), (), ()),
        flat=None,
        reused=None,
    ):
        self.layer_units = layer_units
        self.activation = activation
        self.output = output
        self.coefs, self.intercepts = coefs, intercepts
        self.batch_norm = batch_norm
        self.flat, self.reused = flat, reused

    def shares_weights(self, backend, dtype):
        """Whether a network on ``backend`` in ``dtype`` wraps ``flat``."""
        flat = self.flat
        return backend.shares_host_memory and flat is not None and flat.dtype == dtype

    def network(self, backend, dtype):
        """A network of the fitted arrays on ``backend``, in ``dtype``: over
        ``flat`` without copying where :meth:`shares_weights`, else with the
        weights copied in. Running statistics live apart from the weights:
        always copied (they are small)."""
        params = self.flat if self.shares_weights(backend, dtype) else None
        network = Network(
            self.layer_units,
            self.activation,
            self.output,
            backend,
            dtype,
            params,
            batch_norm=bool(self.batch_norm[0]),
        )
        if params is None:
            network.set_layers(self.coefs, self.intercepts)
        network.set_batch_norm(*self.batch_norm)
        return network

    def predict(self, X, backend, dtype):
        """The output layer's values for the rows of ``X`` (validated host
        input), computed on ``backend`` in ``dtype``: an array of the
        backend. Up to :data:`MAX_REUSED_ROWS` rows over ``flat`` go through
        the reused network (a one-row predict would otherwise spend most of
        its time building one)."""
        if not self.shares_weights(backend, dtype) or X.shape[0] > MAX_REUSED_ROWS:
            return self.network(backend, dtype).predict(backend.input(X, dtype))
        key = (
            backend.name,
            dtype,
            tuple(self.layer_units),
            self.activation,
            self.output,
            bool(self.batch_norm[0]),
        )
        with self.reused.borrow(
            key, self.flat, lambda: self.network(backend, dtype)
        ) as network:
            # Running statistics are copied in (small), not viewed: edits of
            # them show as well.
            network.set_batch_norm(*self.batch_norm)
            return network.predict(backend.input(X, dtype))
