"""Numeric feature encodings for MLPs on tabular data, as scikit-learn
transformers that work in any Pipeline.

- :class:`RobustSoftClipScaler`: RealMLP's robust scaling with a smooth clip
  (Holzmüller et al. 2024, "Better by Default: Strong Pre-Tuned MLPs and
  Boosted Trees on Tabular Data").
- :class:`PiecewiseLinearEncoder`: piecewise-linear encoding on quantile or
  decision-tree bins (Gorishniy et al. 2022, "On Embeddings for Numerical
  Features in Tabular Deep Learning").
"""

from ._estimators.encoders import PiecewiseLinearEncoder, RobustSoftClipScaler

__all__ = ["PiecewiseLinearEncoder", "RobustSoftClipScaler"]

# Saved transformers name their class by its __module__: the public path.
for _public in (PiecewiseLinearEncoder, RobustSoftClipScaler):
    _public.__module__ = __name__
del _public
