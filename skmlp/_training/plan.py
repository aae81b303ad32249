"""How one ``fit`` or ``partial_fit`` call trains, made from the estimator's
parameters in one place, with every refusal of parameters that do not go
together; the drivers take it."""

import dataclasses
from numbers import Integral

import numpy as np

from .._nn import OPTIMIZERS, Network, Penalty
from .._utils import warn
from .schedules import PER_BATCH_SCHEDULES, LearningRateSchedule
from .trainer import EpochSettings, Trainer

# Rows per mini-batch of batch_size='auto' (scikit-learn's 200).
AUTO_BATCH_SIZE = 200


@dataclasses.dataclass(frozen=True)
class FitPlan:
    """What the estimator's parameters ask of one call, checked together.

    Make it with :meth:`from_params`; the layer sizes that depend on the data
    (inputs, outputs) and the batch size (at most the rows trained on) are
    read off it with the data's sizes.
    """

    hidden_sizes: tuple
    activation: str
    weight_init: str
    dropout: tuple
    batch_norm: bool
    batch_norm_momentum: float
    penalty: Penalty
    weight_decay: float
    solver: str
    optimizer_settings: tuple
    schedule: LearningRateSchedule
    warmup: float
    batch_size: object  # 'auto' or an int
    incremental: bool
    max_iter: int
    max_fun: int
    shuffle: bool
    tol: float
    n_iter_no_change: float
    verbose: bool
    early_stopping: bool
    validation_fraction: float
    scoring: object
    clip_grad_norm: float | None

    @classmethod
    def from_params(cls, params, incremental):
        """The plan of a call with the estimator's ``params``
        (``get_params()``; their constraints already checked), ``fit`` or
        ``partial_fit`` (``incremental``). Raises a ValueError for
        parameters that do not go together."""
        _refuse_combinations(params, incremental)
        hidden_sizes = _hidden_layer_sizes(params["hidden_layer_sizes"])
        dropout = _dropout_rates(params["dropout"], len(hidden_sizes))
        if params["solver"] == "lbfgs" and any(dropout):
            raise ValueError(
                "dropout does not work with solver='lbfgs': L-BFGS's line "
                "search compares the loss at several points, which needs one "
                "deterministic objective, and dropout draws a new random mask "
                "at every evaluation. Use a stochastic solver (solver='adam', "
                "'sgd' or 'rmsprop'), or set dropout=0."
            )
        kind = params["learning_rate"]
        return cls(
            hidden_sizes=hidden_sizes,
            activation=params["activation"],
            weight_init=params["weight_init"],
            dropout=dropout,
            batch_norm=params["batch_norm"],
            batch_norm_momentum=params["batch_norm_momentum"],
            penalty=Penalty(alpha=params["alpha"], l1=params["l1"]),
            weight_decay=float(params["weight_decay"]),
            solver=params["solver"],
            optimizer_settings=_optimizer_settings(params),
            schedule=LearningRateSchedule(
                kind,
                params["learning_rate_init"],
                params["power_t"],
                params["step_size"],
                params["gamma"],
                cosine_period=params["max_iter"] if kind == "cosine" else None,
                unit=(
                    params["schedule_unit"] if kind in PER_BATCH_SCHEDULES else "epoch"
                ),
            ),
            warmup=float(params["warmup"]),
            batch_size=params["batch_size"],
            incremental=incremental,
            max_iter=params["max_iter"],
            max_fun=params["max_fun"],
            shuffle=params["shuffle"],
            tol=params["tol"],
            n_iter_no_change=params["n_iter_no_change"],
            verbose=bool(params["verbose"]),
            early_stopping=params["early_stopping"],
            validation_fraction=params["validation_fraction"],
            scoring=params["scoring"],
            clip_grad_norm=params["clip_grad_norm"],
        )

    @property
    def lbfgs(self):
        return self.solver == "lbfgs"

    @property
    def max_steps(self):
        """The most steps (epochs, L-BFGS iterations) the call begins; L-BFGS
        begins one more iteration than it runs (see ``minimize_lbfgs``)."""
        if self.lbfgs:
            return self.max_iter + 1
        return 1 if self.incremental else self.max_iter

    def layer_units(self, n_features, n_outputs):
        return [n_features, *self.hidden_sizes, n_outputs]

    def rows_per_batch(self, n_samples):
        """Rows per mini-batch when training on ``n_samples`` rows."""
        size = AUTO_BATCH_SIZE if self.batch_size == "auto" else self.batch_size
        return min(size, n_samples)

    def network(self, n_features, n_outputs, output, backend, dtype):
        """A new network of the planned layers, with ``output`` (see
        :class:`~skmlp._nn.Network`), its weights all zero."""
        return Network(
            self.layer_units(n_features, n_outputs),
            self.activation,
            output,
            backend,
            dtype,
            penalty=self.penalty,
            dropout=self.dropout,
            batch_norm=self.batch_norm,
            batch_norm_momentum=self.batch_norm_momentum,
        )

    def trainer(self, previous=None):
        """The trainer of this call: a new one, or ``previous`` (kept across
        warm_start / partial_fit) with the planned optimizer, which carries
        on the old one's state unless the solver changed."""
        fresh = OPTIMIZERS[self.solver](*self.optimizer_settings)
        if previous is None:
            return Trainer(fresh)
        if type(fresh) is type(previous.optimizer):
            fresh.continue_from(previous.optimizer)
        previous.optimizer = fresh
        return previous

    def epoch_settings(self, n_samples):
        """How to run the epochs over ``n_samples`` training rows (warning
        that a larger ``batch_size`` takes them all at once)."""
        if self.batch_size != "auto" and self.batch_size > n_samples:
            warn(
                f"Got batch_size={self.batch_size} larger than the {n_samples} "
                "training samples; using all of them in each batch."
            )
        return EpochSettings(
            batch_size=self.rows_per_batch(n_samples),
            max_epochs=1 if self.incremental else self.max_iter,
            shuffle=self.shuffle,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            verbose=self.verbose,
            scoring=self.scoring,
            clip_grad_norm=self.clip_grad_norm,
            weight_decay=self.weight_decay,
            warmup=self.warmup,
        )


def _refuse_combinations(params, incremental):
    if params["solver"] == "lbfgs" and params["clip_grad_norm"] is not None:
        raise ValueError(
            f"clip_grad_norm={params['clip_grad_norm']!r} applies to the stochastic "
            "solvers only: L-BFGS's line search chooses its own step lengths. "
            "Set clip_grad_norm=None, or use solver='adam', 'sgd' or 'rmsprop'."
        )
    if params["solver"] == "lbfgs" and params["weight_decay"]:
        raise ValueError(
            f"weight_decay={params['weight_decay']!r} applies to the stochastic "
            "solvers only: decoupled weight decay is part of a stochastic step, "
            "and L-BFGS minimises one fixed objective. Use alpha (the L2 "
            "penalty) with solver='lbfgs', or solver='adam', 'sgd' or 'rmsprop' "
            "with weight_decay."
        )
    for name, default in (("schedule_unit", "epoch"), ("warmup", 0.0)):
        if params["solver"] == "lbfgs" and params[name] != default:
            raise ValueError(
                f"{name}={params[name]!r} applies to the stochastic solvers' "
                "learning-rate schedule only: L-BFGS has no learning rate, its "
                f"line search chooses the step lengths. Set {name}={default!r}, "
                "or use solver='adam', 'sgd' or 'rmsprop'."
            )
    if incremental and params["early_stopping"]:
        raise ValueError(
            "partial_fit does not support early_stopping=True: there is no "
            "held-out set across calls. Use fit, or set early_stopping=False."
        )


def _hidden_layer_sizes(sizes):
    sizes = list(sizes) if np.iterable(sizes) else [sizes]
    if not all(isinstance(s, Integral) and s > 0 for s in sizes):
        raise ValueError(f"hidden_layer_sizes must be positive integers, got {sizes}.")
    return tuple(int(s) for s in sizes)


def _dropout_rates(dropout, n_hidden):
    """One dropout rate per hidden layer, checked."""
    if not np.iterable(dropout):
        return (float(dropout),) * n_hidden
    rates = [float(rate) for rate in dropout]
    if len(rates) != n_hidden:
        raise ValueError(
            f"dropout has {len(rates)} rates but hidden_layer_sizes has "
            f"{n_hidden} hidden layers. Give one rate per hidden layer, or "
            "one float for all."
        )
    if not all(0 <= rate < 1 for rate in rates):
        raise ValueError(
            f"Every dropout rate must be in [0, 1), got {rates}: 0 keeps "
            "every unit, and a rate of 1 would drop them all."
        )
    return tuple(rates)


def _optimizer_settings(params):
    """The arguments of the solver's optimizer (``OPTIMIZERS[solver]``)."""
    solver = params["solver"]
    if solver == "sgd":
        return (params["momentum"], params["nesterovs_momentum"])
    if solver == "adam":
        return (params["beta_1"], params["beta_2"], params["epsilon"], params["amsgrad"])
    if solver == "rmsprop":
        return (params["rho"], params["epsilon"])
    return ()
