"""Learning-rate schedules, applied at the end of every epoch for every solver,
or before every step (``schedule_unit='batch'``), and a linear warmup.

A schedule holds no state of its own: the trainer keeps the current rate and
the counters, so a schedule can be rebuilt from the estimator's parameters at
every call to ``fit`` or ``partial_fit``.
"""

import math
from dataclasses import dataclass

SCHEDULES = ("constant", "invscaling", "adaptive", "step", "cosine")
SCHEDULE_UNITS = ("epoch", "batch")
# The schedules that schedule_unit='batch' evaluates before every step; the
# others move on whole epochs ('step') or plateaus ('adaptive') only.
PER_BATCH_SCHEDULES = ("invscaling", "cosine")

# scikit-learn's 'adaptive' schedule gives up once the rate is this small.
MIN_ADAPTIVE_RATE = 1e-6


@dataclass(frozen=True)
class LearningRateSchedule:
    """The rate after each epoch and what to do on a plateau.

    - ``'constant'``: ``learning_rate_init`` throughout.
    - ``'invscaling'``: ``learning_rate_init / (t + 1) ** power_t`` with ``t``
      the number of samples seen so far (scikit-learn's definition).
    - ``'adaptive'``: constant until the stop rule fires; then the rate is
      divided by 5 and training goes on, until it falls below 1e-6.
    - ``'step'``: ``learning_rate_init * gamma ** (epochs // step_size)``
      (PyTorch's ``StepLR``).
    - ``'cosine'``: ``learning_rate_init * (1 + cos(pi * e / T)) / 2`` in
      epoch ``e`` (counted from 0 over every call) of a cycle of
      ``T = cosine_period`` epochs (PyTorch's ``CosineAnnealingLR`` with
      ``T_max = T``, ``eta_min = 0``). Past ``T`` epochs a new cycle starts
      from ``learning_rate_init`` (PyTorch's ``CosineAnnealingWarmRestarts``
      with ``T_0 = T``), rather than climbing back up the cosine as
      ``CosineAnnealingLR`` does, or staying at 0 where nothing trains.

    With ``unit='batch'``, 'invscaling' and 'cosine' are evaluated before
    every step instead (:meth:`at_step`); the others move on epochs anyway.
    """

    kind: str
    learning_rate_init: float
    power_t: float
    step_size: int
    gamma: float
    # The estimator's max_iter for 'cosine'; None for the other schedules, so
    # that a changed max_iter does not count as a changed schedule for them.
    cosine_period: int | None = None
    # 'batch' only for PER_BATCH_SCHEDULES, so that a changed schedule_unit
    # does not count as a changed schedule for the others.
    unit: str = "epoch"

    @property
    def per_batch(self):
        """Whether the rate moves at every step, not only at epoch ends."""
        return self.unit == "batch" and self.kind in PER_BATCH_SCHEDULES

    def after_epoch(self, rate, epochs_done, samples_seen):
        """The rate to use once ``epochs_done`` epochs have been trained."""
        if self.kind == "invscaling":
            return self.learning_rate_init / (samples_seen + 1) ** self.power_t
        if self.kind == "step":
            return self.learning_rate_init * self.gamma ** (epochs_done // self.step_size)
        if self.kind == "cosine":
            return self._cosine(epochs_done, self.cosine_period)
        return rate

    def at_step(
        self, epoch_rate, epochs_done, step_in_epoch, batches_per_epoch, samples_seen
    ):
        """The rate of step ``step_in_epoch`` (from 0) of the epoch after
        ``epochs_done`` epochs of ``batches_per_epoch`` batches, with
        ``samples_seen`` samples trained on before it: ``epoch_rate`` (the
        rate of the epoch) unless the schedule moves per batch. The cosine
        then runs over ``cosine_period * batches_per_epoch`` steps, at the
        fractional epoch ``epochs_done + step_in_epoch / batches_per_epoch``
        (PyTorch's ``CosineAnnealingLR(T_max=cosine_period *
        batches_per_epoch)`` stepped after every batch)."""
        if not self.per_batch:
            return epoch_rate
        if self.kind == "invscaling":
            return self.learning_rate_init / (samples_seen + 1) ** self.power_t
        return self._cosine(
            epochs_done * batches_per_epoch + step_in_epoch,
            self.cosine_period * batches_per_epoch,
        )

    def _cosine(self, done, period):
        """The cosine's rate after ``done`` of its cycles' ``period`` units."""
        return (
            self.learning_rate_init
            * (1 + math.cos(math.pi * (done % period) / period))
            / 2
        )

    def on_plateau(self, rate):
        """The rate to go on with when the stop rule fires, or ``None`` to stop."""
        if self.kind == "adaptive" and rate > MIN_ADAPTIVE_RATE:
            return rate / 5.0
        return None


def warmup_steps(warmup, batches_per_epoch):
    """``W``, the steps of ``warmup`` epochs of ``batches_per_epoch`` batches:
    ``ceil(warmup * batches_per_epoch)``, the product rounded to 9 decimals
    first, so that float noise (``0.3 * 10 == 3.0000000000000004``) does not
    add a step."""
    return math.ceil(round(warmup * batches_per_epoch, 9))


def scheduled_step(step, schedule, warmup, trained, batches_per_epoch, batch_size):
    """``step`` (``step(params, grads, learning_rate, scratch,
    total_weight)``) for the next epoch, at each call taking the rate of that
    step in place of the epoch's rate it is given: the schedule's at the
    step where it moves per batch (:meth:`LearningRateSchedule.at_step`), times
    ``(s + 1) / W`` for the first ``W`` steps ``s`` of training, ``W`` the
    steps of ``warmup`` epochs (PyTorch's ``LinearLR(start_factor=1 / W,
    total_iters=W - 1)`` chained with the schedule). ``trained`` is
    ``(epochs, optimizer steps, samples seen)`` before the epoch. ``step``
    itself where every step of the epoch takes the epoch's rate."""
    epochs, first_step, samples_seen = trained
    n_warmup = warmup_steps(warmup, batches_per_epoch)
    if not schedule.per_batch and first_step >= n_warmup:
        return step
    taken = 0

    def step_at_its_rate(params, grads, epoch_rate, scratch, total_weight):
        nonlocal taken
        seen = samples_seen + taken * batch_size  # every batch before is full
        rate = schedule.at_step(epoch_rate, epochs, taken, batches_per_epoch, seen)
        if first_step + taken < n_warmup:
            rate = rate * (first_step + taken + 1) / n_warmup
        taken += 1
        step(params, grads, rate, scratch, total_weight)

    return step_at_its_rate
