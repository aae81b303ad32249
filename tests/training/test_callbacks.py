"""scikit-learn's callback API (sklearn.callback, scikit-learn >= 1.9): a fit
is one task, each epoch (L-BFGS iteration) one subtask whose fitted estimator
is the model training would return if it stopped there, and a callback can
stop training."""

import copy
import pickle
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from _parity_helpers import fit_quietly
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_iris, make_regression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler, scale

from skmlp import MLPClassifierScratch, MLPRegressorScratch

callback = pytest.importorskip("sklearn.callback")
# The simulated device backend of the backend tests, as a fixture here.
from _device_helpers import DeviceArray

STEP_NAMES = {"epoch", "iteration"}
# A solver of each kind: stochastic, with early stopping, and L-BFGS.
SOLVERS = pytest.mark.parametrize(
    "params",
    [
        {"solver": "adam"},
        {"solver": "sgd", "early_stopping": True, "learning_rate_init": 0.05},
        {"solver": "lbfgs"},
    ],
    ids=["adam", "sgd-early-stopping", "lbfgs"],
)


class Recorder:
    """Records every hook call; ``on_fit_task_end`` of step ``stop_after``
    (counted from 1) asks to stop."""

    def __init__(self, stop_after=None):
        self.stop_after = stop_after
        self.calls = []

    def setup(self, estimator, context):
        self.calls.append({"hook": "setup", "context": context})

    def teardown(self, estimator, context):
        self.calls.append({"hook": "teardown", "context": context})

    def on_fit_task_begin(
        self,
        estimator,
        context,
        *,
        X=None,
        y=None,
        metadata=None,
        fitted_estimator=None,
    ):
        self._record("begin", estimator, context, X, y, metadata, fitted_estimator)

    def on_fit_task_end(
        self,
        estimator,
        context,
        *,
        X=None,
        y=None,
        metadata=None,
        fitted_estimator=None,
    ):
        self._record("end", estimator, context, X, y, metadata, fitted_estimator)
        return (
            context.task_name in STEP_NAMES and context.task_id + 1 == self.stop_after
        )

    def _record(self, hook, estimator, context, X, y, metadata, fitted_estimator):
        self.calls.append(
            {
                "hook": hook,
                "estimator": estimator,
                "context": context,
                "X": X,
                "y": y,
                "metadata": metadata,
                "fitted": fitted_estimator,
            }
        )

    def steps(self, hook, name=None):
        return [
            call
            for call in self.calls
            if call["hook"] == hook
            and call["context"].task_name in ({name} if name else STEP_NAMES)
        ]


class PropagatedRecorder(Recorder):
    """The recorder, propagated from a meta-estimator to its sub-estimators."""

    max_propagation_depth = None


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return scale(X), y


def small(estimator=MLPClassifierScratch, **params):
    return estimator(
        **{"hidden_layer_sizes": (4,), "max_iter": 6, "random_state": 0, **params}
    )


def assert_same_weights(a, b):
    for x, y in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        assert_array_equal(x, y)


# ------------------------------------------------------------- the task tree
@pytest.mark.parametrize("solver", ["adam", "sgd", "rmsprop"])
def test_a_fit_is_one_task_with_one_subtask_per_epoch(iris, solver):
    recorder = Recorder()
    clf = fit_quietly(small(solver=solver).set_callbacks(recorder), *iris)
    hooks = [call["hook"] for call in recorder.calls]
    assert hooks == ["setup", "begin"] + ["begin", "end"] * 6 + ["end", "teardown"]
    root = recorder.calls[0]["context"]
    assert (root.task_name, root.max_subtasks, root.parent) == ("fit", 6, None)
    epochs = [call["context"] for call in recorder.steps("end", "epoch")]
    assert [c.task_id for c in epochs] == list(range(clf.n_iter_))
    assert all(c.parent is root and c.max_subtasks == 0 for c in epochs)
    assert all(call["estimator"] is clf for call in recorder.calls[1:-1])


def test_the_stop_rule_ends_the_epochs(iris):
    recorder = Recorder()
    clf = small(max_iter=300, learning_rate_init=0.05).set_callbacks(recorder)
    clf.fit(*iris)
    assert clf.n_iter_ < 300
    assert len(recorder.steps("end", "epoch")) == clf.n_iter_


def test_lbfgs_iterations_are_subtasks_as_in_logistic_regression(iris):
    # SciPy tells only where an iteration ends: the next one begins there, and
    # the one begun after the last ends as an empty task (as scikit-learn's
    # LogisticRegression does).
    recorder = Recorder()
    clf = fit_quietly(small(solver="lbfgs", max_iter=50).set_callbacks(recorder), *iris)
    root = recorder.calls[0]["context"]
    assert root.max_subtasks == 51
    ends = recorder.steps("end", "iteration")
    assert len(ends) == len(recorder.steps("begin", "iteration")) == clf.n_iter_ + 1
    assert all(call["fitted"] is not None for call in ends[:-1])
    assert (ends[-1]["fitted"], ends[-1]["X"]) == (None, None)
    assert ends[-2]["fitted"].n_iter_ == clf.n_iter_
    assert_same_weights(ends[-2]["fitted"], clf)


def test_partial_fit_calls_are_tasks_of_one_epoch(iris):
    recorder = Recorder()
    clf = small().set_callbacks(recorder)
    for _ in range(3):
        clf.partial_fit(*iris, classes=[0, 1, 2])
    roots = [c["context"] for c in recorder.calls if c["hook"] == "setup"]
    assert len(roots) == 3 and all(root.max_subtasks == 1 for root in roots)
    ends = recorder.steps("end", "epoch")
    assert [call["context"].parent for call in ends] == roots
    # Each call's snapshot continues the history of the calls before.
    assert [len(call["fitted"].loss_curve_) for call in ends] == [1, 2, 3]


def test_sample_weight_and_data_reach_the_callbacks(iris):
    X, y = iris
    weights = np.linspace(0.5, 2, len(y))
    recorder = Recorder()
    fit_quietly(small(max_iter=2).set_callbacks(recorder), X, y, sample_weight=weights)
    for call in recorder.calls:
        if call["hook"] in ("begin", "end"):
            assert call["X"] is X and call["y"] is y
            assert call["metadata"]["sample_weight"] is weights
    recorder = Recorder()
    fit_quietly(small(max_iter=2).set_callbacks(recorder), X, y)
    assert all(c.get("metadata") is None for c in recorder.calls)


def test_with_early_stopping_the_steps_see_the_rows_trained_on(iris):
    X, y = iris
    weights = np.linspace(0.5, 2, len(y))
    recorder = Recorder()
    clf = small(max_iter=2, early_stopping=True, validation_fraction=0.2)
    fit_quietly(clf.set_callbacks(recorder), X, y, sample_weight=weights)
    root_begin = recorder.calls[1]
    assert root_begin["X"] is X
    for call in recorder.steps("end", "epoch"):
        rows = [np.flatnonzero((X == row).all(axis=1))[0] for row in call["X"]]
        assert len(rows) == 120
        assert_array_equal(call["y"], y[rows])
        assert_array_equal(call["metadata"]["sample_weight"], weights[rows])


# ------------------------------------------------------- fitted snapshots
@pytest.mark.parametrize("early_stopping", [False, True])
def test_each_epochs_snapshot_is_the_model_fit_would_return_there(iris, early_stopping):
    X, y = iris
    params = {
        "max_iter": 8,
        "early_stopping": early_stopping,
        "learning_rate_init": 0.05,
    }
    recorder = Recorder()
    clf = fit_quietly(small(**params).set_callbacks(recorder), X, y)
    begins, ends = recorder.steps("begin", "epoch"), recorder.steps("end", "epoch")
    for k, end in enumerate(ends, start=1):
        # Trained for k epochs only: with early stopping, the best of them.
        alone = fit_quietly(small(**{**params, "max_iter": k}), X, y)
        snapshot = end["fitted"]
        assert_same_weights(snapshot, alone)
        assert_array_equal(snapshot.predict_proba(X), alone.predict_proba(X))
        assert snapshot.n_iter_ == k and snapshot.loss_curve_ == clf.loss_curve_[:k]
        assert snapshot.validation_scores_ == alone.validation_scores_
        assert snapshot.best_validation_score_ == alone.best_validation_score_
        assert snapshot.t_ == alone.t_
        # The next epoch begins from that model.
        if k < len(ends):
            assert_same_weights(begins[k]["fitted"], snapshot)
    assert_same_weights(ends[-1]["fitted"], clf)
    assert recorder.calls[-2]["hook"] == "end"
    assert_same_weights(recorder.calls[-2]["fitted"], clf)
    assert not isinstance(ends[0]["fitted"].coefs_[0], DeviceArray)


def test_snapshots_are_copies_in_the_fit_dtype(iris):
    X, y = iris
    recorder = Recorder()
    clf = small(solver="lbfgs", max_iter=5).set_callbacks(recorder)
    fit_quietly(clf, X.astype(np.float32), y)
    first, second = (call["fitted"] for call in recorder.steps("end")[:2])
    assert first.coefs_[0].dtype == np.float32
    assert not np.array_equal(first.coefs_[0], second.coefs_[0])


@pytest.mark.usefixtures("simulated_device")
def test_snapshots_on_a_device_are_host_arrays(iris):
    recorder = Recorder()
    clf = small(backend="cupy", early_stopping=True).set_callbacks(recorder)
    fit_quietly(clf, *iris)
    host = fit_quietly(small(early_stopping=True), *iris)
    snapshot = recorder.steps("end")[-1]["fitted"]
    assert type(snapshot.coefs_[0]) is np.ndarray
    assert_same_weights(snapshot, host)


@SOLVERS
def test_a_batch_norm_snapshot_has_its_running_statistics(iris, params):
    # Each snapshot predicts with the running statistics its weights go with
    # (L-BFGS: those of all rows at that iterate, as fit leaves them).
    X, y = iris
    params = {"batch_norm": True, **params}
    recorder = Recorder(stop_after=3)
    clf = fit_quietly(small(max_iter=10, **params).set_callbacks(recorder), X, y)
    for k, end in enumerate(recorder.steps("end"), start=1):
        alone = clf if k == 3 else fit_quietly(small(max_iter=k, **params), X, y)
        snapshot = end["fitted"]
        for name in ("batch_norm_running_means_", "batch_norm_running_vars_"):
            assert_array_equal(getattr(snapshot, name)[0], getattr(alone, name)[0])
        assert_array_equal(snapshot.predict_proba(X), alone.predict_proba(X))


class OnDevice:
    """Stands for a CuPy array: not a NumPy array."""


def test_a_model_is_copied_as_it_is_even_with_its_state_on_the_device(iris):
    # scikit-learn makes each fitted_estimator with copy.copy of the estimator
    # in mid-fit, when a warm start's or partial_fit's optimizer state is
    # still on the GPU: the copy must not be checked as a saved file is.
    clf = fit_quietly(small(max_iter=2), *iris)
    clf._trainer.optimizer.first_moment = OnDevice()
    copied = copy.copy(clf)
    assert copied._trainer.optimizer.first_moment is clf._trainer.optimizer.first_moment
    assert_same_weights(copied, clf)


# ------------------------------------------------------------------ stopping
@SOLVERS
def test_a_callback_stops_training_with_that_steps_model(iris, params):
    X, y = iris
    recorder = Recorder(stop_after=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning
        clf = small(max_iter=100, **params).set_callbacks(recorder).fit(X, y)
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 3
    assert len(recorder.steps("end")) == 3
    # The same model as training for 3 steps only (with early stopping, the
    # best of those 3).
    alone = fit_quietly(small(max_iter=3, **params), X, y)
    assert_same_weights(clf, alone)
    assert clf.loss_curve_ == alone.loss_curve_
    assert clf.loss_ == alone.loss_
    assert clf.validation_scores_ == alone.validation_scores_


def test_a_warm_started_fit_stops_after_its_own_epochs(iris):
    clf = fit_quietly(small(warm_start=True, max_iter=4), *iris)
    clf.set_callbacks(Recorder(stop_after=2)).fit(*iris)
    assert clf.n_iter_ == 2
    assert len(clf.loss_curve_) == 6


# --------------------------------------------------- scikit-learn's callbacks
def test_scoring_monitor_logs_a_row_per_epoch(iris):
    X, y = iris
    monitor = callback.ScoringMonitor(scoring="accuracy")
    clf = fit_quietly(small().set_callbacks(monitor), X, y)
    rows = monitor.get_logs().data
    assert [row["task_name"] for row in rows] == ["fit"] + ["epoch"] * 6
    assert rows[0]["accuracy"] == rows[-1]["accuracy"] == clf.score(X, y)
    third = fit_quietly(small(max_iter=3), X, y)
    assert rows[3]["accuracy"] == third.score(X, y)


def test_scoring_monitor_scores_a_regressor(iris):
    X, y = make_regression(n_samples=40, n_features=3, random_state=0)
    monitor = callback.ScoringMonitor(scoring="r2")
    reg = fit_quietly(
        small(MLPRegressorScratch, solver="lbfgs").set_callbacks(monitor), X, y
    )
    scores = [row["r2"] for row in monitor.get_logs().data if "r2" in row]
    assert len(scores) == reg.n_iter_ + 1  # the fit, then each iteration
    assert scores[0] == scores[-1] == reg.score(X, y)


def test_progress_bar_shows_the_epochs(iris, capsys):
    pytest.importorskip("rich")
    fit_quietly(small().set_callbacks(callback.ProgressBar()), *iris)
    out = capsys.readouterr().out
    assert "MLPClassifierScratch - fit" in out and "100%" in out


def test_callbacks_propagate_from_a_grid_search_and_a_pipeline(iris, capsys):
    recorder = PropagatedRecorder()
    search = GridSearchCV(
        small(max_iter=3), {"hidden_layer_sizes": [(3,), (4,)]}, cv=2
    ).set_callbacks(recorder)
    fit_quietly(search, *iris)
    ours = [
        call["context"]
        for call in recorder.steps("end", "epoch")
        if call["context"].estimator_name == "MLPClassifierScratch"
    ]
    # 2 candidates x 2 folds, then the refit, 3 epochs each.
    assert len(ours) == 5 * 3
    assert {c.parent.source_estimator_name for c in ours} == {"GridSearchCV"}
    assert not hasattr(search.best_estimator_, "_skl_callbacks")

    pytest.importorskip("rich")
    pipeline = make_pipeline(StandardScaler(), small())
    fit_quietly(pipeline.set_callbacks(callback.ProgressBar()), *iris)
    assert "MLPClassifierScratch - fit" in capsys.readouterr().out


# ------------------------------------------------------------ the estimator
def test_a_fitted_model_with_callbacks_pickles_and_clones(iris):
    pytest.importorskip("rich")
    X, y = iris
    monitor = callback.ScoringMonitor(scoring="accuracy")
    clf = fit_quietly(small().set_callbacks(monitor, callback.ProgressBar()), X, y)
    restored = pickle.loads(pickle.dumps(clf))
    assert [type(c) for c in restored._skl_callbacks] == [
        callback.ScoringMonitor,
        callback.ProgressBar,
    ]
    assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert not hasattr(restored, "_callback_fit_ctx")
    fit_quietly(restored, X, y)  # and trains again with its callbacks
    twin = clone(clf)
    assert twin._skl_callbacks == clf._skl_callbacks
    assert_same_weights(fit_quietly(twin, X, y), clf)


def test_callbacks_leave_the_results_unchanged(iris):
    plain = fit_quietly(small(early_stopping=True), *iris)
    watched = small(early_stopping=True).set_callbacks(Recorder())
    assert_same_weights(fit_quietly(watched, *iris), plain)
    assert watched.loss_curve_ == plain.loss_curve_


def test_without_the_callback_api_everything_else_works():
    # scikit-learn < 1.9 has no sklearn.callback: a fresh interpreter where
    # skmlp cannot import it. (scikit-learn's own modules that use it are
    # imported before it is hidden.)
    script = textwrap.dedent(
        """
        import sys
        import sklearn.compose, sklearn.model_selection, sklearn.pipeline
        from sklearn.datasets import load_iris
        sys.modules["sklearn.callback"] = None
        from skmlp import MLPClassifierScratch, MLPRegressorScratch

        X, y = load_iris(return_X_y=True)
        for params in ({"early_stopping": True}, {"solver": "lbfgs"}, {}):
            for Estimator in (MLPClassifierScratch, MLPRegressorScratch):
                model = Estimator(hidden_layer_sizes=(3,), max_iter=3,
                                  random_state=0, **params).fit(X, y)
        model.partial_fit(X[:20], y[:20])
        assert model.n_iter_ == 1
        assert not hasattr(model, "set_callbacks")
        try:
            model.set_callbacks()
        except AttributeError as error:
            print(error)
        """
    )
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        "set_callbacks needs scikit-learn's callback API (sklearn.callback), new in "
        "scikit-learn 1.9; this is scikit-learn "
    )
    assert result.stdout.strip().endswith("pip install -U scikit-learn")
