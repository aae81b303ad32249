"""The training loop allocates no batch-sized array after its first batch.

Every buffer (the gathered batch, activations, deltas, gradients, optimizer
state and scratch) is made once; a batch then only writes into them. Traced
with ``tracemalloc``: the peak traced memory from the second batch to the end
of training must not grow with the batch size. (NumPy's ufuncs hold a small
internal buffer of at most 8192 elements during some calls, so the bound is
set by comparing two batch sizes whose arrays all exceed that, not by zero.)
"""

import tracemalloc

import numpy as np
import pytest

from skmlp._backends import get_backend
from skmlp._nn import OPTIMIZERS, Network, Penalty
from skmlp._training import EpochSettings, LearningRateSchedule, Trainer

N_FEATURES, N_OUTPUTS = 20, 10


def _targets(output, rng, n_samples):
    if output == "softmax":
        return np.eye(N_OUTPUTS)[rng.randint(0, N_OUTPUTS, n_samples)]
    if output == "logistic":
        return (rng.rand(n_samples, N_OUTPUTS) > 0.5).astype(float)
    return rng.rand(n_samples, N_OUTPUTS)


CONSTANT = LearningRateSchedule("constant", 1e-3, 0.5, 10, 0.1)


def _loop_peak_growth(
    batch_size, activation, output, solver, dtype, shuffle, weighted, **options
):
    """Peak traced bytes above what was held when the second batch started;
    ``options``: ``schedule`` (default constant), and ``weight_decay`` and
    ``warmup`` of the EpochSettings."""
    rng = np.random.RandomState(0)
    n_samples = 4 * batch_size
    X = rng.rand(n_samples, N_FEATURES).astype(dtype)
    Y = _targets(output, rng, n_samples).astype(dtype)
    sample_weight = rng.rand(n_samples) if weighted else None
    network = Network(
        [N_FEATURES, 32, N_OUTPUTS],
        activation,
        output,
        get_backend("numpy"),
        dtype,
        penalty=Penalty(alpha=1e-4),
    )
    network.initialize(rng)

    first_call = network.loss_gradient
    calls = {"count": 0}

    def loss_gradient(*args, **kwargs):
        calls["count"] += 1
        if calls["count"] == 2:
            calls["held"] = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
        return first_call(*args, **kwargs)

    network.loss_gradient = loss_gradient
    settings = EpochSettings(
        batch_size=batch_size,
        max_epochs=2,
        shuffle=shuffle,
        tol=0.0,
        n_iter_no_change=np.inf,
        verbose=False,
        weight_decay=options.get("weight_decay", 0.0),
        warmup=options.get("warmup", 0.0),
    )
    schedule = options.get("schedule", CONSTANT)
    tracemalloc.start()
    try:
        Trainer(OPTIMIZERS[solver]()).run(
            network, X, Y, settings, schedule, rng, sample_weight=sample_weight
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - calls["held"]


@pytest.mark.parametrize(
    "activation, output, solver, dtype, shuffle, weighted",
    [
        ("relu", "softmax", "adam", np.float64, True, False),
        ("relu", "softmax", "adam", np.float32, True, False),
        ("relu", "softmax", "sgd", np.float64, False, False),
        ("tanh", "logistic", "rmsprop", np.float64, True, False),
        ("logistic", "identity", "sgd", np.float64, True, False),
        ("identity", "identity", "adam", np.float32, False, False),
        ("relu", "exp", "adam", np.float64, True, False),
        ("relu", "softmax", "adam", np.float32, True, True),
        ("tanh", "logistic", "sgd", np.float64, False, True),
        ("relu", "identity", "rmsprop", np.float64, True, True),
        ("relu", "exp", "adam", np.float64, False, True),
        # Work buffers and (gelu, silu) a kept pre-activation.
        ("leaky_relu", "softmax", "adam", np.float32, True, False),
        ("elu", "identity", "sgd", np.float64, True, False),
        ("gelu", "softmax", "adam", np.float64, True, False),
        ("silu", "logistic", "rmsprop", np.float32, True, False),
    ],
)
def test_batches_allocate_nothing_batch_sized(
    activation, output, solver, dtype, shuffle, weighted, **options
):
    small, large = 1024, 8192
    growth = {
        n: _loop_peak_growth(
            n, activation, output, solver, dtype, shuffle, weighted, **options
        )
        for n in (small, large)
    }
    # One (batch, 1) column of the larger batch is 32-64 kB; any batch-sized
    # temporary would add at least that much to the larger run's peak.
    column_bytes = large * np.dtype(dtype).itemsize
    assert growth[large] - growth[small] < column_bytes / 2, growth
    # And what is allocated at all stays below one (batch, n_outputs) array.
    assert growth[large] < large * N_OUTPUTS * np.dtype(dtype).itemsize, growth


@pytest.mark.parametrize("solver", sorted(OPTIMIZERS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_weight_decay_allocates_nothing_batch_sized(solver, dtype):
    # The decay is folded into the step (the kernel, or one in-place multiply).
    test_batches_allocate_nothing_batch_sized(
        "relu", "softmax", solver, dtype, True, False, weight_decay=1e-2
    )


@pytest.mark.parametrize("solver", sorted(OPTIMIZERS))
def test_per_batch_rates_allocate_nothing_batch_sized(solver):
    # A rate worked out at every step (a Python float) for the cosine and
    # the warmup, both over the 4 batches of each of the 2 epochs.
    cosine = LearningRateSchedule("cosine", 1e-3, 0.5, 10, 0.1, 2, unit="batch")
    test_batches_allocate_nothing_batch_sized(
        "relu", "softmax", solver, np.float32, True, False, schedule=cosine, warmup=1.5
    )
