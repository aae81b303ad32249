"""scikit-learn's estimator contract, every check, for both estimators (and
for the L-BFGS solver, the Poisson loss and the training features, dropout
and batch normalization included, which take other code paths)."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skmlp import MLPClassifierScratch, MLPRegressorScratch

# Checks that call partial_fit, which early stopping and 'balanced' class
# weights refuse (as scikit-learn's SGDClassifier does), with a message.
PARTIAL_FIT_CHECKS = (
    "check_estimators_partial_fit_n_features",
    "check_fit_score_takes_y",
    "check_n_features_in_after_fitting",
)
MULTILABEL_CHECKS = (
    "check_classifier_multioutput",
    "check_classifiers_multilabel_representation_invariance",
    "check_classifiers_multilabel_output_format_predict",
    "check_classifiers_multilabel_output_format_predict_proba",
    "check_classifiers_multilabel_output_format_decision_function",
)


def _expected_failed_checks(estimator):
    params = estimator.get_params()
    failures = {}
    if params.get("loss") == "poisson":
        # This check fits negative targets without consulting the
        # positive_only tag; the Poisson loss rightly rejects them.
        failures["check_regressor_multioutput"] = (
            "negative targets, invalid for Poisson"
        )
    if params["early_stopping"]:
        failures |= dict.fromkeys(
            PARTIAL_FIT_CHECKS, "partial_fit refuses early stopping"
        )
        # Repeated rows and weighted rows fall differently into the
        # validation split.
        for data in ("dense", "sparse"):
            failures[f"check_sample_weight_equivalence_on_{data}_data"] = (
                "the validation split does not see sample weights"
            )
    if params.get("class_weight") == "balanced":
        failures |= dict.fromkeys(
            PARTIAL_FIT_CHECKS, "partial_fit refuses 'balanced' class weights"
        )
        failures |= dict.fromkeys(
            MULTILABEL_CHECKS, "class_weight is refused for multilabel targets"
        )
    if params["batch_norm"] or params["dropout"]:
        # A repeated row is normalised with (and draws a mask of) its own in
        # the batch; a weight only scales its loss. PyTorch's semantics.
        for data in ("dense", "sparse"):
            failures[f"check_sample_weight_equivalence_on_{data}_data"] = (
                "batch statistics and dropout masks are per row, not weighted"
            )
    return failures


@parametrize_with_checks(
    [
        MLPClassifierScratch(),
        MLPRegressorScratch(),
        MLPClassifierScratch(solver="lbfgs"),
        MLPRegressorScratch(solver="lbfgs"),
        MLPRegressorScratch(loss="poisson", solver="lbfgs"),
        # The training features beyond scikit-learn's, which take other code paths.
        MLPClassifierScratch(
            class_weight="balanced",
            early_stopping=True,
            validation_fraction=0.2,
            scoring="loss",
            amsgrad=True,
            weight_decay=1e-2,
        ),
        MLPRegressorScratch(loss="huber", l1=1e-3, clip_grad_norm=1.0, weight_decay=1e-2),
        MLPRegressorScratch(
            early_stopping=True,
            validation_fraction=0.2,
            scoring="r2",
            learning_rate="cosine",
        ),
        MLPClassifierScratch(dropout=0.1, batch_norm=True),
        MLPRegressorScratch(dropout=0.1, batch_norm=True),
        MLPClassifierScratch(
            activation="gelu", weight_init="he_normal", label_smoothing=0.1
        ),
        MLPRegressorScratch(activation="leaky_relu", weight_init="glorot_uniform"),
        MLPClassifierScratch(learning_rate="cosine", schedule_unit="batch", warmup=1),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
