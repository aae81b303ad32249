"""Uniform random numbers for dropout on the CPU, from a counter-based
generator.

Dropout needs one uniform draw per hidden unit and row of every batch: ~0.7
million for a 784-512-128-64-10 network at batch 1000, which NumPy's
``Generator.random`` makes in ~2 ms -- a tenth of the epoch. A counter-based
generator (like the Philox and Threefry of PyTorch and JAX) computes draw
``k`` of a call as a hash of ``k`` and a key drawn once per call: no state
runs from one draw to the next, so a compiled loop makes them with vector
instructions, several times faster. The hash is two rounds of Chris
Wellons' "lowbias32" integer hash (from his hash prospector; each round
xor-shifts, multiplies by an odd constant, twice, and xor-shifts), keyed by
xor with one 32-bit half of a 64-bit key before each round; draw ``k`` is
the hash's top 24 bits times ``2 ** -24``, a float32 in ``[0, 1)`` (or the
same value in float64). Keys come from NumPy's PCG64 generator, seeded from
the estimator's ``random_state``, so fits reproduce.

:func:`fill_reference` computes the draws with NumPy's ``uint32`` ufuncs (the
readable reference, and what runs where numba does not); the compiled
dropout kernels of :mod:`skmlp._kernels.cpu` remake the same bits inside
their loops (:class:`~skmlp._kernels.cpu.CompiledDropout`).
"""

import numpy as np

# lowbias32's shifts and multipliers: x ^= x >> 16; x *= M1; x ^= x >> 15;
# x *= M2; x ^= x >> 16 (all arithmetic modulo 2 ** 32).
SHIFTS = (16, 15, 16)
MULTIPLIERS = (0x7FEB352D, 0x846CA68B)
# Draws keep the hash's top 24 bits: exact in float32.
MANTISSA_BITS = 24


def _lowbias32(x, shifted):
    """One round of the hash, in place on the ``uint32`` array ``x``
    (``shifted``: a temporary like it)."""
    (first, second, third), (m1, m2) = SHIFTS, MULTIPLIERS
    x ^= np.right_shift(x, np.uint32(first), out=shifted)
    x *= np.uint32(m1)
    x ^= np.right_shift(x, np.uint32(second), out=shifted)
    x *= np.uint32(m2)
    x ^= np.right_shift(x, np.uint32(third), out=shifted)


class CounterUniform:
    """``uniform(out)``: fill the float array ``out`` (2-D, rows of units)
    with uniform draws in ``[0, 1)``, draw ``k`` (``k`` the flat row-major
    index) being the hash of ``k`` under a fresh key from ``keys`` (a NumPy
    ``Generator``). A compiled layer takes the key itself (:meth:`next_key`)
    and remakes the draws in its own loops."""

    def __init__(self, keys):
        self._keys = keys
        self._counters = np.empty(0, np.uint32)  # 0, 1, 2, ... (reference)
        self._work = np.empty((2, 0), np.uint32)

    def __call__(self, out):
        self.fill(out, self.next_key())

    def next_key(self):
        """A fresh key: the two 32-bit halves of one 64-bit draw (straight
        from the bit generator: a twentieth of the time of ``integers``)."""
        raw = int(self._keys.bit_generator.random_raw())
        return raw & 0xFFFFFFFF, raw >> 32

    def fill(self, out, key):
        """The draws of ``key`` into ``out``, by :func:`fill_reference`."""
        low, high = key
        if self._counters.size < out.size:
            self._counters = np.arange(out.size, dtype=np.uint32)
            self._work = np.empty((2, out.size), np.uint32)
        fill_reference(low, high, out, self._counters, self._work)


def unit(dtype):
    """The spacing of the draws, ``2 ** -24``, in ``dtype``."""
    return np.dtype(dtype).type(2.0**-MANTISSA_BITS)


def fill_reference(low, high, out, counters, work):
    """The draws of key ``(low, high)`` into ``out``, with NumPy's ufuncs;
    ``counters`` holds ``0, 1, 2, ...`` and ``work`` is two ``uint32``
    temporaries (rows), each at least ``out.size`` long."""
    x, shifted = work[0, : out.size], work[1, : out.size]
    np.bitwise_xor(counters[: out.size], np.uint32(low), out=x)
    _lowbias32(x, shifted)
    x ^= np.uint32(high)
    _lowbias32(x, shifted)
    x >>= np.uint32(32 - MANTISSA_BITS)
    out[...] = x.reshape(out.shape)
    out *= unit(out.dtype)
