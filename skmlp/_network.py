"""The backpropagation core: a fully connected network in one flat buffer.

Every weight matrix and bias vector is a view into one contiguous ``params``
array (all weight matrices first, then all biases), and the gradients are the
same views into a twin ``grads`` array. An optimizer step is then one
vectorised expression over all layers, and moving or saving the model is one
copy. Nothing here knows about scikit-learn; the array module comes from the
backend, so the same code runs on NumPy and CuPy.
"""

from functools import cached_property
from itertools import pairwise

# Rows per chunk of a prediction: its hidden activations stay small (and in
# cache on a CPU) however many rows are predicted.
PREDICT_CHUNK_ROWS = 4096


def is_sparse(array):
    """Whether ``array`` is a sparse matrix (SciPy's, or CuPy's alike): the
    first layer then multiplies it with ``@``, which has no ``out=``."""
    return hasattr(array, "tocsr")


def layer_views(flat, shapes):
    """Split ``flat`` into per-layer weight matrices and bias vectors."""
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


class Network:
    """A multilayer perceptron: ``layer_units[0]`` inputs, then one dense layer
    per following entry; hidden layers use ``activation`` and the last layer
    the ``output`` activation with its loss.

    ``params``, when given, is an existing flat buffer of the right size and
    dtype to use as the network's weights without copying them.

    Attributes
    ----------
    params, grads : 1-D arrays
        All weights then all biases, and the gradient of the loss with respect
        to them (filled by :meth:`loss_gradient`; like ``scratch``, made on
        first use, so a network that only predicts never allocates it).
    coefs, intercepts : lists of arrays
        Per-layer views into ``params``; ``coef_grads``, ``intercept_grads``
        are the matching views into ``grads``.
    n_coefs : int
        Number of weights: ``params[:n_coefs]`` is what L2 penalises.
    """

    def __init__(self, layer_units, activation, output, backend, dtype, params=None):
        self.backend = backend
        self.layer_units = tuple(int(u) for u in layer_units)
        self.shapes = list(pairwise(self.layer_units))
        self.n_coefs = sum(fan_in * fan_out for fan_in, fan_out in self.shapes)
        n_params = self.n_coefs + sum(self.layer_units[1:])
        if params is None:
            params = backend.xp.zeros(n_params, dtype=dtype)
        elif params.shape != (n_params,) or params.dtype != dtype:
            raise ValueError(
                f"params must be a flat {backend.xp.dtype(dtype)} array of "
                f"{n_params} entries, got {params.dtype} of shape {params.shape}."
            )
        self.params = params
        self.coefs, self.intercepts = layer_views(self.params, self.shapes)
        # The backend builds them, so a GPU backend can fuse their kernels.
        self.hidden = backend.activation(activation)
        self.output = backend.output(output)
        self._buffers = {"activations": [], "deltas": []}

    @property
    def dtype(self):
        return self.params.dtype

    @cached_property
    def grads(self):
        # zeros, not zeros_like (which writes every zero): fresh zero pages
        # cost nothing until touched.
        return self.backend.xp.zeros(self.params.shape[0], dtype=self.dtype)

    @cached_property
    def scratch(self):
        """Room for one parameter-sized temporary (L2 term, optimizer steps)."""
        return self.backend.xp.empty_like(self.params)

    @cached_property
    def _gradient_layers(self):
        return layer_views(self.grads, self.shapes)

    @property
    def coef_grads(self):
        """Per-layer views into ``grads`` matching ``coefs``."""
        return self._gradient_layers[0]

    @property
    def intercept_grads(self):
        """Per-layer views into ``grads`` matching ``intercepts``."""
        return self._gradient_layers[1]

    def initialize(self, random_state):
        """Draw weights and biases uniformly in ``+-sqrt(k / (fan_in + fan_out))``
        (Glorot; ``k`` is 2 for logistic hidden units, else 6), layer by layer,
        weights before biases, from a NumPy ``RandomState`` -- the same draws
        as scikit-learn's MLP, so equal seeds give equal initial weights."""
        factor = 2.0 if self.hidden.name == "logistic" else 6.0
        for coef, intercept, (fan_in, fan_out) in zip(
            self.coefs, self.intercepts, self.shapes
        ):
            bound = (factor / (fan_in + fan_out)) ** 0.5
            coef[...] = self.backend.to_device(
                random_state.uniform(-bound, bound, (fan_in, fan_out)), self.dtype
            )
            intercept[...] = self.backend.to_device(
                random_state.uniform(-bound, bound, fan_out), self.dtype
            )

    def set_layers(self, coefs, intercepts):
        """Copy per-layer weights and biases (any array kind) into ``params``."""
        if len(coefs) != len(self.shapes) or len(intercepts) != len(self.shapes):
            raise ValueError(
                f"The model has {len(coefs)} weight matrices and {len(intercepts)} "
                f"bias vectors but layer sizes {self.layer_units} need "
                f"{len(self.shapes)} of each. Set warm_start=False (or refit) to "
                "start a new network with the new hidden_layer_sizes."
            )
        for i, (coef, intercept, (fan_in, fan_out)) in enumerate(
            zip(coefs, intercepts, self.shapes)
        ):
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
            self.coefs[i][...] = self.backend.to_device(coef, self.dtype)
            self.intercepts[i][...] = self.backend.to_device(intercept, self.dtype)

    def _workspace(self, n_rows, deltas=True):
        """Per-layer activation buffers for ``n_rows`` samples and, unless
        ``deltas=False`` (predicting), delta buffers."""
        return (
            self._layer_buffers("activations", n_rows),
            self._layer_buffers("deltas", n_rows) if deltas else None,
        )

    def _layer_buffers(self, kind, n_rows):
        """One ``(n_rows, units)`` buffer per layer, allocated once for the
        most rows asked of this kind and sliced (without copying) for fewer."""
        buffers = self._buffers[kind]
        if not buffers or buffers[0].shape[0] < n_rows:
            xp = self.backend.xp
            buffers = [xp.empty((n_rows, u), self.dtype) for u in self.layer_units[1:]]
            self._buffers[kind] = buffers
        return [b[:n_rows] for b in buffers]

    def forward(self, X, outputs):
        """Run ``X`` through the network, writing layer ``i``'s output into
        ``outputs[i]``; returns the last one."""
        matmul = self.backend.xp.matmul
        last = len(self.shapes) - 1
        a = X
        for i, (coef, intercept, z) in enumerate(
            zip(self.coefs, self.intercepts, outputs)
        ):
            if i == 0 and is_sparse(a):
                z[...] = a @ coef
            else:
                matmul(a, coef, out=z)
            if i < last:
                self.hidden.forward(z, intercept)
            else:
                z += intercept
                self.output.activate(z)
            a = z
        return a

    def loss_gradient(self, X, Y, alpha, sample_weight=None):
        """Return the mean loss of batch ``(X, Y)`` plus the L2 term
        ``alpha / (2 n) * ||W||^2``, and write its gradient into ``grads``.

        With ``sample_weight`` (a vector of the backend whose sum is not 0)
        the mean is the weighted mean and ``n`` the sum of the weights,
        scikit-learn's objective. ``X`` may be a sparse matrix.

        The loss is a 0-d array of the backend (read it with ``float``), so
        callers can accumulate it on the device without synchronising."""
        xp = self.backend.xp
        coef_grads, intercept_grads = self._gradient_layers
        n_samples, n_outputs = Y.shape
        total_weight = n_samples if sample_weight is None else sample_weight.sum()
        activations, deltas = self._workspace(n_samples)
        prediction = self.forward(X, activations)
        delta = deltas[-1]
        # The output delta's buffer doubles as the loss's work array: it is
        # free until the delta is written just below.
        loss = self.output.loss(Y, prediction, sample_weight, work=delta)
        xp.subtract(prediction, Y, out=delta)
        if sample_weight is not None:
            delta *= sample_weight[:, None]
        delta *= self.output.gradient_scale(total_weight, n_outputs)
        for i in range(len(self.shapes) - 1, -1, -1):
            a_in = X if i == 0 else activations[i - 1]
            if i == 0 and is_sparse(a_in):
                coef_grads[0][...] = a_in.T @ delta
            else:
                xp.matmul(a_in.T, delta, out=coef_grads[i])
            delta.sum(axis=0, out=intercept_grads[i])
            if i > 0:
                xp.matmul(delta, self.coefs[i].T, out=deltas[i - 1])
                self.hidden.backward(activations[i - 1], deltas[i - 1])
                delta = deltas[i - 1]

        if alpha:
            weights = self.params[: self.n_coefs]
            penalty = self.scratch[: self.n_coefs]
            xp.multiply(weights, alpha / total_weight, out=penalty)
            self.grads[: self.n_coefs] += penalty
            loss = loss + 0.5 * alpha / total_weight * xp.vdot(weights, weights)
        return loss

    def predict(self, X, chunk_rows=PREDICT_CHUNK_ROWS):
        """Network output for every row of ``X`` (a backend array or a CSR
        matrix), computed in chunks so memory stays at one chunk of hidden activations."""
        xp = self.backend.xp
        n_samples = X.shape[0]
        result = xp.empty((n_samples, self.layer_units[-1]), self.dtype)
        for start in range(0, n_samples, chunk_rows):
            stop = min(start + chunk_rows, n_samples)
            hidden, _ = self._workspace(stop - start, deltas=False)
            self.forward(X[start:stop], hidden[:-1] + [result[start:stop]])
        return result
