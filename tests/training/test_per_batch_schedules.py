"""Schedules stepped per batch (``schedule_unit='batch'``) and the linear
``warmup``, against PyTorch's schedulers stepped after every batch and their
written-out formulas: the rate every step of a fit is given, the weights it
ends with, and the step counter across calls, saves and devices.

Iris in batches of 32 has 5 batches per epoch (the last of 22 rows).
"""

import math

import numpy as np
import pytest
from _parity_helpers import fit_quietly, initial_weights, torch_copy
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler

from skmlp import MLPClassifierScratch, MLPRegressorScratch
from skmlp._backends import NumpyBackend
from skmlp._kernels import cpu as nk
from skmlp._training.schedules import warmup_steps

BATCHES_PER_EPOCH = 5
INIT = 0.05
PARAMS = {
    "hidden_layer_sizes": (6,),
    "activation": "tanh",
    "solver": "sgd",
    "momentum": 0.0,
    "alpha": 0.0,
    "batch_size": 32,
    "shuffle": False,
    "learning_rate_init": INIT,
    "n_iter_no_change": 1000,
    "random_state": 0,
}


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def record_rates(monkeypatch, backend=NumpyBackend):
    """The rates every step made by ``backend.optimizer_step`` is given from
    now on, in order: what reaches the optimizer, compiled or not."""
    rates = []
    make_step = backend.optimizer_step

    def recording(optimizer, penalty=None, n_coefs=0, weight_decay=0.0):
        step = make_step(optimizer, penalty, n_coefs, weight_decay)

        def recorded_step(params, grads, learning_rate, scratch, total_weight):
            rates.append(learning_rate)
            step(params, grads, learning_rate, scratch, total_weight)

        return recorded_step

    if isinstance(backend, type):
        monkeypatch.setattr(backend, "optimizer_step", staticmethod(recording))
    else:
        monkeypatch.setattr(backend, "optimizer_step", recording)
    return rates


def torch_rates(n_steps, *make_schedulers):
    """The rate of each of ``n_steps`` steps of torch's SGD at ``INIT`` with
    ``make_schedulers(optimizer)`` chained (``ChainedScheduler``), stepped
    after every step."""
    torch = pytest.importorskip("torch")
    weight = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([weight], lr=INIT)
    scheduler = torch.optim.lr_scheduler.ChainedScheduler(
        [make(optimizer) for make in make_schedulers]
    )
    rates = []
    for _ in range(n_steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def linear_warmup(n_warmup):
    """torch's LinearLR that is our warmup of ``n_warmup`` steps."""

    def make(optimizer):
        from torch.optim.lr_scheduler import LinearLR

        return LinearLR(optimizer, 1 / n_warmup, 1.0, total_iters=n_warmup - 1)

    return make


def cosine_annealing(t_max):
    def make(optimizer):
        from torch.optim.lr_scheduler import CosineAnnealingLR

        return CosineAnnealingLR(optimizer, T_max=t_max)

    return make


# ------------------------------------------------------------- rates per step
def test_batch_cosine_is_cosine_annealing_stepped_per_batch(monkeypatch, iris):
    torch = pytest.importorskip("torch")
    rates = record_rates(monkeypatch)
    model = MLPClassifierScratch(
        learning_rate="cosine", schedule_unit="batch", max_iter=4, warm_start=True,
        **PARAMS,
    )
    fit_quietly(model, *iris)
    period = 4 * BATCHES_PER_EPOCH
    assert_allclose(rates, torch_rates(period, cosine_annealing(period)), rtol=1e-12)
    assert len(set(rates)) == period  # a new rate at every step
    # Past the period a new cycle starts: CosineAnnealingWarmRestarts.
    fit_quietly(model, *iris)
    assert model._trainer.optimizer_steps == 2 * period

    def restarts(optimizer):
        return torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, period)

    assert_allclose(rates, torch_rates(2 * period, restarts), rtol=1e-12)


@pytest.mark.parametrize(
    "warmup, n_warmup", [(0.2, 1), (0.5, 3), (1.0, 5), (1.4, 7), (2.6, 13)]
)
@pytest.mark.parametrize("schedule", ["cosine", "step", "constant"])
def test_warmup_is_linear_lr_chained_with_the_schedule(
    monkeypatch, iris, schedule, warmup, n_warmup
):
    assert warmup_steps(warmup, BATCHES_PER_EPOCH) == n_warmup
    rates = record_rates(monkeypatch)
    n_epochs = 4
    fit_quietly(
        MLPClassifierScratch(
            learning_rate=schedule, schedule_unit="batch", warmup=warmup,
            step_size=1, gamma=0.5, max_iter=n_epochs, **PARAMS,
        ),
        *iris,
    )
    n_steps = n_epochs * BATCHES_PER_EPOCH

    def step_lr(optimizer):
        from torch.optim.lr_scheduler import StepLR

        return StepLR(optimizer, step_size=BATCHES_PER_EPOCH, gamma=0.5)

    main = {"cosine": [cosine_annealing(n_steps)], "step": [step_lr], "constant": []}
    expected = torch_rates(n_steps, linear_warmup(n_warmup), *main[schedule])
    assert_allclose(rates, expected, rtol=1e-12)
    assert rates[0] == pytest.approx(INIT / n_warmup, rel=1e-12)


def warmed(n_warmup):
    return lambda s: min(1.0, (s + 1) / n_warmup)


@pytest.mark.parametrize(
    "schedule, unit, written_out",
    [
        # Rate of step s (32 rows a batch, 150 an epoch, 5 steps an epoch).
        ("cosine", "epoch", lambda s: INIT * (1 + math.cos(math.pi * (s // 5 % 4) / 4)) / 2),
        ("invscaling", "batch", lambda s: INIT / (150 * (s // 5) + 32 * (s % 5) + 1) ** 0.5),
        ("invscaling", "epoch", lambda s: INIT / (150 * (s // 5) + 1) ** 0.5),
    ],
)
@pytest.mark.parametrize("warmup", [0.0, 1.6])
def test_rates_follow_their_formula(monkeypatch, iris, schedule, unit, written_out, warmup):
    rates = record_rates(monkeypatch)
    model = MLPClassifierScratch(
        learning_rate=schedule, schedule_unit=unit, warmup=warmup, max_iter=4, **PARAMS
    )
    fit_quietly(model, *iris)
    warm = warmed(warmup_steps(warmup, BATCHES_PER_EPOCH)) if warmup else (lambda s: 1)
    assert_allclose(rates, [written_out(s) * warm(s) for s in range(20)], rtol=1e-13)
    # The epoch's rate is the schedule's at its end, whatever the unit.
    assert model._trainer.learning_rate == pytest.approx(written_out(20), rel=1e-13)


@pytest.mark.parametrize("schedule", ["constant", "adaptive", "step"])
def test_the_unit_changes_nothing_for_epoch_schedules(iris, schedule):
    def fit(unit):
        return fit_quietly(
            MLPClassifierScratch(
                learning_rate=schedule, schedule_unit=unit, step_size=2, tol=1e9,
                max_iter=6, **{**PARAMS, "n_iter_no_change": 1},
            ),
            *iris,
        )

    by_epoch, by_batch = fit("epoch"), fit("batch")
    assert_array_equal(by_batch.loss_curve_, by_epoch.loss_curve_)
    for a, b in zip(by_batch.coefs_, by_epoch.coefs_, strict=True):
        assert_array_equal(a, b)
    assert by_batch._trainer.learning_rate == by_epoch._trainer.learning_rate
    # ... and changing it does not count as a new schedule (which would undo
    # the adaptive schedule's divisions).
    by_batch.set_params(warm_start=True, schedule_unit="epoch", max_iter=1)
    rate = by_batch._trainer.learning_rate
    fit_quietly(by_batch, *iris)
    assert by_batch._trainer.learning_rate <= rate


def test_warmup_steps_is_the_ceiling_without_float_noise():
    assert warmup_steps(0.3, 10) == 3  # 0.3 * 10 == 3.0000000000000004
    assert warmup_steps(0.7, 10) == 7
    assert warmup_steps(0.31, 10) == 4
    assert warmup_steps(0.0, 7) == 0
    assert warmup_steps(2.5, 3) == 8


# ----------------------------------------------------------- the weights
def test_sgd_fit_equals_torch_sgd_with_the_chained_schedulers(iris):
    torch = pytest.importorskip("torch")
    X, y = iris
    n_epochs, warmup, n_warmup = 3, 1.4, 7
    model = MLPClassifierScratch(
        learning_rate="cosine", schedule_unit="batch", warmup=warmup,
        max_iter=n_epochs, **PARAMS,
    )
    fit_quietly(model, X, y)

    net = torch_copy(*initial_weights([4, 6, 3], seed=0))
    optimizer = torch.optim.SGD(net.parameters(), lr=INIT)
    scheduler = torch.optim.lr_scheduler.ChainedScheduler(
        [
            linear_warmup(n_warmup)(optimizer),
            cosine_annealing(n_epochs * BATCHES_PER_EPOCH)(optimizer),
        ]
    )
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    for _ in range(n_epochs):
        for start in range(0, len(X), 32):
            optimizer.zero_grad()
            batch = slice(start, start + 32)
            torch.nn.functional.cross_entropy(net(X_t[batch]), y_t[batch]).backward()
            optimizer.step()
            scheduler.step()
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    for linear, coef, intercept in zip(linears, model.coefs_, model.intercepts_):
        assert_allclose(linear.weight.detach().numpy().T, coef, rtol=0, atol=1e-12)
        assert_allclose(linear.bias.detach().numpy(), intercept, rtol=0, atol=1e-12)
    # The warmup changed the weights: without it they differ.
    plain = fit_quietly(
        MLPClassifierScratch(
            learning_rate="cosine", schedule_unit="batch", max_iter=n_epochs, **PARAMS
        ),
        X,
        y,
    )
    assert np.abs(plain.coefs_[0] - model.coefs_[0]).max() > 1e-4


# ---------------------------------------------------- the step counter
def test_warmup_counts_steps_over_partial_fit_calls(monkeypatch, iris):
    X, y = iris
    rates = record_rates(monkeypatch)
    model = MLPClassifierScratch(warmup=1.6, **PARAMS)  # 8 warmup steps
    for n_calls in range(1, 4):
        model.partial_fit(X, y, classes=np.unique(y))
        assert model._trainer.optimizer_steps == 5 * n_calls
    assert_allclose(rates, [INIT * min(1, (s + 1) / 8) for s in range(15)], rtol=1e-15)
    # A new fit starts training, and its warmup, again.
    rates.clear()
    fit_quietly(model.set_params(max_iter=1), X, y)
    assert_allclose(rates, [INIT * (s + 1) / 8 for s in range(5)], rtol=1e-15)
    assert model._trainer.optimizer_steps == 5


def test_warm_start_continues_the_warmup_and_the_cosine(monkeypatch, iris):
    X, y = iris
    rates = record_rates(monkeypatch)
    model = MLPClassifierScratch(
        learning_rate="cosine", schedule_unit="batch", warmup=1.6, max_iter=2,
        warm_start=True, **PARAMS,
    )
    fit_quietly(model, X, y)
    fit_quietly(model, X, y)
    assert model._trainer.optimizer_steps == 20
    # A cosine over max_iter=2 epochs (10 steps), restarting in the second
    # fit, its first 8 steps warmed up.
    cosine = [INIT * (1 + math.cos(math.pi * (s % 10) / 10)) / 2 for s in range(20)]
    expected = [rate * min(1, (s + 1) / 8) for s, rate in enumerate(cosine)]
    assert_allclose(rates, expected, rtol=1e-13)


def test_only_batches_with_weight_count_as_steps(iris):
    X, y = iris
    weights = np.ones(len(X))
    weights[32:64] = 0  # the whole second batch
    model = MLPClassifierScratch(warmup=1.0, max_iter=3, **PARAMS)
    fit_quietly(model, X, y, sample_weight=weights)
    assert model._trainer.optimizer_steps == 3 * 4


# ------------------------------------------------------- other code paths
def test_the_compiled_step_is_given_every_steps_rate(monkeypatch, iris):
    # SGD with momentum runs one compiled kernel a step over the whole flat
    # buffer (no penalty: alpha=0), its rate the third argument.
    monkeypatch.setattr(NumpyBackend.kernel_state, "min_size", 0)
    kernel_rates = []
    call = nk.CompiledElementwise.__call__

    def recorded_call(self, *args, **kwargs):
        if self.spec.name == "skmlp_momentum_step":
            kernel_rates.append(args[2])
        return call(self, *args, **kwargs)

    monkeypatch.setattr(nk.CompiledElementwise, "__call__", recorded_call)
    rates = record_rates(monkeypatch)
    params = {**PARAMS, "momentum": 0.9, "nesterovs_momentum": False}
    fit_quietly(
        MLPClassifierScratch(
            learning_rate="cosine", schedule_unit="batch", warmup=0.5, max_iter=2,
            **params,
        ),
        *iris,
    )
    assert len(set(rates)) == 10
    assert kernel_rates == rates


def test_a_device_takes_the_same_steps(monkeypatch, iris, simulated_device):
    rates = record_rates(monkeypatch, simulated_device)
    params = {
        **PARAMS,
        "learning_rate": "invscaling",
        "schedule_unit": "batch",
        "warmup": 1.5,
        "max_iter": 3,
    }
    X, y = iris
    on_device = fit_quietly(MLPRegressorScratch(backend="cupy", **params), X, y)
    assert len(rates) == 15 and len(simulated_device.uploads) > 0
    on_device_rates = list(rates)
    on_host_rates = record_rates(monkeypatch)
    on_host = fit_quietly(MLPRegressorScratch(**params), X, y)
    assert on_device_rates == on_host_rates
    assert on_device._trainer.optimizer_steps == on_host._trainer.optimizer_steps
    for a, b in zip(on_device.coefs_, on_host.coefs_, strict=True):
        assert_allclose(a, b, rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------- refusals
@pytest.mark.parametrize("Estimator", [MLPClassifierScratch, MLPRegressorScratch])
@pytest.mark.parametrize(
    "name, value, default", [("schedule_unit", "batch", "epoch"), ("warmup", 0.5, 0.0)]
)
def test_lbfgs_refuses_them_unless_at_default(iris, Estimator, name, value, default):
    X, y = iris
    message = (
        rf"{name}={value!r} applies to the stochastic solvers' learning-rate "
        rf"schedule only: L-BFGS has no learning rate.* Set {name}={default!r}"
    )
    with pytest.raises(ValueError, match=message):
        Estimator(solver="lbfgs", **{name: value}).fit(X, y)
    fit_quietly(Estimator(solver="lbfgs", max_iter=3, **{name: default}), X, y)


@pytest.mark.parametrize(
    "name, value, allowed",
    [
        ("schedule_unit", "step", r"a str among \{'(epoch|batch)', '(epoch|batch)'\}"),
        ("schedule_unit", None, "a str among"),
        ("warmup", -0.5, r"a float in the range \[0(\.0)?, inf\)"),
        ("warmup", "1", "a float in the range"),
    ],
)
def test_bad_values_are_refused(iris, name, value, allowed):
    message = f"The '{name}' parameter of MLPClassifierScratch must be {allowed}"
    with pytest.raises(ValueError, match=message):
        MLPClassifierScratch(**{name: value}).fit(*iris)
