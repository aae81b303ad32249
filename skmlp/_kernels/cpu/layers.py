"""The NumPy backend's layers and optimizer step, run by compiled kernels on
large arrays and by the NumPy reference elsewhere."""

import numpy as np

from ..._nn import adding_penalty
from ..batch_norm import FusedBatchNorm
from ..steps import fused_step, penalised_fused_step


def sums_rows_in_order(array):
    """Whether NumPy's sum over the rows of the 2-D ``array`` adds them up row
    after row from the first, as the compiled sums do: yes for several
    columns; a single column NumPy sums pairwise, so the compiled sums leave
    it to NumPy."""
    return array.shape[1] > 1


class CompiledActivation:
    """The hidden activation ``reference`` (NumPy ufuncs, the interface of
    :mod:`skmlp._nn.activations`) with its forward and backward steps run by
    one compiled kernel each where one describes them. Its declarations
    (``init_gain``, ``derivative_from_output``) are the reference's: the
    kernels compute the same function. ``state``: the
    :class:`~skmlp._kernels.cpu.state.KernelState`
    that says whether the kernels run."""

    def __init__(self, reference, state):
        self.name = reference.name
        self.init_gain = reference.init_gain
        self.derivative_from_output = reference.derivative_from_output
        self._reference = reference
        self._kernels_for = state.for_array

    def forward(self, z, bias):
        kernels = self._kernels_for(z)
        forward = None if kernels is None else kernels.bias_activation.get(self.name)
        if forward is None:
            self._reference.forward(z, bias)
        else:
            forward(bias, z)

    def backward(self, a, delta):
        derivative = self._derivative(delta)
        if derivative is None:
            self._reference.backward(a, delta)
        else:
            derivative(a, delta)

    def backward_summing(self, a, delta, sums):
        """:meth:`backward`, and the column sums of the resulting ``delta``
        (the gradient of the bias added in :meth:`forward`) into ``sums``:
        in the same pass where a kernel computes the derivative."""
        derivative = self._derivative(delta)
        if derivative is not None and sums_rows_in_order(delta):
            derivative(a, delta, column_sums=sums)
            return
        # (NumPy adds up a single column pairwise, not row after row.)
        self.backward(a, delta)
        delta.sum(axis=0, out=sums)

    def _derivative(self, delta):
        kernels = self._kernels_for(delta)
        return None if kernels is None else kernels.derivative.get(self.name)


def compiled_step(optimizer, penalty, n_coefs, state, weight_decay=0.0):
    """``step(params, grads, learning_rate, scratch, total_weight)`` of
    ``optimizer``, adding the gradient of ``penalty`` (a
    :class:`~skmlp._nn.penalties.Penalty`, or None) on the weights
    ``params[:n_coefs]`` and decaying them by ``weight_decay`` (decoupled,
    as AdamW): where ``state`` (a
    :class:`~skmlp._kernels.cpu.state.KernelState`) runs the
    kernels, one compiled kernel does it all (the penalty's terms and the
    decay folded in, no pass over memory of their own); otherwise the
    penalty's, the decay's and the optimizer's ufunc steps."""
    reference = adding_penalty(optimizer.step, penalty, n_coefs, np, weight_decay)
    fused = []  # made at the first large step, so small fits never import numba
    kernels_for = state.for_array

    def step(params, grads, learning_rate, scratch, total_weight):
        kernels = kernels_for(params)
        if kernels is None:
            reference(params, grads, learning_rate, scratch, total_weight)
            return
        if not fused:
            if penalty is None and not weight_decay:
                fused.append(
                    adding_penalty(
                        fused_step(optimizer, kernels.optimizer_steps), None, 0, np
                    )
                )
            else:
                folded = penalised_fused_step(
                    optimizer, kernels, penalty, n_coefs, weight_decay
                )
                fused.append(reference if folded is None else folded)
        fused[0](params, grads, learning_rate, scratch, total_weight)

    return step


# Batch normalization's reductions, each fused with the elementwise work
# around it: the variance with the centring (one pass over the batch where
# the ufuncs make four), the scale's gradient with its product (one where
# they make three). Every sum starts at 0 and adds row after row,
# from the first: the order of NumPy's sum over the rows of a matrix of
# several columns, so the results are the reference's
# (BatchNorm._centre_and_variance, _scale_gradient) bit for bit, where
# sums_rows_in_order says NumPy sums that way; elsewhere the reference runs.
_BATCH_NORM_SUMS = '''\
# Batch normalization's fused reductions, written by skmlp
# (skmlp/_kernels/cpu/layers.py); any edit is overwritten.


def centre_and_variance(mean, z, centred, var):
    var[:] = 0
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            deviation = z[i, j] - mean[j]
            centred[i, j] = deviation
            var[j] += deviation * deviation
    for j in range(z.shape[1]):
        var[j] = var[j] / z.shape[0]


def scale_gradient(delta, normalised, scale_grad):
    scale_grad[:] = 0
    for i in range(delta.shape[0]):
        for j in range(delta.shape[1]):
            scale_grad[j] += delta[i, j] * normalised[i, j]
'''


def _batch_norm_source(name):
    return _BATCH_NORM_SUMS


class CompiledBatchNorm(FusedBatchNorm):
    """:class:`~skmlp._kernels.batch_norm.FusedBatchNorm` on the CPU: its
    elementwise steps compiled from their specs and, here, its reductions
    compiled too, each fused into one pass with the work around it."""

    def __init__(self, width, momentum, backend, dtype):
        super().__init__(width, momentum, backend, dtype)
        self._state = backend.kernel_state

    def _centre_and_variance(self, mean, z, centred, var):
        self._sums("centre_and_variance", mean, z, centred, var)

    def _scale_gradient(self, delta, normalised, scale_grad):
        self._sums("scale_gradient", delta, normalised, scale_grad)

    def _sums(self, name, *arrays):
        """Run reduction ``name`` compiled, else as the reference's method
        ``_name``; the second argument of both is a whole batch."""
        batch = arrays[1]
        kernel = (
            self._state.written_out(name, _batch_norm_source, batch)
            if sums_rows_in_order(batch)
            else None
        )
        if kernel is None:
            getattr(super(), f"_{name}")(*arrays)
        else:
            kernel(*arrays)
