"""skmlp: scikit-learn's multilayer perceptron on a hand-written backprop core."""

from ._estimators.classifier import MLPClassifierScratch
from ._estimators.regressor import MLPRegressorScratch
from ._estimators.tabular import TabularMLPClassifier, TabularMLPRegressor
from ._version import __version__ as __version__

__all__ = [
    "MLPClassifierScratch",
    "MLPRegressorScratch",
    "TabularMLPClassifier",
    "TabularMLPRegressor",
]

# Saved models (pickle, skops) name a class by its __module__: the public
# path, so that moving the code inside the package never breaks a saved file.
# (Files saved before the move name skmlp._classifier / skmlp._regressor,
# which still lead here.)
for _public in (
    MLPClassifierScratch,
    MLPRegressorScratch,
    TabularMLPClassifier,
    TabularMLPRegressor,
):
    _public.__module__ = __name__
del _public
