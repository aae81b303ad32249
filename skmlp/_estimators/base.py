"""The estimator shared by the classifier and the regressor: the
scikit-learn contract -- parameters, validation, ``fit`` / ``partial_fit`` and
the fitted state. Data flows down: ``fit`` validates the data, makes a
:class:`~skmlp._training.FitPlan` from the parameters, hands both to a solver
driver (:mod:`skmlp._training.drivers`) and sets its fitted attributes from
the :class:`~skmlp._training.drivers.FitResult` and
:class:`~skmlp._training.FittedState` it returns (:mod:`.fitted`). Saving
and loading are :mod:`.persistence`'s, predicting :mod:`.prediction`'s."""

from abc import ABCMeta, abstractmethod
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    validate_data,
)

from .._backends import (
    BACKENDS,
    BackendUnavailableError,
    explain_out_of_memory,
    get_backend,
    host_input,
    out_of_memory_message,
    supports_sparse,
)
from .._nn import (
    ACTIVATIONS,
    INITIALIZERS,
)
from .._training import (
    SCHEDULE_UNITS,
    SCHEDULES,
    SOLVERS,
    CallbackSupport,
    FitPlan,
    begin_fit_task,
    check_scoring,
    fit_lbfgs,
    fit_stochastic,
    held_out_loss_score,
    stochastic_result,
    validation_split,
    with_callbacks,
)
from .._utils import warn
from .fitted import (
    batch_norm_values,
    held_out_scorer_score,
    kept_flat_params,
    result_attributes,
    snapshots,
    state_attributes,
)
from .persistence import SavedModelSupport
from .prediction import quiet_float_errors


class BaseMLPScratch(SavedModelSupport, CallbackSupport, BaseEstimator, metaclass=ABCMeta):
    """Base class of :class:`MLPClassifierScratch` and :class:`MLPRegressorScratch`.

    Subclasses set how targets are encoded (``_encode_targets``), which output
    layer the network ends with (``_output_layer``) and how a validation set is
    scored (``_validation_scorer``).
    """

    _parameter_constraints: ClassVar[dict] = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "weight_init": [StrOptions(set(INITIALIZERS))],
        "solver": [StrOptions(set(SOLVERS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1": [Interval(Real, 0, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions(set(SCHEDULES))],
        "schedule_unit": [StrOptions(set(SCHEDULE_UNITS))],
        "warmup": [Interval(Real, 0, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "rho": [Interval(Real, 0, 1, closed="left")],
        "step_size": [Interval(Integral, 1, None, closed="left")],
        "gamma": [Interval(Real, 0, None, closed="neither")],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
        "batch_norm": ["boolean"],
        "batch_norm_momentum": [Interval(Real, 0, 1, closed="right")],
        "amsgrad": ["boolean"],
        # Strings are checked against the scorer names by check_scoring.
        "scoring": [None, str, callable],
        "clip_grad_norm": [None, Interval(Real, 0, None, closed="neither")],
        "backend": [StrOptions(set(BACKENDS))],
    }

    @abstractmethod
    def _encode_targets(self, y, incremental):
        """Return ``y`` as the 2-D array the network trains on (setting
        ``classes_`` for a classifier)."""

    @abstractmethod
    def _output_layer(self):
        """The output activation/loss pair as :class:`~skmlp._nn.Network`
        takes it: a name of ``skmlp._nn.OUTPUTS``, or a callable ``backend ->
        output layer`` for a loss with parameters."""

    @abstractmethod
    def _validation_scorer(self, y_val, sample_weight):
        """Return ``score(output) -> float`` for the validation rows."""

    def _training_targets(self, Y):
        """The targets the loss is minimised against (the classifier's
        ``label_smoothing``); held-out scores see ``Y`` itself."""
        return Y

    def _validate_params(self):
        super()._validate_params()
        check_scoring(self.scoring)

    # ------------------------------------------------------------------ fit
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data. Sparse CSR/CSC matrices are used without being
            densified.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values (class labels in classification, real numbers
            in regression).

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample's loss; None weighs all
            equally. Not all zero.

        Returns
        -------
        self : object
            The fitted estimator.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skmlp import MLPClassifierScratch
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = MLPClassifierScratch(hidden_layer_sizes=(16,), learning_rate_init=0.01,
        ...                            max_iter=1000, random_state=0).fit(X, y)
        >>> clf.n_iter_ == len(clf.loss_curve_), clf.score(X, y) > 0.9
        (True, True)
        """
        self._validate_params()
        return self._fit(X, y, sample_weight, incremental=False)

    def _check_solver(self):
        """``partial_fit`` exists for the stochastic solvers only, as in
        scikit-learn (used with ``available_if``)."""
        if self.solver == "lbfgs":
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. "
                "lbfgs is not stochastic. Use fit, or choose solver='adam', "
                "'sgd' or 'rmsprop'."
            )
        return True

    def _partial_fit(self, X, y, sample_weight):
        self._validate_params()
        return self._fit(X, y, sample_weight, incremental=True)

    @with_callbacks
    def _fit(self, X, y, sample_weight, incremental):
        plan = FitPlan.from_params(self.get_params(deep=False), incremental)
        first_pass = not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental
        )
        X, y, Y, sample_weight = self._fit_data(
            X, y, sample_weight, incremental, first_pass
        )
        backend = get_backend(self.backend)

        def out_of_memory():
            n_samples = X.shape[0]
            units = plan.layer_units(X.shape[1], Y.shape[1])
            batch_size = plan.rows_per_batch(n_samples)
            return out_of_memory_message(
                n_samples, units, batch_size, X.dtype, plan.lbfgs
            )

        # Overflow to inf or NaN is detected and reported as a whole (a NaN
        # loss counts as no improvement; non-finite weights raise below), not
        # as NumPy's RuntimeWarnings from deep inside.
        with explain_out_of_memory(backend, out_of_memory), quiet_float_errors():
            network = self._starting_network(plan, X, Y, backend, first_pass)
            task = begin_fit_task(self, X, y, sample_weight, plan.max_steps)
            trainer = None if first_pass else self._trainer
            if plan.lbfgs:
                result, fitted = self._fit_lbfgs(
                    plan, network, X, Y, sample_weight, trainer, task
                )
            else:
                result, fitted = self._fit_stochastic(
                    plan, network, X, y, Y, sample_weight, trainer, task
                )
        self._set_fitted(result, fitted)
        if not fitted.is_finite():
            raise ValueError(self._diverged_message())
        if not (plan.lbfgs or incremental or result.stopped):
            warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                "reached and the optimization hasn't converged yet.",
                ConvergenceWarning,
            )
        task.end()
        return self

    def _fit_data(self, X, y, sample_weight, incremental, first_pass):
        """``X``, ``y`` and ``sample_weight`` validated, the targets encoded
        as the network's outputs (``Y``) and the sample weights times any
        class weights."""
        X, y = validate_data(
            self,
            host_input(X),
            host_input(y),
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=not is_classifier(self),
            dtype=(np.float64, np.float32),
            reset=first_pass,
        )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=X.dtype, ensure_non_negative=True
            )
            # scikit-learn's words; its check says so itself only from 1.7.
            if not sample_weight.any():
                raise ValueError(
                    "Sample weights must contain at least one non-zero number."
                )
        Y = self._encode_targets(y, incremental).astype(X.dtype, copy=False)
        return X, y, Y, self._weigh_samples(y, sample_weight, X.dtype)

    def _starting_network(self, plan, X, Y, backend, first_pass):
        """The planned network on ``backend``: newly drawn on a first pass,
        else with the fitted weights (warm_start, partial_fit); seeded with
        the call's random stream."""
        network = plan.network(
            X.shape[1], Y.shape[1], self._output_layer(), backend, X.dtype
        )
        if first_pass or not plan.incremental:
            # A fresh stream per fit; partial_fit keeps drawing from the last.
            self._random_state = check_random_state(self.random_state)
        if first_pass:
            network.initialize(self._random_state, plan.weight_init)
        else:
            network.set_layers(self.coefs_, self.intercepts_)
            network.set_batch_norm(*batch_norm_values(self))
        network.seed(self._random_state)
        return network

    def _diverged_message(self):
        """scikit-learn's words for diverged weights (its tests match them),
        then what to change."""
        message = (
            "Solver produced non-finite parameter weights. The input data may"
            " contain large values and need to be preprocessed."
            " Scale the inputs (e.g. StandardScaler in a Pipeline)"
        )
        if self.solver == "lbfgs":
            return message + "."
        return (
            message + ", lower learning_rate_init (it is "
            f"{self.learning_rate_init:g}) or set clip_grad_norm (e.g. 1.0)."
        )

    def _fit_lbfgs(self, plan, network, X, Y, sample_weight, trainer, task):
        """Full-batch L-BFGS from the network's current weights."""
        backend = network.backend
        X = backend.input(X)
        return fit_lbfgs(
            plan,
            network,
            X,
            backend.to_device(self._training_targets(Y)),
            None if sample_weight is None else backend.to_device(sample_weight),
            trainer,
            steps=task.steps(
                "iteration", snapshots(network, lambda n: {"n_iter_": n}, X)
            ),
        )

    def _fit_stochastic(self, plan, network, X, y, Y, sample_weight, trainer, task):
        """Mini-batch epochs with the solver's optimizer, whose state is kept
        across warm_start / partial_fit."""
        backend = network.backend
        trainer = plan.trainer(trainer)
        rows, validation_score = None, None
        if plan.early_stopping:
            rows, validation_score = self._validation_split(X, y, Y, sample_weight)

        def history(n_iter):
            return result_attributes(
                stochastic_result(trainer, n_iter, plan.early_stopping)
            )

        # Uploaded once; every epoch shuffles and gathers on the device.
        return fit_stochastic(
            plan,
            trainer,
            network,
            backend.input(X),
            backend.to_device(self._training_targets(Y)),
            random_state=self._random_state,
            rows=rows,
            validation_score=validation_score,
            sample_weight=sample_weight,
            steps=task.steps("epoch", snapshots(network, history), rows),
        )

    def _validation_split(self, X, y, Y, sample_weight):
        """Rows to train on, and the score of the held-out rows."""
        train_rows, val_rows = validation_split(
            Y,
            sample_weight,
            self.validation_fraction,
            self._random_state,
            self._stratify_validation(),
        )
        val_weight = None if sample_weight is None else sample_weight[val_rows]
        if self.scoring not in (None, "loss"):
            return train_rows, held_out_scorer_score(
                self, self.scoring, X[val_rows], y[val_rows], val_weight
            )
        backend = get_backend(self.backend)
        X_val = backend.input(X[val_rows])
        if self.scoring == "loss":
            Y_val = backend.to_device(Y[val_rows])
            if val_weight is not None:
                val_weight = backend.to_device(val_weight, Y.dtype)
            return train_rows, held_out_loss_score(X_val, Y_val, val_weight)
        score = self._validation_scorer(y[val_rows], val_weight)

        def validation_score(network):
            return score(backend.to_host(network.predict(X_val)))

        return train_rows, validation_score

    def _stratify_validation(self):
        return False

    def _weigh_samples(self, y, sample_weight, dtype):
        """The sample weights to train with (a classifier multiplies in its
        class weights)."""
        return sample_weight

    def _set_fitted(self, result, fitted):
        """Set the fitted attributes: how training went (``result``, a
        :class:`~skmlp._training.drivers.FitResult`) and the network and trainer it
        left (``fitted``, a :class:`~skmlp._training.FittedState`). The one
        place fit sets them."""
        vars(self).update(
            result_attributes(result), **state_attributes(fitted), _trainer=fitted.trainer
        )

    # -------------------------------------------------------------- predict
    def __sklearn_is_fitted__(self):
        # The weights, which predict needs (scanning every attribute for a
        # trailing underscore, check_is_fitted's default, also counts a fit
        # that failed before setting them).
        return hasattr(self, "coefs_")

    def _prediction_backend(self):
        """The backend to predict with: a model trained on a GPU still
        predicts (on NumPy, with a warning) where CuPy cannot run."""
        try:
            return get_backend(self.backend)
        except BackendUnavailableError as exc:
            warn(
                f"{exc} Predicting with NumPy instead; "
                "set_params(backend='numpy') to move the model to the CPU.",
                UserWarning,
            )
            return get_backend("numpy")

    def _kept_flat_params(self):
        """See :func:`~.fitted.kept_flat_params`."""
        return kept_flat_params(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = supports_sparse(self.backend)
        tags.target_tags.multi_output = True
        return tags
