"""The CuPy kernels: the elementwise ones compiled from their specs, and the
output kernels written in CUDA C (loops over a row, clipping), which the GPU
tests check and NVRTC compiles in CI (``tests/kernels/test_cuda_compile.py``)."""


def cupy_elementwise(cupy):
    """``make(spec)`` building a CuPy kernel (compiled at its first call and
    cached on disk by CuPy)."""

    def make(spec):
        return cupy.ElementwiseKernel(
            spec.in_params, spec.out_params, spec.operation, spec.name,
            no_return=True,
        )

    return make


# log(clip(p, eps, 1 - eps)) as in _losses._LogLoss; NaN stays NaN.
_CLIPPED_LOG = """
template <typename T>
__device__ T skmlp_clipped_log(T p, T eps) {
    return log(p < eps ? eps : (p > 1 - eps ? 1 - eps : p));
}
"""


class OutputKernels:
    """Softmax over rows and the mean output losses, each one kernel."""

    def __init__(self, cupy):
        # One thread per row: classes are few next to samples.
        self.softmax = cupy.ElementwiseKernel(
            "int64 n_cols",
            "raw T z",
            """
            const ptrdiff_t start = i * n_cols;
            T top = z[start];
            for (ptrdiff_t j = 1; j < n_cols; ++j) {
                top = z[start + j] > top ? z[start + j] : top;
            }
            T total = 0;
            for (ptrdiff_t j = 0; j < n_cols; ++j) {
                z[start + j] = exp(z[start + j] - top);
                total += z[start + j];
            }
            for (ptrdiff_t j = 0; j < n_cols; ++j) {
                z[start + j] /= total;
            }
            """,
            "skmlp_softmax_rows",
            no_return=True,
        )
        reduction = {
            "softmax": "y * skmlp_clipped_log(p, eps)",
            "logistic": "y * skmlp_clipped_log(p, eps)"
            " + (1 - y) * skmlp_clipped_log(1 - p, eps)",
        }
        self.log_loss = {
            name: cupy.ReductionKernel(
                "T y, T p, T eps, T n_rows",
                "T loss",
                expression,
                "a + b",
                "loss = -a / n_rows",
                "0",
                f"skmlp_{name}_log_loss",
                preamble=_CLIPPED_LOG,
            )
            for name, expression in reduction.items()
        }
        self.squared_error = cupy.ReductionKernel(
            "T y, T p, T n_values",
            "T loss",
            "(p - y) * (p - y)",
            "a + b",
            "loss = a / 2 / n_values",
            "0",
            "skmlp_squared_error",
        )
