"""The epoch loop: batches, shuffling, the stop rule and early stopping.

:class:`Trainer` holds everything that must outlive one call to ``fit``: the
optimizer and its state, the current learning rate, the counters and the
history. Keeping it is what lets ``warm_start`` and ``partial_fit`` continue
where they left off instead of silently resetting the optimizer.
"""

import warnings
from dataclasses import dataclass

import numpy as np

from ._network import is_sparse


@dataclass
class EpochSettings:
    """How to run one call's epochs (read from the estimator's parameters)."""

    batch_size: int
    max_epochs: int
    shuffle: bool
    alpha: float
    tol: float
    n_iter_no_change: float
    verbose: bool


class Trainer:
    """Mini-batch training with a stop rule, shared by every stochastic solver.

    Attributes
    ----------
    optimizer : Optimizer
    schedule : LearningRateSchedule or None
        The schedule of the last call.
    learning_rate : float
        The rate the next step uses; the schedule moves it at epoch ends.
    epochs, samples_seen : int
        Totals over every call (``samples_seen`` is scikit-learn's ``t_``).
    loss_curve : list of float
        Mean training loss of each epoch.
    best_loss : float
        Lowest training loss so far (the stop rule without early stopping).
    validation_scores : list of float
        Validation score of each epoch trained with early stopping.
    best_validation_score : float
    no_improvement_count : int
        Epochs in a row without a ``tol`` improvement.
    """

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.schedule = None
        self.learning_rate = None
        self.epochs = 0
        self.samples_seen = 0
        self.loss_curve = []
        self.best_loss = np.inf
        self.validation_scores = []
        self.best_validation_score = -np.inf
        self.no_improvement_count = 0

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
    ):
        """Train ``network`` on ``X[rows], Y[rows]`` for up to
        ``settings.max_epochs`` epochs.

        ``validation_score(network) -> float``, when given, turns on early
        stopping: the stop rule watches it instead of the training loss and
        the best-scoring weights are restored at the end. ``random_state`` is
        the NumPy ``RandomState`` the shuffle draws from (a device backend
        seeds its own generator from it). ``sample_weight``, a NumPy vector
        over the rows of ``X``, weights each sample's loss; a batch whose
        weights are all 0 carries no information and is skipped. ``X`` may be
        a CSR matrix: its batches are then gathered sparsely.

        A ``KeyboardInterrupt`` stops training with a warning and keeps the
        weights of the last finished epoch (the best ones with early
        stopping); the optimizer state stays as the interrupted step left it.

        Returns the number of epochs run and whether training stopped before
        the epoch limit (stop rule or interrupt).
        """
        n_finished = len(self.loss_curve)
        # The weights to keep if interrupted; with early stopping, the best.
        kept_params = network.params.copy()
        try:
            return self._run_epochs(
                network,
                X,
                Y,
                settings,
                schedule,
                random_state,
                rows,
                validation_score,
                sample_weight,
                kept_params,
            )
        except KeyboardInterrupt:
            network.params[...] = kept_params
            n_epochs = len(self.loss_curve) - n_finished
            warnings.warn(
                f"Training interrupted by user after {n_epochs} finished epochs; "
                "keeping the weights of the last finished epoch"
                + (" with the best validation score." if validation_score else ".")
            )
            return n_epochs, True

    def _run_epochs(
        self,
        network,
        X,
        Y,
        settings,
        schedule,
        random_state,
        rows,
        validation_score,
        sample_weight,
        kept_params,
    ):
        backend = network.backend
        xp = backend.xp
        self.optimizer.prepare(network.params, backend)
        step = backend.optimizer_step(self.optimizer)
        if schedule != self.schedule:
            # New or changed learning-rate parameters: the rate they give at
            # this point of training (a rate the adaptive schedule has already
            # divided is only kept while its parameters stay the same).
            self.schedule = schedule
            self.learning_rate = schedule.after_epoch(
                schedule.learning_rate_init, self.epochs, self.samples_seen
            )
        n_samples = X.shape[0] if rows is None else len(rows)
        batch_size = min(settings.batch_size, n_samples)
        # The row order lives where X does: shuffled and gathered there.
        order = np.arange(n_samples) if rows is None else np.array(rows)
        order = backend.to_device(order)
        if settings.shuffle:
            shuffle = backend.shuffler(random_state)
        gather = settings.shuffle or rows is not None
        sparse = is_sparse(X)
        if gather:
            if not sparse:
                X_batch = xp.empty((batch_size, X.shape[1]), X.dtype)
            Y_batch = xp.empty((batch_size, Y.shape[1]), Y.dtype)
        weights, weights_batch = None, None
        if sample_weight is not None:
            weights = backend.to_device(sample_weight, Y.dtype)
            weights_batch = xp.empty(batch_size, Y.dtype)
            batch_starts = np.arange(0, n_samples, batch_size)

        stopped = False
        n_epochs = 0
        while n_epochs < settings.max_epochs and not stopped:
            if settings.shuffle:
                shuffle(order)
            epoch_loss = 0.0
            trained_rows = 0
            if weights is not None:
                # Weight of every batch, on the host: no device sync per batch.
                host_order = backend.to_host(order)
                batch_weights = np.add.reduceat(sample_weight[host_order], batch_starts)
            for start in range(0, n_samples, batch_size):
                stop = min(start + batch_size, n_samples)
                if weights is not None and batch_weights[start // batch_size] == 0:
                    continue
                wb = None
                if gather:
                    batch_rows = order[start:stop]
                    yb = Y_batch[: stop - start]
                    if sparse:
                        xb = X[batch_rows]
                    else:
                        xb = X_batch[: stop - start]
                        _take_rows(xp, X, batch_rows, out=xb)
                    _take_rows(xp, Y, batch_rows, out=yb)
                    if weights is not None:
                        wb = weights_batch[: stop - start]
                        _take_rows(xp, weights, batch_rows, out=wb)
                else:
                    xb, yb = X[start:stop], Y[start:stop]
                    if weights is not None:
                        wb = weights[start:stop]
                batch_loss = network.loss_gradient(xb, yb, settings.alpha, wb)
                step(network.params, network.grads, self.learning_rate, network.scratch)
                epoch_loss = epoch_loss + batch_loss * (stop - start)
                trained_rows += stop - start

            n_epochs += 1
            self.epochs += 1
            self.samples_seen += n_samples
            self.loss_curve.append(float(epoch_loss) / trained_rows)
            if settings.verbose:
                print(f"Iteration {n_epochs}, loss = {self.loss_curve[-1]:.8f}")

            if validation_score is None:
                improved = self._record_training_loss(settings.tol)
                kept_params[...] = network.params
            else:
                improved = self._record_validation_score(
                    validation_score(network), settings
                )
                if improved:
                    kept_params[...] = network.params

            self.learning_rate = schedule.after_epoch(
                self.learning_rate, self.epochs, self.samples_seen
            )
            if self.no_improvement_count > settings.n_iter_no_change:
                stopped = self._on_plateau(schedule, settings, validation_score)

        if validation_score is not None:
            network.params[...] = kept_params
        return n_epochs, stopped

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
        # Written so that a NaN score (diverged) counts as no improvement.
        if not score >= self.best_validation_score + settings.tol:
            self.no_improvement_count += 1
        else:
            self.no_improvement_count = 0
        improved = score > self.best_validation_score
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
                print(message + " Stopping.")
            return True
        self.learning_rate = new_rate
        self.no_improvement_count = 0
        if settings.verbose:
            print(message + f" Setting learning rate to {new_rate:f}")
        return False


def _take_rows(xp, source, rows, out):
    """``out[:] = source[rows]`` without a temporary.

    With ``out=`` and its default ``mode="raise"``, NumPy's ``take`` gathers
    into a hidden array of the output's size and then copies it; the rows
    here are always valid, so ``mode="clip"`` changes nothing but that.
    """
    if xp is np:
        return source.take(rows, axis=0, out=out, mode="clip")
    return xp.take(source, rows, axis=0, out=out)
