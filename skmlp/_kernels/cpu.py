"""CPU kernels compiled by numba from the kernel descriptions.

The elementwise work of a training step -- bias + activation, the
activation's derivative, the whole optimizer step over the flat buffers --
is described once, as :class:`~skmlp._kernels.specs.ElementwiseSpec`
bodies that are valid Python as well as CUDA C. CuPy compiles them for the
GPU; this module compiles the same bodies for the CPU: each becomes a
single-threaded loop that does in one pass over memory what NumPy's ufuncs
do in several (Adam's step: one pass instead of twelve).

How a spec becomes a kernel (:func:`kernel_source`):

- every array parameter is read into a local scalar of the same name, the
  body runs on the scalars, and the outputs are written back, element by
  element; a 1-D input beside 2-D outputs is a row broadcast over the rows
  (the bias), any other input a full array or a scalar;
- subexpressions of scalars and literals (``1 - beta_1``) are computed once,
  in double precision, and cast to the arrays' dtype, as NumPy does with the
  reference's Python scalars; the literals left in the loop become constants
  of the arrays' dtype, so float32 stays float32 and LLVM vectorises the loop
  (``tests/test_numba_kernels.py`` checks for packed instructions);
- ``error_model='numpy'`` (no division-by-zero checks in the loop) and no
  ``fastmath``: the kernels keep the reference's operation order and give
  the NumPy ufuncs' results bit for bit, so scikit-learn parity holds and it
  does not matter which of the two runs.

Bodies that call a function that is not vectorised
(:data:`skmlp._kernels.specs.FUNCTIONS`: ``exp``, ``tanh``, ``expm1``,
``erf``, in the logistic, tanh, ELU, GELU and SiLU steps) are not compiled:
numba calls the C library's scalar functions for them, which NumPy's
vectorised ufuncs beat (float32 ``tanh`` ten times over).

Kernels are compiled lazily, per kernel, argument layout and dtype, at their
first call. The generated source is written to a per-user cache directory
(``$NUMBA_CACHE_DIR/skmlp``, else the platform's user cache directory), so
numba's ``cache=True`` keeps the machine code between processes whether or
not the installed package's directory is writable; where no such directory
is writable the kernels are compiled in memory in every process.

The NumPy ufunc versions (:mod:`skmlp._nn.activations`, :mod:`skmlp._nn.optimizers`)
stay the readable reference the kernels are tested against, and run instead
of them on small arrays (where a kernel call costs more than it saves) and,
after one warning, where numba cannot be imported.
"""

import ast
import contextlib
import functools
import hashlib
import importlib
import math
import os
import sys
import tempfile
import types

import numpy as np

from .._nn import Dropout, adding_penalty
from .._nn import random as _random
from .._utils import warn
from .batch_norm import FusedBatchNorm
from .specs import FUNCTIONS, ElementwiseKernels, calls_only_vectorised
from .steps import fused_step, penalised_fused_step

# Numba is started (imported, its compiler set up, the cached kernels loaded:
# 0.5-3 s, see docs/benchmarks.md) at the first array of at least this many
# entries -- one layer's outputs for a batch, or all the parameters -- so
# that small fits, which would not win that time back, never pay for it.
MIN_KERNEL_SIZE = 2**15

# The functions of the bodies that the generated source imports from math
# (the others, max, are Python's builtins).
_MATH_FUNCTIONS = tuple(name for name in FUNCTIONS if hasattr(math, name))


# ---------------------------------------------------------------- source
def _names(params):
    """Parameter names of a CuPy parameter list (``'T x, T y'``); only the
    array-dtype type ``T`` is supported."""
    names = []
    for param in params.split(","):
        kind, name = param.split()
        if kind != "T" or name.startswith("_"):
            raise ValueError(f"Unsupported kernel parameter {param.strip()!r}.")
        names.append(name)
    return names


class _HostScalars(ast.NodeTransformer):
    """Takes every subexpression made only of scalar parameters and literals
    (``1 - beta_1``) out of the loop, to be computed once in double precision
    and cast to the arrays' dtype: what NumPy does with the Python scalars of
    the reference, so float32 kernels round as it does."""

    def __init__(self, scalars):
        self.scalars = scalars
        self.hoisted = []

    def visit(self, node):
        if isinstance(node, ast.expr) and not isinstance(
            node, (ast.Name, ast.Constant)
        ):
            names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            if names <= self.scalars | set(FUNCTIONS):
                raw = ast.unparse(node)
                for name in self.scalars:
                    raw = _rename(raw, name, f"_{name}")
                self.hoisted.append(raw)
                return ast.Name(id=f"_h{len(self.hoisted) - 1}", ctx=ast.Load())
        return super().visit(node)


def _rename(source, old, new):
    tree = ast.parse(source, mode="eval")
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == old:
            node.id = new
    return ast.unparse(tree)


class _TypedConstants(ast.NodeTransformer):
    """Replaces the numeric literals left in the loop by constants of the
    arrays' dtype (``z + b > 0`` in float32 must not compare in float64,
    which would stop LLVM from vectorising the loop)."""

    def __init__(self):
        self.constants = {}

    def visit_Constant(self, node):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise TypeError(f"Unsupported constant {node.value!r} in a kernel body.")
        name = self.constants.setdefault(node.value, f"_c{len(self.constants)}")
        return ast.copy_location(ast.Name(id=name, ctx=ast.Load()), node)


def kernel_source(spec, pattern, dtype, column_sums=None):
    """Python source of a function computing ``spec`` elementwise in
    ``dtype``; ``pattern`` says for each parameter (inputs, then outputs)
    whether its argument is a ``'scalar'`` (a Python float), a ``'row'`` (a
    1-D array broadcast over the rows) or a ``'full'`` array shaped like the
    outputs, which are 2-D (the caller views 1-D ones as one row).

    ``column_sums``, the name of an output, adds a last argument: a 1-D
    array that receives that output's column sums, added up row after row
    as NumPy's ``sum(axis=0)`` adds them (a bias's gradient, in the pass
    that computes the delta)."""
    inputs, outputs = _names(spec.in_params), _names(spec.out_params)
    params = inputs + outputs
    scalars = {name for name, kind in zip(params, pattern) if kind == "scalar"}
    body = ast.parse(spec.operation)
    names = {node.id for node in ast.walk(body) if isinstance(node, ast.Name)}
    assigned = {
        node.id
        for node in ast.walk(body)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
    }
    unknown = names - assigned - set(params) - set(FUNCTIONS)
    if unknown:
        raise ValueError(f"Unknown names {sorted(unknown)} in kernel {spec.name}.")
    host = _HostScalars(scalars)
    body = host.visit(body)
    constants = _TypedConstants()
    body = constants.visit(body)

    dtype_name = np.dtype(dtype).name
    index = {"row": "[_j]", "full": "[_i, _j]"}
    prologue = [f"{name} = np.{dtype_name}(_{name})" for name in sorted(scalars)]
    prologue += [
        f"_h{k} = np.{dtype_name}({expression})"
        for k, expression in enumerate(host.hoisted)
    ]
    loads = [
        f"{name} = _{name}{index[kind]}"
        for name, kind in zip(params, pattern)
        if kind != "scalar"
    ]
    stores = [f"_{name}[_i, _j] = {name}" for name in outputs]
    arguments = [f"_{name}" for name in params]
    first_output = f"_{outputs[0]}"
    if column_sums is not None:
        if column_sums not in outputs:
            raise ValueError(f"{column_sums!r} is not an output of {spec.name}.")
        stores.append(f"_sums[_j] += {column_sums}")
        arguments.append("_sums")
        prologue += [f"for _j in range({first_output}.shape[1]):", "    _sums[_j] = 0"]
    statements = [*loads, *ast.unparse(body).splitlines(), *stores]
    lines = [
        f"# {spec.name} in {dtype_name}, generated by skmlp from its",
        "# ElementwiseSpec (skmlp/_kernels/specs.py); any edit is overwritten.",
        f"from math import {', '.join(_MATH_FUNCTIONS)}",
        "import numpy as np",
        "",
        *(
            f"{name} = np.{dtype_name}({value!r})"
            for value, name in constants.constants.items()
        ),
        "",
        "",
        f"def {spec.name}({', '.join(arguments)}):",
        *(f"    {statement}" for statement in prologue),
        f"    for _i in range({first_output}.shape[0]):",
        f"        for _j in range({first_output}.shape[1]):",
        *(f"            {statement}" for statement in statements),
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------- caching
def _user_cache_dir():
    """The platform's per-user cache directory (not created here)."""
    if sys.platform == "win32":
        return os.environ.get("LOCALAPPDATA") or os.path.expanduser("~")
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Caches")
    return os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")


@functools.cache
def kernel_dir():
    """Directory for generated kernel sources (and, beside them, numba's
    cached machine code), or None where it cannot be written: kernels are
    then compiled in memory, in every process. Never a shared temporary
    directory, since the files written there are executed."""
    base = os.environ.get("NUMBA_CACHE_DIR") or _user_cache_dir()
    path = os.path.join(base, "skmlp", "kernels")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK | os.X_OK) else None


def _source_file(source, name):
    """Path of a file holding ``source`` (written once; its modification
    time must stay, since numba's cache is keyed by it), or None."""
    directory = kernel_dir()
    if directory is None:
        return None
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    path = os.path.join(directory, f"{name}_{digest}.py")
    if not os.path.exists(path):
        try:
            # A temporary of this thread's own (threads of one process may
            # compile the same kernel), then an atomic rename: other
            # processes and threads see all of the file or nothing.
            handle, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(source)
            os.replace(temporary, path)
        except OSError:
            return None
    return path


def _compile(numba, source, name):
    """The numba dispatcher of function ``name`` defined by ``source``, cached
    on disk where the source could be written to a file."""
    path = _source_file(source, name)
    # A module registered under its own name: numba's cache imports the
    # module of a cached function by name when loading it.
    module_name = (
        f"skmlp_kernels.{name}_{hashlib.sha256(source.encode()).hexdigest()[:16]}"
    )
    module = sys.modules.get(module_name)
    if module is None:
        module = types.ModuleType(module_name)
        module.__file__ = path
        code = compile(source, path or f"<skmlp kernel {name}>", "exec")
        exec(code, module.__dict__)  # noqa: S102
        sys.modules[module_name] = module
    return numba.njit(error_model="numpy", cache=path is not None)(
        getattr(module, name)
    )


# ---------------------------------------------------------------- kernels
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
        self._n_inputs = len(_names(spec.in_params))
        self._n_outputs = len(_names(spec.out_params))
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
            last_output = _names(self.spec.out_params)[-1]
            source = kernel_source(
                self.spec, pattern, dtype, column_sums=last_output if summed else None
            )
            kernel = self._compiled[key] = _compile(self._numba, source, self.spec.name)
        return kernel


def _load_kernels():
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


class KernelState:
    """What of the compiled kernels is loaded, and from what array size they
    start: the NumPy backend's (``NumpyBackend.kernel_state``), which its
    compiled layers and steps ask at every call, and which tests and
    benchmarks configure (``min_size``, :meth:`reference_only`)."""

    def __init__(self, min_size=MIN_KERNEL_SIZE):
        # Numba is started at the first array of at least this many entries.
        self.min_size = min_size
        self._unload()

    def _unload(self):
        # Whether numba was asked for (and the kernels made, or None
        # without numba), and the written-out kernels compiled since.
        self.started = False
        self._elementwise = None
        self._written_out = {}

    def for_array(self, array):
        """The compiled kernels, or None where the NumPy reference is to run:
        where numba cannot be imported, or where it is not started yet and
        ``array`` is too small to be worth starting it for. Once started,
        the kernels serve every size: they give the reference's results bit
        for bit, and are faster even on small arrays."""
        if self.started:
            return self._elementwise
        if array.size < self.min_size:
            return None
        return self.elementwise()

    def elementwise(self):
        """Every elementwise kernel worth compiling for the CPU (None for
        those that call a function numba does not vectorise), each compiled
        by numba on first use; None, after one warning, where numba cannot
        be imported."""
        if not self.started:
            self._elementwise = _load_kernels()
            self.started = True
        return self._elementwise

    def written_out(self, name, make_source, array):
        """The numba dispatcher of the function ``name`` of the source
        ``make_source(name)`` (made only then), compiled (or loaded from the
        cache) at its first use -- for kernels written out here rather than
        generated from an ``ElementwiseSpec`` -- or None where the NumPy
        reference is to run (as :meth:`for_array` decides for ``array``)."""
        if self.for_array(array) is None:
            return None
        kernel = self._written_out.get(name)
        if kernel is None:
            numba = importlib.import_module("numba")
            kernel = self._written_out[name] = _compile(
                numba, make_source(name), name
            )
        return kernel

    @contextlib.contextmanager
    def reference_only(self):
        """Run the NumPy reference everywhere inside the block, as without
        numba (benchmarks compare the two in one process)."""
        saved = self.min_size, self.started, self._elementwise, self._written_out
        self.min_size = math.inf
        self._unload()
        try:
            yield
        finally:
            self.min_size, self.started, self._elementwise, self._written_out = saved


# ---------------------------------------------------------- dropout's draws
# The kernels that make skmlp._nn.random's draws themselves: name -> (arguments
# after the key, what is done with draw u at (_i, _j) of the first array):
# dropout's forward and backward steps remake the draws of their key instead
# of writing them to memory and reading them back (twice).
COUNTER_KERNELS = {
    "skmlp_dropout_forward": (
        "unit, rate, scale, _a, _out",
        "_out[_i, _j] = _a[_i, _j] * (u >= rate) * scale",
    ),
    "skmlp_dropout_backward": (
        "unit, rate, scale, _delta",
        "_delta[_i, _j] = _delta[_i, _j] * (u >= rate) * scale",
    ),
}


def counter_kernel_source(name):
    """Source of the compiled loop ``name`` of :data:`COUNTER_KERNELS`,
    written out from the constants of :mod:`skmlp._nn.random` (integer
    arithmetic, which the float kernel descriptions do not cover). Every
    operation is cast back to ``uint32``, so that numba keeps 32-bit vector
    lanes and wraps as the reference's ``uint32`` ufuncs do; the draw ``u``
    is in the arrays' dtype (``unit``'s), as the reference's noise array."""
    arguments, use = COUNTER_KERNELS[name]
    first_array = arguments.split("_", 1)[1].split(",")[0]
    (first, second, third), (m1, m2) = _random.SHIFTS, _random.MULTIPLIERS
    mix = [
        f"x = u32(x ^ (x >> u32({first})))",
        f"x = u32(x * u32({m1:#x}))",
        f"x = u32(x ^ (x >> u32({second})))",
        f"x = u32(x * u32({m2:#x}))",
        f"x = u32(x ^ (x >> u32({third})))",
    ]
    body = [
        f"x = u32(u32(_i * _{first_array}.shape[1] + _j) ^ low)",
        *mix,
        "x = u32(x ^ high)",
        *mix,
        f"u = np.float32(x >> u32({32 - _random.MANTISSA_BITS})) * unit",
        use,
    ]
    lines = [
        f"# {name}: the draws of skmlp._nn.random.CounterUniform, generated by",
        "# skmlp (skmlp/_kernels/cpu.py); any edit is overwritten.",
        "import numpy as np",
        "from numba import uint32 as u32",
        "",
        "",
        f"def {name}(low, high, {arguments}):",
        f"    for _i in range(_{first_array}.shape[0]):",
        f"        for _j in range(_{first_array}.shape[1]):",
        *(f"            {line}" for line in body),
        "",
    ]
    return "\n".join(lines)


def sums_rows_in_order(array):
    """Whether NumPy's sum over the rows of the 2-D ``array`` adds them up row
    after row from the first, as the compiled sums do: yes for several
    columns; a single column NumPy sums pairwise, so the compiled sums leave
    it to NumPy."""
    return array.shape[1] > 1


class CompiledDropout(Dropout):
    """:class:`~skmlp._nn.layers.Dropout` whose compiled forward and backward
    kernels make the draws of the step's key themselves (its ``uniform`` is
    a :class:`~skmlp._nn.random.CounterUniform`): no noise or mask array goes
    through memory. Where the kernels do not run, the reference's steps
    draw the same key's values into a noise array: the same masks."""

    def __init__(self, rate, width, backend, dtype):
        super().__init__(rate, width, backend, dtype)
        self._state = backend.kernel_state

    def forward(self, a, training):
        if not training:
            return a
        kernel = self._state.written_out(
            "skmlp_dropout_forward", counter_kernel_source, a
        )
        if kernel is None:
            self._key = None
            return super().forward(a, training)
        self._key = self.uniform.next_key()
        out = self._output(a.shape[0])
        kernel(*self._kernel_arguments(a.dtype), a, out)
        return out

    def backward(self, delta):
        if self._key is None:
            return super().backward(delta)
        kernel = self._state.written_out(
            "skmlp_dropout_backward", counter_kernel_source, delta
        )
        kernel(*self._kernel_arguments(delta.dtype), delta)
        return delta

    def _kernel_arguments(self, dtype):
        low, high = self._key
        cast = np.dtype(dtype).type
        return np.uint32(low), np.uint32(high), _random.unit(dtype), cast(self.rate), cast(self.scale)


# ---------------------------------------------------------------- layers
class CompiledActivation:
    """The hidden activation ``reference`` (NumPy ufuncs, the interface of
    :mod:`skmlp._nn.activations`) with its forward and backward steps run by
    one compiled kernel each where one describes them. Its declarations
    (``init_gain``, ``derivative_from_output``) are the reference's: the
    kernels compute the same function. ``state``: the :class:`KernelState`
    that says whether the kernels run."""

    def __init__(self, reference, state):
        self.name = reference.name
        self.init_gain = reference.init_gain
        self.derivative_from_output = reference.derivative_from_output
        self._reference = reference
        self._kernels_for = state.for_array

    def forward(self, z, bias):
        kernels = self._kernels_for(z)
        forward = None if kernels is None else kernels.bias_activation[self.name]
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


def compiled_step(optimizer, penalty, n_coefs, state):
    """``step(params, grads, learning_rate, scratch, total_weight)`` of
    ``optimizer``, adding the gradient of ``penalty`` (a
    :class:`~skmlp._nn.penalties.Penalty`, or None) on the weights
    ``params[:n_coefs]``: where ``state`` (a :class:`KernelState`) runs the
    kernels, one compiled kernel does both (the penalty's terms folded in,
    no pass over memory of their own); otherwise the penalty's and the
    optimizer's ufunc steps."""
    reference = adding_penalty(optimizer.step, penalty, n_coefs, np)
    fused = []  # made at the first large step, so small fits never import numba
    kernels_for = state.for_array

    def step(params, grads, learning_rate, scratch, total_weight):
        kernels = kernels_for(params)
        if kernels is None:
            reference(params, grads, learning_rate, scratch, total_weight)
            return
        if not fused:
            if penalty is None:
                fused.append(
                    adding_penalty(
                        fused_step(optimizer, kernels.optimizer_steps), None, 0, np
                    )
                )
            else:
                folded = penalised_fused_step(optimizer, kernels, penalty, n_coefs)
                fused.append(reference if folded is None else folded)
        fused[0](params, grads, learning_rate, scratch, total_weight)

    return step


# ---------------------------------------------------------------- batch norm
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
# (skmlp/_kernels/cpu.py); any edit is overwritten.


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
