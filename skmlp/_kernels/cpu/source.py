"""Python source of a numba kernel, generated from an
:class:`~skmlp._kernels.specs.ElementwiseSpec` (:func:`kernel_source`).

- every array parameter is read into a local scalar of the same name, the
  body runs on the scalars, and the outputs are written back, element by
  element; a 1-D input beside 2-D outputs is a row broadcast over the rows
  (the bias), any other input a full array or a scalar;
- subexpressions of scalars and literals (``1 - beta_1``) are computed once,
  in double precision, and cast to the arrays' dtype, as NumPy does with the
  reference's Python scalars; the literals left in the loop become constants
  of the arrays' dtype, so float32 stays float32 and LLVM vectorises the loop
  (``tests/kernels/test_numba_kernels.py`` checks for packed instructions).
"""

import ast
import math

import numpy as np

from ..specs import FUNCTIONS

# The functions of the bodies that the generated source imports from math
# (the others, max, are Python's builtins).
_MATH_FUNCTIONS = tuple(name for name in FUNCTIONS if hasattr(math, name))


def parameter_names(params):
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
    inputs = parameter_names(spec.in_params)
    outputs = parameter_names(spec.out_params)
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
