"""skmlp: scikit-learn's multilayer perceptron on a hand-written backprop core."""

from ._classifier import MLPClassifierScratch
from ._regressor import MLPRegressorScratch
from ._version import __version__ as __version__

__all__ = ["MLPClassifierScratch", "MLPRegressorScratch"]
