"""scikit-learn's estimator contract, every check, for both estimators."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skmlp import MLPClassifierScratch, MLPRegressorScratch


@parametrize_with_checks([MLPClassifierScratch(), MLPRegressorScratch()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
