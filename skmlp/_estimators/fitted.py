"""The fitted attributes, as the estimators name and lay them out: one
place that says which attribute holds what of a trained network."""

import copy

from sklearn.metrics import get_scorer

from .._nn import Predictor, ReusedNetwork, layer_views, paired_views
from .._training import FittedState

# Per hidden layer, in the order Network.set_batch_norm takes them.
BATCH_NORM_ATTRIBUTES = (
    "batch_norm_scales_",
    "batch_norm_shifts_",
    "batch_norm_running_means_",
    "batch_norm_running_vars_",
)
_SCALES, _SHIFTS, _RUNNING_MEANS, _RUNNING_VARS = BATCH_NORM_ATTRIBUTES


def result_attributes(result):
    """The fitted attributes of a :class:`~skmlp._training.drivers.FitResult`, with copies
    of its lists (training may go on appending to them)."""
    return {
        "n_iter_": result.n_iter,
        "t_": result.t,
        "loss_curve_": list(result.loss_curve),
        "loss_": result.loss,
        "best_loss_": result.best_loss,
        "validation_scores_": (
            None if result.validation_scores is None else list(result.validation_scores)
        ),
        "best_validation_score_": result.best_validation_score,
    }


def layer_attributes(flat, shapes):
    """``coefs_``, ``intercepts_`` and the batch normalizations' scales and
    shifts as views of the flat host array ``flat``, and the record that they
    are (``_kept_flat_params``), with the network to predict small batches
    with (made when first needed)."""
    coefs, intercepts = layer_views(flat, shapes)
    n_dense = sum(fan_in * fan_out + fan_out for fan_in, fan_out in shapes)
    scales, shifts = paired_views(flat, n_dense, coefs)
    trainable = _in_buffer_order(coefs, intercepts, scales, shifts)
    return {
        "coefs_": coefs,
        "intercepts_": intercepts,
        _SCALES: scales,
        _SHIFTS: shifts,
        "_flat_layers": (flat, tuple(trainable), ReusedNetwork()),
    }


def running_statistics(state, coefs):
    """The running means and variances of the network's host ``state``
    buffer, for the dense layers of weight matrices ``coefs``: copies, so
    that each pickles on its own."""
    means, variances = paired_views(state, 0, coefs)
    return {
        _RUNNING_MEANS: [mean.copy() for mean in means],
        _RUNNING_VARS: [var.copy() for var in variances],
    }


def state_attributes(fitted):
    """The fitted attributes of the network of a
    :class:`~skmlp._training.FittedState`: its layers (views of its flat
    weights), running statistics, sizes and output layer."""
    layers = layer_attributes(fitted.params, fitted.shapes)
    return {
        **layers,
        **running_statistics(fitted.state, layers["coefs_"]),
        "n_outputs_": fitted.shapes[-1][1],
        "n_layers_": len(fitted.shapes) + 1,
        "out_activation_": fitted.output,
    }


def snapshots(network, history, X=None):
    """``snapshot(params, n_steps, state)`` for the callbacks: the fitted
    attributes of the model with weights ``params`` and the network's
    ``state`` (see :meth:`FittedState.at <skmlp._training.FittedState.at>`,
    which ``X`` is for) after ``n_steps`` steps of this call: those of its
    network, and ``history(n_steps)``."""

    def snapshot(params, n_steps, state):
        fitted = FittedState.at(network, params, state, X)
        return {**state_attributes(fitted), **history(n_steps)}

    return snapshot


def held_out_scorer_score(model, scoring, X, y, sample_weight):
    """``score(network)``: ``scorer(fitted, X, y)`` of the held-out rows (host
    arrays; ``y`` as the user gave it), where ``fitted`` is a shallow copy of
    ``model`` fitted with the network's current weights (on NumPy, views of
    them: no copy) and running statistics -- never ``model`` itself, whose
    attributes stay those of the last finished fit. ``sample_weight`` (None,
    or the held-out rows' sample weights times their class weights) is
    passed as ``sample_weight=``. The copy has no ``feature_names_in_``: the
    held-out rows are the validated array, without a data frame's column
    names."""
    scorer = get_scorer(scoring)
    weights = {} if sample_weight is None else {"sample_weight": sample_weight}

    def score(network):
        fitted = copy.copy(model)
        vars(fitted).pop("feature_names_in_", None)
        vars(fitted).update(state_attributes(FittedState.of(network)))
        return float(scorer(fitted, X, y, **weights))

    return score


def trainable_layers(model):
    """Every per-layer array of the network's ``params`` that ``model``
    holds, in the flat buffer's order."""
    scales, shifts, _, _ = batch_norm_values(model)
    return _in_buffer_order(model.coefs_, model.intercepts_, scales, shifts)


def _in_buffer_order(coefs, intercepts, scales, shifts):
    """The per-layer arrays in ``Network.params``' order: weights, biases,
    then each batch normalization's scale and shift."""
    return [*coefs, *intercepts, *(a for pair in zip(scales, shifts) for a in pair)]


def batch_norm_values(model):
    """``model``'s scales, shifts, running means and variances, as
    :meth:`Network.set_batch_norm <skmlp._nn.Network.set_batch_norm>` takes
    them (empty lists for a model without batch normalization, or weights
    set by hand)."""
    return tuple(getattr(model, name, []) for name in BATCH_NORM_ATTRIBUTES)


def kept_flat_params(model):
    """The flat array behind ``model``'s ``coefs_``, ``intercepts_`` (and
    the batch normalizations' scales and shifts) while they still hold the
    views that fit made (edited in place or not), else None: the user
    assigned other arrays, which must then be copied (also where no fit made
    any: weights set on a fresh estimator). With it, the
    :class:`~skmlp._nn.ReusedNetwork` over it (else None)."""
    flat, kept, reused = getattr(model, "_flat_layers", (None, (), None))
    layers = trainable_layers(model)
    if (
        flat is not None
        and len(layers) == len(kept)
        and all(a is b for a, b in zip(layers, kept))
    ):
        return flat, reused
    return None, None


def fitted_predictor(model):
    """The :class:`~skmlp._nn.Predictor` of the fitted ``model``'s current
    attributes (which the user may have edited or replaced): what predict
    and the ONNX export read the network from."""
    return Predictor(
        [model.n_features_in_, *(c.shape[1] for c in model.coefs_)],
        model.activation,
        model.out_activation_,
        model.coefs_,
        model.intercepts_,
        batch_norm_values(model),
        *kept_flat_params(model),
    )
