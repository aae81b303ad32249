"""scikit-learn's estimator contract, every check, for both estimators (and
for the L-BFGS solver, the Poisson loss, an activation whose derivative needs
its pre-activation and the other weight initializers, which take other code
paths)."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skmlp import MLPClassifierScratch, MLPRegressorScratch


def _expected_failed_checks(estimator):
    if getattr(estimator, "loss", None) == "poisson":
        # This check fits negative targets without consulting the
        # positive_only tag; the Poisson loss rightly rejects them.
        return {"check_regressor_multioutput": "negative targets, invalid for Poisson"}
    return {}


@parametrize_with_checks(
    [
        MLPClassifierScratch(),
        MLPRegressorScratch(),
        MLPClassifierScratch(solver="lbfgs"),
        MLPRegressorScratch(solver="lbfgs"),
        MLPRegressorScratch(loss="poisson", solver="lbfgs"),
        MLPClassifierScratch(activation="gelu", weight_init="he_normal"),
        MLPRegressorScratch(activation="leaky_relu", weight_init="glorot_uniform"),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
