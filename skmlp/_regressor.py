"""Where models pickled or saved with skops before the estimators moved to
:mod:`skmlp._estimators` look for their class (``skmlp._regressor``).
Models saved since name ``skmlp.MLPRegressorScratch``."""

from ._estimators.regressor import MLPRegressorScratch

__all__ = ["MLPRegressorScratch"]
