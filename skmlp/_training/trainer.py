"""The epoch loop: batches, shuffling, the stop rule and early stopping.

:class:`Trainer` holds everything that must outlive one call to ``fit``: the
optimizer and its state, the current learning rate, the counters and the
history. Keeping it is what lets ``warm_start`` and ``partial_fit`` continue
where they left off instead of silently resetting the optimizer.
"""

import dataclasses
from numbers import Integral

import numpy as np

from .._nn import batch_weight, is_sparse, optimizer_from_state, refuse_unknown_state
from .._utils import warn
from .callbacks import NO_STEPS
from .schedules import LearningRateSchedule, scheduled_step


@dataclasses.dataclass
class EpochSettings:
    """How to run one call's epochs (read from the estimator's parameters)."""

    batch_size: int
    max_epochs: int
    shuffle: bool
    tol: float
    n_iter_no_change: float
    verbose: bool
    # What the validation score is (the estimator's ``scoring``): 'loss' is
    # minimised, every other score (None: accuracy / R^2, scorers) maximised.
    scoring: object = None
    # Largest L2 norm of the gradient a step may take, or None: no clipping.
    clip_grad_norm: float | None = None
    # Decoupled weight decay of the weights at every step (0: none).
    weight_decay: float = 0.0
    # Epochs of linear warmup at the start of training (0: none).
    warmup: float = 0.0


class Trainer:
    """Mini-batch training with a stop rule, shared by every stochastic solver.

    Attributes
    ----------
    optimizer : Optimizer
    schedule : LearningRateSchedule or None
        The schedule of the last call.
    learning_rate : float
        The rate of the epoch; the schedule moves it at epoch ends. Each
        step takes it, or, with a per-batch schedule or warmup, the step's
        own rate worked out from it (:func:`~.schedules.scheduled_step`).
    epochs, samples_seen, optimizer_steps : int
        Totals over every call of finished epochs (``samples_seen`` is
        scikit-learn's ``t_``; ``optimizer_steps`` counts their steps, which
        the warmup follows).
    loss_curve : list of float
        Mean training loss of each epoch.
    best_loss : float
        Lowest training loss so far (the stop rule without early stopping).
    validation_scores : list of float
        Validation score of each epoch trained with early stopping, since
        the ``scoring`` last changed.
    best_validation_score : float
        The highest of them, or the lowest where ``scoring`` is 'loss'.
    scoring : object
        What the validation scores are (``EpochSettings.scoring``).
    no_improvement_count : int
        Epochs in a row without a ``tol`` improvement.
    """

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.schedule = None
        self.learning_rate = None
        self.epochs = 0
        self.samples_seen = 0
        self.optimizer_steps = 0
        self.loss_curve = []
        self.best_loss = np.inf
        self.validation_scores = []
        self.best_validation_score = -np.inf
        self.scoring = None
        self.no_improvement_count = 0

    def get_state(self):
        """Everything the trainer holds as plain values (numbers, lists,
        dicts, NumPy arrays): what a saved model keeps of it
        (:meth:`from_state` rebuilds it)."""
        state = dict(vars(self))
        state["optimizer"] = self.optimizer.get_state()
        if self.schedule is not None:
            state["schedule"] = dataclasses.asdict(self.schedule)
        return state

    @classmethod
    def from_state(cls, state, n_params):
        """The trainer :meth:`get_state` described, for a network of
        ``n_params`` parameters. What the saved state lacks (saved by an older
        version) keeps the value of a new trainer; what this version does not
        know raises a ValueError."""
        state = dict(state)
        trainer = cls(optimizer_from_state(state.pop("optimizer"), n_params))
        refuse_unknown_state("trainer", set(state) - set(vars(trainer)))
        _check_counters(state)
        if state.get("schedule") is not None:
            try:
                state["schedule"] = LearningRateSchedule(**state["schedule"])
            except TypeError as exc:
                raise ValueError(
                    f"The saved learning-rate schedule does not match this "
                    f"version of skmlp ({exc}): load the model with the version "
                    "that saved it."
                ) from exc
        vars(trainer).update(state)
        return trainer

    def run(
        self,
        network,
        X,
        Y,
        settings,
        schedule,
        random_state,
        rows=None,
        validation_score=None,
        sample_weight=None,
        steps=NO_STEPS,
    ):
        """Train ``network`` on ``X[rows], Y[rows]`` for up to
        ``settings.max_epochs`` epochs.

        ``validation_score(network) -> float``, when given, turns on early
        stopping: the stop rule watches it instead of the training loss and
        the best-scoring weights are restored at the end (``settings.scoring``
        says whether best is highest or lowest). ``random_state`` is
        the NumPy ``RandomState`` the shuffle draws from (a device backend
        seeds its own generator from it). ``sample_weight``, a NumPy vector
        over the rows of ``X``, weights each sample's loss; a batch whose
        weights are all 0 carries no information and is skipped. ``X`` may be
        a CSR matrix: its batches are then gathered sparsely. ``steps`` (see
        :class:`~.callbacks.Steps`) is told where each epoch begins and ends; it
        stops training after an epoch where it says so.

        A ``KeyboardInterrupt`` stops training with a warning and keeps the
        weights of the last finished epoch (the best ones with early
        stopping); the optimizer state stays as the interrupted step left it.

        Returns the number of epochs run and whether training stopped before
        the epoch limit (stop rule, callback or interrupt).
        """
        step, fold = self._begin_call(network, settings, schedule, validation_score)
        batches = _Batches(
            network.backend, X, Y, sample_weight, rows, settings.batch_size,
            settings.shuffle,
        )
        shuffle = network.backend.shuffler(random_state) if settings.shuffle else None
        # The weights (and batch normalizations' running statistics) of the
        # last finished epoch (with early stopping, of the best one): what an
        # interrupt, or early stopping at the end, keeps.
        kept_params = network.params.copy()
        kept_state = network.state.copy()

        stopped = False
        n_epochs = 0
        try:
            while n_epochs < settings.max_epochs and not stopped:
                steps.begin(kept_params, n_epochs, kept_state)
                if shuffle is not None:
                    shuffle(batches.order)
                loss = self._train_epoch(network, batches, step, fold, settings)
                n_epochs += 1
                keep, stopped = self._end_epoch(
                    network, loss, n_epochs, batches, settings, schedule,
                    validation_score,
                )
                if keep:
                    kept_params[...] = network.params
                    kept_state[...] = network.state
                # Evaluated even when the stop rule has fired: the epoch ends.
                stopped = steps.end(kept_params, n_epochs, kept_state) or stopped
        except KeyboardInterrupt:
            network.params[...] = kept_params
            network.state[...] = kept_state
            warn(
                f"Training interrupted by user after {n_epochs} finished epochs; "
                "keeping the weights of the last finished epoch"
                + (" with the best validation score." if validation_score else ".")
            )
            return n_epochs, True

        if validation_score is not None:
            network.params[...] = kept_params
            network.state[...] = kept_state
        return n_epochs, stopped

    def _begin_call(self, network, settings, schedule, validation_score):
        """Prepare the optimizer for ``network`` and take up this call's
        schedule and scoring; return the optimizer step and whether it adds
        the penalty's gradient itself (``fold``)."""
        backend = network.backend
        self.optimizer.prepare(network.params, backend)
        # The step adds the penalty's gradient itself (on the CPU, inside the
        # one compiled optimizer kernel), except where clipping needs the
        # whole gradient, penalty included, in grads before the step.
        fold = settings.clip_grad_norm is None and bool(network.penalty.terms)
        step = backend.optimizer_step(
            self.optimizer,
            network.penalty if fold else None,
            network.n_coefs,
            settings.weight_decay,
        )
        if settings.clip_grad_norm is not None:
            step = _clipping_before(step, settings.clip_grad_norm, backend.xp)
        if schedule != self.schedule:
            # New or changed learning-rate parameters: the rate they give at
            # this point of training (a rate the adaptive schedule has already
            # divided is only kept while its parameters stay the same).
            self.schedule = schedule
            self.learning_rate = schedule.after_epoch(
                schedule.learning_rate_init, self.epochs, self.samples_seen
            )
        if validation_score is not None and settings.scoring != self.scoring:
            # A best score of another measure means nothing for this one.
            self.scoring = settings.scoring
            self.validation_scores = []
            self.best_validation_score = np.inf if _minimized(self.scoring) else -np.inf
            self.no_improvement_count = 0
        return step, fold

    def _train_epoch(self, network, batches, step, fold, settings):
        """One pass over ``batches``, a step per batch; returns the epoch's
        mean training loss."""
        step = scheduled_step(
            step,
            self.schedule,
            settings.warmup,
            (self.epochs, self.optimizer_steps, self.samples_seen),
            batches.batches_per_epoch,
            batches.batch_size,
        )
        epoch_loss, trained_rows = 0.0, 0
        for xb, yb, wb in batches:
            batch_loss = network.loss_gradient(xb, yb, wb, penalty_gradient=not fold)
            step(
                network.params,
                network.grads,
                self.learning_rate,
                network.scratch,
                batch_weight(yb, wb) if fold else None,
            )
            epoch_loss = epoch_loss + batch_loss * yb.shape[0]
            trained_rows += yb.shape[0]
        return float(epoch_loss) / trained_rows

    def _end_epoch(
        self, network, loss, n_epochs, batches, settings, schedule, validation_score
    ):
        """The end of epoch ``n_epochs`` of this call over ``batches``: count
        it, record its ``loss`` (and validation score), move the rate and
        apply the stop rule. Per-epoch work belongs here. Returns whether its
        weights are the ones to keep and whether to stop."""
        self.epochs += 1
        self.samples_seen += batches.n_samples
        self.optimizer_steps += batches.n_steps
        self.loss_curve.append(loss)
        if settings.verbose:
            print(f"Iteration {n_epochs}, loss = {self.loss_curve[-1]:.8f}")
        keep = validation_score is None or self._record_validation_score(
            validation_score(network), settings
        )
        if validation_score is None:
            self._record_training_loss(settings.tol)
        self.learning_rate = schedule.after_epoch(
            self.learning_rate, self.epochs, self.samples_seen
        )
        stopped = False
        if self.no_improvement_count > settings.n_iter_no_change:
            stopped = self._on_plateau(schedule, settings, validation_score)
        return keep, stopped

    def _record_training_loss(self, tol):
        loss = self.loss_curve[-1]
        # Written so that a NaN loss (diverged) counts as no improvement.
        if not loss <= self.best_loss - tol:
            self.no_improvement_count += 1
        else:
            self.no_improvement_count = 0
        improved = loss < self.best_loss
        if improved:
            self.best_loss = loss
        return improved

    def _record_validation_score(self, score, settings):
        self.validation_scores.append(score)
        if settings.verbose:
            print(f"Validation score: {score:f}")
        best, tol = self.best_validation_score, settings.tol
        # Written so that a NaN score (diverged) counts as no improvement.
        if _minimized(settings.scoring):
            improved_by_tol, improved = score <= best - tol, score < best
        else:
            improved_by_tol, improved = score >= best + tol, score > best
        if not improved_by_tol:
            self.no_improvement_count += 1
        else:
            self.no_improvement_count = 0
        if improved:
            self.best_validation_score = score
        return improved

    def _on_plateau(self, schedule, settings, validation_score):
        """Apply the schedule's plateau rule; return whether to stop."""
        what = "Training loss" if validation_score is None else "Validation score"
        message = (
            f"{what} did not improve more than tol={settings.tol:f} for "
            f"{settings.n_iter_no_change} consecutive epochs."
        )
        new_rate = schedule.on_plateau(self.learning_rate)
        if new_rate is None:
            if settings.verbose:
                # scikit-learn's words where the adaptive rate gives up.
                if schedule.kind == "adaptive":
                    message += " Learning rate too small."
                print(message + " Stopping.")
            return True
        self.learning_rate = new_rate
        self.no_improvement_count = 0
        if settings.verbose:
            print(message + f" Setting learning rate to {new_rate:f}")
        return False


# Added to the norm before dividing, as PyTorch's clip_grad_norm_ does.
CLIP_EPSILON = 1e-6


def clip_gradient_norm(xp, grads, max_norm):
    """Scale ``grads`` in place so that its L2 norm is at most ``max_norm``:
    times ``min(1, max_norm / (norm + 1e-6))``, the factor of
    ``torch.nn.utils.clip_grad_norm_``. The norm and the factor stay 0-d
    arrays of ``xp``: on a GPU nothing waits for the host."""
    norm = xp.sqrt(xp.vdot(grads, grads))
    grads *= xp.minimum(max_norm / (norm + CLIP_EPSILON), 1)


def _clipping_before(step, max_norm, xp):
    """``step`` that first clips the whole gradient (every layer's, penalty
    included) to the L2 norm ``max_norm``."""

    def clipped_step(params, grads, learning_rate, scratch, total_weight):
        clip_gradient_norm(xp, grads, max_norm)
        step(params, grads, learning_rate, scratch, total_weight)

    return clipped_step


def _check_counters(state):
    """The saved totals (an older version's file lacks ``optimizer_steps``:
    a new trainer's 0) are counts, which the schedules compute rates from."""
    for name in ("epochs", "samples_seen", "optimizer_steps"):
        value = state.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
            raise ValueError(
                f"The saved trainer's {name} is {value!r}, not a count of what "
                "training did: the file is damaged."
            )


def _minimized(scoring):
    """Whether the validation score named by ``scoring`` is a loss (lower is
    better); scikit-learn's scores and scorers are higher-is-better."""
    return isinstance(scoring, str) and scoring == "loss"


def _take_rows(xp, source, rows, out):
    """``out[:] = source[rows]`` without a temporary.

    With ``out=`` and its default ``mode="raise"``, NumPy's ``take`` gathers
    into a hidden array of the output's size and then copies it; the rows
    here are always valid, so ``mode="clip"`` changes nothing but that.
    """
    if xp is np:
        return source.take(rows, axis=0, out=out, mode="clip")
    return xp.take(source, rows, axis=0, out=out)


class _Batches:
    """The mini-batches of one epoch, in the order of ``order``.

    Rows of ``X``, ``Y`` and the sample weights are gathered into buffers
    allocated once per call (a CSR ``X`` is gathered sparsely), or sliced
    without copying when every row is used in its own order. The order lives
    where ``X`` does, so a device backend shuffles and gathers on the device.
    Batches whose sample weights are all 0 carry no information and are
    skipped.
    """

    def __init__(self, backend, X, Y, sample_weight, rows, batch_size, shuffle):
        xp = self._xp = backend.xp
        self.X, self.Y = X, Y
        self.n_samples = X.shape[0] if rows is None else len(rows)
        self.batch_size = min(batch_size, self.n_samples)
        self.batches_per_epoch = -(-self.n_samples // self.batch_size)
        # The batches the last epoch trained on: those with sample weight.
        self.n_steps = 0
        host_order = np.arange(self.n_samples) if rows is None else np.array(rows)
        self.order = backend.to_device(host_order)
        self._backend = backend
        self._gather = shuffle or rows is not None
        self._sparse = is_sparse(X)
        if self._gather:
            if not self._sparse:
                self._X_batch = xp.empty((self.batch_size, X.shape[1]), X.dtype)
            self._Y_batch = xp.empty((self.batch_size, Y.shape[1]), Y.dtype)
        self._sample_weight = sample_weight
        if sample_weight is not None:
            self._weights = backend.to_device(sample_weight, Y.dtype)
            self._weights_batch = xp.empty(self.batch_size, Y.dtype)
            # The host's copy of the weights in epoch order, to find the
            # batches without weight.
            self._ordered_weights = np.empty(self.n_samples, sample_weight.dtype)

    def __iter__(self):
        """Yield ``(X_batch, Y_batch, weights_batch or None)``."""
        starts = range(0, self.n_samples, self.batch_size)
        self.n_steps = len(starts)
        if self._sample_weight is not None:
            # Weight of every batch, on the host: no device sync per batch.
            host_order = self._backend.to_host(self.order)
            ordered = _take_rows(
                np, self._sample_weight, host_order, out=self._ordered_weights
            )
            batch_weights = np.add.reduceat(ordered, starts)
            self.n_steps = int(np.count_nonzero(batch_weights))
        for k, start in enumerate(starts):
            if self._sample_weight is not None and batch_weights[k] == 0:
                continue
            yield self._batch(start, min(start + self.batch_size, self.n_samples))

    def _batch(self, start, stop):
        weighted = self._sample_weight is not None
        if not self._gather:
            wb = self._weights[start:stop] if weighted else None
            return self.X[start:stop], self.Y[start:stop], wb
        xp, rows, n = self._xp, self.order[start:stop], stop - start
        if self._sparse:
            xb = self.X[rows]
        else:
            xb = _take_rows(xp, self.X, rows, out=self._X_batch[:n])
        yb = _take_rows(xp, self.Y, rows, out=self._Y_batch[:n])
        wb = None
        if weighted:
            wb = _take_rows(xp, self._weights, rows, out=self._weights_batch[:n])
        return xb, yb, wb
