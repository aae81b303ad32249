"""Hidden-layer activation functions (wrapped into layers by
:class:`skmlp._layers.Activation`).

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
  activations such as GELU whose derivative the output does not determine).

``init_gain`` is the ``k`` of the Glorot-uniform bound
``sqrt(k / (fan_in + fan_out))`` that scikit-learn uses for a network with
these hidden units: 2 for the logistic, 6 for the others.
"""


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
        self._mask = None

    def _zero_row(self, like):
        """Zeros shaped like the bias row ``like`` (kept, so no allocation)."""
        zeros = self._zeros
        if zeros is None or zeros.size < like.size or zeros.dtype != like.dtype:
            zeros = self._zeros = self._xp.zeros(like.size, like.dtype)
        return zeros[: like.size]

    def _mask_like(self, a):
        """A boolean array shaped like ``a``, from one kept buffer large
        enough for the largest layer so far (the mask is used at once, so one
        buffer serves every layer)."""
        mask = self._mask
        if mask is None or mask.size < a.size:
            mask = self._mask = self._xp.empty(a.size, bool)
        return mask[: a.size].reshape(a.shape)

    def forward(self, z, bias):
        z += bias
        # max(z, 0) against a row of zeros: NumPy's maximum with a scalar
        # operand is not vectorised and takes ~3x as long.
        self._xp.maximum(z, self._zero_row(bias), out=z)

    def backward(self, a, delta):
        # f'(z) = 1 where a > 0 else 0, as a one-byte mask: it moves a quarter
        # of the memory that a float mask does (backward ~40% faster), and
        # far less than sign(a) computes.
        mask = self._mask_like(a)
        self._xp.greater(a, 0, out=mask)
        delta *= mask


ACTIVATIONS = {cls.name: cls for cls in (Identity, Logistic, Tanh, Relu)}
