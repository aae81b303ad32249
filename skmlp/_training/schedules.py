"""Learning-rate schedules, applied at the end of every epoch for every solver.

A schedule holds no state of its own: the trainer keeps the current rate and
the counters, so a schedule can be rebuilt from the estimator's parameters at
every call to ``fit`` or ``partial_fit``.
"""

import math
from dataclasses import dataclass

SCHEDULES = ("constant", "invscaling", "adaptive", "step", "cosine")

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
    """

    kind: str
    learning_rate_init: float
    power_t: float
    step_size: int
    gamma: float
    # The estimator's max_iter for 'cosine'; None for the other schedules, so
    # that a changed max_iter does not count as a changed schedule for them.
    cosine_period: int | None = None

    def after_epoch(self, rate, epochs_done, samples_seen):
        """The rate to use once ``epochs_done`` epochs have been trained."""
        if self.kind == "invscaling":
            return self.learning_rate_init / (samples_seen + 1) ** self.power_t
        if self.kind == "step":
            return self.learning_rate_init * self.gamma ** (epochs_done // self.step_size)
        if self.kind == "cosine":
            cycle_epoch = epochs_done % self.cosine_period
            return (
                self.learning_rate_init
                * (1 + math.cos(math.pi * cycle_epoch / self.cosine_period))
                / 2
            )
        return rate

    def on_plateau(self, rate):
        """The rate to go on with when the stop rule fires, or ``None`` to stop."""
        if self.kind == "adaptive" and rate > MIN_ADAPTIVE_RATE:
            return rate / 5.0
        return None
