"""The elementwise kernels of :mod:`skmlp._kernels.specs`, compiled by numba.

Kernels are compiled lazily, per kernel, argument layout and dtype, at their
first call. ``error_model='numpy'`` (no division-by-zero checks in the loop)
and no ``fastmath``: the kernels keep the reference's operation order and
give the NumPy ufuncs' results bit for bit, so scikit-learn parity holds and
it does not matter which of the two runs.
"""

import importlib

import numpy as np

from ..._utils import warn
from ..specs import ElementwiseKernels, calls_only_vectorised
from .cache import compile_source
from .source import kernel_source, parameter_names


class CompiledElementwise:
    """An :class:`~skmlp._kernels.specs.ElementwiseSpec` compiled by numba,
    called as CuPy calls its kernels: inputs then outputs, the outputs
    updated in place. Outputs share one shape (1-D or 2-D); an input is an
    array of that shape, a 1-D array as long as the outputs' rows (broadcast
    over the rows) or a scalar (cast to the outputs' dtype). Arrays may be
    strided views: numba compiles the same kernel for their layout."""

    def __init__(self, spec, numba):
        self.spec = spec
        self._numba = numba
        self._n_inputs = len(parameter_names(spec.in_params))
        self._n_outputs = len(parameter_names(spec.out_params))
        self._compiled = {}

    def __call__(self, *args, column_sums=None):
        """Run the kernel on ``args`` (inputs, then outputs); with
        ``column_sums`` (a 1-D array as long as the outputs' rows), also
        write the column sums of the last output into it, in the same pass."""
        if len(args) != self._n_inputs + self._n_outputs:
            raise TypeError(
                f"{self.spec.name} takes {self._n_inputs} inputs and "
                f"{self._n_outputs} outputs, got {len(args)} arguments."
            )
        first = args[self._n_inputs]
        shape, dtype = first.shape, first.dtype
        pattern, values = [], []
        for position, value in enumerate(args):
            if not isinstance(value, np.ndarray):
                pattern.append("scalar")
                values.append(float(value))
                continue
            if value.dtype != dtype:
                raise TypeError(
                    f"{self.spec.name}: every array must be {dtype}, got {value.dtype}."
                )
            if value.shape == shape:
                pattern.append("full")
            elif (
                position < self._n_inputs
                and len(shape) == 2
                and value.shape == shape[1:]
            ):
                pattern.append("row")
            else:
                raise ValueError(
                    f"{self.spec.name}: an array of shape {value.shape} does not "
                    f"fit outputs of shape {shape}."
                )
            # 1-D outputs (and inputs shaped like them) become one row.
            values.append(value.reshape(1, -1) if len(shape) == 1 else value)
        if len(shape) not in (1, 2):
            raise ValueError(f"{self.spec.name} takes 1-D or 2-D arrays, got {shape}.")
        if column_sums is None:
            self._kernel(tuple(pattern), dtype)(*values)
            return
        if len(shape) != 2 or column_sums.shape != shape[1:] or column_sums.dtype != dtype:
            raise ValueError(
                f"{self.spec.name}: column sums of outputs of shape {shape} go into "
                f"a {dtype} array of shape {shape[1:]}, got {column_sums.dtype} "
                f"of shape {column_sums.shape}."
            )
        self._kernel(tuple(pattern), dtype, summed=True)(*values, column_sums)

    def _kernel(self, pattern, dtype, summed=False):
        key = pattern, dtype, summed
        kernel = self._compiled.get(key)
        if kernel is None:
            last_output = parameter_names(self.spec.out_params)[-1]
            source = kernel_source(
                self.spec, pattern, dtype, column_sums=last_output if summed else None
            )
            kernel = self._compiled[key] = compile_source(self._numba, source, self.spec.name)
        return kernel


def load_kernels():
    try:
        numba = importlib.import_module("numba")
    except ImportError as exc:
        warn(
            f"skmlp could not import numba ({exc}), so it trains with NumPy "
            "ufuncs instead of fused compiled kernels: the same results, up to "
            "~15% slower on large networks. Install numba (`pip install "
            "numba`) to get them back."
        )
        return None

    def make(spec):
        if not calls_only_vectorised(spec):
            return None
        return CompiledElementwise(spec, numba)

    return ElementwiseKernels(make)
