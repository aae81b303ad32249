"""Batch normalization with its elementwise steps run by the kernels of
:data:`skmlp._kernels.specs.BATCH_NORM`, on either device."""

from .._nn import BatchNorm


class FusedBatchNorm(BatchNorm):
    """:class:`~skmlp._nn.layers.BatchNorm` with each elementwise step one
    kernel (the reductions stay the array module's). The kernels come from
    ``backend.kernels_for(array)``: the CUDA kernels on a GPU; on the CPU
    numba's (:mod:`skmlp._kernels.cpu`), or None -- small arrays before
    numba has started, or no numba -- where the reference's ufunc steps run
    instead. Both give the same values."""

    def __init__(self, width, momentum, backend, dtype):
        super().__init__(width, momentum, backend, dtype)
        self._kernels_for = backend.kernels_for

    def _step(self, name, *arrays):
        """Run step ``name`` on ``arrays`` (inputs, then outputs) as a kernel,
        else as the reference's method ``_name``."""
        kernels = self._kernels_for(arrays[-1])
        if kernels is None:
            getattr(super(), f"_{name}")(*arrays)
        else:
            kernels.batch_norm[name](*arrays)

    def _centre(self, mean, z, centred):
        self._step("centre", mean, z, centred)

    def _normalise(self, inv_std, scale, normalised, z):
        self._step("normalise", inv_std, scale, normalised, z)

    def _infer(self, mean, factor, z):
        self._step("infer", mean, factor, z)

    def _backward_step(self, normalised, shift_grad_mean, scale_grad_mean, factor, delta):
        self._step(
            "backward_step", normalised, shift_grad_mean, scale_grad_mean, factor, delta
        )
