"""The estimator shared by the classifier and the regressor: the
scikit-learn contract -- parameters, validation, ``fit`` / ``partial_fit`` and
the fitted state. Training itself is the solver drivers' (:mod:`._solvers`):
``fit`` builds the network and the solver's objects from the parameters, runs
the driver and reads its :class:`~._solvers.FitResult`."""

from abc import ABCMeta, abstractmethod
from itertools import pairwise
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.fixes import parse_version
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from .._backends import (
    BACKENDS,
    BackendUnavailableError,
    explain_out_of_memory,
    get_backend,
    host_input,
    out_of_memory_message,
    predict_out_of_memory_message,
    supports_sparse,
)
from .._nn import (
    ACTIVATIONS,
    INITIALIZERS,
    MAX_REUSED_ROWS,
    OPTIMIZERS,
    PREDICT_CHUNK_ROWS,
    REGRESSION_LOSSES,
    Network,
    Penalty,
    ReusedNetwork,
    layer_views,
    paired_views,
)
from .._training import (
    SCHEDULES,
    SOLVERS,
    CallbackSupport,
    EpochSettings,
    LearningRateSchedule,
    Trainer,
    begin_fit_task,
    check_scoring,
    fit_lbfgs,
    fit_stochastic,
    held_out_loss_score,
    held_out_scorer_score,
    stochastic_result,
    with_callbacks,
)
from .._utils import warn
from .._version import __version__


class BaseMLPScratch(CallbackSupport, BaseEstimator, metaclass=ABCMeta):
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
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions(set(SCHEDULES))],
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
        """The output activation/loss pair as :class:`~._network.Network`
        takes it: a name of ``_losses.OUTPUTS``, or a callable ``backend ->
        output layer`` for a loss with parameters."""

    @abstractmethod
    def _validation_scorer(self, y_val, sample_weight):
        """Return ``score(output) -> float`` for the validation rows."""

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
        if self.solver == "lbfgs" and self.clip_grad_norm is not None:
            raise ValueError(
                f"clip_grad_norm={self.clip_grad_norm!r} applies to the stochastic "
                "solvers only: L-BFGS's line search chooses its own step lengths. "
                "Set clip_grad_norm=None, or use solver='adam', 'sgd' or 'rmsprop'."
            )
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
        if self.early_stopping:
            raise ValueError(
                "partial_fit does not support early_stopping=True: there is no "
                "held-out set across calls. Use fit, or set early_stopping=False."
            )
        return self._fit(X, y, sample_weight, incremental=True)

    def _hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = list(sizes) if np.iterable(sizes) else [sizes]
        if not all(isinstance(s, Integral) and s > 0 for s in sizes):
            raise ValueError(
                f"hidden_layer_sizes must be positive integers, got {sizes}."
            )
        return [int(s) for s in sizes]

    def _dropout_rates(self, n_hidden):
        """One dropout rate per hidden layer, checked."""
        if not np.iterable(self.dropout):
            return [float(self.dropout)] * n_hidden
        rates = [float(rate) for rate in self.dropout]
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
        return rates

    @with_callbacks
    def _fit(self, X, y, sample_weight, incremental):
        hidden_sizes = self._hidden_layer_sizes()
        first_pass = not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental
        )
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
        sample_weight = self._weigh_samples(y, sample_weight, X.dtype)
        backend = get_backend(self.backend)
        layer_units = [X.shape[1], *hidden_sizes, Y.shape[1]]
        lbfgs = self.solver == "lbfgs"
        dropout = self._dropout_rates(len(hidden_sizes))
        if lbfgs and any(dropout):
            raise ValueError(
                "dropout does not work with solver='lbfgs': L-BFGS's line "
                "search compares the loss at several points, which needs one "
                "deterministic objective, and dropout draws a new random mask "
                "at every evaluation. Use a stochastic solver (solver='adam', "
                "'sgd' or 'rmsprop'), or set dropout=0."
            )

        def out_of_memory():
            n_samples = X.shape[0]
            return out_of_memory_message(
                n_samples, layer_units, self._batch_size(n_samples), X.dtype, lbfgs
            )

        # Overflow to inf or NaN is detected and reported as a whole (a NaN
        # loss counts as no improvement; non-finite weights raise below), not
        # as NumPy's RuntimeWarnings from deep inside.
        with explain_out_of_memory(backend, out_of_memory), _quiet_float_errors():
            network = Network(
                layer_units,
                self.activation,
                self._output_layer(),
                backend,
                X.dtype,
                penalty=Penalty(alpha=self.alpha, l1=self.l1),
                dropout=dropout,
                batch_norm=self.batch_norm,
                batch_norm_momentum=self.batch_norm_momentum,
            )
            if first_pass or not incremental:
                # A fresh stream per fit; partial_fit keeps drawing from the last.
                self._random_state = check_random_state(self.random_state)
            if first_pass:
                network.initialize(self._random_state, self.weight_init)
                self._trainer = None
                self.n_outputs_ = Y.shape[1]
                self.n_layers_ = len(layer_units)
            else:
                network.set_layers(self.coefs_, self.intercepts_)
                network.set_batch_norm(*self._batch_norm_values())
            network.seed(self._random_state)
            # Every call, as a continued fit may train with a changed ``loss``.
            self.out_activation_ = network.output.name

            if lbfgs:  # It begins one more iteration than it runs (see _lbfgs).
                max_steps = self.max_iter + 1
            else:
                max_steps = 1 if incremental else self.max_iter
            task = begin_fit_task(self, X, y, sample_weight, max_steps)
            if lbfgs:
                result = self._fit_lbfgs(network, X, Y, sample_weight, task)
            else:
                result = self._fit_stochastic(
                    network, X, y, Y, sample_weight, incremental, task
                )
        self._set_result(result)

        self._keep_layers(backend.to_host(network.params), network.shapes)
        self._keep_running_statistics(backend.to_host(network.state))
        fitted = [
            *self._trainable_layers(),
            *self.batch_norm_running_means_,
            *self.batch_norm_running_vars_,
        ]
        if not all(np.isfinite(values).all() for values in fitted):
            raise ValueError(self._diverged_message())
        if not (lbfgs or incremental or result.stopped):
            warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                "reached and the optimization hasn't converged yet.",
                ConvergenceWarning,
            )
        task.end()
        return self

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

    def _snapshot(self, network, attributes, X=None):
        """``snapshot(params, n_steps, state)`` for the callbacks: the fitted
        attributes of the model with weights ``params`` (on the network's
        backend, or SciPy's float64) and the network's ``state`` after
        ``n_steps`` steps of this call: its layers, running statistics and
        ``attributes(n_steps)``. A ``state`` of None is the one fit_lbfgs
        ends with: the statistics of all rows of ``X`` (the network's input)
        at ``params``."""
        backend, dtype, shapes = network.backend, network.params.dtype, network.shapes

        def snapshot(params, n_steps, state):
            flat = np.array(backend.to_host(params), dtype=dtype)  # a copy
            if state is None:
                state = network.running_statistics_at(params, X)
            layers = _layer_attributes(flat, shapes)
            return {
                **layers,
                **_running_statistics(backend.to_host(state), layers["coefs_"]),
                **attributes(n_steps),
            }

        return snapshot

    def _fit_lbfgs(self, network, X, Y, sample_weight, task):
        """Full-batch L-BFGS from the network's current weights."""
        backend = network.backend
        X = backend.input(X)
        return fit_lbfgs(
            network,
            X,
            backend.to_device(Y),
            None if sample_weight is None else backend.to_device(sample_weight),
            max_iter=self.max_iter,
            max_fun=self.max_fun,
            tol=self.tol,
            verbose=bool(self.verbose),
            samples_seen=0 if self._trainer is None else self._trainer.samples_seen,
            steps=task.steps(
                "iteration", self._snapshot(network, lambda n: {"n_iter_": n}, X)
            ),
        )

    def _fit_stochastic(self, network, X, y, Y, sample_weight, incremental, task):
        """Mini-batch epochs with the solver's optimizer, whose state is kept
        across warm_start / partial_fit."""
        backend = network.backend
        if self._trainer is None:
            self._trainer = Trainer(self._new_optimizer())
        else:
            self._update_optimizer()

        rows, validation_score = None, None
        if self.early_stopping:
            rows, validation_score = self._validation_split(X, y, Y, sample_weight)

        n_samples = X.shape[0] if rows is None else len(rows)
        batch_size = self._batch_size(n_samples)
        if self.batch_size != "auto" and self.batch_size > n_samples:
            warn(
                f"Got batch_size={self.batch_size} larger than the {n_samples} "
                "training samples; using all of them in each batch."
            )
        settings = EpochSettings(
            batch_size=batch_size,
            max_epochs=1 if incremental else self.max_iter,
            shuffle=self.shuffle,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            verbose=bool(self.verbose),
            scoring=self.scoring,
            clip_grad_norm=self.clip_grad_norm,
        )
        schedule = LearningRateSchedule(
            self.learning_rate,
            self.learning_rate_init,
            self.power_t,
            self.step_size,
            self.gamma,
            cosine_period=self.max_iter if self.learning_rate == "cosine" else None,
        )
        # Uploaded once; every epoch shuffles and gathers on the device.
        return fit_stochastic(
            self._trainer,
            network,
            backend.input(X),
            backend.to_device(Y),
            settings=settings,
            schedule=schedule,
            random_state=self._random_state,
            rows=rows,
            validation_score=validation_score,
            sample_weight=sample_weight,
            steps=task.steps("epoch", self._snapshot(network, self._history), rows),
        )

    def _batch_size(self, n_samples):
        """Rows per mini-batch when training on ``n_samples`` rows."""
        size = 200 if self.batch_size == "auto" else self.batch_size
        return min(size, n_samples)

    def _validation_split(self, X, y, Y, sample_weight):
        """Rows to train on, and the scorer of the held-out rows."""
        n_samples = X.shape[0]
        n_validation = int(np.ceil(self.validation_fraction * n_samples))
        if n_validation < 2 or n_samples - n_validation < 1:
            raise ValueError(
                f"The validation set is too small ({n_validation} of {n_samples} "
                "samples). Increase 'validation_fraction' or the size of your "
                "dataset, or set early_stopping=False."
            )
        stratify = None
        if self._stratify_validation() and _can_stratify(Y, n_validation):
            stratify = Y
        train_rows, val_rows = train_test_split(
            np.arange(n_samples),
            random_state=self._random_state,
            test_size=self.validation_fraction,
            stratify=stratify,
        )
        val_weight = None
        if sample_weight is not None:
            val_weight = sample_weight[val_rows]
            for name, weights in (
                ("training", sample_weight[train_rows]),
                ("validation", val_weight),
            ):
                if not weights.any():
                    raise ValueError(
                        f"The sample weights of the {name} set left by the "
                        "early-stopping split are all zero. Use another "
                        "random_state or validation_fraction, or set "
                        "early_stopping=False."
                    )
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

    # ----------------------------------------------------- optimizer state
    def _new_optimizer(self):
        if self.solver == "sgd":
            return OPTIMIZERS["sgd"](self.momentum, self.nesterovs_momentum)
        if self.solver == "adam":
            return OPTIMIZERS["adam"](
                self.beta_1, self.beta_2, self.epsilon, self.amsgrad
            )
        return OPTIMIZERS["rmsprop"](self.rho, self.epsilon)

    def _update_optimizer(self):
        """Keep the optimizer state across warm_start / partial_fit; take the
        current hyper-parameters. A changed solver starts a fresh optimizer."""
        fresh = self._new_optimizer()
        if type(fresh) is type(self._trainer.optimizer):
            fresh.continue_from(self._trainer.optimizer)
        self._trainer.optimizer = fresh

    def _set_result(self, result):
        """The fitted attributes that say how training went."""
        for name, value in _result_attributes(result).items():
            setattr(self, name, value)

    def _history(self, n_iter):
        """The fitted attributes of the stochastic training so far, this call
        having run ``n_iter`` epochs."""
        return _result_attributes(
            stochastic_result(self._trainer, n_iter, early_stopping=self.early_stopping)
        )

    # -------------------------------------------------------------- predict
    def _forward(self, X):
        """Output layer values for ``X`` from the current ``coefs_`` and
        ``intercepts_`` (which may have been replaced by the user)."""
        check_is_fitted(self)
        if not self._plainly_valid(X):
            X = validate_data(
                self,
                host_input(X),
                accept_sparse=["csr", "csc"],
                dtype=(np.float64, np.float32),
                reset=False,
            )
        backend = self._prediction_backend()
        dtype = np.result_type(X.dtype, self.coefs_[0].dtype)
        units = [self.n_features_in_, *(c.shape[1] for c in self.coefs_)]
        params, reused = self._kept_flat_params()
        if backend.shares_host_memory and params is not None and params.dtype == dtype:
            # No copy of the weights: a one-row predict would spend most of
            # its time copying them (and, but for the reused network, most of
            # the rest building the network).
            def build():
                return self._prediction_network(units, backend, dtype, params)

            with _quiet_float_errors():
                if X.shape[0] > MAX_REUSED_ROWS:
                    return build().predict(backend.input(X, dtype))
                key = (backend.name, dtype, tuple(units), self.activation,
                       self.out_activation_, bool(self._batch_norm_values()[0]))
                with reused.borrow(key, params, build) as network:
                    # Running statistics are copied in (small), not viewed:
                    # edits of them show as well.
                    network.set_batch_norm(*self._batch_norm_values())
                    return network.predict(backend.input(X, dtype))

        def out_of_memory():
            return predict_out_of_memory_message(
                X.shape[0], units, dtype, PREDICT_CHUNK_ROWS
            )

        with explain_out_of_memory(backend, out_of_memory), _quiet_float_errors():
            network = self._prediction_network(units, backend, dtype)
            output = network.predict(backend.input(X, dtype))
            return backend.to_host(output)

    def _plainly_valid(self, X):
        """Whether ``X`` is a few rows that ``validate_data`` would pass as
        they are: a 2-D NumPy float array of at least one row, finite, with
        the fitted number of columns, for a model fitted without feature
        names. Those checks take microseconds; ``validate_data``'s general
        machinery (data frames, array namespaces, dtype conversions) a third
        of a one-row prediction's time. Anything else, valid or not, goes
        through ``validate_data``, which converts it or raises its errors."""
        return (
            type(X) is np.ndarray
            and X.ndim == 2
            and 0 < X.shape[0] <= MAX_REUSED_ROWS
            and X.shape[1] == getattr(self, "n_features_in_", None)
            and X.dtype in (np.float32, np.float64)
            and not hasattr(self, "feature_names_in_")
            and bool(np.isfinite(X).all())
        )

    def __sklearn_is_fitted__(self):
        # The weights, which predict needs (scanning every attribute for a
        # trailing underscore, check_is_fitted's default, also counts a fit
        # that failed before setting them).
        return hasattr(self, "coefs_")

    def _prediction_network(self, units, backend, dtype, params=None):
        """A network of the fitted model: over ``params`` (the flat host
        array behind the fitted weights) without copying, or with the
        weights copied in."""
        batch_norm_values = self._batch_norm_values()
        network = Network(
            units,
            self.activation,
            self.out_activation_,
            backend,
            dtype,
            params,
            batch_norm=bool(batch_norm_values[0]),
        )
        if params is None:
            network.set_layers(self.coefs_, self.intercepts_)
        # Running statistics live apart from params: always copied (small).
        network.set_batch_norm(*batch_norm_values)
        return network

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

    # ------------------------------------------------ the fitted weights
    def _keep_layers(self, flat, shapes):
        """Set ``coefs_``, ``intercepts_`` and the batch normalizations'
        scales and shifts to the per-layer views of the flat host array
        ``flat`` (the network's layout) and remember them."""
        for name, value in _layer_attributes(flat, shapes).items():
            setattr(self, name, value)

    def _keep_running_statistics(self, state):
        """Set the running means and variances from the network's host
        ``state`` buffer."""
        for name, value in _running_statistics(state, self.coefs_).items():
            setattr(self, name, value)

    def _trainable_layers(self):
        """Every per-layer array of ``params``, in the flat buffer's order."""
        scales = getattr(self, "batch_norm_scales_", [])
        shifts = getattr(self, "batch_norm_shifts_", [])
        return [
            *self.coefs_,
            *self.intercepts_,
            *(a for pair in zip(scales, shifts) for a in pair),
        ]

    def _batch_norm_values(self):
        """Scales, shifts, running means and variances, as
        :meth:`Network.set_batch_norm` takes them (empty lists for a model
        without batch normalization, or weights set by hand)."""
        return tuple(getattr(self, name, []) for name in _BATCH_NORM_ATTRIBUTES)

    def _kept_flat_params(self):
        """The flat array behind ``coefs_``, ``intercepts_`` (and the batch
        normalizations' scales and shifts) while they still hold the views
        that fit made (edited in place or not), else None: the user assigned
        other arrays, which must then be copied (also where no fit made any:
        weights set on a fresh estimator). With it, the
        :class:`~._prediction.ReusedNetwork` over it (else None)."""
        flat, kept, reused = getattr(self, "_flat_layers", (None, (), None))
        layers = self._trainable_layers()
        if (
            flat is not None
            and len(layers) == len(kept)
            and all(a is b for a, b in zip(layers, kept))
        ):
            return flat, reused
        return None, None

    def __copy__(self):
        """A shallow copy, as Python makes one by default: not the round trip
        of :meth:`__getstate__` and :meth:`__setstate__`, which are for
        saving. scikit-learn's callbacks copy the estimator in mid-fit for
        each ``fitted_estimator``, when the optimizer state may still be on
        the GPU (and every check of a saved model would run at every step)."""
        copied = type(self).__new__(type(self))
        vars(copied).update(vars(self))
        return copied

    def __getstate__(self):
        """The fitted state as builtins and NumPy arrays only (the trainer and
        its optimizer as dicts of numbers and arrays; scikit-learn's
        LabelBinarizer and NumPy's RandomState as they are), so that skops
        needs to trust no class but the estimator's. The flat weight array is
        saved through ``coefs_`` and ``intercepts_`` alone."""
        # A copy: the state returned may be the instance's own __dict__.
        state = dict(super().__getstate__())
        state.pop("_flat_layers", None)
        if isinstance(state.get("_trainer"), Trainer):
            state["_trainer"] = state["_trainer"].get_state()
        state["_skmlp_version"] = __version__
        return state

    def __setstate__(self, state):
        """Rebuild what :meth:`__getstate__` made plain, checking that it
        forms this network: a damaged file, or one whose layers, counts,
        batch normalization, classes, output layer and optimizer state do not
        fit together, raises a ValueError naming the attribute instead of
        loading a different model (:func:`_check_saved_model`). Parameters an
        older version did not have take their defaults, which train as that
        version did."""
        state = dict(state)
        _check_saved_version(state.pop("_skmlp_version", None))
        trainer = state.pop("_trainer", None)
        defaults = {
            name: value
            for name, value in type(self)().get_params(deep=False).items()
            if name not in state
        }
        super().__setstate__({**defaults, **state})
        if "coefs_" not in state:
            return
        _check_saved_model(self)
        if isinstance(trainer, dict):
            n_params = sum(a.size for a in self._trainable_layers())
            trainer = Trainer.from_state(trainer, n_params)
        self._trainer = trainer
        # Saving stores each layer's array on its own: gather them again into
        # one flat array, as fit leaves them, so predict need not copy.
        # Layers of different dtypes (assigned by hand) are kept as they
        # are, for predict to convert.
        layers = self._trainable_layers()
        if len({a.dtype for a in layers}) == 1:
            flat = np.concatenate([a.ravel() for a in layers])
            self._keep_layers(flat, [c.shape for c in self.coefs_])
        else:
            self._flat_layers = (None, (), None)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = supports_sparse(self.backend)
        tags.target_tags.multi_output = True
        return tags


def _result_attributes(result):
    """The fitted attributes of a :class:`~._solvers.FitResult`, with copies
    of its lists (training may go on appending to them)."""
    return {
        "n_iter_": result.n_iter,
        "t_": result.t,
        "loss_curve_": list(result.loss_curve),
        "loss_": result.loss,
        "best_loss_": result.best_loss,
        "validation_scores_": (
            None if result.validation_scores is None else list(result.validation_scores)
        ),
        "best_validation_score_": result.best_validation_score,
    }


def _layer_attributes(flat, shapes):
    """``coefs_``, ``intercepts_`` and the batch normalizations' scales and
    shifts as views of the flat host array ``flat``, and the record that they
    are (``_kept_flat_params``), with the network to predict small batches
    with (made when first needed)."""
    coefs, intercepts = layer_views(flat, shapes)
    n_dense = sum(fan_in * fan_out + fan_out for fan_in, fan_out in shapes)
    scales, shifts = paired_views(flat, n_dense, coefs)
    trainable = [*coefs, *intercepts, *(a for pair in zip(scales, shifts) for a in pair)]
    return {
        "coefs_": coefs,
        "intercepts_": intercepts,
        "batch_norm_scales_": scales,
        "batch_norm_shifts_": shifts,
        "_flat_layers": (flat, tuple(trainable), ReusedNetwork()),
    }


def _running_statistics(state, coefs):
    """The running means and variances of the network's host ``state``
    buffer, for the dense layers of weight matrices ``coefs``: copies, so
    that each pickles on its own."""
    means, variances = paired_views(state, 0, coefs)
    return {
        "batch_norm_running_means_": [mean.copy() for mean in means],
        "batch_norm_running_vars_": [var.copy() for var in variances],
    }


def _quiet_float_errors():
    """No NumPy RuntimeWarning for overflow, division by zero or invalid
    values: predictions carry inf/NaN as values, and fit reports divergence
    once, in its own words. (CuPy never warns about these.)"""
    return np.errstate(over="ignore", divide="ignore", invalid="ignore")


# ------------------------------------------------------ loading a saved model
# __setstate__ runs these checks on every pickle and skops file (and on
# copy.deepcopy) before the model is used. Every fitted attribute that
# predict reads must agree with the others: one that does not would load
# into a model that predicts something else.

_DAMAGED = (
    "the file is damaged or was edited. Load an intact copy, or fit the "
    "model again."
)

_BATCH_NORM_ATTRIBUTES = (
    "batch_norm_scales_",
    "batch_norm_shifts_",
    "batch_norm_running_means_",
    "batch_norm_running_vars_",
)

# The kinds of target a classifier's LabelBinarizer is fitted on.
_CLASSIFIER_TARGETS = ("binary", "multiclass", "multilabel-indicator")


def _check_saved_version(saved):
    """A model saved by a newer skmlp may hold state this one would ignore."""
    if saved is not None and parse_version(saved) > parse_version(__version__):
        raise ValueError(
            f"The model was saved by skmlp {saved}, newer than this skmlp "
            f"{__version__}: upgrade skmlp to load it."
        )


def _check_saved_model(model):
    """Raise a ValueError that names the attribute unless the fitted
    attributes of the loaded ``model`` describe one network as fit leaves
    it: its arrays, the counts and parameters that describe them, and the
    output layer and classes its targets call for."""
    _check_saved_layers(model)
    _check_saved_counts(model)
    _check_saved_batch_norm(model)
    _check_saved_activation(model)
    if is_classifier(model):
        _check_saved_classes(model)
    _check_saved_output(model)


def _check_saved_layers(model):
    """``coefs_``, ``intercepts_`` and the batch normalizations' values are
    lists of finite float arrays, of the shapes of a network of
    ``n_features_in_`` inputs."""
    coefs, intercepts = model.coefs_, model.intercepts_
    batch_norm = model._batch_norm_values()
    arrays = {
        "coefs_": coefs,
        "intercepts_": intercepts,
        **dict(zip(_BATCH_NORM_ATTRIBUTES, batch_norm)),
    }
    for name, values in arrays.items():
        if not isinstance(values, (list, tuple)) or not all(
            isinstance(a, np.ndarray) and a.dtype.kind == "f" and np.isfinite(a).all()
            for a in values
        ):
            raise ValueError(
                f"The saved {name} is not a list of finite float arrays: {_DAMAGED}"
            )
    n_features = getattr(model, "n_features_in_", None)
    if not _layers_fit_together(coefs, intercepts, n_features):
        shapes = [a.shape for a in coefs], [a.shape for a in intercepts]
        raise ValueError(
            f"The saved coefs_ and intercepts_ (shapes {shapes[0]} and "
            f"{shapes[1]}) do not form a network of n_features_in_={n_features} "
            "inputs: their layers were replaced by ones of another layout, or "
            f"{_DAMAGED}"
        )
    if not _batch_norm_fits(coefs, *batch_norm):
        raise ValueError(
            "The saved batch-normalization values (batch_norm_scales_, "
            "batch_norm_shifts_, batch_norm_running_means_ and "
            "batch_norm_running_vars_) are not one vector of each per hidden "
            f"layer, of its width: {_DAMAGED}"
        )


def _layers_fit_together(coefs, intercepts, n_features):
    """Whether ``coefs`` and ``intercepts`` have the shapes of a network with
    ``n_features`` inputs, as fit leaves them: re-slicing any others into
    that layout would change the model instead of refusing it."""
    if not coefs or len(intercepts) != len(coefs) or any(c.ndim != 2 for c in coefs):
        return False
    units = [n_features, *(c.shape[1] for c in coefs)]
    return all(
        c.shape == shape and b.shape == shape[1:]
        for c, b, shape in zip(coefs, intercepts, pairwise(units))
    )


def _batch_norm_fits(coefs, scales, shifts, means, variances):
    """Whether the batch-normalization values are none, or one of each per
    hidden layer of its width, as fit leaves them."""
    given = (scales, shifts, means, variances)
    if not scales:
        return not any(given)
    widths = [c.shape[1] for c in coefs[:-1]]
    return all(
        [a.shape for a in values] == [(w,) for w in widths] for values in given
    )


def _check_saved_counts(model):
    """``n_features_in_``, ``n_layers_`` and ``n_outputs_`` are the integers
    the layers make them."""
    coefs = model.coefs_
    counts = {
        "n_features_in_": coefs[0].shape[0],
        "n_layers_": len(coefs) + 1,
        "n_outputs_": coefs[-1].shape[1],
    }
    for name, count in counts.items():
        value = getattr(model, name, None)
        if isinstance(value, bool) or not isinstance(value, Integral) or value != count:
            raise ValueError(
                f"The saved {name} is {value!r}, but the saved coefs_ make it the "
                f"integer {count}: {_DAMAGED}"
            )


def _check_saved_batch_norm(model):
    """The running variances are not negative (inference takes their square
    root), and the ``batch_norm`` parameter says whether the network has
    batch normalization: it does after a fit with ``batch_norm=True`` and at
    least one hidden layer."""
    variances = model._batch_norm_values()[3]
    if any((v < 0).any() for v in variances):
        raise ValueError(
            "The saved batch_norm_running_vars_ has negative values, which no "
            f"variance has (inference takes their square root): {_DAMAGED}"
        )
    batch_norm = model.batch_norm
    n_hidden = len(model.coefs_) - 1
    if bool(variances) != (bool(batch_norm) and n_hidden > 0):
        has = "holds" if variances else "holds no"
        raise ValueError(
            f"The saved batch_norm={batch_norm!r} does not match the file, which "
            f"{has} batch-normalization values (batch_norm_scales_ and the "
            f"others) for its {n_hidden} hidden layer(s): a batch_norm set by "
            "set_params after fitting, without fitting again, also does this "
            f"(fit again before saving); otherwise {_DAMAGED}"
        )


def _check_saved_activation(model):
    """``activation`` is one that the network can be built with."""
    activation = model.activation
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(
            f"The saved activation={activation!r} is not one of skmlp's "
            f"hidden activations {sorted(ACTIVATIONS)}: {_DAMAGED}"
        )


def _check_saved_classes(model):
    """A classifier's ``_label_binarizer``, which predict maps the outputs
    through, is the LabelBinarizer fit makes (labels 0 and 1, targets of a
    kind skmlp trains on); ``classes_`` are its classes, sorted and unique
    (the order the outputs were trained in), in as many output columns as
    they need: one for two classes (or one), one per class or label
    otherwise."""
    binarizer = getattr(model, "_label_binarizer", None)
    if not (
        isinstance(binarizer, LabelBinarizer)
        and getattr(binarizer, "y_type_", None) in _CLASSIFIER_TARGETS
        and (binarizer.neg_label, binarizer.pos_label) == (0, 1)
    ):
        raise ValueError(
            "The saved _label_binarizer is not the LabelBinarizer fit makes (of "
            "labels 0 and 1, for binary, multiclass or multilabel targets): "
            f"{_DAMAGED}"
        )
    classes = getattr(model, "classes_", None)
    fitted = getattr(binarizer, "classes_", None)
    if not (
        isinstance(classes, np.ndarray)
        and isinstance(fitted, np.ndarray)
        and classes.ndim == 1
        and classes.dtype == fitted.dtype
        and np.array_equal(classes, fitted)
    ):
        raise ValueError(
            f"The saved classes_ {classes!r} are not those of _label_binarizer "
            f"{fitted!r}, which predict maps the outputs to: {_DAMAGED}"
        )
    if not _sorted_and_unique(classes):
        raise ValueError(
            f"The saved classes_ {classes!r} are not sorted and unique, as fit "
            "leaves them (the output columns follow that order, so other "
            f"classes would be predicted): {_DAMAGED}"
        )
    kind, width = binarizer.y_type_, model.coefs_[-1].shape[1]
    if kind == "multilabel-indicator":
        fits = np.array_equal(classes, np.arange(width))
    elif kind == "binary":
        fits = width == 1 and 1 <= len(classes) <= 2
    else:
        fits = width == len(classes) > 2
    if not fits:
        raise ValueError(
            f"The saved classes_ ({len(classes)} for {kind} targets) do not fit "
            f"the output layer's {width} columns (one for two classes, one per "
            f"class or label otherwise): {_DAMAGED}"
        )


def _sorted_and_unique(classes):
    """Whether ``classes`` are in the order LabelBinarizer sorts them into."""
    try:
        return np.array_equal(np.unique(classes), classes)
    except TypeError:  # classes that do not compare (mixed types)
        return False


def _check_saved_output(model):
    """``out_activation_`` is the output layer that the model's targets call
    for: a classifier's, that of its targets' kind (softmax for multiclass,
    the logistic for binary and multilabel targets); a regressor's, that of
    its ``loss`` (the identity, or Poisson's exp)."""
    if is_classifier(model):
        expected = model._output_layer()  # read off the label binarizer
        source = f"{model._label_binarizer.y_type_} targets"
        changed_by_set_params = ""
    else:
        loss = model.loss
        if not isinstance(loss, str) or loss not in REGRESSION_LOSSES:
            raise ValueError(
                f"The saved loss={loss!r} is not one of the regressor's losses "
                f"{sorted(REGRESSION_LOSSES)}: {_DAMAGED}"
            )
        expected, source = REGRESSION_LOSSES[loss].name, f"loss={loss!r}"
        changed_by_set_params = (
            "a loss set by set_params after fitting, without fitting again, "
            "also does this (fit again before saving); otherwise "
        )
    value = getattr(model, "out_activation_", None)
    if not isinstance(value, str) or value != expected:
        raise ValueError(
            f"The saved out_activation_={value!r} is not {expected!r}, the output "
            f"layer of {source}: {changed_by_set_params}{_DAMAGED}"
        )


def _can_stratify(Y, n_validation):
    """Whether a split of the rows of ``Y`` (encoded classes) with
    ``n_validation`` held out can have every class on both sides. Where it
    cannot, ``train_test_split`` refuses to stratify; the split is then drawn
    unstratified, as scikit-learn draws every multiclass split."""
    _, counts = np.unique(Y, axis=0, return_counts=True)
    n_train = len(Y) - n_validation
    return counts.min() >= 2 and len(counts) <= min(n_validation, n_train)
