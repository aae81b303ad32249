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
# first group only; "unpenalised" holds batch normalization's scale and shift,
# after the biases so that a network without it keeps today's layout.
PARAMETER_GROUPS = ("weights", "biases", "unpenalised")


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

    # The parameter an Activation above adds in its fused step.
    bias_name = "intercept"

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
        (:mod:`skmlp._nn.initializers`) from the NumPy ``random_state``."""
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
        if self.add_bias:  # else the layer that adds it sums its gradient
            delta.sum(axis=0, out=self.intercept_grad)
        if self._input_delta is None:
            return None
        delta_in = self._input_delta(delta.shape[0])
        self._matmul(delta, self.coef.T, out=delta_in)
        return delta_in


class Activation:
    """A hidden activation function (``skmlp._nn.activations``) applied in place,
    adding the bias of ``bias_from`` (the layer below: a dense layer's
    ``intercept``, or a batch normalization's ``shift``) in the same step so
    that a GPU backend runs both as one kernel.

    What backward needs is kept as the function declares: its output (the
    buffer itself), or -- ``derivative_from_output = False`` -- the
    pre-activation ``z + bias``, copied into a buffer of this layer's own
    while training.

    Having added the bias, it also computes the bias's gradient (the column
    sums of the delta it passes down), in the derivative's pass where the
    function has a ``backward_summing`` (the CPU's compiled kernels).
    """

    def __init__(self, function, bias_from, backend, dtype):
        self.function = function
        self.bias_from = bias_from
        bias_from.add_bias = False
        self._bias_name = bias_from.bias_name
        self._backward_summing = getattr(function, "backward_summing", None)
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
        bias = getattr(self.bias_from, self._bias_name)
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
        bias_grad = getattr(self.bias_from, self._bias_name + "_grad")
        if self._backward_summing is None:
            self.function.backward(self._kept, delta)
            delta.sum(axis=0, out=bias_grad)
        else:
            self._backward_summing(self._kept, delta, bias_grad)
        return delta


class Dropout:
    """Inverted dropout of rate ``rate``: while training, each value is kept
    with probability ``1 - rate`` and scaled by ``1 / (1 - rate)`` (so its
    expectation is unchanged), else zeroed; at prediction the layer passes
    its input through.

    The uniform draws come from ``uniform(out)`` (set by
    :meth:`~skmlp._nn.network.Network.seed`), which fills ``out`` in place.
    The output goes into a buffer of its own, not the input's: the activation
    below keeps its output for its derivative (ReLU, tanh, logistic), which
    must stay the undropped one. Backward multiplies ``delta`` by the same
    mask in place, before the activation's derivative.
    """

    def __init__(self, rate, width, backend, dtype):
        self.rate = rate
        self.scale = 1 / (1 - rate)
        self.parameters, self.state = {}, {}
        self.uniform = None
        self._xp = backend.xp
        self._noise = RowBuffer(backend.xp, width, dtype)
        self._output = RowBuffer(backend.xp, width, dtype)
        self._keep = RowBuffer(backend.xp, width, bool)
        self._kept = None

    def __repr__(self):
        return f"Dropout({self.rate})"

    def forward(self, a, training):
        if not training:
            return a
        n_rows = a.shape[0]
        noise = self._noise(n_rows)
        self.uniform(noise)
        out = self._output(n_rows)
        self._apply(noise, a, out)
        return out

    def _apply(self, noise, a, out):
        """``out = a * (noise >= rate) * scale``, keeping what backward needs.
        (A one-byte mask: a quarter of a float mask's memory traffic.)"""
        keep = self._keep(noise.shape[0])
        self._kept = self._xp.greater_equal(noise, self.rate, out=keep)
        self._xp.multiply(a, keep, out=out)
        out *= self.scale

    def backward(self, delta):
        delta *= self._kept
        delta *= self.scale
        return delta


class BatchNorm:
    """Batch normalization of a dense layer's output ``z``, before the
    activation (Ioffe and Szegedy; PyTorch's ``BatchNorm1d``):
    ``scale * (z - mean) / sqrt(var + eps) + shift``.

    While training, ``mean`` and ``var`` are the batch's (the biased
    variance), and the running statistics move towards them by ``momentum``
    -- ``running = (1 - momentum) * running + momentum * batch``, with the
    batch's unbiased variance, PyTorch's convention. A one-row batch has no
    variance: it leaves the running statistics as they are. ``momentum=None``
    freezes them (L-BFGS's line search). At prediction the running
    statistics stand in for the batch's, so each row's output depends on
    that row alone.

    ``shift`` is added by the :class:`Activation` above, fused with its
    nonlinearity (``add_bias`` False), as a dense layer's intercept is.
    """

    bias_name = "shift"
    eps = 1e-5

    def __init__(self, width, momentum, backend, dtype):
        # fan_out as a dense layer's: the width of what it passes up.
        self.width = self.fan_out = width
        self.momentum = momentum
        self.parameters = {
            "scale": ("unpenalised", (width,)),
            "shift": ("unpenalised", (width,)),
        }
        self.state = {"running_mean": (width,), "running_var": (width,)}
        self.add_bias = True
        xp = self._xp = backend.xp
        self._normalised = RowBuffer(xp, width, dtype)
        self._mean = xp.empty(width, dtype)
        self._var = xp.empty(width, dtype)
        self._inv_std = xp.empty(width, dtype)
        self._scale_grad_mean = xp.empty(width, dtype)
        self._product = RowBuffer(xp, width, dtype)

    def __repr__(self):
        return f"BatchNorm({self.width}, momentum={self.momentum})"

    def initialize(self):
        """Scale 1, shift 0, running mean 0 and variance 1, as PyTorch's."""
        self.scale[...] = 1
        self.shift[...] = 0
        self.running_mean[...] = 0
        self.running_var[...] = 1

    def forward(self, z, training):
        xp = self._xp
        if training:
            normalised = self._normalised(z.shape[0])
            z.mean(axis=0, out=self._mean)
            self._centre_and_variance(self._mean, z, normalised, self._var)
            self._update_running_statistics(z.shape[0])
            xp.add(self._var, self.eps, out=self._inv_std)
            xp.sqrt(self._inv_std, out=self._inv_std)
            xp.reciprocal(self._inv_std, out=self._inv_std)
            self._normalise(self._inv_std, self.scale, normalised, z)
        else:
            factor = self.scale / xp.sqrt(self.running_var + self.eps)
            self._infer(self.running_mean, factor, z)
        if self.add_bias:
            z += self.shift
        return z

    def _update_running_statistics(self, n_rows):
        momentum = self.momentum
        if momentum is None or n_rows < 2:
            return
        self.running_mean *= 1 - momentum
        self.running_mean += momentum * self._mean
        self.running_var *= 1 - momentum
        self.running_var += (momentum * n_rows / (n_rows - 1)) * self._var

    def backward(self, delta):
        """d(loss)/dz from d(loss)/d(output): with ``x`` the normalised
        values and ``n`` the rows, ``scale / std * (delta - mean(delta) -
        x * mean(delta * x))``, each mean over the rows."""
        n_rows = delta.shape[0]
        normalised = self._normalised(n_rows)
        if self.add_bias:  # else the layer that adds it summed its gradient
            delta.sum(axis=0, out=self.shift_grad)
        self._scale_gradient(delta, normalised, self.scale_grad)
        self._xp.divide(self.scale_grad, n_rows, out=self._scale_grad_mean)
        self._backward_step(
            normalised,
            self.shift_grad / n_rows,
            self._scale_grad_mean,
            self.scale * self._inv_std,
            delta,
        )
        return delta

    # The reductions, each fused with the elementwise work around it into
    # one pass on the CPU (skmlp._kernels.cpu.CompiledBatchNorm).
    def _centre_and_variance(self, mean, z, centred, var):
        """``centred = z - mean``; ``var``: the mean of its squares over the
        rows. (``z`` is overwritten with the squares, then with the output:
        no temporary.)"""
        self._centre(mean, z, centred)
        z.mean(axis=0, out=var)

    def _scale_gradient(self, delta, normalised, scale_grad):
        """``scale_grad``: the sums over the rows of ``delta * normalised``."""
        product = self._product(delta.shape[0])
        self._xp.multiply(delta, normalised, out=product)
        product.sum(axis=0, out=scale_grad)

    # The elementwise steps, one kernel each on a GPU (skmlp._kernels.specs,
    # compiled by skmlp._kernels.cuda).
    def _centre(self, mean, z, centred):
        """``centred = z - mean; z = centred ** 2``."""
        self._xp.subtract(z, mean, out=centred)
        self._xp.square(centred, out=z)

    def _normalise(self, inv_std, scale, normalised, z):
        """``normalised *= inv_std; z = normalised * scale``."""
        normalised *= inv_std
        self._xp.multiply(normalised, scale, out=z)

    def _infer(self, mean, factor, z):
        """``z = (z - mean) * factor``."""
        z -= mean
        z *= factor

    def _backward_step(self, normalised, shift_grad_mean, scale_grad_mean, factor, delta):
        """``delta = (delta - shift_grad_mean - normalised * scale_grad_mean)
        * factor``."""
        delta -= shift_grad_mean
        # The product buffer is free again: scale_grad is summed.
        product = self._product(delta.shape[0])
        self._xp.multiply(normalised, scale_grad_mean, out=product)
        delta -= product
        delta *= factor
