"""Hidden-layer activation functions (wrapped into layers by
:class:`skmlp._nn.layers.Activation`).

Each activation adds the layer's bias to ``z = a_in @ W`` and activates it in
place: ``forward(z, bias)`` (one step, so a GPU backend can fuse both into one
kernel). ``backward(kept, delta)`` multiplies the incoming ``delta`` by
``f'(z)``, where ``kept`` is what the activation declared it needs:

- ``derivative_from_output = True``: ``kept`` is the activation's output
  ``a`` (so ``z`` need not be kept). ReLU, tanh and the logistic take their
  derivative from it and may overwrite it: backprop has already used ``a``
  for the weight gradient by then, and reusing its memory avoids any
  temporary array.
- ``derivative_from_output = False``: ``kept`` is the pre-activation
  ``z + bias``, which the layer then keeps in a buffer of its own (for
  activations such as GELU whose derivative the output does not determine);
  it is used once, so the activation may overwrite it too.

``init_gain`` is the ``k`` of the Glorot-uniform bound
``sqrt(k / (fan_in + fan_out))`` that scikit-learn uses for a network with
these hidden units (``weight_init='auto'``): 2 for the logistic, 6 for the
others -- the new activations included, since scikit-learn gives 6 to every
activation but the logistic (6 is Glorot and Bengio's uniform bound, of
variance ``2 / (fan_in + fan_out)``).

The operation order of each step is that of the activation's fused kernel in
:data:`skmlp._kernels.specs.BIAS_ACTIVATION` and ``DERIVATIVE`` (the leaky ReLU
divides by 100 rather than multiplying by 0.01, exact in every dtype), so the
two agree to rounding, and bit for bit where no transcendental function is
called.
"""

import math

from scipy.special import erf as _erf


class _WorkBuffer:
    """An array shaped like another, cut from one kept buffer large enough for
    the largest layer so far: each step uses it at once and is done with it,
    so one buffer serves every layer and a batch allocates nothing."""

    def __init__(self, xp, dtype=None):
        self._xp, self._dtype = xp, dtype
        self._array = None

    def like(self, a):
        dtype = a.dtype if self._dtype is None else self._dtype
        array = self._array
        if array is None or array.size < a.size or array.dtype != dtype:
            array = self._array = self._xp.empty(a.size, dtype)
        return array[: a.size].reshape(a.shape)


class Identity:
    name = "identity"
    init_gain = 6.0
    derivative_from_output = True

    def __init__(self, backend):
        pass

    def forward(self, z, bias):
        z += bias

    def backward(self, a, delta):
        pass


class Logistic:
    name = "logistic"
    init_gain = 2.0
    derivative_from_output = True

    def __init__(self, backend):
        self._expit = backend.expit

    def forward(self, z, bias):
        z += bias
        self._expit(z, out=z)

    def backward(self, a, delta):
        # f'(z) = a (1 - a)
        delta *= a
        a *= -1
        a += 1
        delta *= a


class Tanh:
    name = "tanh"
    init_gain = 6.0
    derivative_from_output = True

    def __init__(self, backend):
        self._xp = backend.xp

    def forward(self, z, bias):
        z += bias
        self._xp.tanh(z, out=z)

    def backward(self, a, delta):
        # f'(z) = 1 - a^2
        self._xp.square(a, out=a)
        a *= -1
        a += 1
        delta *= a


class Relu:
    name = "relu"
    init_gain = 6.0
    derivative_from_output = True

    def __init__(self, backend):
        self._xp = backend.xp
        self._zeros = None
        self._mask = _WorkBuffer(backend.xp, bool)

    def _zero_row(self, like):
        """Zeros shaped like the bias row ``like`` (kept, so no allocation)."""
        zeros = self._zeros
        if zeros is None or zeros.size < like.size or zeros.dtype != like.dtype:
            zeros = self._zeros = self._xp.zeros(like.size, like.dtype)
        return zeros[: like.size]

    def forward(self, z, bias):
        z += bias
        # max(z, 0) against a row of zeros: NumPy's maximum with a scalar
        # operand is not vectorised and takes ~3x as long.
        self._xp.maximum(z, self._zero_row(bias), out=z)

    def backward(self, a, delta):
        # f'(z) = 1 where a > 0 else 0, as a one-byte mask: it moves a quarter
        # of the memory that a float mask does (backward ~40% faster), and
        # far less than sign(a) computes.
        mask = self._mask.like(a)
        self._xp.greater(a, 0, out=mask)
        delta *= mask


class LeakyRelu:
    """``z`` where ``z > 0``, else ``z / 100``: slope 0.01, PyTorch's
    default ``negative_slope`` (its derivative at 0 is taken as 0.01, as
    PyTorch does)."""

    name = "leaky_relu"
    init_gain = 6.0
    derivative_from_output = True

    def __init__(self, backend):
        self._xp = backend.xp
        self._work = _WorkBuffer(backend.xp)
        self._mask = _WorkBuffer(backend.xp, bool)

    def forward(self, z, bias):
        z += bias
        # max(z, z / 100): z where z > 0, else z / 100.
        scaled = self._xp.divide(z, 100, out=self._work.like(z))
        self._xp.maximum(z, scaled, out=z)

    def backward(self, a, delta):
        # f'(z) = 1 where a > 0, else 0.01; a (same sign as z) is free to
        # hold delta / 100.
        mask = self._xp.less_equal(a, 0, out=self._mask.like(a))
        self._xp.divide(delta, 100, out=a)
        self._xp.copyto(delta, a, where=mask)


class Elu:
    """``z`` where ``z > 0``, else ``exp(z) - 1`` (alpha 1, PyTorch's and
    Keras's default), computed with ``expm1`` for accuracy near 0."""

    name = "elu"
    init_gain = 6.0
    derivative_from_output = True

    def __init__(self, backend):
        self._xp = backend.xp
        self._work = _WorkBuffer(backend.xp)

    def forward(self, z, bias):
        xp = self._xp
        z += bias
        # z * (z > 0) + expm1(min(z, 0)): exp never sees a large z, so a
        # positive input cannot overflow into inf * 0 = NaN.
        negative = xp.minimum(z, 0, out=self._work.like(z))
        xp.expm1(negative, out=negative)
        xp.maximum(z, 0, out=z)
        z += negative

    def backward(self, a, delta):
        # f'(z) = 1 where a > 0, else exp(z) = a + 1: min(a, 0) + 1.
        xp = self._xp
        xp.minimum(a, 0, out=a)
        a += 1
        delta *= a


# Constants of the Gaussian error linear unit (its fused kernels use them too).
SQRT_HALF = math.sqrt(0.5)
INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


class Gelu:
    """The Gaussian error linear unit ``z * Phi(z)``, ``Phi`` the standard
    normal distribution function, in its exact form ``z * (1 + erf(z /
    sqrt(2))) / 2``: PyTorch's default (``approximate='none'``) and Keras's,
    rather than the tanh approximation (which differs by up to ~5e-4 and
    saves nothing here: ``erf`` is one SciPy ufunc on the CPU and a CUDA
    math-library function on the GPU). Its derivative ``Phi(z) + z phi(z)``
    needs ``z`` itself."""

    name = "gelu"
    init_gain = 6.0
    derivative_from_output = False

    def __init__(self, backend):
        self._xp = backend.xp
        self._work = _WorkBuffer(backend.xp)

    def forward(self, z, bias):
        z += bias
        phi = self._xp.multiply(z, SQRT_HALF, out=self._work.like(z))
        _erf(phi, out=phi)
        phi += 1
        z *= phi
        z /= 2

    def backward(self, z, delta):
        # z phi(z) = z exp(-z^2 / 2) / sqrt(2 pi), then z (the layer's own
        # copy) becomes Phi(z) = (1 + erf(z / sqrt(2))) / 2.
        xp = self._xp
        density = xp.multiply(z, z, out=self._work.like(z))
        xp.negative(density, out=density)
        density /= 2
        xp.exp(density, out=density)
        density *= z
        density *= INV_SQRT_2PI
        z *= SQRT_HALF
        _erf(z, out=z)
        z += 1
        z /= 2
        z += density
        delta *= z


class Silu:
    """The sigmoid-weighted linear unit ``z * expit(z)`` (also called swish).
    Its derivative ``expit(z) * (1 + z * (1 - expit(z)))`` needs ``z``
    itself."""

    name = "silu"
    init_gain = 6.0
    derivative_from_output = False

    def __init__(self, backend):
        self._expit = backend.expit
        self._work = _WorkBuffer(backend.xp)

    def forward(self, z, bias):
        z += bias
        z *= self._expit(z, out=self._work.like(z))

    def backward(self, z, delta):
        sigmoid = self._expit(z, out=self._work.like(z))
        delta *= sigmoid
        # z (the layer's own copy) becomes 1 + z * (1 - expit(z)).
        sigmoid *= -1
        sigmoid += 1
        z *= sigmoid
        z += 1
        delta *= z


ACTIVATIONS = {
    cls.name: cls
    for cls in (Identity, Logistic, Tanh, Relu, LeakyRelu, Elu, Gelu, Silu)
}
