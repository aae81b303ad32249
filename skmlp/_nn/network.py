"""The backpropagation core: a stack of layers over one flat buffer.

A :class:`Network` is a list of layer objects (:mod:`skmlp._nn.layers`): dense
layers, each hidden one followed by its activation, and the output layer
(:mod:`skmlp._nn.losses`) last. Every trainable parameter is a view into one
contiguous ``params`` array (all weight matrices first, then all biases), and
the gradients are the same views into a twin ``grads`` array. An optimizer
step is then one vectorised expression over all layers, and moving or saving
the model is one copy. Non-trainable state lives apart, in ``state``. Nothing
here knows about scikit-learn; the array module comes from the backend, so
the same code runs on NumPy and CuPy.
"""

import contextlib
import math
from functools import cached_property
from itertools import pairwise

from .initializers import INITIALIZERS
from .layers import PARAMETER_GROUPS, Activation, BatchNorm, Dense, Dropout, RowBuffer
from .penalties import Penalty

# Rows per chunk of a prediction: its hidden activations stay small (and in
# cache on a CPU) however many rows are predicted.
PREDICT_CHUNK_ROWS = 4096


def layer_views(flat, shapes):
    """Split ``flat`` into per-layer weight matrices and bias vectors: the
    layout of a network of dense layers of ``shapes`` (``(fan_in, fan_out)``
    each)."""
    coefs, intercepts = [], []
    start = 0
    for fan_in, fan_out in shapes:
        stop = start + fan_in * fan_out
        coefs.append(flat[start:stop].reshape(fan_in, fan_out))
        start = stop
    for _, fan_out in shapes:
        intercepts.append(flat[start : start + fan_out])
        start += fan_out
    return coefs, intercepts


def paired_views(flat, start, coefs):
    """Split ``flat[start:]`` into two lists of per-hidden-layer vectors laid
    out pair by pair, the layout of batch normalization's scale and shift
    (in ``params``, after the biases) and of its running mean and variance
    (in ``state``), for the dense layers of weight matrices ``coefs``. Empty
    lists when ``flat`` ends at ``start`` (no batch normalization)."""
    firsts, seconds = [], []
    if flat.shape[0] > start:
        for coef in coefs[:-1]:
            width = coef.shape[1]
            firsts.append(flat[start : start + width])
            seconds.append(flat[start + width : start + 2 * width])
            start += 2 * width
    return firsts, seconds


def parameter_slots(layers):
    """Where each layer's parameters lie in the flat buffer: a list of
    ``(layer, name, shape, start, stop)`` in buffer order (by group, in
    :data:`PARAMETER_GROUPS` order, then by layer), and each group's size."""
    groups = {group: [] for group in PARAMETER_GROUPS}
    for layer in layers:
        for name, (group, shape) in layer.parameters.items():
            groups[group].append((layer, name, shape))
    slots, group_sizes, start = [], {}, 0
    for group, entries in groups.items():
        group_start = start
        for layer, name, shape in entries:
            stop = start + math.prod(shape)
            slots.append((layer, name, shape, start, stop))
            start = stop
        group_sizes[group] = start - group_start
    return slots, group_sizes


def state_slots(layers):
    """Where each layer's non-trainable state lies in the state buffer, as
    :func:`parameter_slots` says it for parameters."""
    slots, start = [], 0
    for layer in layers:
        for name, shape in layer.state.items():
            stop = start + math.prod(shape)
            slots.append((layer, name, shape, start, stop))
            start = stop
    return slots


def bind(slots, flat, suffix=""):
    """Set each slot's view into ``flat`` as the attribute ``name + suffix``
    of its layer."""
    for layer, name, shape, start, stop in slots:
        setattr(layer, name + suffix, flat[start:stop].reshape(shape))


def total_size(slots):
    return slots[-1][-1] if slots else 0


def batch_weight(Y, sample_weight=None):
    """``n`` of the mean loss of a batch of targets ``Y``: its number of rows,
    or the sum of its ``sample_weight``."""
    return Y.shape[0] if sample_weight is None else sample_weight.sum()


class Network:
    """A multilayer perceptron: ``layer_units[0]`` inputs, then one dense layer
    per following entry; hidden layers use ``activation`` and the last layer
    the ``output`` activation with its loss; ``penalty`` (a
    :class:`~skmlp._nn.penalties.Penalty`, none by default) is added to the loss.

    ``output`` is the name of an output layer of :data:`~skmlp._nn.losses.OUTPUTS`
    (the backend builds it, fused on a GPU), or a callable ``backend ->
    output layer`` for a loss with parameters (``functools.partial(
    IdentityHuberLoss, huber_delta=2.0)``).

    ``params``, when given, is an existing flat buffer of the right size and
    dtype to use as the network's weights without copying them. ``dropout``
    gives each hidden layer's dropout rate (0 for none, the default);
    ``batch_norm`` puts a batch normalization with ``batch_norm_momentum``
    after each hidden dense layer.

    Attributes
    ----------
    layers : list
        The layer objects, input side first, the output layer last.
    params, grads : 1-D arrays
        All trainable parameters (weights first, then biases), and the
        gradient of the loss with respect to them (filled by
        :meth:`loss_gradient`; like ``scratch``, made on first use, so a
        network that only predicts never allocates it).
    state : 1-D array
        Every layer's non-trainable state: the batch normalizations' running
        means and variances (empty without them).
    dense_layers : list of Dense
        The dense layers, input side first: each holds its views into
        ``params`` (``coef``, ``intercept``) and, once ``grads`` is made, the
        matching views into it (``coef_grad``, ``intercept_grad``).
    batch_norm_layers, dropout_layers : lists
        The batch normalizations and the dropout layers, input side first.
    n_coefs : int
        Number of weights: ``params[:n_coefs]`` is what the penalty acts on.

    Examples
    --------
    >>> import numpy as np
    >>> from skmlp._backends import NumpyBackend
    >>> Network([4, 3, 2], "relu", "softmax", NumpyBackend(), np.float64)
    Network of 23 float64 parameters on numpy, Penalty(alpha=0.0):
      Dense(4, 3)
      Activation(relu)
      Dense(3, 2)
      SoftmaxLogLoss()
    """

    def __init__(
        self,
        layer_units,
        activation,
        output,
        backend,
        dtype,
        params=None,
        penalty=None,
        dropout=None,
        batch_norm=False,
        batch_norm_momentum=0.1,
    ):
        self.backend = backend
        self.layer_units = tuple(int(u) for u in layer_units)
        self.shapes = list(pairwise(self.layer_units))
        n_hidden = len(self.shapes) - 1
        self.dropout = (0.0,) * n_hidden if dropout is None else tuple(dropout)
        self.batch_norm = batch_norm
        self.batch_norm_momentum = batch_norm_momentum
        # The backend builds them, so a GPU backend can fuse their kernels.
        self.hidden = backend.activation(activation)
        self.output = (
            backend.output(output) if isinstance(output, str) else output(backend)
        )
        self.penalty = Penalty() if penalty is None else penalty
        self.layers = self._stack(dtype)
        self.dense_layers = [layer for layer in self.layers if isinstance(layer, Dense)]
        self.batch_norm_layers = [
            layer for layer in self.layers if isinstance(layer, BatchNorm)
        ]
        self.dropout_layers = [layer for layer in self.layers if isinstance(layer, Dropout)]

        self._parameter_slots, group_sizes = parameter_slots(self.layers)
        self.n_coefs = group_sizes["weights"]
        n_params = total_size(self._parameter_slots)
        if params is None:
            params = backend.xp.zeros(n_params, dtype=dtype)
        elif params.shape != (n_params,) or params.dtype != dtype:
            raise ValueError(
                f"params must be a flat {backend.xp.dtype(dtype)} array of "
                f"{n_params} entries, got {params.dtype} of shape {params.shape}."
            )
        self.params = params
        bind(self._parameter_slots, params)
        slots = state_slots(self.layers)
        self.state = backend.xp.zeros(total_size(slots), dtype=dtype)
        bind(slots, self.state)
        self._output_delta = RowBuffer(backend.xp, self.layer_units[-1], dtype)

    def _stack(self, dtype):
        """Dense layers, each hidden one followed by its batch normalization
        (if on), its activation and its dropout (if its rate is not 0); the
        output last."""
        backend = self.backend
        layers = []
        last = len(self.shapes) - 1
        for i, (fan_in, fan_out) in enumerate(self.shapes):
            below = Dense(fan_in, fan_out, backend, dtype, input_delta=i > 0)
            layers.append(below)
            if i == last:
                break
            if self.batch_norm:
                below = backend.batch_norm(fan_out, self.batch_norm_momentum, dtype)
                layers.append(below)
            layers.append(Activation(self.hidden, below, backend, dtype))
            if self.dropout[i]:
                layers.append(backend.dropout(self.dropout[i], fan_out, dtype))
        layers.append(self.output)
        return layers

    def __repr__(self):
        head = (
            f"Network of {self.params.size} {self.dtype} parameters on "
            f"{self.backend.name}, {self.penalty!r}:"
        )
        return "\n  ".join([head, *map(repr, self.layers)])

    @property
    def dtype(self):
        return self.params.dtype

    @cached_property
    def grads(self):
        # zeros, not zeros_like (which writes every zero): fresh zero pages
        # cost nothing until touched.
        grads = self.backend.xp.zeros(self.params.shape[0], dtype=self.dtype)
        bind(self._parameter_slots, grads, suffix="_grad")
        return grads

    @cached_property
    def scratch(self):
        """Room for one parameter-sized temporary (penalty, optimizer steps)."""
        return self.backend.xp.empty_like(self.params)

    def initialize(self, random_state, weight_init="auto"):
        """Draw every dense layer's weights and biases, layer by layer, from
        a NumPy ``RandomState`` with the initializer ``weight_init``
        (:data:`~skmlp._nn.initializers.INITIALIZERS`). 'auto' draws uniformly
        in ``+-sqrt(k / (fan_in + fan_out))`` (Glorot; ``k`` is the hidden
        activation's ``init_gain``), weights before biases -- the same draws
        as scikit-learn's MLP, so equal seeds give equal initial weights. Batch
        normalizations start as the identity, with running mean 0 and
        variance 1."""
        initializer = INITIALIZERS[weight_init]
        for layer in self.dense_layers:
            layer.initialize(
                initializer, random_state, self.hidden.init_gain,
                self.backend.to_device,
            )
        for layer in self.batch_norm_layers:
            layer.initialize()

    def seed(self, random_state):
        """Give the dropout layers their random stream: a generator of the
        backend (on the device for a GPU) seeded by one draw from the NumPy
        ``random_state``. Draws nothing without dropout."""
        if self.dropout_layers:
            uniform = self.backend.uniform(random_state)
            for layer in self.dropout_layers:
                layer.uniform = uniform

    def set_batch_norm(self, scales, shifts, means, variances):
        """Copy per-layer batch-normalization scales, shifts and running
        statistics (any array kind) into ``params`` and ``state``."""
        given = (scales, shifts, means, variances)
        layers = self.batch_norm_layers
        if any(len(values) != len(layers) for values in given):
            raise ValueError(
                f"The model has batch-normalization values for {len(scales)} "
                f"hidden layers but this network has {len(layers)} batch "
                "normalizations. batch_norm cannot change between calls: set "
                "warm_start=False (or refit) to start a new network."
            )
        for i, (layer, *values) in enumerate(zip(layers, *given)):
            for name, value in zip(
                ("scale", "shift", "running_mean", "running_var"), values
            ):
                if tuple(value.shape) != (layer.width,):
                    raise ValueError(
                        f"The batch normalization of hidden layer {i} needs "
                        f"{name} of shape {(layer.width,)}, got "
                        f"{tuple(value.shape)}. Assign arrays of the right "
                        "shapes, or refit."
                    )
                getattr(layer, name)[...] = self.backend.to_device(value, self.dtype)

    @contextlib.contextmanager
    def batch_norm_momentum_set_to(self, momentum):
        """Run the block with every batch normalization's momentum set to
        ``momentum`` (None: running statistics frozen)."""
        layers = self.batch_norm_layers
        # Restored as they were: the blocks nest (a callback's snapshot sets
        # running statistics inside L-BFGS's frozen ones).
        before = [layer.momentum for layer in layers]
        for layer in layers:
            layer.momentum = momentum
        try:
            yield
        finally:
            for layer, previous in zip(layers, before):
                layer.momentum = previous

    def set_running_statistics(self, X):
        """Set every batch normalization's running statistics to those of all
        rows of ``X`` (their mean and unbiased variance)."""
        if self.batch_norm_layers:
            with self.batch_norm_momentum_set_to(1.0):
                self.forward(X, training=True)

    def running_statistics_at(self, params, X):
        """A copy of ``state`` as :meth:`set_running_statistics` sets it with
        weights ``params`` (any array kind); ``params`` and ``state`` are left
        as they were."""
        if not self.batch_norm_layers:
            return self.state.copy()
        kept_params, kept_state = self.params.copy(), self.state.copy()
        self.params[...] = self.backend.to_device(params)
        self.set_running_statistics(X)
        state = self.state.copy()
        self.params[...] = kept_params
        self.state[...] = kept_state
        return state

    def set_layers(self, coefs, intercepts):
        """Copy per-layer weights and biases (any array kind) into ``params``."""
        if len(coefs) != len(self.shapes) or len(intercepts) != len(self.shapes):
            raise ValueError(
                f"The model has {len(coefs)} weight matrices and {len(intercepts)} "
                f"bias vectors but layer sizes {self.layer_units} need "
                f"{len(self.shapes)} of each. Set warm_start=False (or refit) to "
                "start a new network with the new hidden_layer_sizes."
            )
        for i, (coef, intercept, layer) in enumerate(
            zip(coefs, intercepts, self.dense_layers)
        ):
            fan_in, fan_out = layer.fan_in, layer.fan_out
            if tuple(coef.shape) != (fan_in, fan_out) or tuple(intercept.shape) != (
                fan_out,
            ):
                raise ValueError(
                    f"coefs_[{i}] has shape {tuple(coef.shape)} and intercepts_[{i}] "
                    f"shape {tuple(intercept.shape)}, but layer sizes "
                    f"{self.layer_units} need {(fan_in, fan_out)} and {(fan_out,)}. "
                    "Assign arrays of the right shapes, or refit with "
                    "warm_start=False to start a new network."
                )
            layer.coef[...] = self.backend.to_device(coef, self.dtype)
            layer.intercept[...] = self.backend.to_device(intercept, self.dtype)

    def forward(self, X, training=False):
        """Run ``X`` through every layer and return the output layer's values
        (a buffer of the last dense layer, overwritten by the next call).
        ``training=True`` keeps what :meth:`loss_gradient`'s backward pass
        needs; prediction leaves it False."""
        a = X
        for layer in self.layers:
            a = layer.forward(a, training)
        return a

    def loss_gradient(self, X, Y, sample_weight=None, penalty_gradient=True):
        """Return the mean loss of batch ``(X, Y)`` plus the penalty (L2 and
        L1: ``alpha / (2 n) * ||W||^2 + l1 / n * |W|_1``), and write its
        gradient into ``grads``.

        With ``sample_weight`` (a vector of the backend whose sum is not 0)
        the mean is the weighted mean and ``n`` the sum of the weights,
        scikit-learn's objective. ``X`` may be a sparse matrix.
        ``penalty_gradient=False`` leaves the penalty's gradient out of
        ``grads`` (the loss still counts it), for an optimizer step that adds
        it itself (``backend.optimizer_step(optimizer, penalty, n_coefs)``).

        The loss is a 0-d array of the backend (read it with ``float``), so
        callers can accumulate it on the device without synchronising."""
        grads = self.grads
        n_samples = Y.shape[0]
        total_weight = batch_weight(Y, sample_weight)
        prediction = self.forward(X, training=True)
        delta = self._output_delta(n_samples)
        # The output delta's buffer doubles as the loss's work array: it is
        # free until the delta is written just below.
        loss = self.output.loss(Y, prediction, sample_weight, work=delta)
        delta = self.output.delta(prediction, Y, sample_weight, total_weight, delta)
        for layer in reversed(self.layers[:-1]):
            delta = layer.backward(delta)
        n = self.n_coefs
        xp, weights, scratch = self.backend.xp, self.params[:n], self.scratch[:n]
        if penalty_gradient:
            return loss + self.penalty.add(xp, weights, grads[:n], total_weight, scratch)
        return loss + self.penalty.value(xp, weights, total_weight, scratch)

    def predict(self, X, chunk_rows=PREDICT_CHUNK_ROWS):
        """Network output for every row of ``X`` (a backend array or a CSR
        matrix), computed in chunks so memory stays at one chunk of hidden
        activations."""
        n_samples = X.shape[0]
        result = self.backend.xp.empty((n_samples, self.layer_units[-1]), self.dtype)
        for start in range(0, n_samples, chunk_rows):
            stop = min(start + chunk_rows, n_samples)
            result[start:stop] = self.forward(X[start:stop])
        return result
