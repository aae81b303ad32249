"""Every CUDA kernel the CuPy backend can launch, compiled by NVRTC without a GPU.

NVRTC (the ``nvidia-cuda-nvrtc-cu12`` wheel, the ``nvrtc`` extra) compiles
CUDA C to PTX on a machine with no GPU and no driver. This module compiles,
for ``compute_80`` and ``compute_90``, in float32 and float64:

- every elementwise kernel made from an :class:`ElementwiseSpec` (each
  activation's forward and derivative, each optimizer's step, alone and with
  every combination of penalty terms, AMSGrad, dropout, each batch-norm step,
  the logistic function),
- the output kernels (:class:`OutputKernels`): softmax over rows (raw CUDA
  C) and the loss reductions.

What is compiled is the source CuPy itself would compile: its code generators
(``_get_elementwise_kernel_code``, ``_ReductionKernel_get_cached_function_code``)
and its ``compile_with_cache`` (which prepends ``cupy/carray.cuh`` and adds
CuPy's include paths and options) run as on a GPU; only the last step, NVRTC
itself, is called here with the architecture given, because CuPy asks the
device for it. That last step adds CuPy's own NVRTC options
(``-ftz=true``, ``--device-as-default-execution-space``).
No kernel takes the other route (the body in a wrapper built
from CuPy's headers): CuPy's generators need no device once they are told how
each argument is passed.

How each argument is passed (a scalar or an array; its dimensions and
layout after CuPy broadcasts and flattens the arrays) decides the generated
parameter list, so it is not guessed: the *drive* fits models with
``backend='cupy'`` on a stand-in ``cupy`` module -- NumPy, with kernels that
record their arguments and run their bodies with NumPy -- so the backend's own
dispatch code makes every launch, and each recorded launch becomes the
argument description CuPy would derive from it. The kernels are enumerated
from the backend's registries (:class:`ElementwiseKernels`,
:class:`OutputKernels`, and the penalised steps of every optimizer step and
penalty); a kernel the drive never launches fails its test, so a new kernel
is compiled once the drive uses it.

Any NVRTC error fails, and so does any warning located in the kernel's own
file (the generated code around our bodies, and the bodies); warnings inside
CuPy's or CUDA's headers do not. ``.ci/run`` sets
``SKMLP_REQUIRE_NVRTC=1``, under which a missing CuPy or NVRTC fails the
module instead of skipping it; elsewhere it skips, saying what to install.
"""

import contextlib
import itertools
import os
import re
import sys
import types
import warnings
from typing import NamedTuple

import numpy as np
import pytest

from skmlp import MLPClassifierScratch, MLPRegressorScratch

# The modules that own the kernel registries and the code that launches them:
# the one place to update when they move.
from skmlp._backends import CupyBackend, get_backend
from skmlp._backends.selection import _cached_cupy_backend, _probe_cupy
from skmlp._kernels.specs import reference_namespace
from skmlp._kernels.steps import penalised_fused_step
from skmlp._nn import ACTIVATIONS, SGD, Adam, Penalty, RMSprop

ARCHITECTURES = ("80", "90")
DTYPES = (np.float32, np.float64)
REQUIRED = os.environ.get("SKMLP_REQUIRE_NVRTC") == "1"


def _load_compiler():
    """``(cupy, nvrtc, CuPy's code generators, '')``, or Nones and why not."""
    try:
        import cupy
        from cupy._core import _carray, _kernel, _reduction, _scalar, core
        from cupy.cuda import compiler
        from cupy_backends.cuda.libs import nvrtc
    except ImportError as exc:
        return None, None, None, f"CuPy cannot be imported ({exc})"
    try:
        nvrtc.getVersion()
    except Exception as exc:  # noqa: BLE001 - any failure: no NVRTC here
        problem = f"NVRTC cannot be loaded ({type(exc).__name__}: {exc})"
        return None, None, None, problem
    generators = types.SimpleNamespace(
        kernel=_kernel, reduction=_reduction, scalar=_scalar, carray=_carray,
        core=core, compiler=compiler,
    )
    return cupy, nvrtc, generators, ""


cupy, nvrtc, cuda, _problem = _load_compiler()
if _problem:
    _advice = (
        f"{_problem}. Install CuPy and NVRTC (`pip install -e '.[nvrtc]'`) to "
        "compile the CUDA kernels without a GPU."
    )
    if REQUIRED:
        pytest.fail(f"SKMLP_REQUIRE_NVRTC=1: {_advice}", pytrace=False)
    pytest.skip(_advice, allow_module_level=True)

# CuPy's _ArgKind (cupy/_core/_kernel.pxd); checked by test_argument_kinds_*.
NDARRAY, INDEXER, SCALAR = 1, 2, 3


# ------------------------------------------------------------- the stand-in
class Launch(NamedTuple):
    """One kernel call: per argument ``('array', shape, strides, dtype,
    c_contiguous)`` or ``('scalar',)``; ``size`` as passed (or None)."""

    arguments: tuple
    size: object

    @classmethod
    def of(cls, args, size):
        described = tuple(
            ("array", a.shape, a.strides, a.dtype, a.flags.c_contiguous)
            if isinstance(a, np.ndarray)
            else ("scalar",)
            for a in args
        )
        return cls(described, size)

    @property
    def dtype(self):
        return next(a[3] for a in self.arguments if a[0] == "array").type


class RecordingKernel:
    """A real (uncompiled) CuPy kernel standing in on NumPy: it keeps every
    call's :class:`Launch` and runs a body written in Python (every
    ElementwiseSpec's) with NumPy, so that training goes on; bodies in CUDA
    C leave their outputs as they are, and reductions return 1."""

    def __init__(self, kernel):
        self.kernel = kernel
        self.launches = []

    @property
    def name(self):
        return self.kernel.name

    def __call__(self, *args, size=None):
        self.launches.append(Launch.of(args, size))
        if isinstance(self.kernel, cupy.ReductionKernel):
            return np.asarray(1.0, dtype=args[0].dtype)
        try:
            body = compile(self.kernel.operation, self.name, "exec")
        except SyntaxError:  # CUDA C
            return None
        nin = self.kernel.nin
        names = [p.name for p in self.kernel.in_params + self.kernel.out_params]
        values = dict(zip(names, args))
        outputs = args[nin:]
        exec(body, reference_namespace(outputs[0].dtype), values)  # noqa: S102
        for name, array in zip(names[nin:], outputs):
            array[...] = values[name]
        return None


class _RandomState(np.random.RandomState):
    """NumPy's generator with CuPy's ``random_sample(size, dtype)``."""

    def random_sample(self, size=None, dtype=np.float64):
        return super().random_sample(size).astype(dtype)


def numpy_standin():
    """A module that imports as ``cupy``: NumPy's namespace, one device, and
    kernels that are :class:`RecordingKernel` s around real CuPy kernels."""
    module = types.ModuleType("cupy")
    module.__dict__.update(
        {key: value for key, value in vars(np).items() if not key.startswith("__")}
    )
    module.__version__ = f"{cupy.__version__} (recording on NumPy)"
    module.ElementwiseKernel = lambda *a, **k: RecordingKernel(
        cupy.ElementwiseKernel(*a, **k)
    )
    module.ReductionKernel = lambda *a, **k: RecordingKernel(
        cupy.ReductionKernel(*a, **k)
    )
    module.cuda = types.SimpleNamespace(
        runtime=types.SimpleNamespace(getDeviceCount=lambda: 1),
        memory=types.SimpleNamespace(OutOfMemoryError=MemoryError),
    )
    module.asnumpy = np.asarray
    module.random = types.SimpleNamespace(RandomState=_RandomState)
    return module


@contextlib.contextmanager
def cupy_backend_on(module):
    """``get_backend('cupy')`` builds its backend on ``module`` inside."""
    saved = sys.modules.get("cupy")
    sys.modules["cupy"] = module
    _probe_cupy.cache_clear()
    _cached_cupy_backend.cache_clear()
    try:
        yield
    finally:
        if saved is None:
            sys.modules.pop("cupy")
        else:
            sys.modules["cupy"] = saved
        _probe_cupy.cache_clear()
        _cached_cupy_backend.cache_clear()


# ------------------------------------------------------------- the registry
# Every penalty the estimators can make: the terms come from Penalty itself.
PENALTIES = [
    Penalty(alpha=alpha, l1=l1)
    for alpha, l1 in itertools.product((0.0, 1e-3), (0.0, 1e-2))
    if alpha or l1
]
# What a step folds in: each penalty, without and with decoupled weight decay,
# and the decay alone.
FOLDED = [
    *((penalty, weight_decay) for penalty in PENALTIES for weight_decay in (0.0, 1e-2)),
    (None, 1e-2),
]
# Every optimizer step kernel, by the settings that choose it.
OPTIMIZER_VARIANTS = [
    SGD(nesterov=True), SGD(nesterov=False), Adam(), Adam(amsgrad=True), RMSprop()
]


def _kernels_in(registry):
    """The kernels held by ``registry``'s attributes (directly, or in a dict,
    list or tuple)."""
    for value in vars(registry).values():
        if isinstance(value, dict):
            value = list(value.values())
        if not isinstance(value, (list, tuple)):
            value = [value]
        yield from (v for v in value if isinstance(v, RecordingKernel))


def backend_kernels(backend):
    """Every kernel of ``backend`` (a :class:`CupyBackend` on the stand-in),
    by name: its elementwise and output kernels, and the penalised step of
    every optimizer step kernel for every penalty's terms, with and without
    decoupled weight decay (:data:`FOLDED`)."""
    for name in backend.kernels.optimizer_steps:
        for penalty, weight_decay in FOLDED:
            terms = () if penalty is None else penalty.terms
            backend.kernels.penalised_step(name, terms, bool(weight_decay))
    kernels = {}
    for registry in (backend.kernels, backend.output_kernels):
        for kernel in _kernels_in(registry):
            assert kernel.name not in kernels, f"two kernels named {kernel.name}"
            kernels[kernel.name] = kernel
    return kernels


def drive():
    """Launch every kernel through the CuPy backend's own dispatch code, in
    both dtypes, and return the backend's kernels (with their launches)."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(24, 4))
    y = np.arange(24) % 3
    fit = {"hidden_layer_sizes": (5,), "max_iter": 1, "batch_size": 8}
    fit["backend"] = "cupy"
    with cupy_backend_on(numpy_standin()), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: one epoch
        for dtype in DTYPES:
            Xd = X.astype(dtype)
            for activation in ACTIVATIONS:
                MLPClassifierScratch(activation=activation, **fit).fit(Xd, y)
            for solver in (
                {"solver": "sgd", "nesterovs_momentum": True},
                {"solver": "sgd", "nesterovs_momentum": False},
                {"solver": "adam", "amsgrad": True},
                {"solver": "rmsprop"},
            ):
                MLPClassifierScratch(alpha=1e-3, l1=1e-3, **solver, **fit).fit(Xd, y)
            layered = MLPClassifierScratch(dropout=0.2, batch_norm=True, **fit)
            layered.fit(Xd, y).predict(Xd)  # batch norm's inference step
            MLPClassifierScratch(**fit).fit(Xd, y == 0)  # logistic output
            MLPRegressorScratch(**fit).fit(Xd, Xd[:, 0])
            MLPRegressorScratch(loss="poisson", **fit).fit(Xd, y)
            # The penalised steps: the dispatch that folds a penalty into
            # the step (the CPU's; the GPU adds it by array operations).
            backend = get_backend("cupy")
            variants = itertools.product(OPTIMIZER_VARIANTS, FOLDED)
            for optimizer, (penalty, weight_decay) in variants:
                params = rng.normal(size=10).astype(dtype)
                optimizer.prepare(params, backend)
                step = penalised_fused_step(
                    optimizer, backend.kernels, penalty, 6, weight_decay
                )
                step(params, np.ones_like(params), 0.1, np.empty_like(params), 8.0)
        return backend_kernels(get_backend("cupy"))


KERNEL_NAMES = sorted(backend_kernels(CupyBackend(numpy_standin())))


@pytest.fixture(scope="module")
def driven():
    return drive()


# ------------------------------------------------------------- CuPy's source
def _array_info(dtype, ndim, c_contiguous, n_elements):
    return cuda.kernel._ArgInfo(
        NDARRAY, cupy.ndarray, dtype, ndim, c_contiguous, n_elements <= 0x7FFFFFFF
    )


def _indexer_info(shape):
    size = int(np.prod(shape))
    return cuda.kernel._ArgInfo(
        INDEXER, cuda.carray.Indexer, None, len(shape), True, size <= 0x7FFFFFFF
    )


def _scalar_info(dtype):
    return cuda.kernel._ArgInfo(SCALAR, cuda.scalar.CScalar, dtype, 0, True, True)


def _flattened(arrays, shape):
    """CuPy's ``_broadcast`` then ``_reduce_dims`` for a launch whose
    non-raw arrays are ``arrays`` (position -> (shape, strides, dtype,
    c_contiguous)): the loop shape and each array's ``(ndim, contiguous)``.
    Only the layouts the backend makes are modelled; any other fails."""
    layout = {}
    for position, (a_shape, a_strides, dtype, contiguous) in arrays.items():
        view = np.lib.stride_tricks.as_strided(
            np.empty(0, dtype), a_shape, a_strides, writeable=False
        )
        layout[position] = np.broadcast_to(view, shape).flags.c_contiguous
    if len(shape) <= 1:
        return shape, {p: (len(shape), c) for p, c in layout.items()}
    if all(layout.values()):  # all contiguous: one flat loop
        n = int(np.prod(shape))
        return (n,), {p: (1, True) for p in layout}
    if len(shape) == 2:  # CuPy keeps a 2-D loop with a strided operand
        return shape, {p: (2, c) for p, c in layout.items()}
    raise NotImplementedError(f"a launch over {shape} with strided operands")


def elementwise_source(kernel, launch):
    """The ``.cu`` source CuPy generates for ``kernel`` (an ElementwiseKernel)
    called as in ``launch``, and the options of its ``compile_with_cache``."""
    n_args = kernel.nin + kernel.nout
    arguments = launch.arguments
    assert len(arguments) == n_args, (kernel.name, arguments)
    params = kernel.params[:n_args]
    in_types, out_types, type_map = kernel._decide_params_type(
        tuple(a[3].type if a[0] == "array" else None for a in arguments[: kernel.nin]),
        tuple(a[3].type for a in arguments[kernel.nin :]),
    )
    types_ = in_types + out_types
    non_raw = {
        i: a[1:] for i, (a, p) in enumerate(zip(arguments, params))
        if a[0] == "array" and not p.raw
    }
    if launch.size is not None:
        shape, layouts = (launch.size,), {}
    else:
        shape = np.broadcast_shapes(*(a[0] for a in non_raw.values()))
        shape, layouts = _flattened(non_raw, shape)
    infos = []
    for i, (argument, param) in enumerate(zip(arguments, params)):
        if argument[0] == "scalar":
            infos.append(_scalar_info(types_[i]))
        elif param.raw:
            a_shape, _, dtype, contiguous = argument[1:]
            infos.append(
                _array_info(dtype.type, len(a_shape), contiguous, int(np.prod(a_shape)))
            )
        else:
            ndim, contiguous = layouts[i]
            infos.append(
                _array_info(argument[3].type, ndim, contiguous, int(np.prod(shape)))
            )
    infos.append(_indexer_info(shape))
    code = cuda.kernel._get_elementwise_kernel_code(
        tuple(infos), type_map, kernel.params, kernel.operation, kernel.name,
        kernel.preamble, **kernel.kwargs,
    )
    return compile_with_cache_input(code, kernel.kwargs.get("options", ()))


def reduction_source(kernel, launch):
    """As :func:`elementwise_source`, for a ReductionKernel reducing all its
    inputs' entries to one value (the losses)."""
    arguments = launch.arguments
    assert len(arguments) == kernel.nin, (kernel.name, arguments)
    in_types, out_types, type_map = cuda.kernel._decide_params_type(
        kernel.in_params, kernel.out_params,
        tuple(a[3].type if a[0] == "array" else None for a in arguments), (),
    )
    arrays = {i: a[1:] for i, a in enumerate(arguments) if a[0] == "array"}
    shape = np.broadcast_shapes(*(a[0] for a in arrays.values()))
    in_shape, layouts = _flattened(arrays, shape)
    n_in = int(np.prod(in_shape))
    infos = [
        _array_info(arguments[i][3].type, *layouts[i], n_in)
        if arguments[i][0] == "array"
        else _scalar_info(in_types[i])
        for i in range(kernel.nin)
    ]
    infos += [_array_info(t, 0, True, 1) for t in out_types]  # a 0-d result
    infos += [
        _indexer_info(in_shape),
        _indexer_info(()),
        _scalar_info(np.int32),  # _block_stride
    ]
    index_type = ("IndexT", np.int32 if n_in <= 0x7FFFFFFF else np.int64)
    type_map = cuda.kernel._TypeMap(type_map._pairs + (index_type,))
    block_size, _, _ = cuda.reduction._get_block_specs(n_in, 1, 1, -1)
    code = cuda.reduction._ReductionKernel_get_cached_function_code(
        kernel.nin, kernel.nout, kernel._params, tuple(infos), type_map,
        kernel.name, block_size, kernel.reduce_type, kernel.identity,
        kernel.map_expr, kernel.reduce_expr, kernel.post_map_expr,
        kernel.preamble, tuple(kernel.options),
    )
    return compile_with_cache_input(code, tuple(kernel.options))


class _Captured(Exception):
    pass


def compile_with_cache_input(code, options):
    """What CuPy's ``compile_with_cache(code, options)`` hands its compiler:
    the source with CuPy's header prepended, and the assembled options."""
    captured = {}

    def capture(source, options=(), *args, **kwargs):
        captured.update(source=source, options=tuple(options))
        raise _Captured

    compiler = cuda.compiler
    original = compiler._compile_module_with_cache
    compiler._compile_module_with_cache = capture
    try:
        cuda.core.compile_with_cache(code, options)
    except _Captured:
        pass
    finally:
        compiler._compile_module_with_cache = original
    return captured["source"], captured["options"]


def cupy_source(kernel, launch):
    if isinstance(kernel, cupy.ReductionKernel):
        return reduction_source(kernel, launch)
    return elementwise_source(kernel, launch)


# ------------------------------------------------------------- NVRTC
class CompileError(AssertionError):
    pass


def nvrtc_compile(source, options, architecture, filename):
    """Compile ``source`` to PTX for ``compute_<architecture>`` with CuPy's
    options; return the PTX. Raise :class:`CompileError` with the log and
    the numbered lines it points at on an error, or on a warning located in
    ``filename`` (not in an included header)."""
    options = (
        *options,
        "-ftz=true",  # added by CuPy's _compile_with_cache_cuda
        f"-arch=compute_{architecture}",
        "--device-as-default-execution-space",  # by _compile_using_nvrtc
    )
    program = nvrtc.createProgram(source, filename, [], [])
    try:
        try:
            nvrtc.compileProgram(program, list(options))
        except nvrtc.NVRTCError as exc:
            raise CompileError(
                _explained(f"NVRTC failed ({exc})", nvrtc.getProgramLog(program),
                           source, filename)
            ) from None
        log = nvrtc.getProgramLog(program)
        if re.search(rf"^{re.escape(filename)}\(\d+\): warning", log, re.MULTILINE):
            raise CompileError(_explained("NVRTC warned", log, source, filename))
        return nvrtc.getPTX(program)
    finally:
        nvrtc.destroyProgram(program)


def _explained(what, log, source, filename):
    lines = source.splitlines()
    pattern = rf"^{re.escape(filename)}\((\d+)\)"
    cited = sorted({int(n) for n in re.findall(pattern, log, re.MULTILINE)})
    context = "\n".join(
        f"{n:5d}: {lines[n - 1]}" for n in cited if 0 < n <= len(lines)
    )
    return f"{what} for {filename}:\n{log}\nlines cited:\n{context}"


# ------------------------------------------------------------- the tests
def test_argument_kinds_match_cupys():
    """The _ArgKind values used here are CuPy's: the generated code names an
    array parameter ``CArray``, the indexer ``CIndexer``, a scalar its type."""
    kernel = cupy.ElementwiseKernel("T x, T s", "T y", "y = x * s", "skmlp_kinds")
    source, _ = elementwise_source(
        kernel,
        Launch.of((np.ones(4, np.float32), 2.0, np.ones(4, np.float32)), None),
    )
    assert "const CArray<float, 1, 1, 1> _raw_x" in source
    assert "const float s" in source
    assert "CIndexer<1, 1> _ind" in source
    # compile_with_cache prepended CuPy's headers.
    assert source.index("#include <cupy/carray.cuh>") < source.index("skmlp_kinds")


def test_row_broadcast_keeps_a_strided_2d_loop():
    """A bias broadcast over rows: CuPy keeps the 2-D loop and the bias's
    strided view (what the fused layers launch)."""
    kernel = cupy.ElementwiseKernel("T b", "T z", "z = z + b", "skmlp_rows")
    b, z = np.ones(3), np.ones((4, 3))
    source, _ = elementwise_source(kernel, Launch.of((b, z), None))
    assert "const CArray<double, 2, 0, 1> _raw_b" in source
    assert "CArray<double, 2, 1, 1> _raw_z" in source


def test_a_compile_error_fails_with_its_line():
    kernel = cupy.ElementwiseKernel("T x", "T y", "y = x +", "skmlp_broken")
    source, options = elementwise_source(
        kernel, Launch.of((np.ones(2), np.ones(2)), None)
    )
    with pytest.raises(CompileError, match=r"skmlp_broken\.cu\(\d+\): error") as error:
        nvrtc_compile(source, options, "90", "skmlp_broken.cu")
    assert "y = x +" in str(error.value)  # the cited line


def test_a_warning_in_our_code_fails():
    kernel = cupy.ElementwiseKernel(
        "T x", "T y", "T unused = x; y = x", "skmlp_warned"
    )
    source, options = elementwise_source(
        kernel, Launch.of((np.ones(2), np.ones(2)), None)
    )
    with pytest.raises(CompileError, match=r'"unused" was declared but never'):
        nvrtc_compile(source, options, "90", "skmlp_warned.cu")


def test_the_registries_hold_every_kind_of_kernel():
    """The walk over the registries finds kernels held in dicts, the
    penalised steps made on demand and the output kernels."""
    names = set(KERNEL_NAMES)
    for activation in ACTIVATIONS:
        assert f"skmlp_{activation}_forward" in names
    assert {"skmlp_amsgrad_step", "skmlp_adam_step_l2_l1", "skmlp_softmax_rows",
            "skmlp_dropout_forward", "skmlp_batch_norm_infer"} <= names


@pytest.mark.slow
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: t.__name__)
@pytest.mark.parametrize("name", KERNEL_NAMES)
def test_kernel_compiles(driven, name, dtype):
    kernel = driven[name]
    launches = {launch for launch in kernel.launches if launch.dtype is dtype}
    assert launches, (
        f"{name} is never launched with {dtype.__name__} arrays by drive(): "
        "add the estimator setting that uses it there, so that it is compiled."
    )
    sources = {cupy_source(kernel.kernel, launch) for launch in launches}
    for (source, options), architecture in itertools.product(
        sorted(sources), ARCHITECTURES
    ):
        ptx = nvrtc_compile(source, options, architecture, f"{name}.cu")
        assert f".entry {name}(" in ptx.decode()
