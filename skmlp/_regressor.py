"""MLPRegressorScratch: real-valued targets, one or several outputs."""

from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import column_or_1d

from . import _docs
from ._backend import host_input, like_input
from ._base import BaseMLPScratch
from ._losses import REGRESSION_LOSSES


class MLPRegressorScratch(RegressorMixin, BaseMLPScratch):
    __doc__ = f"""Multilayer perceptron regressor on a NumPy or CuPy backprop core.

    A drop-in for :class:`sklearn.neural_network.MLPRegressor`. Minimises
    half the squared error (or half the Poisson deviance) with L-BFGS or a
    stochastic optimizer. Several outputs are trained jointly when ``y`` is
    2-D.

    Parameters
    ----------
    loss : {{'squared_error', 'poisson'}}, default='squared_error'
        The loss, averaged over (weighted) samples.

        - 'squared_error': half the squared error, averaged over outputs;
          identity output.
        - 'poisson': half the Poisson deviance
          ``y log(y / p) - y + p``, summed over outputs; exponential output
          (predictions are positive), for counts and rates ``y >= 0``.

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
        amsgrad=False,
        scoring=None,
        backend="numpy",
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
        self.amsgrad = amsgrad
        self.scoring = scoring
        self.backend = backend

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
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and y.size and y.min() < 0:
            raise ValueError(
                "loss='poisson' needs non-negative targets (counts, rates), but "
                f"y has values down to {y.min()}. Use loss='squared_error' for "
                "targets that can be negative."
            )
        return y.reshape(len(y), -1)

    def _output_layer(self):
        return REGRESSION_LOSSES[self.loss].name

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
        return like_input(X, self._values(self._forward(X)))

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
