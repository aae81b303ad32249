"""MLPClassifierScratch: target encoding, class weights, predict and
predict_proba."""

from numbers import Real
from typing import ClassVar

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import column_or_1d

from .._backends import host_input, like_input
from .._utils import at_user_call
from . import docs as _docs
from .base import BaseMLPScratch
from .prediction import forward


class MLPClassifierScratch(ClassifierMixin, BaseMLPScratch):
    __doc__ = f"""Multilayer perceptron classifier on a NumPy or CuPy backprop core.

    A drop-in for :class:`sklearn.neural_network.MLPClassifier`. Minimises
    the log-loss (softmax for several classes, independent sigmoids for two
    classes or multilabel targets) with L-BFGS or a stochastic optimizer.

    Parameters
    ----------
{_docs.PARAMETERS}
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, multiplied into ``sample_weight``: a dict
        ``{{class_label: weight}}`` (classes left out weigh 1; a label that is
        not a class raises a ``ValueError``), or 'balanced' for
        ``n_samples / (n_classes * np.bincount(y))`` computed from the ``y``
        given to ``fit``, counting each sample by its ``sample_weight``
        (scikit-learn's ``compute_class_weight``). With
        early stopping the held-out rows are weighted too. Not for
        multilabel targets; ``partial_fit`` takes a dict only. Not in
        scikit-learn's MLP.

    label_smoothing : float, default=0.0
        Train on smoothed targets, in [0, 1). With several classes (softmax)
        the one-hot targets become ``(1 - label_smoothing) * onehot +
        label_smoothing / n_classes``, PyTorch's
        ``CrossEntropyLoss(label_smoothing=...)``. Binary and multilabel
        targets (one sigmoid per label) get the binary form of the same
        rule, ``y * (1 - label_smoothing) + label_smoothing / 2`` per label
        (``BCEWithLogitsLoss`` on smoothed targets). It discourages
        overconfident probabilities. ``loss_curve_`` and ``loss_`` report
        the smoothed loss, the one minimised (as PyTorch reports it);
        early stopping's ``scoring='loss'`` watches the plain log-loss of
        the held-out rows, which, like the L2 term left out of it, does
        not count the regulariser: it measures the held-out data, not the
        training criterion. Class and sample weights still apply; every
        solver supports it. Not in scikit-learn's MLP.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, in the order of ``predict_proba``'s columns.

{_docs.ATTRIBUTES}
    See Also
    --------
    MLPRegressorScratch : The regressor on the same core.
    sklearn.neural_network.MLPClassifier : The scikit-learn original.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import train_test_split
    >>> from skmlp import MLPClassifierScratch
    >>> X, y = load_iris(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(
    ...     X, y, stratify=y, random_state=0)
    >>> clf = MLPClassifierScratch(max_iter=1000, random_state=0)
    >>> clf.fit(X_train, y_train).score(X_test, y_test) > 0.9
    True
    >>> clf.predict_proba(X_test[:1]).round(2).shape
    (1, 3)
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseMLPScratch._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
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
        class_weight=None,
        label_smoothing=0.0,
    ):
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
        self.class_weight = class_weight
        self.label_smoothing = label_smoothing

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with one epoch over the given data.

        Only for the stochastic solvers ('sgd', 'adam', 'rmsprop').

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            The target labels.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample's loss; None weighs all
            equally.

        classes : array-like of shape (n_classes,), default=None
            Every class that will ever appear, required on the first call
            (``np.unique(y_all)``); ``y`` need not contain all of them. For
            multilabel targets, the label indices ``np.arange(n_labels)``.
            Later calls may leave it out; if given, it must not change.

        Returns
        -------
        self : object
            The updated estimator.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_iris
        >>> from skmlp import MLPClassifierScratch
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = MLPClassifierScratch(hidden_layer_sizes=(16,), random_state=0)
        >>> for chunk in np.array_split(np.random.RandomState(0).permutation(150), 5):
        ...     clf = clf.partial_fit(X[chunk], y[chunk], classes=[0, 1, 2])
        >>> clf.t_, len(clf.loss_curve_)
        (150, 5)
        """
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
            # scikit-learn's words (SGDClassifier): one chunk's class
            # frequencies are not those of the whole stream.
            raise ValueError(
                "class_weight 'balanced' is not supported for partial_fit. In "
                "order to use 'balanced' weights, use "
                "compute_class_weight('balanced', classes=classes, y=y). In "
                "place of y you can use a large enough sample of the full "
                "training set target to properly estimate the class frequency "
                "distributions. Pass the resulting weights as the class_weight "
                "parameter."
            )
        y, classes = host_input(y), host_input(classes)
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._partial_fit(X, y, sample_weight)

    def _encode_targets(self, y, incremental):
        if y.ndim == 2 and y.shape[1] == 1:
            with at_user_call():
                y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if not hasattr(self, "classes_") or not (self.warm_start or incremental):
            self._label_binarizer = LabelBinarizer().fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start and not incremental and set(classes) != set(self.classes_):
                raise ValueError(
                    "warm_start can only be used where `y` has the same classes "
                    f"as in the previous call to fit. Previously got "
                    f"{self.classes_}, `y` has {classes}. Set warm_start=False "
                    "to train a new model."
                )
            unknown = np.setdiff1d(classes, self.classes_)
            if len(unknown):
                raise ValueError(
                    f"`y` has classes {unknown} not in `self.classes_` "
                    f"{self.classes_}. Pass every class to the first partial_fit "
                    "call with `classes=`, or refit."
                )
        return self._label_binarizer.transform(y)

    def _training_targets(self, Y):
        """The encoded targets smoothed by ``label_smoothing``: once per fit,
        so the log-losses and their delta ``p - y`` follow unchanged (they
        take any targets in [0, 1]). Without smoothing, ``Y`` itself."""
        if not self.label_smoothing:
            return Y
        eps = self.label_smoothing
        # One column per class under softmax; each sigmoid column is a
        # two-class problem of its own (the binary form of the same rule).
        n_classes = Y.shape[1] if self._output_layer() == "softmax" else 2
        return (Y * (1 - eps) + eps / n_classes).astype(Y.dtype, copy=False)

    def _weigh_samples(self, y, sample_weight, dtype):
        """``sample_weight`` times each sample's class weight (scikit-learn's
        ``class_weight``: a dict of class label -> weight, classes left out
        weighing 1, or 'balanced': ``n_samples / (n_classes * count)``, with
        samples counted by their weight)."""
        if self.class_weight is None:
            return sample_weight
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            raise ValueError(
                "class_weight is not supported for multilabel targets: a "
                "sample weight weighs all labels of a row at once, so it "
                "cannot weigh each label's classes. Pass sample_weight instead, "
                "or set class_weight=None."
            )
        y = column_or_1d(y)
        classes = np.searchsorted(self.classes_, y)
        class_weight = _class_weights(
            self.class_weight, self.classes_, y, classes, sample_weight
        )
        weights = class_weight[classes].astype(dtype)
        return weights if sample_weight is None else weights * sample_weight

    def _output_layer(self):
        if self._label_binarizer.y_type_ == "multiclass":
            return "softmax"
        return "logistic"

    def _stratify_validation(self):
        return self._label_binarizer.y_type_ != "multilabel-indicator"

    def _validation_scorer(self, y_val, sample_weight):
        def score(output):
            if not np.isfinite(output).all():
                return np.nan
            return accuracy_score(
                y_val, self._labels(output), sample_weight=sample_weight
            )

        return score

    def _labels(self, output):
        if output.shape[1] == 1:
            output = output.ravel()
        return self._label_binarizer.inverse_transform(output)

    def predict(self, X):
        """Predict the class labels of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            The predicted classes (a CuPy array for CuPy input with numeric
            classes).

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skmlp import MLPClassifierScratch
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = MLPClassifierScratch(max_iter=1000, random_state=0).fit(X, y)
        >>> clf.predict(X[[0, 50, 100]])
        array([0, 1, 2])
        """
        return like_input(X, self._labels(forward(self, X)))

    def predict_proba(self, X):
        """Probability of each class for the rows of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``. Binary problems get two columns;
            multilabel problems one probability per label. Sigmoid outputs
            (binary, multilabel) are kept within ``[eps, 1 - eps]``, as the
            log-loss sees them, so that none is exactly 0 or 1. A CuPy array
            for CuPy input.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skmlp import MLPClassifierScratch
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = MLPClassifierScratch(max_iter=1000, random_state=0).fit(X, y)
        >>> proba = clf.predict_proba(X[[0, 50, 100]])
        >>> proba.shape, proba.sum(axis=1).round(6).tolist()
        ((3, 3), [1.0, 1.0, 1.0])
        >>> proba.argmax(axis=1)
        array([0, 1, 2])
        """
        proba = forward(self, X)
        if self.out_activation_ == "logistic":
            eps = np.finfo(proba.dtype).eps
            np.clip(proba, eps, 1 - eps, out=proba)
        if proba.shape[1] == 1 and self._label_binarizer.y_type_ == "binary":
            proba = np.hstack([1 - proba, proba])
        return like_input(X, proba)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            ``log(predict_proba(X))`` (a CuPy array for CuPy input).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_iris
        >>> from skmlp import MLPClassifierScratch
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = MLPClassifierScratch(max_iter=1000, random_state=0).fit(X, y)
        >>> np.allclose(np.exp(clf.predict_log_proba(X)), clf.predict_proba(X))
        True
        """
        proba = self.predict_proba(host_input(X))
        # A softmax probability that underflowed to 0 has log -inf, quietly.
        with np.errstate(divide="ignore"):
            np.log(proba, out=proba)
        return like_input(X, proba)

    def score(self, X, y, sample_weight=None):
        """Mean accuracy of :meth:`predict` on ``X`` against ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Test samples (NumPy or CuPy: scored on the host either way).

        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            True labels; subset accuracy for multilabel targets.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            The mean accuracy.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from skmlp import MLPClassifierScratch
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = MLPClassifierScratch(max_iter=1000, random_state=0).fit(X, y)
        >>> bool(clf.score(X, y) == (clf.predict(X) == y).mean())
        True
        """
        return super().score(host_input(X), host_input(y), host_input(sample_weight))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


def _class_weights(class_weight, classes, y, indices, sample_weight):
    """The weight of each class in ``classes`` (sorted), for the labels
    ``y`` (``indices`` their positions in ``classes``): a dict of class label -> weight, classes left out weighing 1, or
    'balanced': ``n_samples / (n_classes * count)``, with samples counted by
    their ``sample_weight``."""
    if isinstance(class_weight, dict):
        known = set(classes.tolist())
        unknown = [label for label in class_weight if label not in known]
        if unknown:
            raise ValueError(
                f"class_weight has labels {unknown} that are not classes of "
                f"the model (classes_ = {classes}). Its keys must be "
                "class labels as they appear in y."
            )
    if class_weight != "balanced":
        return compute_class_weight(class_weight, classes=classes, y=y)
    # compute_class_weight's 'balanced', with samples counted by their
    # weight (which its sample_weight does only from scikit-learn 1.7 on).
    counts = np.bincount(indices, weights=sample_weight, minlength=len(classes))
    with np.errstate(divide="ignore"):
        weights = counts.sum() / (len(classes) * counts)
    # A class whose samples all weigh 0 gets infinity: they stay out of
    # training (not inf * 0 = NaN).
    weights[np.isinf(weights)] = 0
    return weights
