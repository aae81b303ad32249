"""scikit-learn's estimator contract, every check, for both estimators (and
for the L-BFGS solver, the Poisson loss, dropout and batch normalization,
which take other code paths)."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skmlp import MLPClassifierScratch, MLPRegressorScratch


def _expected_failed_checks(estimator):
    if getattr(estimator, "loss", None) == "poisson":
        # This check fits negative targets without consulting the
        # positive_only tag; the Poisson loss rightly rejects them.
        return {"check_regressor_multioutput": "negative targets, invalid for Poisson"}
    if estimator.batch_norm or estimator.dropout:
        # A repeated row is normalised with (and draws a mask of) its own in
        # the batch; a weight only scales its loss. PyTorch's semantics.
        return {
            name: "batch statistics and dropout masks are per row, not weighted"
            for name in (
                "check_sample_weight_equivalence_on_dense_data",
                "check_sample_weight_equivalence_on_sparse_data",
            )
        }
    return {}


@parametrize_with_checks(
    [
        MLPClassifierScratch(),
        MLPRegressorScratch(),
        MLPClassifierScratch(solver="lbfgs"),
        MLPRegressorScratch(solver="lbfgs"),
        MLPRegressorScratch(loss="poisson", solver="lbfgs"),
        MLPClassifierScratch(dropout=0.1, batch_norm=True),
        MLPRegressorScratch(dropout=0.1, batch_norm=True),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
