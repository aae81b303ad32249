"""Solver drivers: run a solver on a network and say what happened.

:func:`fit_stochastic` runs the mini-batch epochs of a
:class:`~skmlp._training.Trainer` (any optimizer of ``OPTIMIZERS``);
:func:`fit_lbfgs` runs full-batch L-BFGS (:func:`~.lbfgs.minimize_lbfgs`).
Both return a :class:`FitResult` and a :class:`~.state.FittedState`, the
records the estimator turns into its fitted attributes (``n_iter_``,
``loss_curve_``, ... and ``coefs_``, ``intercepts_``, ...).
"""

from dataclasses import dataclass

import numpy as np
from sklearn.utils.optimize import _check_optimize_result

from .._nn import OPTIMIZERS
from .._utils import at_user_call, warn
from .callbacks import NO_STEPS
from .lbfgs import minimize_lbfgs
from .state import FittedState

# Every value of the estimators' ``solver`` parameter.
SOLVERS = ("lbfgs", *OPTIMIZERS)


@dataclass
class FitResult:
    """What one call's training did, as the estimator reports it.

    Attributes
    ----------
    n_iter : int
        Epochs (stochastic) or iterations (L-BFGS) of this call.
    loss_curve : list of float
        Training loss of every epoch or iteration (stochastic: of every call
        so far, as ``warm_start`` continues the curve).
    loss : float
        The last entry of ``loss_curve`` (L-BFGS: the final objective);
        NaN when not even one epoch finished.
    best_loss : float or None
        Lowest training loss so far; None with early stopping.
    validation_scores : list of float or None
        Validation score of every epoch with early stopping, else None.
    best_validation_score : float or None
    t : int
        Training samples seen over every call (scikit-learn's ``t_``).
    stopped : bool
        Whether training ended before the epoch limit (stop rule or
        interrupt); a stochastic fit that did not warns.
    """

    n_iter: int
    loss_curve: list
    loss: float
    best_loss: float | None
    validation_scores: list | None
    best_validation_score: float | None
    t: int
    stopped: bool


def fit_stochastic(
    plan,
    trainer,
    network,
    X,
    Y,
    *,
    random_state,
    rows=None,
    validation_score=None,
    sample_weight=None,
    steps=NO_STEPS,
):
    """Train ``network`` with ``trainer`` as the :class:`~.plan.FitPlan`
    says, on ``X[rows], Y[rows]`` (the other arguments are those of
    :meth:`Trainer.run`); return the :class:`FitResult` of its whole history
    and the :class:`~.state.FittedState` it ends in."""
    n_samples = X.shape[0] if rows is None else len(rows)
    settings = plan.epoch_settings(n_samples)
    try:
        n_iter, stopped = trainer.run(
            network,
            X,
            Y,
            settings,
            plan.schedule,
            random_state,
            rows=rows,
            validation_score=validation_score,
            sample_weight=sample_weight,
            steps=steps,
        )
    finally:
        # Even an interrupted fit leaves only NumPy state behind, so the
        # estimator pickles and continues on any backend.
        trainer.optimizer.to_host(network.backend)
    early_stopping = validation_score is not None
    result = stochastic_result(trainer, n_iter, early_stopping, stopped)
    return result, FittedState.of(network, trainer)


def stochastic_result(trainer, n_iter, early_stopping, stopped=False):
    """The :class:`FitResult` of ``trainer``'s history so far, the last call
    having run ``n_iter`` epochs."""
    return FitResult(
        n_iter=n_iter,
        loss_curve=trainer.loss_curve,
        loss=trainer.loss_curve[-1] if trainer.loss_curve else np.nan,
        best_loss=None if early_stopping else trainer.best_loss,
        validation_scores=trainer.validation_scores if early_stopping else None,
        best_validation_score=(
            trainer.best_validation_score if early_stopping else None
        ),
        t=trainer.samples_seen,
        stopped=stopped,
    )


def fit_lbfgs(plan, network, X, Y, sample_weight, trainer=None, steps=NO_STEPS):
    """Full-batch L-BFGS from the network's current weights, with the
    :class:`~.plan.FitPlan`'s limits and tolerance; ``trainer`` is
    that of earlier stochastic calls (or None), which L-BFGS leaves as it is
    (its ``samples_seen`` is the result's ``t``); ``steps`` are told of each
    iteration (:class:`~.callbacks.Steps`). Returns the :class:`FitResult` and the
    :class:`~.state.FittedState`.

    Batch normalization normalises with the statistics of all rows at every
    evaluation, so the objective stays a deterministic function of the
    weights; the running statistics are left alone by the line search (which
    evaluates points it rejects) and set at the end to those of all rows at
    the solution -- what training normalised with, up to the unbiased
    variance."""
    with network.batch_norm_momentum_set_to(None):
        run = minimize_lbfgs(
            network,
            X,
            Y,
            sample_weight,
            max_iter=plan.max_iter,
            max_fun=plan.max_fun,
            tol=plan.tol,
            verbose=plan.verbose,
            steps=steps,
        )
    network.set_running_statistics(X)
    if run.stopped_by_callback:
        n_iter, loss = run.result.nit, float(run.result.fun)
    elif run.interrupted:
        n_iter = len(run.loss_curve)
        loss = run.loss_curve[-1] if run.loss_curve else np.nan
        warn(
            f"Training interrupted by user after {n_iter} finished "
            "iterations; keeping the weights of the last finished iteration."
        )
    else:
        with at_user_call():
            n_iter = _check_optimize_result("lbfgs", run.result, plan.max_iter)
        loss = float(run.result.fun)
    result = FitResult(
        n_iter=n_iter,
        loss_curve=run.loss_curve,
        loss=loss,
        best_loss=loss,
        validation_scores=None,
        best_validation_score=None,
        t=0 if trainer is None else trainer.samples_seen,
        stopped=run.interrupted or run.stopped_by_callback or n_iter < plan.max_iter,
    )
    return result, FittedState.of(network, trainer)
