"""Early stopping's held-out rows: the split that sets them apart, and what
is watched on them, by the ``scoring`` parameter: scikit-learn's score
(None), the held-out loss ('loss'), or a scikit-learn scorer (a name or a
callable).

A score is ``score(network) -> float``, which the trainer calls after every
epoch with the network's current weights: :func:`held_out_loss_score` makes
the loss's; the estimator makes the others, which predict as it does.
"""

import numpy as np
from sklearn.metrics import get_scorer_names
from sklearn.model_selection import train_test_split


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


def validation_split(Y, sample_weight, fraction, random_state, stratify):
    """The rows to train on and the held-out rows: ``fraction`` of the rows
    of ``Y`` (the encoded targets), drawn from ``random_state``, stratified
    by ``Y`` where ``stratify`` is true and every class can be on both
    sides. Refuses a held-out set of fewer than 2 rows, an empty training
    set, and a side whose sample weights are all zero."""
    n_samples = Y.shape[0]
    n_validation = int(np.ceil(fraction * n_samples))
    if n_validation < 2 or n_samples - n_validation < 1:
        raise ValueError(
            f"The validation set is too small ({n_validation} of {n_samples} "
            "samples). Increase 'validation_fraction' or the size of your "
            "dataset, or set early_stopping=False."
        )
    train_rows, val_rows = train_test_split(
        np.arange(n_samples),
        random_state=random_state,
        test_size=fraction,
        stratify=Y if stratify and _can_stratify(Y, n_validation) else None,
    )
    if sample_weight is not None:
        for name, rows in (("training", train_rows), ("validation", val_rows)):
            if not sample_weight[rows].any():
                raise ValueError(
                    f"The sample weights of the {name} set left by the "
                    "early-stopping split are all zero. Use another "
                    "random_state or validation_fraction, or set "
                    "early_stopping=False."
                )
    return train_rows, val_rows


def _can_stratify(Y, n_validation):
    """Whether a split of the rows of ``Y`` (encoded classes) with
    ``n_validation`` held out can have every class on both sides. Where it
    cannot, ``train_test_split`` refuses to stratify; the split is then drawn
    unstratified, as scikit-learn draws every multiclass split."""
    _, counts = np.unique(Y, axis=0, return_counts=True)
    n_train = len(Y) - n_validation
    return counts.min() >= 2 and len(counts) <= min(n_validation, n_train)
