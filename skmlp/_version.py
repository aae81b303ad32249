"""The version of skmlp, saved with every model (see ``__setstate__``)."""

__version__ = "0.1.0"
