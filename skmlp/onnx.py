"""ONNX export through skl2onnx.

``import skmlp.onnx`` registers converters for :class:`MLPClassifierScratch`
and :class:`MLPRegressorScratch` with skl2onnx, so that
``skl2onnx.to_onnx(model, X_sample)`` converts them, bare or as a step of a
Pipeline. Needs the ``onnx`` extra (``pip install skmlp[onnx]``).

It registers converters for :class:`~skmlp.TabularMLPClassifier`,
:class:`~skmlp.TabularMLPRegressor` and the encoders of
:mod:`skmlp.preprocessing` too (``skmlp._onnx_tabular``,
``skmlp._onnx_encoders``): the encoders from opset 9 (missing values need
IsNaN), a tabular model with categorical columns from opset 11.
:func:`tabular_initial_types` types a DataFrame's columns as the tabular
converter needs them (a category column as strings), and
:func:`tabular_inputs` turns rows into the graph's inputs.

The graph is built layer by layer from the same network skmlp predicts
with, through registries keyed by the names skmlp uses: :data:`LAYERS` (the
layer classes of ``skmlp._nn.layers``), :data:`HIDDEN_ACTIVATIONS`
(``skmlp._nn.ACTIVATIONS``) and :data:`OUTPUTS` (``skmlp._nn.OUTPUTS``).
Each entry maps one piece of the network to ONNX operators; a new layer,
activation or output needs its entry here, and the tests fail until it has
one.

The classifier's outputs are skl2onnx's usual pair: ``label`` (int64, or
string for string classes; one 0/1 column per label for multilabel targets)
and ``probabilities`` (as ``predict_proba``; a list of dicts unless the
option ``zipmap=False`` is passed). The regressor's ``variable`` has shape
(n_samples, n_outputs). Computation is in float64 for float64 input,
otherwise float32.

Every graph is valid from ``target_opset=7`` (the oldest opset onnxruntime
runs, and scikit-learn's MLP converts at) to the newest skl2onnx knows, and
onnxruntime runs it in both dtypes; only the operators of
:data:`FIRST_OPSET` need a newer one, and a conversion to an older opset
that needs them raises a ValueError naming the opset that works.
"""

import numpy as np
from skl2onnx import update_registered_converter

from . import _onnx_encoders, _onnx_tabular  # noqa: F401  (they register theirs)
from ._backends import NumpyBackend
from ._estimators import fitted_predictor
from ._estimators.classifier import MLPClassifierScratch
from ._estimators.regressor import MLPRegressorScratch
from ._onnx_graph import (
    CLASSIFIER_OPTIONS,
    FIRST_OPSET,
    OLDEST_OPSET,
    PROTO_TYPES,
    Graph,
    classifier_shapes,
    computation_dtype,
    labels_from_probabilities,
    multilabel,
    tensor_type,
)
from ._onnx_tabular import tabular_initial_types, tabular_inputs

__all__ = [
    "FIRST_OPSET",
    "HIDDEN_ACTIVATIONS",
    "LAYERS",
    "OLDEST_OPSET",
    "OUTPUTS",
    "tabular_initial_types",
    "tabular_inputs",
]


def _op(op_type, **attributes):
    """An activation that is one ONNX operator."""

    def apply(graph, x):
        return graph.node(op_type, [x], **attributes)

    return apply


def _identity(graph, x):
    return x


# onnxruntime has no float64 LeakyRelu or Elu: both are composed of basic
# operators, as skmlp computes them.
def _leaky_relu(graph, x):
    return graph.node("Max", [x, graph.node("Div", [x, graph.constant(100)])])


def _elu(graph, x):
    # relu(x) + (exp(min(x, 0)) - 1): x where x > 0 (plus exp(0) - 1 = 0,
    # exactly), exp(x) - 1 elsewhere. Where, the obvious choice, needs
    # opset 9.
    negative = graph.node("Min", [x, graph.constant(0)])
    expm1 = graph.node("Sub", [graph.node("Exp", [negative]), graph.constant(1)])
    return graph.node("Add", [graph.node("Relu", [x]), expm1])


def _gelu(graph, x):
    # The exact form skmlp uses: x * (1 + erf(x / sqrt(2))) / 2.
    scaled = graph.node("Mul", [x, graph.constant(np.sqrt(0.5))])
    if graph.dtype != np.float64:
        erf = graph.node("Erf", [scaled])
    else:
        # onnxruntime has Erf in float32 only: a float64 graph computes it
        # there (relative error ~1e-7) and casts back.
        single = graph.node("Cast", [scaled], to=PROTO_TYPES["float32"])
        erf = graph.node(
            "Cast", [graph.node("Erf", [single])], to=PROTO_TYPES["float64"]
        )
    one_plus = graph.node("Add", [erf, graph.constant(1)])
    half_x = graph.node("Mul", [x, graph.constant(0.5)])
    return graph.node("Mul", [half_x, one_plus])


def _silu(graph, x):
    # x / (1 + exp(-x)), not x * Sigmoid(x): onnxruntime (before 1.24 or so)
    # fuses the latter into a QuickGelu node that has no float64 kernel.
    denominator = graph.node(
        "Add", [graph.node("Exp", [graph.node("Neg", [x])]), graph.constant(1)]
    )
    return graph.node("Div", [x, denominator])


def _clipped_sigmoid(graph, x):
    """The sigmoid kept within ``[eps, 1 - eps]``, as predict_proba keeps it,
    at every opset: Clip takes its bounds as inputs from opset 11 only (as
    attributes before), onnxruntime runs a float64 Clip from opset 12 only,
    and Max and Min broadcast from opset 8. For ``p`` in [0, 1],
    ``max(p, eps) = p + relu(eps - p)`` and ``min(q, 1 - eps) = q - relu(q -
    (1 - eps))`` exactly: each subtraction that matters is exact (Sterbenz's
    lemma) or rounds off less than the sum rounds back to the bound."""
    eps = np.finfo(graph.dtype).eps
    p = graph.node("Sigmoid", [x])
    below = graph.node("Relu", [graph.node("Sub", [graph.constant(eps), p])])
    q = graph.node("Add", [p, below])
    above = graph.node("Relu", [graph.node("Sub", [q, graph.constant(1 - eps)])])
    return graph.node("Sub", [q, above])


HIDDEN_ACTIVATIONS = {
    "identity": _identity,
    "logistic": _op("Sigmoid"),
    "tanh": _op("Tanh"),
    "relu": _op("Relu"),
    "leaky_relu": _leaky_relu,
    "elu": _elu,
    "gelu": _gelu,
    "silu": _silu,
}
"""Hidden activation name -> ``apply(graph, x) -> name`` of its output."""

OUTPUTS = {
    "identity": _identity,
    "logistic": _clipped_sigmoid,
    "softmax": _op("Softmax", axis=1),
    "exp": _op("Exp"),
}
"""Output layer name -> ``apply(graph, z) -> name`` of the predicted values."""


def _dense(graph, layer, x):
    return _affine(graph, x, layer.coef, layer.intercept if layer.add_bias else None)


def _affine(graph, x, coef, intercept):
    z = graph.node("MatMul", [x, graph.constant(coef)])
    if intercept is not None:
        z = graph.node("Add", [z, graph.constant(intercept)])
    return z


def _batch_norm(graph, layer, x):
    # Inference only: an affine map of the running statistics. The exporter
    # folds it into the dense layer below (_fold_batch_norm); this stands
    # for a batch normalization that no dense layer precedes.
    factor, offset = _batch_norm_affine(layer)
    z = graph.node("Mul", [x, graph.constant(factor)])
    if layer.add_bias:
        offset = offset + layer.shift
    return graph.node("Add", [z, graph.constant(offset)])


def _batch_norm_affine(layer):
    """``(factor, offset)`` with ``bn(z) - shift = z * factor + offset`` at
    inference."""
    factor = layer.scale / np.sqrt(layer.running_var + layer.eps)
    return factor, -layer.running_mean * factor


def _fold_batch_norm(graph, dense, batch_norm, x):
    """A dense layer and the batch normalization above it, as one MatMul and
    Add: ``(x W + b - mean) * factor = x (W * factor) + (b - mean) * factor``."""
    factor, offset = _batch_norm_affine(batch_norm)
    intercept = offset + (dense.intercept * factor if dense.add_bias else 0)
    if batch_norm.add_bias:
        intercept = intercept + batch_norm.shift
    return _affine(graph, x, dense.coef * factor, intercept)


def _activation(graph, layer, x):
    # The activation adds the bias of the layer below (a dense layer's
    # intercept, or batch normalization's shift: one fused step on a GPU),
    # then applies its function.
    bias = getattr(layer.bias_from, layer.bias_from.bias_name)
    z = graph.node("Add", [x, graph.constant(bias)])
    return HIDDEN_ACTIVATIONS[layer.function.name](graph, z)


def _dropout(graph, layer, x):
    return x  # dropout is a training-time layer: at inference it passes x on


LAYERS = {
    "Dense": _dense,
    "Activation": _activation,
    "BatchNorm": _batch_norm,
    "Dropout": _dropout,
}
"""Layer class name -> ``apply(graph, layer, x) -> name`` of its output."""


def _kind(layer):
    """The name in :data:`LAYERS` of ``layer``'s class or of the one it
    specialises (a backend's compiled ``BatchNorm``), else its own."""
    names = [cls.__name__ for cls in type(layer).__mro__]
    return next((name for name in names if name in LAYERS), names[0])


def _network_output(graph, model, input_name):
    """The output of the fitted ``model``'s network for ``input_name``."""
    network = fitted_predictor(model).network(NumpyBackend(), graph.dtype)
    x = graph.node("Cast", [input_name], to=PROTO_TYPES[graph.dtype.name])
    *hidden, output = network.layers
    i = 0
    while i < len(hidden):
        layer = hidden[i]
        following = hidden[i + 1] if i + 1 < len(hidden) else None
        if _kind(layer) == "Dense" and _kind(following) == "BatchNorm":
            x = _fold_batch_norm(graph, layer, following, x)
            i += 2
            continue
        x = LAYERS[_kind(layer)](graph, layer, x)
        i += 1
    return OUTPUTS[output.name](graph, x)


def _convert_classifier(scope, operator, container):
    model = operator.raw_operator
    labels_out, proba_out = (v.full_name for v in operator.outputs)
    graph = Graph(scope, container, computation_dtype(operator))
    p = _network_output(graph, model, operator.inputs[0].full_name)
    if multilabel(model):
        graph.node("Identity", [p], output=proba_out)
    elif len(model.classes_) < 2:
        raise ValueError(
            "The classifier was fitted on a single class; it has nothing to "
            "export. Fit it on at least two classes."
        )
    elif model.out_activation_ == "logistic":  # binary: p is the positive class
        negative = graph.node("Sub", [graph.constant(1), p])
        graph.node("Concat", [negative, p], output=proba_out, axis=1)
    else:
        graph.node("Identity", [p], output=proba_out)
    labels_from_probabilities(graph, operator, proba_out, labels_out)


def _regressor_shapes(operator):
    n_rows = operator.inputs[0].get_first_dimension()
    dtype = computation_dtype(operator)
    operator.outputs[0].type = tensor_type(dtype)(
        [n_rows, operator.raw_operator.n_outputs_]
    )


def _convert_regressor(scope, operator, container):
    graph = Graph(scope, container, computation_dtype(operator))
    values = _network_output(graph, operator.raw_operator, operator.inputs[0].full_name)
    graph.node("Identity", [values], output=operator.outputs[0].full_name)


update_registered_converter(
    MLPClassifierScratch,
    "SkmlpMLPClassifierScratch",
    classifier_shapes,
    _convert_classifier,
    options=CLASSIFIER_OPTIONS,
)
update_registered_converter(
    MLPRegressorScratch,
    "SkmlpMLPRegressorScratch",
    _regressor_shapes,
    _convert_regressor,
)
