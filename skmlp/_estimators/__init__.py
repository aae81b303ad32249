"""The scikit-learn estimators, and what the public modules read of a fitted one."""

from .fitted import fitted_predictor

__all__ = ["fitted_predictor"]
