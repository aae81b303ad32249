"""Plots of a fitted MLP's training history, in scikit-learn's Display style.

matplotlib is optional: ``pip install "skmlp[plot]"``.
"""

import numpy as np
from sklearn.base import is_classifier
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

__all__ = ["LossCurveDisplay"]


def _check_matplotlib(caller):
    """Raise an ImportError naming the install command when matplotlib is
    missing (imported lazily, so that skmlp itself does not need it)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"{caller} needs matplotlib, which is not installed. Install it "
            'with: pip install "skmlp[plot]"'
        ) from exc


class LossCurveDisplay:
    """Training loss per epoch and, with early stopping, the validation score.

    The loss is drawn on the left y axis; the validation scores, when there
    are any, on a second y axis on the right, with the best epoch (the one
    whose weights early stopping keeps: the first with the highest score)
    marked. Create one with :meth:`from_estimator`; the constructor takes
    the curves themselves.

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        Training loss of each epoch (``loss_curve_``).

    validation_scores : array-like of shape (n_epochs,), default=None
        Validation score of each epoch (``validation_scores_``); None when
        training had no validation set.

    score_name : str, default="validation score"
        Label of the validation scores' axis.

    name : str, default=None
        Name of the model, put in front of the legend's labels; None for no
        name.

    x_label : str, default="epoch"
        What one step of the curves is: "epoch", or "iteration" for L-BFGS.

    greater_is_better : bool, default=True
        Whether the best validation score is the highest (False: the lowest,
        as for ``scoring='loss'``).

    Attributes
    ----------
    loss_line_ : matplotlib Line2D
        The training loss.

    validation_line_ : matplotlib Line2D or None
        The validation scores; None without them.

    best_epoch_ : int or None
        The best epoch, counted from 1; None without validation scores (or
        where every score is NaN).

    best_epoch_marker_ : matplotlib Line2D or None
        The marker on the best epoch's score; None where there is no best
        epoch.

    ax_ : matplotlib Axes
        The axes of the loss.

    validation_ax_ : matplotlib Axes or None
        The second y axis, sharing ``ax_``'s x axis, of the validation scores;
        None without them.

    figure_ : matplotlib Figure
        The figure of the axes.

    See Also
    --------
    LossCurveDisplay.from_estimator : Plot a fitted estimator's curves.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from skmlp.plotting import LossCurveDisplay
    >>> display = LossCurveDisplay(
    ...     loss_curve=[0.9, 0.5, 0.4], validation_scores=[0.7, 0.8, 0.8],
    ...     score_name="validation accuracy")
    >>> display.plot()
    <...LossCurveDisplay object at ...>
    >>> display.best_epoch_
    2
    >>> plt.close(display.figure_)
    """

    def __init__(
        self,
        *,
        loss_curve,
        validation_scores=None,
        score_name="validation score",
        name=None,
        x_label="epoch",
        greater_is_better=True,
    ):
        self.loss_curve = loss_curve
        self.validation_scores = validation_scores
        self.score_name = score_name
        self.name = name
        self.x_label = x_label
        self.greater_is_better = greater_is_better

    def plot(
        self,
        ax=None,
        *,
        name=None,
        loss_kw=None,
        validation_kw=None,
        best_epoch_kw=None,
    ):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            The axes to draw the loss on; None draws on a new figure. The
            validation scores get a second y axis (``ax.twinx()``).

        name : str, default=None
            Name of the model in the legend; None uses the ``name`` given to
            the constructor.

        loss_kw, validation_kw, best_epoch_kw : dict, default=None
            Keyword arguments for matplotlib's ``plot`` of the loss, the
            validation scores and the best epoch's marker.

        Returns
        -------
        display : LossCurveDisplay
            The display, holding the drawn artists.
        """
        _check_matplotlib(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        name = self.name if name is None else name
        prefix = "" if name is None else f"{name}: "
        loss = np.asarray(self.loss_curve, dtype=float)
        epochs = np.arange(1, len(loss) + 1)

        self.ax_, self.figure_ = ax, ax.figure
        (self.loss_line_,) = ax.plot(
            epochs, loss, **{"label": f"{prefix}training loss", **(loss_kw or {})}
        )
        ax.set_xlabel(self.x_label)
        ax.set_ylabel("training loss")

        self.validation_ax_ = self.validation_line_ = None
        self.best_epoch_ = self.best_epoch_marker_ = None
        if self.validation_scores is not None:
            self._plot_validation(
                np.asarray(self.validation_scores, dtype=float),
                prefix,
                validation_kw or {},
                best_epoch_kw or {},
            )
        handles = [
            line
            for axes in (ax, self.validation_ax_)
            if axes is not None
            for line in axes.get_legend_handles_labels()[0]
        ]
        ax.legend(handles=handles, loc="best")
        return self

    def _plot_validation(self, scores, prefix, validation_kw, best_epoch_kw):
        ax = self.validation_ax_ = self.ax_.twinx()
        epochs = np.arange(1, len(scores) + 1)
        # The first line of the twin axes would take the loss's color.
        (self.validation_line_,) = ax.plot(
            epochs,
            scores,
            **{"color": "C1", "label": f"{prefix}{self.score_name}", **validation_kw},
        )
        ax.set_ylabel(self.score_name)
        if np.isnan(scores).all():
            return
        # Both take the first of equal scores: the epoch kept.
        best = int(
            np.nanargmax(scores) if self.greater_is_better else np.nanargmin(scores)
        )
        self.best_epoch_ = best + 1
        (self.best_epoch_marker_,) = ax.plot(
            self.best_epoch_,
            scores[best],
            **{
                "marker": "o",
                "linestyle": "",
                "color": "C2",
                "label": f"{prefix}best epoch ({self.best_epoch_})",
                **best_epoch_kw,
            },
        )

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        ax=None,
        name=None,
        loss_kw=None,
        validation_kw=None,
        best_epoch_kw=None,
    ):
        """Plot the training history of a fitted MLP.

        Parameters
        ----------
        estimator : estimator instance
            A fitted :class:`~skmlp.MLPClassifierScratch` or
            :class:`~skmlp.MLPRegressorScratch` (or scikit-learn's MLP), or a
            :class:`~sklearn.pipeline.Pipeline` ending in one.

        ax : matplotlib Axes, default=None
            The axes to draw on; None draws on a new figure.

        name : str, default=None
            Name of the model in the legend; None for no name.

        loss_kw, validation_kw, best_epoch_kw : dict, default=None
            Keyword arguments for matplotlib's ``plot`` of the loss, the
            validation scores and the best epoch's marker.

        Returns
        -------
        display : LossCurveDisplay
            The display, holding the drawn artists.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> from sklearn.datasets import load_iris
        >>> from skmlp import MLPClassifierScratch
        >>> from skmlp.plotting import LossCurveDisplay
        >>> from sklearn.preprocessing import scale
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = MLPClassifierScratch(hidden_layer_sizes=(16,),
        ...                            learning_rate_init=0.05,
        ...                            early_stopping=True, validation_fraction=0.2,
        ...                            n_iter_no_change=20, random_state=0)
        >>> display = LossCurveDisplay.from_estimator(clf.fit(scale(X), y))
        >>> len(display.loss_line_.get_xdata()) == clf.n_iter_
        True
        >>> display.validation_ax_.get_ylabel()
        'validation accuracy'
        >>> plt.close(display.figure_)
        """
        _check_matplotlib(f"{cls.__name__}.from_estimator")
        mlp = estimator[-1] if isinstance(estimator, Pipeline) else estimator
        check_is_fitted(mlp)
        if not hasattr(mlp, "loss_curve_"):
            raise ValueError(
                f"{type(mlp).__name__} has no loss_curve_: LossCurveDisplay draws "
                "the training history of an MLP. Pass a fitted "
                "MLPClassifierScratch or MLPRegressorScratch."
            )
        scoring = getattr(mlp, "scoring", None)
        if scoring is None:
            score = "accuracy" if is_classifier(mlp) else "R²"
        else:
            score = scoring if isinstance(scoring, str) else "score"
        display = cls(
            loss_curve=mlp.loss_curve_,
            validation_scores=getattr(mlp, "validation_scores_", None),
            score_name=f"validation {score}",
            name=name,
            x_label="iteration" if mlp.solver == "lbfgs" else "epoch",
            greater_is_better=scoring != "loss",
        )
        return display.plot(
            ax=ax,
            loss_kw=loss_kw,
            validation_kw=validation_kw,
            best_epoch_kw=best_epoch_kw,
        )
