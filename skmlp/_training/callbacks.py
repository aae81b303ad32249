"""scikit-learn's callback API (``sklearn.callback``, scikit-learn >= 1.9).

A ``fit`` or ``partial_fit`` call is one fit task; each epoch (each L-BFGS
iteration) is one subtask of it, as LogisticRegression reports its L-BFGS
iterations. The solver drivers see only a :class:`Steps` object: they call
``begin`` before a step and ``end`` after it, which returns whether a callback
asked to stop. Without ``sklearn.callback``, or without callbacks set, they
get :data:`NO_STEPS`, which does nothing.
"""

import functools

try:
    from sklearn.callback import CallbackSupportMixin, with_callbacks
except ImportError:  # scikit-learn < 1.9
    CallbackSupportMixin = None

if CallbackSupportMixin is not None:
    CallbackSupport = CallbackSupportMixin
else:

    class CallbackSupport:
        """Where scikit-learn has no callback API, ``set_callbacks`` is
        absent (``hasattr`` is False), and trying it says why."""

        @property
        def set_callbacks(self):
            import sklearn

            raise AttributeError(
                "set_callbacks needs scikit-learn's callback API (sklearn.callback),"
                f" new in scikit-learn 1.9; this is scikit-learn {sklearn.__version__}."
                " Upgrade it with: pip install -U scikit-learn"
            )

    def with_callbacks(method):
        return method


def begin_fit_task(estimator, X, y, sample_weight, max_steps):
    """Start the callbacks' fit task of one ``fit`` or ``partial_fit`` call of
    ``estimator`` on ``X, y``, which will have at most ``max_steps`` steps.

    Call it once per call, after validating the input; the fit method must be
    wrapped in ``with_callbacks``, which tears the callbacks down at its end.
    """
    if CallbackSupportMixin is None:
        return _NO_FIT_TASK
    context = estimator._init_callback_context(max_subtasks=max_steps)
    context.call_on_fit_task_begin(
        estimator=estimator, X=X, y=y, metadata=_metadata(sample_weight)
    )
    return FitTask(estimator, context, X, y, sample_weight)


class FitTask:
    """The callbacks' task of one ``fit`` or ``partial_fit`` call."""

    def __init__(self, estimator, context, X, y, sample_weight):
        self._estimator = estimator
        self._context = context
        self._X, self._y, self._sample_weight = X, y, sample_weight

    def steps(self, name, snapshot, rows=None):
        """The :class:`Steps` of this task, named ``name``.

        ``snapshot(params, n_steps, state)`` returns the fitted attributes of
        a model with weights ``params`` (and the network's non-trainable
        ``state`` that goes with them, or None: see :class:`Steps`) after
        ``n_steps`` steps. ``rows``, when
        training holds some rows out for early stopping, are the rows trained
        on: the data the callbacks see for each step.
        """
        if not getattr(self._estimator, "_skl_callbacks", None):
            return NO_STEPS
        X, y, weights = self._X, self._y, self._sample_weight
        if rows is not None:
            # Gathered once, and only if some callback asks for it.
            X = functools.cache(lambda: self._X[rows])
            y = functools.cache(lambda: self._y[rows])
            if weights is not None:
                weights = weights[rows]
        return Steps(
            self._estimator, self._context, name, X, y, _metadata(weights), snapshot
        )

    def end(self):
        """End the task: the estimator is fitted."""
        self._context.call_on_fit_task_end(
            estimator=self._estimator,
            X=self._X,
            y=self._y,
            metadata=_metadata(self._sample_weight),
            reconstruction_attributes={},
        )


def _metadata(sample_weight):
    """The metadata the callbacks get, as LogisticRegression passes it."""
    return None if sample_weight is None else {"sample_weight": sample_weight}


class Steps:
    """Each step (epoch, L-BFGS iteration) of a fit task as one subtask.

    ``begin(params, n_steps, state)`` starts the next step from the weights
    ``params``, ``n_steps`` steps having finished; ``end(params, n_steps,
    state)`` ends it and returns whether a callback asked to stop. ``params``
    and ``state`` (the batch normalizations' running statistics; None where
    the snapshot works them out, as for L-BFGS) are what training would keep
    if it stopped there (the best so far with early stopping): the callbacks'
    ``fitted_estimator`` is that model, made only if some callback asks for
    it.
    """

    def __init__(self, estimator, context, name, X, y, metadata, snapshot):
        self._estimator = estimator
        self._parent = context
        self._name = name
        self._data = {"X": X, "y": y, "metadata": metadata}
        self._snapshot = snapshot
        self._current = None

    def begin(self, params, n_steps, state=None):
        self._current = self._parent.subcontext(task_name=self._name)
        self._current.call_on_fit_task_begin(
            estimator=self._estimator,
            reconstruction_attributes=lambda: self._snapshot(params, n_steps, state),
            **self._data,
        )

    def end(self, params, n_steps, state=None):
        current, self._current = self._current, None
        return current.call_on_fit_task_end(
            estimator=self._estimator,
            reconstruction_attributes=lambda: self._snapshot(params, n_steps, state),
            **self._data,
        )

    def close(self):
        """End a step that began but never ran (SciPy's L-BFGS may finish
        after any iteration), as an empty task."""
        if self._current is not None:
            self._current.call_on_fit_task_end(estimator=self._estimator)
            self._current = None


class _NoSteps:
    def begin(self, params, n_steps, state=None):
        pass

    def end(self, params, n_steps, state=None):
        return False

    def close(self):
        pass


class _NoFitTask:
    def steps(self, name, snapshot, rows=None):
        return NO_STEPS

    def end(self):
        pass


NO_STEPS = _NoSteps()
_NO_FIT_TASK = _NoFitTask()
