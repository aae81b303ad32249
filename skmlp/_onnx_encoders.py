"""skl2onnx converters of :class:`~skmlp.preprocessing.RobustSoftClipScaler`
and :class:`~skmlp.preprocessing.PiecewiseLinearEncoder`, registered by
``import skmlp.onnx``, so that they convert bare or inside any Pipeline,
FeatureUnion or ColumnTransformer.

Each graph repeats ``transform``'s arithmetic, operation for operation, in
the input's dtype (float64 for float64 input, float32 otherwise), so
onnxruntime gives ``transform``'s numbers to the last bit or so. Both need
``target_opset=9`` or newer where they meet a missing value (IsNaN and
Where): the piecewise-linear encoder always, the scaler with a
``fill_value``.
"""

import numpy as np
from skl2onnx import update_registered_converter

from ._estimators.encoders import PiecewiseLinearEncoder, RobustSoftClipScaler
from ._onnx_graph import PROTO_TYPES, Graph, computation_dtype, tensor_type


def as_dtype(graph, x):
    """``x`` cast to the graph's dtype (a no-op when it has it)."""
    return graph.node("Cast", [x], to=PROTO_TYPES[graph.dtype.name])


def fill_missing(graph, where_nan, x, value):
    """``x`` with ``value`` where ``where_nan`` (a tensor as wide) is NaN."""
    mask = graph.node("IsNaN", [where_nan])
    return graph.node("Where", [mask, graph.constant(value), x])


def soft_clip(graph, scaler, x):
    """``scaler.transform(x)`` for ``x`` in the graph's dtype."""
    scale = scaler.scale_
    factor = np.divide(1.0, scale, out=np.zeros_like(scale), where=scale > 0)
    centred = graph.node("Sub", [x, graph.constant(scaler.center_)])
    scaled = graph.node("Mul", [centred, graph.constant(factor)])
    ratio = graph.node("Div", [scaled, graph.constant(scaler.clip)])
    squared = graph.node("Mul", [ratio, ratio])
    root = graph.node("Sqrt", [graph.node("Add", [graph.constant(1), squared])])
    clipped = graph.node("Div", [scaled, root])
    if scaler.fill_value is None:
        return clipped
    return fill_missing(graph, clipped, clipped, scaler.fill_value)


def _bin_lines(encoder):
    """Per output column of ``encoder``: the source column, the left edge,
    the factor 1 / width (0 for a zero-width bin), and the bounds the value
    is clipped to (infinite where ``transform`` leaves it free)."""
    source, left, factor, low, high = [], [], [], [], []
    for j, edges in enumerate(encoder.bin_edges_):
        width = np.diff(edges)
        n_bins = len(width)
        source += [j] * n_bins
        left.append(edges[:-1])
        factor.append(np.divide(1.0, width, out=np.zeros_like(width), where=width > 0))
        lower, upper = np.zeros(n_bins), np.ones(n_bins)
        if encoder.extrapolate and n_bins > 1:
            lower[0], upper[-1] = -np.inf, np.inf  # the outer bins go on
        elif encoder.extrapolate:
            lower[0], upper[0] = -np.inf, np.inf  # one bin: a line
        low.append(lower)
        high.append(upper)
    return (
        np.array(source, dtype=np.int64),
        *(np.concatenate(values) for values in (left, factor, low, high)),
    )


def piecewise_linear(graph, encoder, x):
    """``encoder.transform(x)`` for ``x`` in the graph's dtype."""
    source, left, factor, low, high = _bin_lines(encoder)
    repeated = graph.node("Gather", [x, graph.constant(source, np.int64)], axis=1)
    shifted = graph.node("Sub", [repeated, graph.constant(left)])
    line = graph.node("Mul", [shifted, graph.constant(factor)])
    clipped = graph.node("Max", [line, graph.constant(low)])
    clipped = graph.node("Min", [clipped, graph.constant(high)])
    # A line is NaN exactly where its value is missing: it encodes as 0.
    encoded = fill_missing(graph, line, clipped, 0)
    indicators = encoder.indicator_features_
    if not len(indicators):
        return encoded
    columns = graph.node("Gather", [x, graph.constant(indicators, np.int64)], axis=1)
    missing = graph.node(
        "Cast", [graph.node("IsNaN", [columns])], to=PROTO_TYPES[graph.dtype.name]
    )
    return graph.node("Concat", [encoded, missing], axis=1)


def n_outputs(transformer):
    """How many columns the fitted ``transformer`` outputs."""
    if isinstance(transformer, PiecewiseLinearEncoder):
        return int(transformer.n_bins_.sum()) + len(transformer.indicator_features_)
    return transformer.n_features_in_


ENCODERS = {RobustSoftClipScaler: soft_clip, PiecewiseLinearEncoder: piecewise_linear}
"""Encoder class -> ``apply(graph, encoder, x) -> name`` of its output."""


def _shapes(operator):
    n_rows = operator.inputs[0].get_first_dimension()
    dtype = computation_dtype(operator)
    operator.outputs[0].type = tensor_type(dtype)(
        [n_rows, n_outputs(operator.raw_operator)]
    )


def _convert(scope, operator, container):
    encoder = operator.raw_operator
    graph = Graph(scope, container, computation_dtype(operator))
    x = as_dtype(graph, operator.inputs[0].full_name)
    encoded = ENCODERS[type(encoder)](graph, encoder, x)
    graph.node("Identity", [encoded], output=operator.outputs[0].full_name)


for _encoder in ENCODERS:
    update_registered_converter(
        _encoder, f"Skmlp{_encoder.__name__}", _shapes, _convert
    )
