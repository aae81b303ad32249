"""The layers a network is a stack of, each a small object that declares what
it owns.

A layer has

- ``parameters``: ``{name: (group, shape)}``, its trainable parameters. The
  network lays every layer's parameters out in ONE flat ``params`` buffer,
  group by group in :data:`PARAMETER_GROUPS` order (all weights first, so
  ``params[:n_coefs]`` is exactly what the penalty acts on), and sets each as
  an attribute of the layer: a view ``layer.name`` into ``params`` and, once
  gradients exist, ``layer.name_grad`` into the twin ``grads`` buffer.
- ``state``: ``{name: shape}``, its non-trainable state (running statistics),
  laid out the same way in the network's separate ``state`` buffer, which no
  optimizer and no L-BFGS line search touches.
- ``forward(x, training) -> output``: ``training`` is True inside
  ``loss_gradient`` (the layer then keeps what its backward step needs) and
  False when predicting.
- ``backward(delta) -> delta_in``: given d(loss)/d(output) (which it may
  overwrite), write its parameters' gradients and return d(loss)/d(input),
  or None where no layer below needs it.

Layers write their outputs into buffers allocated once for the most rows seen
(:class:`RowBuffer`), so a batch allocates nothing; in-place layers
(activations) return their input buffer.
"""

# The order of the parameter groups in the flat buffer. Penalties act on the
# first group only.
PARAMETER_GROUPS = ("weights", "biases")


def is_sparse(array):
    """Whether ``array`` is a sparse matrix (SciPy's, or CuPy's alike): a
    dense layer then multiplies it with ``@``, which has no ``out=``."""
    return hasattr(array, "tocsr")


class RowBuffer:
    """A ``(rows, n_cols)`` work array, allocated once for the most rows asked
    so far and sliced (without copying) for fewer."""

    def __init__(self, xp, n_cols, dtype):
        self._xp, self._n_cols, self._dtype = xp, n_cols, dtype
        self._array = None

    def __call__(self, n_rows):
        if self._array is None or self._array.shape[0] < n_rows:
            self._array = self._xp.empty((n_rows, self._n_cols), self._dtype)
        return self._array[:n_rows]


class Dense:
    """``z = x @ coef + intercept``, ``x`` dense or (first layer) sparse.

    ``add_bias`` is set False by an :class:`Activation` that adds this
    layer's ``intercept`` itself (fused with its nonlinearity). A first layer
    is made with ``input_delta=False``: nothing below it needs its input's
    gradient, so backprop skips that GEMM.
    """

    def __init__(self, fan_in, fan_out, backend, dtype, input_delta=True):
        self.fan_in, self.fan_out = fan_in, fan_out
        self.parameters = {
            "coef": ("weights", (fan_in, fan_out)),
            "intercept": ("biases", (fan_out,)),
        }
        self.state = {}
        self.add_bias = True
        self._matmul = backend.xp.matmul
        self._output = RowBuffer(backend.xp, fan_out, dtype)
        self._input_delta = (
            RowBuffer(backend.xp, fan_in, dtype) if input_delta else None
        )
        self._input = None

    def __repr__(self):
        return f"Dense({self.fan_in}, {self.fan_out})"

    def initialize(self, initializer, random_state, gain, to_device):
        """Set ``coef`` and ``intercept`` to the draws of ``initializer``
        (:mod:`skmlp._initializers`) from the NumPy ``random_state``."""
        coef, intercept = initializer(random_state, self.fan_in, self.fan_out, gain)
        dtype = self.coef.dtype
        self.coef[...] = to_device(coef, dtype)
        self.intercept[...] = to_device(intercept, dtype)

    def forward(self, x, training):
        z = self._output(x.shape[0])
        if is_sparse(x):
            z[...] = x @ self.coef
        else:
            self._matmul(x, self.coef, out=z)
        if self.add_bias:
            z += self.intercept
        if training:
            self._input = x
        return z

    def backward(self, delta):
        x = self._input
        if is_sparse(x):
            self.coef_grad[...] = x.T @ delta
        else:
            self._matmul(x.T, delta, out=self.coef_grad)
        delta.sum(axis=0, out=self.intercept_grad)
        if self._input_delta is None:
            return None
        delta_in = self._input_delta(delta.shape[0])
        self._matmul(delta, self.coef.T, out=delta_in)
        return delta_in


class Activation:
    """A hidden activation function (``skmlp._activations``) applied in place,
    adding the bias of ``bias_from`` (the dense layer below) in the same step
    so that a GPU backend runs both as one kernel.

    What backward needs is kept as the function declares: its output (the
    buffer itself), or -- ``derivative_from_output = False`` -- the
    pre-activation ``z + bias``, copied into a buffer of this layer's own
    while training.
    """

    def __init__(self, function, bias_from, backend, dtype):
        self.function = function
        self.bias_from = bias_from
        bias_from.add_bias = False
        self.parameters, self.state = {}, {}
        self._add = backend.xp.add
        self._pre_activation = (
            None
            if function.derivative_from_output
            else RowBuffer(backend.xp, bias_from.fan_out, dtype)
        )
        self._kept = None

    def __repr__(self):
        return f"Activation({self.function.name})"

    def forward(self, z, training):
        bias = self.bias_from.intercept
        if training:
            if self._pre_activation is None:
                self._kept = z
            else:
                self._kept = self._add(
                    z, bias, out=self._pre_activation(z.shape[0])
                )
        self.function.forward(z, bias)
        return z

    def backward(self, delta):
        self.function.backward(self._kept, delta)
        return delta
