"""Saving and loading a model: the fitted state as plain values, and the
checks that a loaded file describes one network as fit leaves it."""

from itertools import pairwise
from numbers import Integral

import numpy as np
from sklearn.base import is_classifier
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.fixes import parse_version

from .._nn import ACTIVATIONS, REGRESSION_LOSSES
from .._training import Trainer
from .._version import __version__
from .fitted import (
    BATCH_NORM_ATTRIBUTES,
    batch_norm_values,
    layer_attributes,
    trainable_layers,
)


class SavedModelSupport:
    """``copy.copy``, pickling and skops support of the estimators: what a
    saved model holds, and the checks that run when one is loaded."""

    def __copy__(self):
        """A shallow copy, as Python makes one by default: not the round trip
        of :meth:`__getstate__` and :meth:`__setstate__`, which are for
        saving. scikit-learn's callbacks copy the estimator in mid-fit for
        each ``fitted_estimator``, when the optimizer state may still be on
        the GPU (and every check of a saved model would run at every step)."""
        copied = type(self).__new__(type(self))
        vars(copied).update(vars(self))
        return copied

    def __getstate__(self):
        """The fitted state as builtins and NumPy arrays only (the trainer and
        its optimizer as dicts of numbers and arrays; scikit-learn's
        LabelBinarizer and NumPy's RandomState as they are), so that skops
        needs to trust no class but the estimator's. The flat weight array is
        saved through ``coefs_`` and ``intercepts_`` alone."""
        # A copy: the state returned may be the instance's own __dict__.
        state = dict(super().__getstate__())
        state.pop("_flat_layers", None)
        if isinstance(state.get("_trainer"), Trainer):
            state["_trainer"] = state["_trainer"].get_state()
        state["_skmlp_version"] = __version__
        return state

    def __setstate__(self, state):
        """Rebuild what :meth:`__getstate__` made plain, checking that it
        forms this network: a damaged file, or one whose layers, counts,
        batch normalization, classes, output layer and optimizer state do not
        fit together, raises a ValueError naming the attribute instead of
        loading a different model (:func:`check_saved_model`). Parameters an
        older version did not have take their defaults, which train as that
        version did."""
        state = dict(state)
        _check_saved_version(state.pop("_skmlp_version", None))
        trainer = state.pop("_trainer", None)
        defaults = {
            name: value
            for name, value in type(self)().get_params(deep=False).items()
            if name not in state
        }
        super().__setstate__({**defaults, **state})
        if "coefs_" not in state:
            return
        check_saved_model(self)
        if isinstance(trainer, dict):
            n_params = sum(a.size for a in trainable_layers(self))
            trainer = Trainer.from_state(trainer, n_params)
        self._trainer = trainer
        # Saving stores each layer's array on its own: gather them again into
        # one flat array, as fit leaves them, so predict need not copy.
        # Layers of different dtypes (assigned by hand) are kept as they
        # are, for predict to convert.
        layers = trainable_layers(self)
        if len({a.dtype for a in layers}) == 1:
            flat = np.concatenate([a.ravel() for a in layers])
            vars(self).update(layer_attributes(flat, [c.shape for c in self.coefs_]))
        else:
            self._flat_layers = (None, (), None)


# ------------------------------------------------------ loading a saved model
# __setstate__ runs these checks on every pickle and skops file (and on
# copy.deepcopy) before the model is used. Every fitted attribute that
# predict reads must agree with the others: one that does not would load
# into a model that predicts something else.

_DAMAGED = (
    "the file is damaged or was edited. Load an intact copy, or fit the "
    "model again."
)

# The kinds of target a classifier's LabelBinarizer is fitted on.
_CLASSIFIER_TARGETS = ("binary", "multiclass", "multilabel-indicator")


def _check_saved_version(saved):
    """A model saved by a newer skmlp may hold state this one would ignore."""
    if saved is not None and parse_version(saved) > parse_version(__version__):
        raise ValueError(
            f"The model was saved by skmlp {saved}, newer than this skmlp "
            f"{__version__}: upgrade skmlp to load it."
        )


def check_saved_model(model):
    """Raise a ValueError that names the attribute unless the fitted
    attributes of the loaded ``model`` describe one network as fit leaves
    it: its arrays, the counts and parameters that describe them, and the
    output layer and classes its targets call for."""
    _check_saved_layers(model)
    _check_saved_counts(model)
    _check_saved_batch_norm(model)
    _check_saved_activation(model)
    if is_classifier(model):
        _check_saved_classes(model)
    _check_saved_output(model)


def _check_saved_layers(model):
    """``coefs_``, ``intercepts_`` and the batch normalizations' values are
    lists of finite float arrays, of the shapes of a network of
    ``n_features_in_`` inputs."""
    coefs, intercepts = model.coefs_, model.intercepts_
    batch_norm = batch_norm_values(model)
    arrays = {
        "coefs_": coefs,
        "intercepts_": intercepts,
        **dict(zip(BATCH_NORM_ATTRIBUTES, batch_norm)),
    }
    for name, values in arrays.items():
        if not isinstance(values, (list, tuple)) or not all(
            isinstance(a, np.ndarray) and a.dtype.kind == "f" and np.isfinite(a).all()
            for a in values
        ):
            raise ValueError(
                f"The saved {name} is not a list of finite float arrays: {_DAMAGED}"
            )
    n_features = getattr(model, "n_features_in_", None)
    if not _layers_fit_together(coefs, intercepts, n_features):
        shapes = [a.shape for a in coefs], [a.shape for a in intercepts]
        raise ValueError(
            f"The saved coefs_ and intercepts_ (shapes {shapes[0]} and "
            f"{shapes[1]}) do not form a network of n_features_in_={n_features} "
            "inputs: their layers were replaced by ones of another layout, or "
            f"{_DAMAGED}"
        )
    if not _batch_norm_fits(coefs, *batch_norm):
        raise ValueError(
            "The saved batch-normalization values (batch_norm_scales_, "
            "batch_norm_shifts_, batch_norm_running_means_ and "
            "batch_norm_running_vars_) are not one vector of each per hidden "
            f"layer, of its width: {_DAMAGED}"
        )


def _layers_fit_together(coefs, intercepts, n_features):
    """Whether ``coefs`` and ``intercepts`` have the shapes of a network with
    ``n_features`` inputs, as fit leaves them: re-slicing any others into
    that layout would change the model instead of refusing it."""
    if not coefs or len(intercepts) != len(coefs) or any(c.ndim != 2 for c in coefs):
        return False
    units = [n_features, *(c.shape[1] for c in coefs)]
    return all(
        c.shape == shape and b.shape == shape[1:]
        for c, b, shape in zip(coefs, intercepts, pairwise(units))
    )


def _batch_norm_fits(coefs, scales, shifts, means, variances):
    """Whether the batch-normalization values are none, or one of each per
    hidden layer of its width, as fit leaves them."""
    given = (scales, shifts, means, variances)
    if not scales:
        return not any(given)
    widths = [c.shape[1] for c in coefs[:-1]]
    return all(
        [a.shape for a in values] == [(w,) for w in widths] for values in given
    )


def _check_saved_counts(model):
    """``n_features_in_``, ``n_layers_`` and ``n_outputs_`` are the integers
    the layers make them."""
    coefs = model.coefs_
    counts = {
        "n_features_in_": coefs[0].shape[0],
        "n_layers_": len(coefs) + 1,
        "n_outputs_": coefs[-1].shape[1],
    }
    for name, count in counts.items():
        value = getattr(model, name, None)
        if isinstance(value, bool) or not isinstance(value, Integral) or value != count:
            raise ValueError(
                f"The saved {name} is {value!r}, but the saved coefs_ make it the "
                f"integer {count}: {_DAMAGED}"
            )


def _check_saved_batch_norm(model):
    """The running variances are not negative (inference takes their square
    root), and the ``batch_norm`` parameter says whether the network has
    batch normalization: it does after a fit with ``batch_norm=True`` and at
    least one hidden layer."""
    variances = batch_norm_values(model)[3]
    if any((v < 0).any() for v in variances):
        raise ValueError(
            "The saved batch_norm_running_vars_ has negative values, which no "
            f"variance has (inference takes their square root): {_DAMAGED}"
        )
    batch_norm = model.batch_norm
    n_hidden = len(model.coefs_) - 1
    if bool(variances) != (bool(batch_norm) and n_hidden > 0):
        has = "holds" if variances else "holds no"
        raise ValueError(
            f"The saved batch_norm={batch_norm!r} does not match the file, which "
            f"{has} batch-normalization values (batch_norm_scales_ and the "
            f"others) for its {n_hidden} hidden layer(s): a batch_norm set by "
            "set_params after fitting, without fitting again, also does this "
            f"(fit again before saving); otherwise {_DAMAGED}"
        )


def _check_saved_activation(model):
    """``activation`` is one that the network can be built with."""
    activation = model.activation
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(
            f"The saved activation={activation!r} is not one of skmlp's "
            f"hidden activations {sorted(ACTIVATIONS)}: {_DAMAGED}"
        )


def _check_saved_classes(model):
    """A classifier's ``_label_binarizer``, which predict maps the outputs
    through, is the LabelBinarizer fit makes (labels 0 and 1, targets of a
    kind skmlp trains on); ``classes_`` are its classes, sorted and unique
    (the order the outputs were trained in), in as many output columns as
    they need: one for two classes (or one), one per class or label
    otherwise."""
    binarizer = getattr(model, "_label_binarizer", None)
    if not (
        isinstance(binarizer, LabelBinarizer)
        and getattr(binarizer, "y_type_", None) in _CLASSIFIER_TARGETS
        and (binarizer.neg_label, binarizer.pos_label) == (0, 1)
    ):
        raise ValueError(
            "The saved _label_binarizer is not the LabelBinarizer fit makes (of "
            "labels 0 and 1, for binary, multiclass or multilabel targets): "
            f"{_DAMAGED}"
        )
    classes = getattr(model, "classes_", None)
    fitted = getattr(binarizer, "classes_", None)
    if not (
        isinstance(classes, np.ndarray)
        and isinstance(fitted, np.ndarray)
        and classes.ndim == 1
        and classes.dtype == fitted.dtype
        and np.array_equal(classes, fitted)
    ):
        raise ValueError(
            f"The saved classes_ {classes!r} are not those of _label_binarizer "
            f"{fitted!r}, which predict maps the outputs to: {_DAMAGED}"
        )
    if not _sorted_and_unique(classes):
        raise ValueError(
            f"The saved classes_ {classes!r} are not sorted and unique, as fit "
            "leaves them (the output columns follow that order, so other "
            f"classes would be predicted): {_DAMAGED}"
        )
    kind, width = binarizer.y_type_, model.coefs_[-1].shape[1]
    if kind == "multilabel-indicator":
        fits = np.array_equal(classes, np.arange(width))
    elif kind == "binary":
        fits = width == 1 and 1 <= len(classes) <= 2
    else:
        fits = width == len(classes) > 2
    if not fits:
        raise ValueError(
            f"The saved classes_ ({len(classes)} for {kind} targets) do not fit "
            f"the output layer's {width} columns (one for two classes, one per "
            f"class or label otherwise): {_DAMAGED}"
        )


def _sorted_and_unique(classes):
    """Whether ``classes`` are in the order LabelBinarizer sorts them into."""
    try:
        return np.array_equal(np.unique(classes), classes)
    except TypeError:  # classes that do not compare (mixed types)
        return False


def _check_saved_output(model):
    """``out_activation_`` is the output layer that the model's targets call
    for: a classifier's, that of its targets' kind (softmax for multiclass,
    the logistic for binary and multilabel targets); a regressor's, that of
    its ``loss`` (the identity, or Poisson's exp)."""
    if is_classifier(model):
        expected = model._output_layer()  # read off the label binarizer
        source = f"{model._label_binarizer.y_type_} targets"
        changed_by_set_params = ""
    else:
        loss = model.loss
        if not isinstance(loss, str) or loss not in REGRESSION_LOSSES:
            raise ValueError(
                f"The saved loss={loss!r} is not one of the regressor's losses "
                f"{sorted(REGRESSION_LOSSES)}: {_DAMAGED}"
            )
        expected, source = REGRESSION_LOSSES[loss].name, f"loss={loss!r}"
        changed_by_set_params = (
            "a loss set by set_params after fitting, without fitting again, "
            "also does this (fit again before saving); otherwise "
        )
    value = getattr(model, "out_activation_", None)
    if not isinstance(value, str) or value != expected:
        raise ValueError(
            f"The saved out_activation_={value!r} is not {expected!r}, the output "
            f"layer of {source}: {changed_by_set_params}{_DAMAGED}"
        )


def check_saved_tabular(model, network_class):
    """The checks of a loaded tabular estimator: its members (each already
    checked by its own loading) are ``network_class`` networks that take as
    many inputs as its preprocessor gives and predict the estimator's classes,
    or as many targets as it standardised; the columns it took as categorical
    are one per column."""
    members = getattr(model, "members_", None)
    if not isinstance(members, list) or not members:
        raise ValueError(f"The saved members_ is not a list of networks: {_DAMAGED}")
    for member in members:
        if type(member) is not network_class:
            raise ValueError(
                f"The saved members_ hold a {type(member).__name__}, not the "
                f"{network_class.__name__} a {type(model).__name__} trains: {_DAMAGED}"
            )
    mask = np.asarray(getattr(model, "categorical_features_", None))
    if mask.dtype != bool or mask.shape != (getattr(model, "n_features_in_", -1),):
        raise ValueError(
            f"The saved categorical_features_ is not one bool per column of "
            f"n_features_in_: {_DAMAGED}"
        )
    preprocessor = getattr(model, "preprocessor_", None)
    try:
        n_encoded = len(preprocessor.get_feature_names_out())
    except (AttributeError, ValueError) as error:
        raise ValueError(
            f"The saved preprocessor_ is not a fitted ColumnTransformer: {_DAMAGED}"
        ) from error
    for member in members:
        if member.n_features_in_ != n_encoded:
            raise ValueError(
                f"The saved preprocessor_ gives {n_encoded} features and a member "
                f"takes {member.n_features_in_}: {_DAMAGED}"
            )
    if is_classifier(model):
        classes = getattr(model, "classes_", None)
        for member in members:
            if classes is None or not np.array_equal(classes, member.classes_):
                raise ValueError(f"The saved classes_ are not the members': {_DAMAGED}")
        return
    n_outputs = {member.n_outputs_ for member in members}
    for name in ("target_mean_", "target_scale_"):
        value = np.asarray(getattr(model, name, None))
        if value.dtype.kind != "f" or len(n_outputs) > 1 or value.shape != (*n_outputs,):
            raise ValueError(
                f"The saved {name} is not one float per output of the members "
                f"({sorted(n_outputs)}): {_DAMAGED}"
            )
    scale = model.target_scale_
    if not (np.isfinite(model.target_mean_).all() and np.isfinite(scale).all()):
        raise ValueError(f"The saved target_mean_ and target_scale_ are not finite: {_DAMAGED}")
    if not (scale > 0).all():
        raise ValueError(f"The saved target_scale_ is not positive: {_DAMAGED}")
