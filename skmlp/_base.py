"""The estimator shared by the classifier and the regressor: the
scikit-learn contract -- parameters, validation, ``fit`` / ``partial_fit`` and
the fitted state. Training itself is the solver drivers' (:mod:`._solvers`):
``fit`` builds the network and the solver's objects from the parameters, runs
the driver and reads its :class:`~._solvers.FitResult`."""

import warnings
from abc import ABCMeta, abstractmethod
from itertools import pairwise
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._activations import ACTIVATIONS
from ._backend import (
    BACKENDS,
    BackendUnavailableError,
    explain_out_of_memory,
    get_backend,
    host_input,
    out_of_memory_message,
    predict_out_of_memory_message,
    supports_sparse,
)
from ._initializers import INITIALIZERS
from ._network import PREDICT_CHUNK_ROWS, Network, layer_views
from ._optimizers import OPTIMIZERS
from ._penalties import Penalty
from ._schedules import SCHEDULES, LearningRateSchedule
from ._scoring import check_scoring, held_out_loss_score, held_out_scorer_score
from ._solvers import SOLVERS, fit_lbfgs, fit_stochastic
from ._training import EpochSettings, Trainer


class BaseMLPScratch(BaseEstimator, metaclass=ABCMeta):
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
        "amsgrad": ["boolean"],
        # Strings are checked against the scorer names by check_scoring.
        "scoring": [None, str, callable],
        "backend": [StrOptions(set(BACKENDS))],
    }

    @abstractmethod
    def _encode_targets(self, y, incremental):
        """Return ``y`` as the 2-D array the network trains on (setting
        ``classes_`` for a classifier)."""

    @abstractmethod
    def _output_layer(self):
        """Name of the output activation/loss pair (see ``_losses.OUTPUTS``)."""

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
        Y = self._encode_targets(y, incremental).astype(X.dtype, copy=False)
        sample_weight = self._weigh_samples(y, sample_weight, X.dtype)
        backend = get_backend(self.backend)
        layer_units = [X.shape[1], *hidden_sizes, Y.shape[1]]
        lbfgs = self.solver == "lbfgs"

        def out_of_memory():
            n_samples = X.shape[0]
            return out_of_memory_message(
                n_samples, layer_units, self._batch_size(n_samples), X.dtype, lbfgs
            )

        with explain_out_of_memory(backend, out_of_memory):
            network = Network(
                layer_units,
                self.activation,
                self._output_layer(),
                backend,
                X.dtype,
                penalty=Penalty(alpha=self.alpha),
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
            # Every call, as a continued fit may train with a changed ``loss``.
            self.out_activation_ = network.output.name

            if lbfgs:
                result = self._fit_lbfgs(network, X, Y, sample_weight)
            else:
                result = self._fit_stochastic(
                    network, X, y, Y, sample_weight, incremental
                )
        self._set_result(result)
        if not (lbfgs or incremental or result.stopped):
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                "reached and the optimization hasn't converged yet.",
                ConvergenceWarning,
            )

        self._keep_layers(backend.to_host(network.params), network.shapes)
        if not all(np.isfinite(p).all() for p in self.coefs_ + self.intercepts_):
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed."
            )
        return self

    def _fit_lbfgs(self, network, X, Y, sample_weight):
        """Full-batch L-BFGS from the network's current weights."""
        backend = network.backend
        return fit_lbfgs(
            network,
            backend.input(X),
            backend.to_device(Y),
            None if sample_weight is None else backend.to_device(sample_weight),
            max_iter=self.max_iter,
            max_fun=self.max_fun,
            tol=self.tol,
            verbose=bool(self.verbose),
            samples_seen=0 if self._trainer is None else self._trainer.samples_seen,
        )

    def _fit_stochastic(self, network, X, y, Y, sample_weight, incremental):
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
            warnings.warn(
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
        self.n_iter_ = result.n_iter
        self.t_ = result.t
        self.loss_curve_ = result.loss_curve
        self.loss_ = result.loss
        self.best_loss_ = result.best_loss
        self.validation_scores_ = result.validation_scores
        self.best_validation_score_ = result.best_validation_score

    # -------------------------------------------------------------- predict
    def _forward(self, X):
        """Output layer values for ``X`` from the current ``coefs_`` and
        ``intercepts_`` (which may have been replaced by the user)."""
        check_is_fitted(self)
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
        params = self._kept_flat_params()
        if backend.shares_host_memory and params is not None and params.dtype == dtype:
            # No copy of the weights: a one-row predict would spend most of
            # its time copying them.
            return Network(
                units, self.activation, self.out_activation_, backend, dtype, params
            ).predict(backend.input(X, dtype))

        def out_of_memory():
            return predict_out_of_memory_message(
                X.shape[0], units, dtype, PREDICT_CHUNK_ROWS
            )

        with explain_out_of_memory(backend, out_of_memory):
            network = Network(
                units, self.activation, self.out_activation_, backend, dtype
            )
            network.set_layers(self.coefs_, self.intercepts_)
            output = network.predict(backend.input(X, dtype))
            return backend.to_host(output)

    def _prediction_backend(self):
        """The backend to predict with: a model trained on a GPU still
        predicts (on NumPy, with a warning) where CuPy cannot run."""
        try:
            return get_backend(self.backend)
        except BackendUnavailableError as exc:
            warnings.warn(
                f"{exc} Predicting with NumPy instead; "
                "set_params(backend='numpy') to move the model to the CPU.",
                UserWarning,
            )
            return get_backend("numpy")

    # ------------------------------------------------ the fitted weights
    def _keep_layers(self, flat, shapes):
        """Set ``coefs_`` and ``intercepts_`` to the per-layer views of the
        flat host array ``flat`` (the network's layout) and remember them."""
        self.coefs_, self.intercepts_ = layer_views(flat, shapes)
        self._flat_layers = (flat, tuple(self.coefs_), tuple(self.intercepts_))

    def _kept_flat_params(self):
        """The flat array behind ``coefs_`` and ``intercepts_`` while they
        still hold the views that fit made (edited in place or not), else
        None: the user assigned other arrays, which must then be copied (also
        where no fit made any: weights set on a fresh estimator)."""
        flat, coefs, intercepts = getattr(self, "_flat_layers", (None, (), ()))
        if flat is not None and len(self.coefs_) == len(coefs) and all(
            a is b for a, b in zip([*self.coefs_, *self.intercepts_], coefs + intercepts)
        ):
            return flat
        return None

    def __getstate__(self):
        # The flat array is saved through coefs_ and intercepts_ alone. (A
        # copy: the state returned may be the instance's own __dict__.)
        state = dict(super().__getstate__())
        state.pop("_flat_layers", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        # Pickling stores each layer's array on its own: gather them again
        # into one flat array, as fit leaves them, so predict need not copy.
        # Layers replaced by hand that do not fit together that way (shapes,
        # dtypes) are kept as they are, for predict to copy or refuse.
        if "coefs_" not in state:
            return
        layers = [*self.coefs_, *self.intercepts_]
        if (
            all(isinstance(a, np.ndarray) for a in layers)
            and len({a.dtype for a in layers}) == 1
            and _layers_fit_together(
                self.coefs_, self.intercepts_, getattr(self, "n_features_in_", None)
            )
        ):
            flat = np.concatenate([a.ravel() for a in layers])
            self._keep_layers(flat, [c.shape for c in self.coefs_])
        else:
            self._flat_layers = (None, (), ())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = supports_sparse(self.backend)
        tags.target_tags.multi_output = True
        return tags


def _layers_fit_together(coefs, intercepts, n_features):
    """Whether ``coefs`` and ``intercepts`` have the shapes of a network with
    ``n_features`` inputs, as fit leaves them: re-slicing any others into
    that layout would change the model instead of refusing it."""
    if len(intercepts) != len(coefs) or any(c.ndim != 2 for c in coefs):
        return False
    units = [n_features, *(c.shape[1] for c in coefs)]
    return all(
        c.shape == shape and b.shape == shape[1:]
        for c, b, shape in zip(coefs, intercepts, pairwise(units))
    )


def _can_stratify(Y, n_validation):
    """Whether a split of the rows of ``Y`` (encoded classes) with
    ``n_validation`` held out can have every class on both sides. Where it
    cannot, ``train_test_split`` refuses to stratify; the split is then drawn
    unstratified, as scikit-learn draws every multiclass split."""
    _, counts = np.unique(Y, axis=0, return_counts=True)
    n_train = len(Y) - n_validation
    return counts.min() >= 2 and len(counts) <= min(n_validation, n_train)
