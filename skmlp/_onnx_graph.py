"""What every skmlp ONNX graph is built with: :class:`Graph`, which adds
nodes and constants in one conversion's dtype and refuses an operator the
target opset lacks, and the shapes of a classifier's outputs. Used by
:mod:`skmlp.onnx` (the networks) and every other converter skmlp
registers."""

import numpy as np
from skl2onnx.common.data_types import (
    DoubleTensorType,
    FloatTensorType,
    Int64TensorType,
    StringTensorType,
)
from skl2onnx.common.utils_classifier import get_label_classes
from skl2onnx.proto import onnx_proto

PROTO_TYPES = {
    "float32": onnx_proto.TensorProto.FLOAT,
    "float64": onnx_proto.TensorProto.DOUBLE,
    "int64": onnx_proto.TensorProto.INT64,
}


OLDEST_OPSET = 7
"""The oldest ``target_opset`` the graphs are built for: Add, Sub, Mul and
Div broadcast from opset 7 on, and onnxruntime runs no older model."""

FIRST_OPSET = {"Max": 8, "Min": 8, "Erf": 9, "IsNaN": 9, "Where": 9, "Equal": 11}
"""Operator -> the first opset in which it has the form the graphs use,
with float32 and float64 kernels in onnxruntime, for those newer than
:data:`OLDEST_OPSET`: Max and Min broadcast a constant from opset 8 (and
onnxruntime has no float64 kernel of their opset-6 form); Erf, IsNaN and
Where exist from opset 9; Equal compares floats from opset 11. The leaky
ReLU and ELU use Max or Min, GELU uses Erf; the encoders' missing values
use IsNaN and Where, the tabular estimators' one-hot columns Equal."""


CLASSIFIER_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "output_class_labels": [False, True],
    "nocl": [True, False],
}
"""skl2onnx's classifier options, which every classifier registers and its
classifier parser handles."""


class Graph:
    """Adds uniquely named nodes and constants, in the dtype of one
    conversion, to the ONNX graph skl2onnx is building, refusing an operator
    that the conversion's ``target_opset`` does not have."""

    def __init__(self, scope, container, dtype):
        self._scope, self._container = scope, container
        self.dtype = np.dtype(dtype)
        self.opset = container.target_opset_onnx
        if self.opset < OLDEST_OPSET:
            raise ValueError(
                f"skmlp's ONNX graphs need target_opset={OLDEST_OPSET} or newer "
                f"(got {self.opset}): they use Add and Mul with broadcasting, "
                f"which ONNX has from opset {OLDEST_OPSET}, the oldest opset "
                f"onnxruntime runs. Convert with target_opset={OLDEST_OPSET} or "
                "newer."
            )

    def constant(self, value, dtype=None):
        """Add ``value`` (in the conversion's dtype unless ``dtype`` says
        otherwise; strings as UTF-8); return its name."""
        value = np.asarray(value, dtype=dtype or self.dtype)
        name = self._scope.get_unique_variable_name("const")
        if value.dtype.kind == "U":
            proto_type = onnx_proto.TensorProto.STRING
            content = [v.encode("utf-8") for v in value.ravel()]
        else:
            proto_type, content = PROTO_TYPES[value.dtype.name], value.ravel()
        self._container.add_initializer(name, proto_type, list(value.shape), content)
        return name

    def node(self, op_type, inputs, output=None, op_domain="", **attributes):
        """Add ``op_type`` (of ``op_domain``, ONNX's own by default) applied
        to ``inputs``; return its output's name."""
        first = FIRST_OPSET.get(op_type, OLDEST_OPSET)
        if self.opset < first:
            raise ValueError(
                f"This model's ONNX graph needs the operator {op_type}, which "
                f"ONNX has in the form used here from opset {first} on, but "
                f"target_opset is {self.opset}. Convert with "
                f"target_opset={first} or newer."
            )
        output = output or self._scope.get_unique_variable_name(op_type.lower())
        self._container.add_node(
            op_type,
            inputs,
            output,
            op_domain=op_domain,
            name=self._scope.get_unique_operator_name(op_type),
            **attributes,
        )
        return output


def computation_dtype(operator):
    """float64 for float64 input, else float32 (skl2onnx's convention; of
    several inputs, float64 where any is float64)."""
    is_double = any(isinstance(v.type, DoubleTensorType) for v in operator.inputs)
    return np.float64 if is_double else np.float32


def tensor_type(dtype):
    return DoubleTensorType if dtype == np.float64 else FloatTensorType


def multilabel(model):
    """Whether the classifier ``model`` (or the networks ``members_`` of a
    tabular one) was fitted on a multilabel indicator matrix."""
    network = getattr(model, "members_", [model])[0]
    return network._label_binarizer.y_type_ == "multilabel-indicator"


def onnx_labels(operator):
    """The class labels as the graph outputs them: strings, or int64 for
    integer, boolean and float classes (scikit-learn's classification targets
    take integral floats only)."""
    classes = np.asarray(get_label_classes(operator.scope_inst, operator.raw_operator))
    return classes.astype(str if classes.dtype.kind in "OUS" else np.int64)


def classifier_shapes(operator):
    """skl2onnx's classifier outputs: the labels, then the probabilities."""
    model = operator.raw_operator
    n_rows = operator.inputs[0].get_first_dimension()
    n_columns = len(model.classes_)
    if multilabel(model):
        operator.outputs[0].type = Int64TensorType([n_rows, n_columns])
    elif onnx_labels(operator).dtype.kind == "U":
        operator.outputs[0].type = StringTensorType([n_rows])
    else:
        operator.outputs[0].type = Int64TensorType([n_rows])
    dtype = computation_dtype(operator)
    operator.outputs[1].type = tensor_type(dtype)([n_rows, n_columns])


def labels_from_probabilities(graph, operator, proba, labels_out):
    """Write to ``labels_out`` the labels ``predict`` gives for the
    probabilities ``proba`` (one column per class): p > 0.5 per label for a
    multilabel model, else the class of the largest. ArgMax takes the first
    of equal maxima: for a binary model's [1 - p, p] the negative class at
    p = 0.5, as predict's threshold p > 0.5 does."""
    if multilabel(operator.raw_operator):
        positive = graph.node("Greater", [proba, graph.constant(0.5)])
        graph.node("Cast", [positive], output=labels_out, to=onnx_proto.TensorProto.INT64)
        return
    best = graph.node("ArgMax", [proba], axis=1, keepdims=0)
    classes = onnx_labels(operator)
    graph.node("Gather", [graph.constant(classes, classes.dtype), best], output=labels_out)
