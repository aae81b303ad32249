"""CPU kernels compiled by numba from the CuPy backend's kernel descriptions.

The elementwise work of a training step -- bias + activation, the
activation's derivative, the whole optimizer step over the flat buffers --
is described once, as :class:`~skmlp._cupy_kernels.ElementwiseSpec`
bodies that are valid Python as well as CUDA C. CuPy compiles them for the
GPU; this module compiles the same bodies for the CPU: each becomes a
single-threaded loop that does in one pass over memory what NumPy's ufuncs
do in several (Adam's step: one pass instead of twelve).

How a spec becomes a kernel (:func:`kernel_source`):

- every array parameter is read into a local scalar of the same name, the
  body runs on the scalars, and the outputs are written back, element by
  element; a 1-D input beside 2-D outputs is a row broadcast over the rows
  (the bias), any other input a full array or a scalar;
- numeric literals become constants of the arrays' dtype, and scalars are
  cast to it (as CuPy does), so float32 stays float32 and LLVM vectorises
  the loop (``tests/test_numba_kernels.py`` checks for packed instructions);
- ``error_model='numpy'`` (no division-by-zero checks in the loop) and no
  ``fastmath``: the kernels keep the reference's operation order, so results
  agree with the NumPy ufuncs to rounding and scikit-learn parity holds.

Kernels are compiled lazily, per kernel, argument layout and dtype, at their
first call. The generated source is written to a per-user cache directory
(``$NUMBA_CACHE_DIR/skmlp``, else the platform's user cache directory), so
numba's ``cache=True`` keeps the machine code between processes whether or
not the installed package's directory is writable; where no such directory
is writable the kernels are compiled in memory in every process.

The NumPy ufunc versions (:mod:`skmlp._activations`, :mod:`skmlp._optimizers`)
stay the readable reference the kernels are tested against, and run instead
of them on small arrays (where a kernel call costs more than it saves) and,
after one warning, where numba cannot be imported.
"""

import ast
import functools
import hashlib
import importlib
import os
import sys
import types
import warnings

import numpy as np

from ._cupy_kernels import ElementwiseKernels, fused_step

# Arrays smaller than this go to the ufuncs: a kernel call costs a few
# microseconds more than a ufunc call, and a process that never needs a
# kernel never pays numba's import and start-up (about a second on a loaded
# 2-core machine). The network's arrays are one layer's outputs for a batch,
# or all the parameters. See docs/benchmarks.md for the measurement.
MIN_KERNEL_SIZE = 2**15

_FUNCTIONS = ("exp", "sqrt", "tanh")


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


class _TypedConstants(ast.NodeTransformer):
    """Replaces numeric literals by names of constants of the arrays' dtype
    (``1 - beta_1`` in float32 must not become a float64 operation)."""

    def __init__(self):
        self.constants = {}

    def visit_Constant(self, node):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise TypeError(f"Unsupported constant {node.value!r} in a kernel body.")
        name = self.constants.setdefault(node.value, f"_c{len(self.constants)}")
        return ast.copy_location(ast.Name(id=name, ctx=ast.Load()), node)


def kernel_source(spec, pattern, dtype):
    """Python source of a function computing ``spec`` elementwise in
    ``dtype``; ``pattern`` says for each parameter (inputs, then outputs)
    whether its argument is a ``'scalar'``, a ``'row'`` (a 1-D array
    broadcast over the rows) or a ``'full'`` array shaped like the outputs.
    Every array argument is 2-D (the caller views 1-D ones as one row)."""
    inputs, outputs = _names(spec.in_params), _names(spec.out_params)
    params = inputs + outputs
    body = ast.parse(spec.operation)
    constants = _TypedConstants()
    body = constants.visit(body)
    names = {node.id for node in ast.walk(body) if isinstance(node, ast.Name)}
    assigned = {
        node.id
        for node in ast.walk(body)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
    }
    unknown = names - assigned - set(params) - set(_FUNCTIONS)
    unknown -= set(constants.constants.values())
    if unknown:
        raise ValueError(f"Unknown names {sorted(unknown)} in kernel {spec.name}.")

    def arg(name, kind):
        return name if kind == "scalar" else f"_{name}"

    index = {"row": "[_j]", "full": "[_i, _j]"}
    loads = [
        f"{name} = _{name}{index[kind]}"
        for name, kind in zip(params, pattern)
        if kind != "scalar"
    ]
    stores = [f"_{name}[_i, _j] = {name}" for name in outputs]
    statements = [*loads, *ast.unparse(body).splitlines(), *stores]
    first_output = f"_{outputs[0]}"
    lines = [
        f"# {spec.name} in {np.dtype(dtype).name}, generated by skmlp from its",
        "# ElementwiseSpec (skmlp/_cupy_kernels.py); any edit is overwritten.",
        f"from math import {', '.join(_FUNCTIONS)}",
        "import numpy as np",
        "",
        *(
            f"{name} = np.{np.dtype(dtype).name}({value!r})"
            for value, name in constants.constants.items()
        ),
        "",
        "",
        f"def {spec.name}({', '.join(arg(n, k) for n, k in zip(params, pattern))}):",
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
            temporary = f"{path}.{os.getpid()}.tmp"
            with open(temporary, "w", encoding="utf-8") as file:
                file.write(source)
            os.replace(temporary, path)  # atomic: other processes see all or nothing
        except OSError:
            return None
    return path


def _compile(numba, source, name):
    """The numba dispatcher of function ``name`` defined by ``source``, cached
    on disk where the source could be written to a file."""
    path = _source_file(source, name)
    # A module registered under its own name: numba's cache imports the
    # module of a cached function by name when loading it.
    module_name = f"skmlp_kernels.{name}_{hashlib.sha256(source.encode()).hexdigest()[:16]}"
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
    """An :class:`~skmlp._cupy_kernels.ElementwiseSpec` compiled by numba,
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

    def __call__(self, *args):
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
                values.append(dtype.type(value))
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
        self._kernel(tuple(pattern), dtype)(*values)

    def _kernel(self, pattern, dtype):
        key = pattern, dtype
        kernel = self._compiled.get(key)
        if kernel is None:
            source = kernel_source(self.spec, pattern, dtype)
            kernel = self._compiled[key] = _compile(self._numba, source, self.spec.name)
        return kernel


@functools.cache
def compiled_kernels():
    """Every elementwise kernel, compiled by numba on first use; None, after
    one warning, where numba cannot be imported."""
    try:
        numba = importlib.import_module("numba")
    except ImportError as exc:
        warnings.warn(
            f"skmlp could not import numba ({exc}), so it trains with NumPy "
            "ufuncs instead of fused compiled kernels: the same results, up to "
            "~15% slower on large networks. Install numba (`pip install "
            "numba`) to get them back.",
            UserWarning,
            stacklevel=_user_stacklevel(),
        )
        return None
    return ElementwiseKernels(lambda spec: CompiledElementwise(spec, numba))


def kernels_for(array):
    """The compiled kernels where ``array`` is large enough for them to pay,
    else None (the caller then runs its NumPy reference)."""
    return compiled_kernels() if array.size >= MIN_KERNEL_SIZE else None


def _user_stacklevel():
    """``stacklevel`` pointing a warning at the first frame outside skmlp
    and scikit-learn (which wraps ``fit``): the user's call."""
    package = os.path.dirname(__file__)
    sklearn = os.path.dirname(importlib.import_module("sklearn").__file__)
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith((package, sklearn)):
        frame, level = frame.f_back, level + 1
    return level


# ---------------------------------------------------------------- layers
class CompiledActivation:
    """The hidden activation ``reference`` (NumPy ufuncs, the interface of
    :mod:`skmlp._activations`) with its forward and backward steps run by
    one compiled kernel each on large arrays."""

    def __init__(self, reference):
        self.name = reference.name
        self._reference = reference

    def forward(self, z, bias):
        kernels = kernels_for(z)
        if kernels is None:
            self._reference.forward(z, bias)
        else:
            kernels.bias_activation[self.name](bias, z)

    def backward(self, a, delta):
        kernels = kernels_for(delta)
        derivative = None if kernels is None else kernels.derivative.get(self.name)
        if derivative is None:
            self._reference.backward(a, delta)
        else:
            derivative(a, delta)


def compiled_step(optimizer):
    """``step(params, grads, learning_rate, scratch)`` of ``optimizer``: one
    compiled kernel over the flat buffers where they are large, the
    optimizer's own ufunc step otherwise."""
    fused = []  # made at the first large step, so small fits never import numba

    def step(params, grads, learning_rate, scratch):
        kernels = kernels_for(params)
        if kernels is None:
            optimizer.step(params, grads, learning_rate, scratch)
            return
        if not fused:
            fused.append(fused_step(optimizer, kernels.optimizer_steps))
        fused[0](params, grads, learning_rate, scratch)

    return step

