"""weight_init: each initializer's draws against its written-out formula
(same random stream) and its distribution over a large layer; 'auto' leaves
scikit-learn's draws untouched."""

import math
from itertools import pairwise

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import make_classification

from skmlp import MLPClassifierScratch, MLPRegressorScratch
from skmlp._backends import NumpyBackend
from skmlp._nn import INITIALIZERS, Network

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# name -> (variance of the weights, distribution), from Glorot & Bengio (2010)
# and He et al. (2015), as Keras and PyTorch define them.
DEFINITIONS = {
    "glorot_uniform": (lambda fan_in, fan_out: 2 / (fan_in + fan_out), "uniform"),
    "glorot_normal": (lambda fan_in, fan_out: 2 / (fan_in + fan_out), "normal"),
    "he_uniform": (lambda fan_in, fan_out: 2 / fan_in, "uniform"),
    "he_normal": (lambda fan_in, fan_out: 2 / fan_in, "normal"),
}


def written_out(name, random_state, units, gain):
    """Every layer's (coef, intercept), drawn as the definitions say."""
    layers = []
    for fan_in, fan_out in pairwise(units):
        if name == "auto":  # scikit-learn's MLP._init_coef
            bound = np.sqrt(gain / (fan_in + fan_out))
            coef = random_state.uniform(-bound, bound, (fan_in, fan_out))
            intercept = random_state.uniform(-bound, bound, fan_out)
        else:
            variance, distribution = DEFINITIONS[name]
            var = variance(fan_in, fan_out)
            if distribution == "uniform":
                limit = math.sqrt(3 * var)
                coef = random_state.uniform(-limit, limit, (fan_in, fan_out))
            else:
                coef = random_state.normal(0, math.sqrt(var), (fan_in, fan_out))
            intercept = np.zeros(fan_out)
        layers.append((coef, intercept))
    return layers


def test_every_initializer_is_defined_here():
    assert set(INITIALIZERS) == {"auto", *DEFINITIONS}


@pytest.mark.parametrize("activation", ["logistic", "relu", "gelu"])
@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_draws_equal_the_written_out_formula(name, activation):
    units = [5, 7, 3, 2]
    network = Network(units, activation, "softmax", NumpyBackend(), np.float64)
    network.initialize(np.random.RandomState(42), name)
    gain = 2.0 if activation == "logistic" else 6.0
    expected = written_out(name, np.random.RandomState(42), units, gain)
    for layer, (coef, intercept) in zip(network.dense_layers, expected):
        assert_array_equal(layer.coef, coef)
        assert_array_equal(layer.intercept, intercept)


def test_auto_is_the_default():
    units = [4, 6, 3]
    default = Network(units, "tanh", "identity", NumpyBackend(), np.float64)
    default.initialize(np.random.RandomState(0))
    auto = Network(units, "tanh", "identity", NumpyBackend(), np.float64)
    auto.initialize(np.random.RandomState(0), "auto")
    assert_array_equal(default.params, auto.params)


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_distribution_over_a_large_layer(name):
    fan_in, fan_out = 300, 500
    variance, distribution = DEFINITIONS[name]
    expected = variance(fan_in, fan_out)
    coef, intercept = INITIALIZERS[name](np.random.RandomState(0), fan_in, fan_out, 6.0)
    assert coef.shape == (fan_in, fan_out)
    assert_array_equal(intercept, np.zeros(fan_out))
    # 150,000 draws: the sample variance is within ~1% of the true one.
    assert coef.var() == pytest.approx(expected, rel=0.02)
    assert abs(coef.mean()) < 0.01 * math.sqrt(expected)
    if distribution == "uniform":
        bound = math.sqrt(3 * expected)
        assert np.abs(coef).max() <= bound
        assert np.abs(coef).max() > 0.999 * bound
    else:
        # A normal's tails: about 0.27% beyond three standard deviations.
        beyond = np.mean(np.abs(coef) > 3 * math.sqrt(expected))
        assert beyond == pytest.approx(0.0027, abs=0.001)


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_estimators_train_reproducibly_with_each_initializer(name):
    X, y = make_classification(60, n_features=5, random_state=0)
    fit = MLPClassifierScratch(
        hidden_layer_sizes=(8,), weight_init=name, max_iter=5, random_state=0
    ).fit
    first, second = fit(X, y), fit(X, y)
    assert first.loss_curve_ == second.loss_curve_
    if name != "auto":
        other = MLPClassifierScratch(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
        assert other.fit(X, y).loss_curve_ != first.loss_curve_


def test_auto_gives_todays_fit():
    X, y = make_classification(60, n_features=5, random_state=0)
    params = {"hidden_layer_sizes": (8,), "max_iter": 5, "random_state": 0}
    for Estimator in (MLPClassifierScratch, MLPRegressorScratch):
        plain = Estimator(**params).fit(X, y)
        auto = Estimator(weight_init="auto", **params).fit(X, y)
        assert auto.loss_curve_ == plain.loss_curve_
        for a, b in zip(auto.coefs_, plain.coefs_):
            assert_array_equal(a, b)


def test_unknown_initializer_is_rejected():
    X, y = make_classification(20, n_features=3, n_informative=2, n_redundant=0,
                               random_state=0)
    with pytest.raises(
        ValueError, match=r"'weight_init' parameter of MLPRegressorScratch must be"
        r" a str among .*'he_normal'"
    ):
        MLPRegressorScratch(weight_init="xavier").fit(X, y)
