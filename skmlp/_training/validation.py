"""What early stopping watches on the held-out rows, by the ``scoring``
parameter: scikit-learn's score (None), the held-out loss ('loss'), or a
scikit-learn scorer (a name or a callable).

``held_out_loss_score`` and ``held_out_scorer_score`` return
``score(network) -> float``, which the trainer calls after every epoch with
the network's current weights (the estimator scores None itself).
"""

from contextlib import contextmanager

from sklearn.metrics import get_scorer, get_scorer_names


def check_scoring(scoring):
    """Refuse a string that is neither 'loss' nor a scorer name (the
    parameter constraints only say it is a string)."""
    if (
        isinstance(scoring, str)
        and scoring != "loss"
        and (scoring not in get_scorer_names())
    ):
        raise ValueError(
            f"scoring={scoring!r} is neither 'loss' nor the name of a "
            "scikit-learn scorer. Use None (accuracy for classifiers, R^2 for "
            "regressors), 'loss' (the held-out loss), a name from "
            "sklearn.metrics.get_scorer_names(), or a callable "
            "scorer(estimator, X, y)."
        )


def held_out_loss_score(X, Y, sample_weight):
    """The data loss of the held-out rows (backend arrays; ``Y`` encoded as
    the network's outputs), as training measures it but without the L2 term:
    the penalty is not a property of the held-out data."""

    def score(network):
        return float(network.output.loss(Y, network.predict(X), sample_weight))

    return score


def held_out_scorer_score(estimator, scoring, X, y, sample_weight):
    """``scorer(estimator, X, y)`` of the held-out rows (host arrays; ``y``
    as the user gave it), the estimator predicting with the network's
    current weights. ``sample_weight`` (None, or the held-out rows' sample
    weights times their class weights) is passed as ``sample_weight=``."""
    scorer = get_scorer(scoring)
    weights = {} if sample_weight is None else {"sample_weight": sample_weight}

    def score(network):
        with _predicting_with(estimator, network):
            return float(scorer(estimator, X, y, **weights))

    return score


# Set on the estimator while a scorer runs, and put back as they were after.
_SCORING_ATTRIBUTES = (
    "coefs_",
    "intercepts_",
    "batch_norm_scales_",
    "batch_norm_shifts_",
    "batch_norm_running_means_",
    "batch_norm_running_vars_",
    "_flat_layers",
    "out_activation_",
    "feature_names_in_",
)


@contextmanager
def _predicting_with(estimator, network):
    """Inside, ``estimator`` looks fitted with ``network``'s current weights
    (on NumPy, views of them: no copy) and running statistics; after, its attributes are what they
    were, so nothing of a fit in progress leaks out through the scorer.
    ``feature_names_in_`` is hidden inside: the held-out rows are the
    validated array, without the column names a DataFrame had."""
    state = vars(estimator)
    saved = {name: state[name] for name in _SCORING_ATTRIBUTES if name in state}
    try:
        state.pop("feature_names_in_", None)
        estimator._keep_layers(network.backend.to_host(network.params), network.shapes)
        estimator._keep_running_statistics(network.backend.to_host(network.state))
        estimator.out_activation_ = network.output.name
        yield
    finally:
        for name in _SCORING_ATTRIBUTES:
            state.pop(name, None)
        state.update(saved)
