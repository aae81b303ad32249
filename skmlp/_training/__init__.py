from .callbacks import CallbackSupport, begin_fit_task, with_callbacks
from .drivers import SOLVERS, fit_lbfgs, fit_stochastic, stochastic_result
from .plan import FitPlan
from .schedules import SCHEDULE_UNITS, SCHEDULES, LearningRateSchedule
from .state import FittedState
from .trainer import EpochSettings, Trainer, clip_gradient_norm
from .validation import check_scoring, held_out_loss_score, validation_split

__all__ = [
    "SCHEDULES",
    "SCHEDULE_UNITS",
    "SOLVERS",
    "CallbackSupport",
    "EpochSettings",
    "FitPlan",
    "FittedState",
    "LearningRateSchedule",
    "Trainer",
    "begin_fit_task",
    "check_scoring",
    "clip_gradient_norm",
    "fit_lbfgs",
    "fit_stochastic",
    "held_out_loss_score",
    "stochastic_result",
    "validation_split",
    "with_callbacks",
]
