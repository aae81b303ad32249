"""Initial weights of a dense layer (``weight_init``), drawn from the NumPy
``RandomState`` of the estimator on the host for every backend.

An initializer is called as ``initializer(random_state, fan_in, fan_out,
gain)`` and returns the layer's ``(coef, intercept)`` as float64 arrays of
shapes ``(fan_in, fan_out)`` and ``(fan_out,)``; ``gain`` is the hidden
activation's ``init_gain``.

- ``'auto'``: scikit-learn's draws, exactly: weights, then biases, uniform in
  ``+-sqrt(gain / (fan_in + fan_out))`` (gain 2 for the logistic, 6 for the
  other activations), so default fits equal scikit-learn's.
- The others scale the weights' variance as Keras and PyTorch define them
  (whatever the activation), and start the biases at zero, as Keras does
  (PyTorch's ``nn.init`` functions leave biases to the caller):
  Glorot (Xavier) ``2 / (fan_in + fan_out)``, He (Kaiming, fan-in mode)
  ``2 / fan_in``; uniform in ``+-sqrt(3 * variance)`` or normal with that
  variance (PyTorch's plain normal; Keras truncates at two standard
  deviations and rescales).
"""

import math

import numpy as np


class ScikitLearnUniform:
    name = "auto"

    def __call__(self, random_state, fan_in, fan_out, gain):
        bound = math.sqrt(gain / (fan_in + fan_out))
        coef = random_state.uniform(-bound, bound, (fan_in, fan_out))
        intercept = random_state.uniform(-bound, bound, fan_out)
        return coef, intercept


class VarianceScaling:
    """Weights of variance ``2 / fan`` (``fan``: ``fan_in + fan_out`` for
    Glorot, ``fan_in`` for He), uniform or normal; biases zero."""

    def __init__(self, name, fan, distribution):
        self.name, self.fan, self.distribution = name, fan, distribution

    def variance(self, fan_in, fan_out):
        return 2 / (fan_in + fan_out if self.fan == "fan_avg" else fan_in)

    def __call__(self, random_state, fan_in, fan_out, gain):
        variance = self.variance(fan_in, fan_out)
        shape = (fan_in, fan_out)
        if self.distribution == "uniform":
            bound = math.sqrt(3 * variance)
            coef = random_state.uniform(-bound, bound, shape)
        else:
            coef = random_state.normal(0.0, math.sqrt(variance), shape)
        return coef, np.zeros(fan_out)


INITIALIZERS = {
    initializer.name: initializer
    for initializer in (
        ScikitLearnUniform(),
        VarianceScaling("glorot_uniform", "fan_avg", "uniform"),
        VarianceScaling("glorot_normal", "fan_avg", "normal"),
        VarianceScaling("he_uniform", "fan_in", "uniform"),
        VarianceScaling("he_normal", "fan_in", "normal"),
    )
}
