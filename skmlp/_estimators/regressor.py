"""MLPRegressorScratch: real-valued targets, one or several outputs."""

from functools import partial
from numbers import Real
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import column_or_1d

from .._backends import host_input, like_input
from .._nn import REGRESSION_LOSSES
from .._utils import at_user_call
from . import docs as _docs
from .base import BaseMLPScratch
from .prediction import forward


class MLPRegressorScratch(RegressorMixin, BaseMLPScratch):
    __doc__ = f"""Multilayer perceptron regressor on a NumPy or CuPy backprop core.

    A drop-in for :class:`sklearn.neural_network.MLPRegressor`. Minimises
    half the squared error (or half the Poisson deviance, a robust loss, or
    the pinball loss of a quantile) with L-BFGS or a stochastic optimizer.
    Several outputs are trained jointly when ``y`` is 2-D.

    Parameters
    ----------
    loss : {{'squared_error', 'poisson', 'absolute_error', 'huber', \
            'quantile'}}, default='squared_error'
        The loss, averaged over (weighted) samples. Every loss but 'poisson'
        has the identity output and is averaged over outputs too, so with
        residuals ``r = p - y`` each is on the squared error's scale (and
        the same ``alpha`` or learning rate means the same for each).

        - 'squared_error': half the squared error ``r^2 / 2``.
        - 'poisson': half the Poisson deviance
          ``y log(y / p) - y + p``, summed over outputs; exponential output
          (predictions are positive), for counts and rates ``y >= 0``.
        - 'absolute_error': ``|r|`` (PyTorch's ``L1Loss``), robust to
          outliers in ``y``: fits the conditional median. Not in
          scikit-learn's MLP.
        - 'huber': ``r^2 / 2`` where ``|r| <= huber_delta``, else
          ``huber_delta * (|r| - huber_delta / 2)`` (PyTorch's
          ``HuberLoss``): squared error for small residuals, absolute error
          (a bounded gradient) for outliers. Not in scikit-learn's MLP.
        - 'quantile': the pinball loss of ``quantile`` q, ``q * (y - p)``
          where ``y >= p``, else ``(1 - q) * (p - y)``: fits the conditional
          q-quantile, e.g. the ends of a prediction interval. Not in
          scikit-learn's MLP.

        The gradients of 'absolute_error' and 'quantile' are taken as 0
        where ``p = y`` exactly (a subgradient).

    huber_delta : float, default=1.0
        Residual size where 'huber' turns from squared to absolute error, in
        the units of ``y`` (so scale ``y`` with it). Must be > 0. Only used
        when ``loss='huber'``.

    quantile : float, default=0.5
        The quantile that ``loss='quantile'`` predicts, in (0, 1): 0.5 the
        median, 0.9 a value 90% of targets lie below. Only used when
        ``loss='quantile'`` (as in
        :class:`~sklearn.ensemble.HistGradientBoostingRegressor`).

{_docs.PARAMETERS}
    Attributes
    ----------
{_docs.ATTRIBUTES}
    See Also
    --------
    MLPClassifierScratch : The classifier on the same core.
    sklearn.neural_network.MLPRegressor : The scikit-learn original.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skmlp import MLPRegressorScratch
    >>> X, y = load_diabetes(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> reg = make_pipeline(StandardScaler(), MLPRegressorScratch(
    ...     hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=500,
    ...     early_stopping=True, random_state=0))
    >>> reg.fit(X_train, y_train).score(X_test, y_test) > 0.3
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseMLPScratch._parameter_constraints,
        "loss": [StrOptions(set(REGRESSION_LOSSES))],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
        "quantile": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        weight_init="auto",
        rho=0.9,
        step_size=10,
        gamma=0.1,
        dropout=0.0,
        batch_norm=False,
        batch_norm_momentum=0.1,
        amsgrad=False,
        scoring=None,
        l1=0.0,
        weight_decay=0.0,
        schedule_unit="epoch",
        warmup=0.0,
        clip_grad_norm=None,
        backend="numpy",
        huber_delta=1.0,
        quantile=0.5,
    ):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.weight_init = weight_init
        self.rho = rho
        self.step_size = step_size
        self.gamma = gamma
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.batch_norm_momentum = batch_norm_momentum
        self.amsgrad = amsgrad
        self.scoring = scoring
        self.l1 = l1
        self.weight_decay = weight_decay
        self.schedule_unit = schedule_unit
        self.warmup = warmup
        self.clip_grad_norm = clip_grad_norm
        self.backend = backend
        self.huber_delta = huber_delta
        self.quantile = quantile

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with one epoch over the given data.

        Only for the stochastic solvers ('sgd', 'adam', 'rmsprop').

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample's loss; None weighs all
            equally.

        Returns
        -------
        self : object
            The updated estimator.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_diabetes
        >>> from sklearn.preprocessing import scale
        >>> from skmlp import MLPRegressorScratch
        >>> X, y = load_diabetes(return_X_y=True)
        >>> X, y = scale(X), scale(y)
        >>> reg = MLPRegressorScratch(hidden_layer_sizes=(16,), learning_rate_init=0.01,
        ...                           random_state=0)
        >>> for _ in range(20):  # 20 passes over 4 chunks
        ...     for chunk in np.array_split(np.arange(len(X)), 4):
        ...         reg = reg.partial_fit(X[chunk], y[chunk])
        >>> reg.t_ == 20 * len(X), reg.score(X, y) > 0.4
        (True, True)
        """
        return self._partial_fit(X, y, sample_weight)

    def _encode_targets(self, y, incremental):
        if sp.issparse(y):
            raise ValueError(
                "MLPRegressorScratch needs a dense y; pass y.toarray() (the "
                "targets take no more memory than the network's outputs)."
            )
        if y.ndim == 2 and y.shape[1] == 1:
            with at_user_call():
                y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and y.size and y.min() < 0:
            raise ValueError(
                "loss='poisson' needs non-negative targets (counts, rates), but "
                f"y has values down to {y.min()}. Use loss='squared_error' for "
                "targets that can be negative."
            )
        return y.reshape(len(y), -1)

    def _output_layer(self):
        output = REGRESSION_LOSSES[self.loss]
        if self.loss == "huber":
            return partial(output, huber_delta=self.huber_delta)
        if self.loss == "quantile":
            return partial(output, quantile=self.quantile)
        if self.loss == "absolute_error":
            return output
        # By name: the backend builds it, fused on a GPU.
        return output.name

    def _validation_scorer(self, y_val, sample_weight):
        def score(output):
            if not np.isfinite(output).all():
                return np.nan
            return r2_score(y_val, self._values(output), sample_weight=sample_weight)

        return score

    @staticmethod
    def _values(output):
        return output.ravel() if output.shape[1] == 1 else output

    def predict(self, X):
        """Predict the targets of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values (a CuPy array for CuPy input).

        Examples
        --------
        >>> from sklearn.datasets import load_diabetes
        >>> from skmlp import MLPRegressorScratch
        >>> X, y = load_diabetes(return_X_y=True)
        >>> reg = MLPRegressorScratch(hidden_layer_sizes=(16,), learning_rate_init=0.01,
        ...                           max_iter=500, random_state=0).fit(X, y / y.std())
        >>> reg.predict(X[:3]).shape
        (3,)
        """
        return like_input(X, self._values(forward(self, X)))

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R^2 of :meth:`predict` on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Test samples (NumPy or CuPy: scored on the host either way).

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True values.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            R^2, averaged uniformly over outputs.

        Examples
        --------
        >>> from sklearn.datasets import load_diabetes
        >>> from sklearn.metrics import r2_score
        >>> from skmlp import MLPRegressorScratch
        >>> X, y = load_diabetes(return_X_y=True)
        >>> reg = MLPRegressorScratch(hidden_layer_sizes=(16,), learning_rate_init=0.01,
        ...                           max_iter=500, random_state=0).fit(X, y / y.std())
        >>> bool(reg.score(X, y / y.std()) == r2_score(y / y.std(), reg.predict(X)))
        True
        """
        return super().score(host_input(X), host_input(y), host_input(sample_weight))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = self.loss == "poisson"
        return tags
