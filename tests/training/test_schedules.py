"""Learning-rate schedules against their definitions, alone and inside fit."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skmlp import MLPClassifierScratch, MLPRegressorScratch
from skmlp._training import LearningRateSchedule


def schedule(kind, init=0.1, power_t=0.5, step_size=3, gamma=0.5):
    return LearningRateSchedule(kind, init, power_t, step_size, gamma)


def test_constant_keeps_the_rate():
    s = schedule("constant")
    assert s.after_epoch(0.1, epochs_done=7, samples_seen=700) == 0.1
    assert s.on_plateau(0.1) is None


@pytest.mark.parametrize("power_t", [0.25, 0.5, 1.0])
def test_invscaling_divides_by_a_power_of_samples_seen(power_t):
    s = schedule("invscaling", init=0.2, power_t=power_t)
    for samples_seen in [1, 50, 1000]:
        expected = 0.2 / (samples_seen + 1) ** power_t
        assert s.after_epoch(0.2, 3, samples_seen) == pytest.approx(expected, rel=1e-15)
    assert s.on_plateau(0.2) is None


def test_adaptive_divides_by_five_until_below_one_millionth():
    s = schedule("adaptive", init=0.1)
    assert s.after_epoch(0.1, 4, 400) == 0.1
    rate, rates = 0.1, []
    while (rate := s.on_plateau(rate)) is not None:
        rates.append(rate)
    # 0.1 / 5**k while the rate before dividing is still above 1e-6.
    expected = [0.1 / 5**k for k in range(1, 9)]
    np.testing.assert_allclose(rates, expected, rtol=1e-12)
    assert rates[-2] > 1e-6 >= rates[-1]


def step_lr_by_hand(init, step_size, gamma, n_epochs):
    """The rate PyTorch's StepLR gives each epoch: multiplied by ``gamma``
    after every ``step_size`` epochs, counted one by one."""
    rates, rate = [], init
    for epoch in range(n_epochs):
        if epoch > 0 and epoch % step_size == 0:
            rate *= gamma
        rates.append(rate)
    return rates


@pytest.mark.parametrize("step_size, gamma", [(1, 0.5), (3, 0.1), (4, 0.9)])
def test_step_matches_step_lr(step_size, gamma):
    s = schedule("step", init=0.3, step_size=step_size, gamma=gamma)
    rate, rates = 0.3, []
    for epochs_done in range(1, 13):
        rates.append(rate)  # the rate epoch number `epochs_done` trains with
        rate = s.after_epoch(rate, epochs_done, samples_seen=100 * epochs_done)
    np.testing.assert_allclose(
        rates, step_lr_by_hand(0.3, step_size, gamma, 12), rtol=1e-13
    )
    assert s.on_plateau(rate) is None


def test_step_matches_torch_step_lr():
    torch = pytest.importorskip("torch")
    weight = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([weight], lr=0.3)
    torch_schedule = torch.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.2)
    s = schedule("step", init=0.3, step_size=4, gamma=0.2)
    rate = 0.3
    for epochs_done in range(1, 15):
        optimizer.step()
        torch_schedule.step()
        rate = s.after_epoch(rate, epochs_done, samples_seen=0)
        assert rate == pytest.approx(optimizer.param_groups[0]["lr"], rel=1e-12)


def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def fit_quietly(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def fit_iris(solver, **params):
    """A small classifier on iris that trains every epoch it is allowed."""
    X, y = iris()
    est = MLPClassifierScratch(
        hidden_layer_sizes=(5,),
        solver=solver,
        n_iter_no_change=100,
        random_state=0,
        **params,
    )
    return fit_quietly(est, X, y)


@pytest.mark.parametrize("solver", ["sgd", "adam", "rmsprop"])
def test_step_schedule_in_fit_reaches_the_decayed_rate(solver):
    est = fit_iris(
        solver,
        learning_rate="step",
        learning_rate_init=0.01,
        step_size=3,
        gamma=0.5,
        max_iter=7,
    )
    assert est.n_iter_ == 7
    assert est._trainer.learning_rate == pytest.approx(0.01 * 0.5 ** (7 // 3))


@pytest.mark.parametrize("solver", ["sgd", "adam", "rmsprop"])
def test_invscaling_in_fit_follows_samples_seen(solver):
    est = fit_iris(
        solver,
        learning_rate="invscaling",
        learning_rate_init=0.05,
        power_t=0.3,
        max_iter=4,
    )
    assert est.t_ == 4 * 150
    assert est._trainer.learning_rate == pytest.approx(0.05 / (est.t_ + 1) ** 0.3)


@pytest.mark.parametrize("solver", ["sgd", "adam", "rmsprop"])
def test_adaptive_in_fit_divides_on_every_plateau(solver):
    # tol so large that no epoch counts as an improvement: after the first
    # epoch sets best_loss_, every (n_iter_no_change + 1) epochs is a plateau.
    X, y = iris()
    est = MLPRegressorScratch(
        hidden_layer_sizes=(4,),
        solver=solver,
        learning_rate="adaptive",
        learning_rate_init=0.01,
        tol=1e9,
        n_iter_no_change=1,
        max_iter=9,
        random_state=0,
    )
    fit_quietly(est, X, y.astype(float))
    # Plateaus after epochs 3, 5, 7 and 9.
    assert est._trainer.learning_rate == pytest.approx(0.01 / 5**4)


def test_step_decay_changes_training():
    """The first step_size epochs train exactly as with a constant rate;
    after the first decay the losses part ways. (Iris fits in one batch, and
    an epoch's loss is measured before its step, so epoch 5's loss is still
    the same; the first decayed step shows from epoch 6 on.)"""
    X, y = iris()
    params = {
        "hidden_layer_sizes": (8,),
        "solver": "sgd",
        "learning_rate_init": 0.1,
        "max_iter": 8,
        "n_iter_no_change": 100,
        "random_state": 0,
    }
    constant = fit_quietly(MLPClassifierScratch(**params), X, y)
    step = fit_quietly(
        MLPClassifierScratch(learning_rate="step", step_size=4, gamma=0.1, **params),
        X,
        y,
    )
    assert step.loss_curve_[:5] == constant.loss_curve_[:5]
    assert all(a != b for a, b in zip(step.loss_curve_[5:], constant.loss_curve_[5:]))
    assert not np.allclose(step.coefs_[0], constant.coefs_[0])


def test_warm_start_with_a_changed_step_schedule_uses_the_new_rate_at_once():
    """Changing gamma before a warm_start fit takes effect from its first
    epoch: the rate is recomputed from the new parameters and the epochs done."""
    X, y = load_iris(return_X_y=True)
    model = MLPClassifierScratch(
        hidden_layer_sizes=(5,), learning_rate="step", step_size=2, gamma=0.5,
        max_iter=3, random_state=0, n_iter_no_change=100,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
        assert model._trainer.learning_rate == pytest.approx(1e-3 * 0.5)
        model.set_params(warm_start=True, gamma=0.1, max_iter=1).fit(X, y)
    # 4 epochs done: 1e-3 * 0.1 ** (4 // 2), computed with the new gamma.
    assert model._trainer.learning_rate == pytest.approx(1e-3 * 0.1**2)
