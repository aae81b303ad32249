"""skl2onnx converters of :class:`~skmlp.TabularMLPClassifier` and
:class:`~skmlp.TabularMLPRegressor`, registered by ``import skmlp.onnx``.

The graph is the fitted ``preprocessor_`` (numeric columns through the
encoders' graphs of :mod:`._onnx_encoders`, categorical columns one-hot),
cast to float32 as ``fit`` casts it, then each of ``members_``, converted by
its own registered converter as a sub-operator, and their average, in
float64 as ``predict`` takes it. The classifier's probabilities are output
as float32 (the members' own precision; ZipMap takes no float64), and its
labels are those of the float64 average; the regressor maps the average
back with a Mul and an Add, in float64 for float64 input.

The inputs are those skl2onnx gives the model: one tensor of all columns
(an array), or one ``[N, 1]`` tensor per column (``to_onnx(model, df)``
guesses one per DataFrame column: float, int64, bool or string). A
categorical column's categories are matched in its input's type; in a
string input, a missing category (NaN or None in training) is the string
``"nan"`` or ``"None"``, as ``str`` and pandas' ``astype(str)`` write it,
since an ONNX string tensor has no missing value.

The one-hot columns are built here rather than by skl2onnx's
OneHotEncoder converter, which cannot express this encoder: it refuses
infrequent categories unless every column is an input of its own, and its
ONNX OneHotEncoder fails at run time on a category unseen in training, where
``handle_unknown="infrequent_if_exist"`` gives the infrequent column.
"""

import numpy as np
from skl2onnx import update_registered_converter
from skl2onnx.common.data_types import (
    BooleanTensorType,
    DoubleTensorType,
    FloatTensorType,
    Int32TensorType,
    Int64TensorType,
    StringTensorType,
)
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import OneHotEncoder

from ._estimators.tabular import TabularMLPClassifier, TabularMLPRegressor
from ._onnx_encoders import ENCODERS, as_dtype
from ._onnx_graph import (
    CLASSIFIER_OPTIONS,
    PROTO_TYPES,
    Graph,
    classifier_shapes,
    computation_dtype,
    labels_from_probabilities,
    tensor_type,
)

_INTEGER_TYPES = (Int64TensorType, Int32TensorType, BooleanTensorType)
_FLOAT_TYPES = (FloatTensorType, DoubleTensorType)


def _input_columns(operator):
    """``(variable, index in it)`` of each column of the model's input."""
    columns = []
    for variable in operator.inputs:
        shape = variable.type.shape
        width = shape[1] if len(shape) == 2 else None
        if not isinstance(width, (int, np.integer)):
            raise TypeError(
                f"The ONNX input {variable.onnx_name!r} has shape {shape}: the "
                "tabular estimators' converter needs 2-D inputs with a known "
                "number of columns, such as skl2onnx guesses from a sample "
                "(to_onnx(model, X[:1]))."
            )
        columns += [(variable, k) for k in range(int(width))]
    n_features = operator.raw_operator.n_features_in_
    if len(columns) != n_features:
        raise ValueError(
            f"The ONNX inputs hold {len(columns)} columns, but the model was "
            f"fitted on {n_features}: give one input of all the columns, or "
            "one input per column, in the training order."
        )
    return columns


def _gather(graph, columns, cast=False):
    """The ``columns`` (``(variable, index)`` pairs) side by side, ``[N, k]``:
    in their inputs' type, or, with ``cast``, each cast to the graph's."""
    parts = []
    for variable, k in columns:
        if variable.type.shape[1] == 1:
            parts.append(variable.full_name)
        else:
            index = graph.constant([k], np.int64)
            parts.append(graph.node("Gather", [variable.full_name, index], axis=1))
        if cast:
            parts[-1] = as_dtype(graph, parts[-1])
    return parts[0] if len(parts) == 1 else graph.node("Concat", parts, axis=1)


def _numeric(scope, container, transformer, columns):
    """The numeric columns encoded by ``transformer``, cast to float32;
    computed in float32 where every column arrives as float32, else in
    float64, as ``transform`` computes them."""
    for position, (variable, _) in enumerate(columns):
        if not isinstance(variable.type, (*_FLOAT_TYPES, *_INTEGER_TYPES)):
            raise TypeError(
                f"Numeric column {position} of the model arrives as "
                f"{type(variable.type).__name__} in the ONNX input "
                f"{variable.onnx_name!r}: give numeric columns a float or "
                "integer input."
            )
    single = all(isinstance(v.type, FloatTensorType) for v, _ in columns)
    graph = Graph(scope, container, np.float32 if single else np.float64)
    x = _gather(graph, columns, cast=True)
    return _encoded(graph, transformer, x)


def _encoded(graph, transformer, x):
    if (
        isinstance(transformer, FeatureUnion)
        and transformer.transformer_weights is None
    ):
        parts = [
            _encoded(graph, part, x)
            for _, part in transformer.transformer_list
            if part != "drop"
        ]
        return graph.node("Concat", parts, axis=1)
    if type(transformer) not in ENCODERS:
        raise ValueError(
            f"{type(transformer).__name__} in the model's preprocessor has no "
            "ONNX converter in skmlp."
        )
    return ENCODERS[type(transformer)](graph, transformer, x)


def _category_matches(graph, variable, x, categories):
    """``[N, C]`` booleans: whether each row's value is each category."""
    n_categories = len(categories)
    if isinstance(variable.type, StringTensorType):
        keys = [str(c) for c in categories]
        if len(set(keys)) < n_categories:
            raise ValueError(
                f"The categories {list(categories)} of a column fed as strings "
                f"(input {variable.onnx_name!r}) are not distinct as strings "
                f"({keys}): an ONNX string tensor has no missing value, so a "
                "missing category is the string 'nan' or 'None', which a "
                "category of that name would share. Rename that category."
            )
        codes = graph.node(
            "LabelEncoder",
            [x],
            op_domain="ai.onnx.ml",
            op_version=2,
            keys_strings=keys,
            values_int64s=list(range(n_categories)),
            default_int64=-1,
        )
        return graph.node(
            "Equal", [codes, graph.constant(np.arange(n_categories), np.int64)]
        )
    values = np.asarray(categories)
    if values.dtype.kind not in "biuf":
        raise ValueError(
            f"The categories {list(categories)} are not numbers, but the "
            f"column arrives as {type(variable.type).__name__} in the ONNX "
            f"input {variable.onnx_name!r}: feed it as strings. (skl2onnx "
            "guesses int64, the codes, for a pandas category column; "
            "skmlp.onnx.tabular_initial_types(model, X) gives every column "
            "the input the model needs.)"
        )
    if isinstance(variable.type, _INTEGER_TYPES):
        if not np.array_equal(values, values.astype(np.int64)):
            raise ValueError(
                f"The categories {list(categories)} are not all integers, but "
                f"the ONNX input {variable.onnx_name!r} is: feed it as floats."
            )
        x = graph.node("Cast", [x], to=PROTO_TYPES["int64"])
        return graph.node("Equal", [x, graph.constant(values, np.int64)])
    dtype = np.float32 if isinstance(variable.type, FloatTensorType) else np.float64
    if not np.isnan(values).any():
        return graph.node("Equal", [x, graph.constant(values, dtype)])
    # NaN equals nothing: its category (always the last) is IsNaN.
    finite = graph.node("Equal", [x, graph.constant(values[:-1], dtype)])
    return graph.node("Concat", [finite, graph.node("IsNaN", [x])], axis=1)


def _one_hot_map(encoder, i):
    """``[C + 1, K]``: the one-hot columns of column ``i``'s categories, and
    last, of a category unseen in training (the infrequent column, if the
    column has one, else none)."""
    n_categories = len(encoder.categories_[i])
    infrequent = getattr(encoder, "_infrequent_indices", None)
    infrequent = [] if infrequent is None or infrequent[i] is None else infrequent[i]
    frequent = np.setdiff1d(np.arange(n_categories), infrequent)
    n_columns = len(frequent) + (1 if len(infrequent) else 0)
    mapping = np.zeros((n_categories + 1, n_columns), dtype=np.float32)
    mapping[frequent, np.arange(len(frequent))] = 1
    if len(infrequent):
        mapping[infrequent, -1] = 1
        mapping[-1, -1] = 1
    return mapping


def _one_hot(scope, container, encoder, columns):
    """The categorical columns one-hot encoded (float32), as ``encoder``
    (``handle_unknown`` 'ignore' or 'infrequent_if_exist', no ``drop``)."""
    if encoder.drop is not None or encoder.handle_unknown == "error":
        raise ValueError(
            f"OneHotEncoder(drop={encoder.drop!r}, handle_unknown="
            f"{encoder.handle_unknown!r}) has no ONNX converter in skmlp."
        )
    graph = Graph(scope, container, np.float32)
    blocks = []
    for i, (variable, k) in enumerate(columns):
        categories = encoder.categories_[i]
        x = _gather(graph, [(variable, k)])
        matches = _category_matches(graph, variable, x, categories)
        matches = graph.node("Cast", [matches], to=PROTO_TYPES["float32"])
        # A row that matches no category is unseen: 1 - (its matches).
        count = graph.node(
            "MatMul", [matches, graph.constant(np.ones((len(categories), 1)))]
        )
        unseen = graph.node("Sub", [graph.constant(1), count])
        rows = graph.node("Concat", [matches, unseen], axis=1)
        blocks.append(
            graph.node("MatMul", [rows, graph.constant(_one_hot_map(encoder, i))])
        )
    return blocks


def _named_columns(X):
    """``(name, values)`` of each column of a DataFrame or 2-D array (the
    array's named ``x0``, ``x1``, ...)."""
    if hasattr(X, "iloc"):
        return [(str(name), column) for name, column in X.items()]
    X = np.asarray(X)
    return [(f"x{j}", X[:, j]) for j in range(X.shape[1])]


def tabular_initial_types(model, X):
    """The ``initial_types`` for converting the fitted tabular ``model``
    with skl2onnx, from a sample ``X`` of its input.

    A numeric array is one input, ``"X"``, of its dtype (float32, else
    float64). A DataFrame, or an array with categorical columns, is one
    ``[N, 1]`` input per column, named after it (``"x0"``, ``"x1"``, ...
    in an array): a categorical column that is not numeric a string input,
    any other column float32, int64 or bool as its dtype, else float64.
    Unlike skl2onnx's own guess, this reads the dtypes rather than the first
    row, and types a pandas category column by its values, not its codes.

    Parameters
    ----------
    model : TabularMLPClassifier or TabularMLPRegressor
        The fitted estimator.

    X : {array-like, DataFrame} of shape (n_samples, n_features)
        Rows as ``model`` takes them (one is enough).

    Returns
    -------
    initial_types : list of (str, skl2onnx data type)
        For ``skl2onnx.to_onnx(model, initial_types=...)``.

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime as ort
    >>> import pandas as pd
    >>> from skl2onnx import to_onnx
    >>> from skmlp import TabularMLPClassifier
    >>> from skmlp.onnx import tabular_initial_types, tabular_inputs
    >>> X = pd.DataFrame({
    ...     "age": [22.0, 35.0, None, 58.0, 41.0, 30.0] * 20,
    ...     "plan": pd.Categorical([None, "b", "a", "c", "b", "a"] * 20),
    ... })
    >>> clf = TabularMLPClassifier((16,), max_iter=5, random_state=0)
    >>> clf = clf.fit(X, [0, 1, 0, 1, 1, 0] * 20)
    >>> [(name, type(t).__name__) for name, t in tabular_initial_types(clf, X)]
    [('age', 'DoubleTensorType'), ('plan', 'StringTensorType')]
    >>> onx = to_onnx(clf, initial_types=tabular_initial_types(clf, X),
    ...               options={"zipmap": False})
    >>> session = ort.InferenceSession(onx.SerializeToString(),
    ...                                providers=["CPUExecutionProvider"])
    >>> labels, proba = session.run(None, tabular_inputs(session, X))
    >>> bool((labels == clf.predict(X)).all())
    True
    """
    categorical = model.categorical_features_
    if not hasattr(X, "iloc") and not categorical.any():
        X = np.asarray(X)
        tensor = FloatTensorType if X.dtype == np.float32 else DoubleTensorType
        return [("X", tensor([None, X.shape[1]]))]
    types = []
    for j, (name, column) in enumerate(_named_columns(X)):
        kind = getattr(column.dtype, "kind", "O")
        if kind not in "iufb":
            tensor = StringTensorType if categorical[j] else DoubleTensorType
        elif kind == "b":
            tensor = BooleanTensorType
        elif kind in "iu":
            tensor = Int64TensorType
        else:
            tensor = FloatTensorType if column.dtype == np.float32 else DoubleTensorType
        types.append((name, tensor([None, 1])))
    return types


_NUMPY_TYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(bool)": np.bool_,
}


def tabular_inputs(session, X):
    """``X`` as the inputs of ``session``, an onnxruntime session of a
    tabular model's graph: one array per input, in the input's type; a
    string input takes each value as ``str`` writes it (a missing one as
    ``"nan"`` or ``"None"``, as the graph expects).

    Parameters
    ----------
    session : onnxruntime.InferenceSession
        The session that runs the graph.

    X : {array-like, DataFrame} of shape (n_samples, n_features)
        The rows to predict.

    Returns
    -------
    inputs : dict of str to ndarray
        For ``session.run(None, inputs)``.

    Examples
    --------
    See :func:`tabular_initial_types`; a missing category is fed as text:

    >>> import numpy as np
    >>> import pandas as pd
    >>> class Session:  # stands for an onnxruntime session's inputs
    ...     def get_inputs(self):
    ...         return [type("Input", (), {"name": "plan", "type": "tensor(string)"})]
    >>> tabular_inputs(Session(), pd.DataFrame({"plan": ["a", np.nan]}))["plan"]
    array([['a'],
           ['nan']], dtype=object)
    """
    specs = session.get_inputs()
    if len(specs) == 1 and not hasattr(X, "iloc"):
        return {specs[0].name: np.asarray(X, dtype=_NUMPY_TYPES.get(specs[0].type))}
    columns = dict(_named_columns(X))
    inputs = {}
    for spec in specs:
        values = np.asarray(columns[spec.name])
        if spec.type == "tensor(string)":
            values = np.array([str(v) for v in values], dtype=object)
        else:
            values = values.astype(_NUMPY_TYPES[spec.type])
        inputs[spec.name] = values.reshape(-1, 1)
    return inputs


def _network_input(scope, container, operator):
    """The name of the float32 ``[N, n_encoded]`` variable the network reads:
    ``preprocessor_``'s output, as ``fit`` casts it."""
    model = operator.raw_operator
    columns = _input_columns(operator)
    blocks = []
    for _, transformer, indices in model.preprocessor_.transformers_:
        if transformer == "drop" or not len(indices):
            continue
        chosen = [columns[j] for j in indices]
        if isinstance(transformer, OneHotEncoder):
            blocks += _one_hot(scope, container, transformer, chosen)
        else:
            encoded = _numeric(scope, container, transformer, chosen)
            blocks.append(encoded)
    graph = Graph(scope, container, np.float32)
    encoded = scope.declare_local_variable("encoded", FloatTensorType())
    graph.node(
        "Concat", [as_dtype(graph, b) for b in blocks], output=encoded.onnx_name, axis=1
    )
    return encoded


def _members_mean(scope, container, operator, encoded, output):
    """The members' average of their last output (the probabilities, or the
    standardised predictions) on ``encoded``, in float64, each member
    converted by its own converter; return its name."""
    graph = Graph(scope, container, np.float64)
    outputs = []
    for i, member in enumerate(operator.raw_operator.members_):
        sub = scope.declare_local_operator(f"Skmlp{type(member).__name__}", member)
        sub.inputs.append(encoded)
        for name in output:
            sub.outputs.append(scope.declare_local_variable(f"{name}{i}", FloatTensorType()))
        outputs.append(as_dtype(graph, sub.outputs[-1].onnx_name))
    total = graph.node("Sum", outputs) if len(outputs) > 1 else outputs[0]
    return graph.node("Div", [total, graph.constant(float(len(outputs)))])


def _classifier_shapes(operator):
    # The probabilities are float32 whatever the input: the members' own
    # precision (predict_proba's float64 average holds a few more digits),
    # and what ONNX's ZipMap, skl2onnx's default output, takes.
    classifier_shapes(operator)
    operator.outputs[1].type = FloatTensorType(operator.outputs[1].type.shape)


def _convert_classifier(scope, operator, container):
    encoded = _network_input(scope, container, operator)
    proba = _members_mean(scope, container, operator, encoded, ["label", "probabilities"])
    graph = Graph(scope, container, np.float64)
    labels_out, proba_out = (v.full_name for v in operator.outputs)
    graph.node("Cast", [proba], output=proba_out, to=PROTO_TYPES["float32"])
    labels_from_probabilities(graph, operator, proba, labels_out)


def _regressor_shapes(operator):
    n_rows = operator.inputs[0].get_first_dimension()
    n_outputs = len(operator.raw_operator.target_mean_)
    operator.outputs[0].type = tensor_type(computation_dtype(operator))(
        [n_rows, n_outputs]
    )


def _convert_regressor(scope, operator, container):
    model = operator.raw_operator
    encoded = _network_input(scope, container, operator)
    standardised = _members_mean(scope, container, operator, encoded, ["variable"])
    graph = Graph(scope, container, computation_dtype(operator))
    # predict's float64 arithmetic, in float32 for float32 input.
    values = graph.node(
        "Mul", [as_dtype(graph, standardised), graph.constant(model.target_scale_)]
    )
    graph.node(
        "Add",
        [values, graph.constant(model.target_mean_)],
        output=operator.outputs[0].full_name,
    )


update_registered_converter(
    TabularMLPClassifier,
    "SkmlpTabularMLPClassifier",
    _classifier_shapes,
    _convert_classifier,
    options=CLASSIFIER_OPTIONS,
)
update_registered_converter(
    TabularMLPRegressor,
    "SkmlpTabularMLPRegressor",
    _regressor_shapes,
    _convert_regressor,
)
