"""The network a fitted model predicts small batches with, built once.

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
