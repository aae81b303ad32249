"""Where models pickled or saved with skops before the estimators moved to
:mod:`skmlp._estimators` look for their class (``skmlp._classifier``).
Models saved since name ``skmlp.MLPClassifierScratch``."""

from ._estimators.classifier import MLPClassifierScratch

__all__ = ["MLPClassifierScratch"]
