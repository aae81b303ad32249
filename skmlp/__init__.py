"""skmlp: scikit-learn's multilayer perceptron on a hand-written backprop core."""

from ._classifier import MLPClassifierScratch
from ._regressor import MLPRegressorScratch

__all__ = ["MLPClassifierScratch", "MLPRegressorScratch"]
__version__ = "0.1.0"
