"""Shared by the parity tests (L-BFGS, sample weights, sparse input, Poisson,
multi-output, corner cases): small datasets, a quiet fit, and the training
objective written out by hand from its definition, independent of skmlp."""

import inspect
import itertools
import warnings

import numpy as np
import pytest
import sklearn
from scipy.special import expit, softmax, xlogy
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from skmlp._backends import NumpyBackend
from skmlp._nn import Network, Penalty


def fit_quietly(estimator, X, y, **fit_params):
    """``estimator.fit`` without the ConvergenceWarning of short test runs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y, **fit_params)


def digits(n_samples=600):
    """The first rows of load_digits, scaled to [0, 1] (the usual /16)."""
    X, y = load_digits(return_X_y=True)
    return X[:n_samples] / 16.0, y[:n_samples]


def integer_weights(n_samples, seed=0):
    """Random weights in {0, 1, 2, 3}, the kind scikit-learn's checks use."""
    return np.random.RandomState(seed).randint(0, 4, n_samples).astype(float)


HIDDEN = {
    "identity": lambda z: z,
    "logistic": expit,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
}


def objective_by_hand(
    coefs, intercepts, X, Y, *, activation, output, alpha, sample_weight=None
):
    """scikit-learn's training objective from its definition: the (weighted)
    mean over samples of the per-sample loss plus ``alpha / (2 n) ||W||^2``,
    ``n`` the sum of the weights.

    Per-sample losses: ``'identity'``: half the squared error averaged over
    outputs; ``'exp'``: half the Poisson deviance summed over outputs;
    ``'softmax'`` / ``'logistic'``: the log-loss summed over outputs."""
    a = X
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        z = a @ W + b
        a = HIDDEN[activation](z) if i < len(coefs) - 1 else z
    if output == "identity":
        per_sample = 0.5 * ((a - Y) ** 2).mean(axis=1)
    elif output == "exp":
        p = np.exp(a)
        per_sample = (xlogy(Y, Y / p) - Y + p).sum(axis=1)
    elif output == "softmax":
        per_sample = -(Y * np.log(softmax(a, axis=1))).sum(axis=1)
    else:
        p = expit(a)
        per_sample = -(xlogy(Y, p) + xlogy(1 - Y, 1 - p)).sum(axis=1)
    weights = np.ones(len(X)) if sample_weight is None else sample_weight
    total = weights.sum()
    penalty = 0.5 * alpha / total * sum((W**2).sum() for W in coefs)
    return weights @ per_sample / total + penalty


def finite_difference_gradient(function, arrays, step=1e-6):
    """Central differences of ``function()`` with respect to every entry of
    every array in ``arrays`` (perturbed in place and restored)."""
    gradients = []
    for array in arrays:
        gradient = np.empty_like(array)
        flat, flat_gradient = array.reshape(-1), gradient.reshape(-1)
        for k in range(flat.size):
            saved = flat[k]
            flat[k] = saved + step
            up = function()
            flat[k] = saved - step
            down = function()
            flat[k] = saved
            flat_gradient[k] = (up - down) / (2 * step)
        gradients.append(gradient)
    return gradients


def assert_core_matches_the_definition(X, Y, hidden, *, seed=0, **setting):
    """Check skmlp's core loss and gradient (what every solver, L-BFGS
    included, is given) against :func:`objective_by_hand` and its central
    finite differences, for random weights of a network with ``hidden``
    units. ``setting``: ``activation``, ``output``, ``alpha``,
    ``sample_weight``."""
    units = [X.shape[1], *hidden, Y.shape[1]]
    rng = np.random.RandomState(seed)
    coefs = [rng.normal(size=(a, b)) / np.sqrt(a) for a, b in itertools.pairwise(units)]
    intercepts = [rng.normal(size=b) * 0.1 for b in units[1:]]

    network = Network(
        units,
        setting["activation"],
        setting["output"],
        NumpyBackend(),
        np.float64,
        penalty=Penalty(alpha=setting["alpha"]),
    )
    network.set_layers(coefs, intercepts)
    loss = network.loss_gradient(X, Y, setting.get("sample_weight"))

    def objective():
        return objective_by_hand(coefs, intercepts, X, Y, **setting)

    assert float(loss) == pytest.approx(objective())
    expected = finite_difference_gradient(objective, coefs + intercepts)
    dense = network.dense_layers
    got = [d.coef_grad for d in dense] + [d.intercept_grad for d in dense]
    for layer_got, layer_expected in zip(got, expected):
        np.testing.assert_allclose(layer_got, layer_expected, rtol=1e-6, atol=1e-9)


def skip_unless_sklearn_mlp_has(*features):
    """Skip the calling test where scikit-learn's MLP lacks what it compares
    with: ``'sample_weight'`` and ``'loss'`` came in scikit-learn 1.7, and
    the declared floor, tested in CI, is 1.6."""
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    present = {
        "sample_weight": inspect.signature(MLPClassifier.fit).parameters,
        "loss": inspect.signature(MLPRegressor).parameters,
    }
    lacking = [feature for feature in features if feature not in present[feature]]
    if lacking:
        pytest.skip(f"scikit-learn {sklearn.__version__}'s MLP has no {lacking}")


def fit_both(Estimator, X, y, sample_weight=None, **params):
    """Fit ``Estimator`` and its scikit-learn original with the same
    parameters on the same data; return ``(ours, theirs)``."""
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    from skmlp import MLPClassifierScratch

    weights = {} if sample_weight is None else {"sample_weight": sample_weight}
    skip_unless_sklearn_mlp_has(*weights, *("loss",) if "loss" in params else ())
    Original = MLPClassifier if Estimator is MLPClassifierScratch else MLPRegressor
    return tuple(fit_quietly(E(**params), X, y, **weights) for E in (Estimator, Original))


def assert_same_loss_curve(ours, theirs):
    """Loss curves equal to rounding error (float64)."""
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=0, atol=1e-12)


# ------------------------------------------------------ training gone wrong
def exploding_regression():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(100, 3))
    return X, X @ [1e3, 2e3, 3e3]


def interrupt_after(monkeypatch, n_calls):
    """Raise KeyboardInterrupt in the ``n_calls``-th loss evaluation."""
    original = Network.loss_gradient
    calls = []

    def loss_gradient(self, *args, **kwargs):
        calls.append(None)
        if len(calls) == n_calls:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Network, "loss_gradient", loss_gradient)


# ------------------------------------------------------- a network's twin in torch
def initial_weights(units, seed):
    """skmlp's (and scikit-learn's) Glorot-uniform draws for tanh units."""
    rng = np.random.RandomState(seed)
    coefs, intercepts = [], []
    for fan_in, fan_out in itertools.pairwise(units):
        bound = np.sqrt(6 / (fan_in + fan_out))
        coefs.append(rng.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(rng.uniform(-bound, bound, fan_out))
    return coefs, intercepts


def torch_copy(coefs, intercepts):
    """nn.Sequential of tanh layers holding these weights (PyTorch must be
    installed: the caller skips without it)."""
    import torch

    layers = []
    for W, b in zip(coefs, intercepts):
        linear = torch.nn.Linear(*W.shape, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T))
            linear.bias.copy_(torch.from_numpy(b))
        layers += [linear, torch.nn.Tanh()]
    return torch.nn.Sequential(*layers[:-1])
