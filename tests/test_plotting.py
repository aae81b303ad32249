"""LossCurveDisplay draws exactly the fitted history, marks the best epoch,
and says how to install matplotlib where it is missing."""

import sys
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn.datasets import load_iris, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler, scale

from skmlp import MLPClassifierScratch, MLPRegressorScratch
from skmlp.plotting import LossCurveDisplay


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return scale(X), y


def fit_quietly(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def test_lines_are_the_loss_curve_and_validation_scores(iris):
    clf = MLPClassifierScratch(
        hidden_layer_sizes=(16,),
        learning_rate_init=0.05,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=5,
        random_state=0,
    ).fit(*iris)
    display = LossCurveDisplay.from_estimator(clf)

    epochs = np.arange(1, clf.n_iter_ + 1)
    np.testing.assert_array_equal(display.loss_line_.get_xdata(), epochs)
    np.testing.assert_array_equal(display.loss_line_.get_ydata(), clf.loss_curve_)
    np.testing.assert_array_equal(display.validation_line_.get_xdata(), epochs)
    np.testing.assert_array_equal(
        display.validation_line_.get_ydata(), clf.validation_scores_
    )
    # Two y axes over one x axis.
    assert display.validation_line_.axes is display.validation_ax_
    assert display.validation_ax_.get_shared_x_axes().joined(
        display.ax_, display.validation_ax_
    )
    assert display.figure_ is display.ax_.figure
    assert display.ax_.get_xlabel() == "epoch"
    assert display.ax_.get_ylabel() == "training loss"
    assert display.validation_ax_.get_ylabel() == "validation accuracy"
    labels = [text.get_text() for text in display.ax_.get_legend().get_texts()]
    best = int(np.argmax(clf.validation_scores_)) + 1
    assert labels == ["training loss", "validation accuracy", f"best epoch ({best})"]


def test_best_epoch_is_the_first_with_the_highest_score():
    scores = [0.5, np.nan, 0.9, 0.7, 0.9]
    display = LossCurveDisplay(
        loss_curve=[1, 0.8, 0.6, 0.5, 0.4], validation_scores=scores
    ).plot()
    assert display.best_epoch_ == 3
    assert display.best_epoch_marker_.get_xdata() == [3]
    assert display.best_epoch_marker_.get_ydata() == [0.9]


def test_best_epoch_is_not_marked_when_every_score_is_nan():
    display = LossCurveDisplay(
        loss_curve=[1.0, np.nan], validation_scores=[np.nan, np.nan]
    ).plot()
    assert display.best_epoch_ is None and display.best_epoch_marker_ is None
    assert display.validation_line_ is not None


def test_without_validation_scores_there_is_one_axis(iris):
    X, y = make_regression(n_samples=60, n_features=3, noise=1, random_state=0)
    reg = fit_quietly(
        MLPRegressorScratch(hidden_layer_sizes=(4,), max_iter=5, random_state=0), X, y
    )
    _, ax = plt.subplots()
    display = LossCurveDisplay.from_estimator(reg, ax=ax, name="small net")
    assert display.ax_ is ax
    assert display.validation_line_ is None and display.validation_ax_ is None
    assert display.best_epoch_ is None and display.best_epoch_marker_ is None
    assert len(ax.figure.axes) == 1
    assert display.loss_line_.get_label() == "small net: training loss"


def test_regressor_scores_are_r2_and_lbfgs_counts_iterations():
    X, y = make_regression(n_samples=60, n_features=3, noise=1, random_state=0)
    reg = MLPRegressorScratch(
        hidden_layer_sizes=(4,), early_stopping=True, max_iter=5, random_state=0
    )
    display = LossCurveDisplay.from_estimator(fit_quietly(reg, X, y))
    assert display.validation_ax_.get_ylabel() == "validation R²"
    reg = MLPRegressorScratch(
        hidden_layer_sizes=(4,), solver="lbfgs", max_iter=5, random_state=0
    )
    display = LossCurveDisplay.from_estimator(fit_quietly(reg, X, y))
    assert display.ax_.get_xlabel() == "iteration"
    assert len(display.loss_line_.get_ydata()) == reg.n_iter_


def test_takes_a_pipeline_and_scikit_learns_mlp(iris):
    for mlp in (
        MLPClassifierScratch(hidden_layer_sizes=(4,), max_iter=3, random_state=0),
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0),
    ):
        pipe = fit_quietly(make_pipeline(StandardScaler(), mlp), *iris)
        display = LossCurveDisplay.from_estimator(pipe)
        np.testing.assert_array_equal(display.loss_line_.get_ydata(), mlp.loss_curve_)


def test_plot_keywords_reach_matplotlib():
    display = LossCurveDisplay(loss_curve=[1, 0.5], validation_scores=[0.1, 0.2])
    display.plot(
        loss_kw={"color": "black"},
        validation_kw={"linestyle": "--"},
        best_epoch_kw={"marker": "*"},
    )
    assert display.loss_line_.get_color() == "black"
    assert display.validation_line_.get_linestyle() == "--"
    assert display.best_epoch_marker_.get_marker() == "*"


def test_refuses_unfitted_estimators_and_other_models():
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(MLPClassifierScratch())
    linear = LinearRegression().fit([[0], [1]], [0, 1])
    with pytest.raises(ValueError, match="LinearRegression has no loss_curve_"):
        LossCurveDisplay.from_estimator(linear)


def test_without_matplotlib_the_error_says_how_to_install_it(iris, monkeypatch):
    clf = fit_quietly(
        MLPClassifierScratch(hidden_layer_sizes=(4,), max_iter=2, random_state=0), *iris
    )
    # An import of a module mapped to None fails, as if it were not installed.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    message = r'needs matplotlib.*pip install "skmlp\[plot\]"'
    with pytest.raises(ImportError, match="from_estimator " + message):
        LossCurveDisplay.from_estimator(clf)
    with pytest.raises(ImportError, match="LossCurveDisplay.plot " + message):
        LossCurveDisplay(loss_curve=clf.loss_curve_).plot()


def test_with_scoring_loss_the_best_epoch_has_the_lowest_loss(iris):
    clf = MLPClassifierScratch(
        hidden_layer_sizes=(16,),
        learning_rate_init=0.05,
        early_stopping=True,
        scoring="loss",
        validation_fraction=0.2,
        n_iter_no_change=5,
        random_state=0,
    ).fit(*iris)
    display = LossCurveDisplay.from_estimator(clf)
    assert display.validation_ax_.get_ylabel() == "validation loss"
    best = clf.validation_scores_.index(clf.best_validation_score_) + 1
    assert display.best_epoch_ == best
    assert clf.best_validation_score_ == min(clf.validation_scores_)
    display = LossCurveDisplay(
        loss_curve=[1, 1, 1], validation_scores=[0.3, 0.1, 0.1], greater_is_better=False
    ).plot()
    assert display.best_epoch_ == 2
