"""Warnings point at the user's call and are filtered as coming from
skmlp, in every form of filter; fit and predict leak no NumPy RuntimeWarning;
divergence is reported once, saying what to change."""

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from _parity_helpers import digits, exploding_regression, interrupt_after
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.multioutput import MultiOutputRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.fixes import parse_version

from skmlp import MLPClassifierScratch, MLPRegressorScratch
from skmlp._backends import selection as _backend
from skmlp._utils import warnings as _warnings

SMALL = {"hidden_layer_sizes": (5,), "random_state": 0}


def caught_warnings(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return caught


def assert_warns_here(category, call, match):
    """``call()`` warns ``category`` (message containing ``match``), and every
    warning it raises is attributed to this file."""
    caught = caught_warnings(call)
    assert any(
        issubclass(w.category, category) and match in str(w.message) for w in caught
    ), [str(w.message) for w in caught]
    assert {w.filename for w in caught} == {__file__}


def test_our_warnings_point_at_the_users_call(monkeypatch):
    X, y = digits(100)
    assert_warns_here(
        ConvergenceWarning,
        lambda: MLPClassifierScratch(max_iter=2, **SMALL).fit(X, y),
        "Maximum iterations (2) reached",
    )
    too_big = MLPClassifierScratch(batch_size=500, **SMALL)
    assert_warns_here(
        UserWarning, lambda: too_big.partial_fit(X, y, classes=range(10)), "batch_size"
    )
    # scikit-learn's own warnings, raised inside our fit, are passed on from
    # the user's line too.
    lbfgs = MLPRegressorScratch(solver="lbfgs", max_iter=2, **SMALL)
    assert_warns_here(
        ConvergenceWarning, lambda: lbfgs.fit(X, y), "lbfgs failed to converge"
    )
    assert_warns_here(
        DataConversionWarning, lambda: lbfgs.fit(X, y[:, None]), "column-vector y"
    )
    # From the depths of the epoch loop.
    interrupt_after(monkeypatch, 2)
    assert_warns_here(
        UserWarning,
        lambda: MLPRegressorScratch(batch_size=50, **SMALL).fit(X, y),
        "interrupted by user",
    )


def test_a_backend_fallback_warning_points_at_the_users_call(monkeypatch):
    X, y = digits(100)
    clf = MLPClassifierScratch(max_iter=3, **SMALL)
    caught_warnings(lambda: clf.fit(X, y))
    monkeypatch.setitem(sys.modules, "cupy", None)
    _backend._probe_cupy.cache_clear()
    _backend._cached_cupy_backend.cache_clear()
    clf.set_params(backend="cupy")
    # predict_log_proba reaches the fallback two calls deeper than predict.
    assert_warns_here(UserWarning, lambda: clf.predict(X), "Predicting with NumPy")
    assert_warns_here(
        UserWarning, lambda: clf.predict_log_proba(X), "Predicting with NumPy"
    )
    _backend._probe_cupy.cache_clear()


def test_inside_a_pipeline_warnings_point_at_the_pipelines_call():
    X, y = digits(100)
    pipe = make_pipeline(StandardScaler(), MLPClassifierScratch(max_iter=2, **SMALL))
    assert_warns_here(ConvergenceWarning, lambda: pipe.fit(X, y), "Maximum iterations")


@pytest.mark.parametrize("solver", ["adam", "rmsprop", "lbfgs"])
def test_no_numpy_runtime_warning_leaks_out(solver):
    # A Poisson fit at a large learning rate overflows exp() on the way: it
    # used to print NumPy's overflow, divide and invalid-value warnings.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 5))
    y = rng.poisson(3, 200)
    reg = MLPRegressorScratch(
        loss="poisson", solver=solver, learning_rate_init=0.5, max_iter=30, **SMALL
    )
    caught = caught_warnings(lambda: reg.fit(X, y))
    caught += caught_warnings(lambda: reg.predict(X * 1e6))
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]


def test_log_proba_of_an_underflowed_probability_is_quietly_minus_infinity():
    X, y = digits(100)
    clf = MLPClassifierScratch(max_iter=50, **SMALL)
    caught = caught_warnings(lambda: clf.fit(X, y))
    caught += caught_warnings(lambda: clf.predict_log_proba(X * 1e4))
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert np.isneginf(clf.predict_log_proba(X * 1e4)).any()


def test_divergence_is_reported_once_saying_what_to_change():
    X, y = exploding_regression()
    # Non-finite by the 5th epoch, before the stop rule could end the fit.
    reg = MLPRegressorScratch(
        solver="sgd", learning_rate_init=10.0, max_iter=5, random_state=0
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError) as error:
            reg.fit(X, y)
    # scikit-learn's words first (its tests match them), then ours.
    assert str(error.value) == (
        "Solver produced non-finite parameter weights. The input data may contain "
        "large values and need to be preprocessed. Scale the inputs (e.g. "
        "StandardScaler in a Pipeline), lower learning_rate_init (it is 10) or "
        "set clip_grad_norm (e.g. 1.0)."
    )
    assert caught == []  # not also "Maximum iterations reached"


# ------------------------------------------------------------------- filters
def short_fit():
    X, y = digits(100)
    return lambda: MLPClassifierScratch(max_iter=2, **SMALL).fit(X, y)


def short_pipeline_fit():
    X, y = digits(100)
    pipe = make_pipeline(StandardScaler(), MLPClassifierScratch(max_iter=2, **SMALL))
    return lambda: pipe.fit(X, y)


def short_multioutput_fit():
    # Sequential joblib: its frames sit between the user's call and ours.
    X, y = digits(100)
    multi = MultiOutputRegressor(MLPRegressorScratch(max_iter=2, **SMALL), n_jobs=1)
    return lambda: multi.fit(X, np.c_[y, -y])


def short_lbfgs_fit():
    # "lbfgs failed to converge" comes from scikit-learn's helper, which
    # names its caller, ours, as the module responsible.
    X, y = digits(100)
    return lambda: MLPRegressorScratch(solver="lbfgs", max_iter=2, **SMALL).fit(X, y)


FITS = {
    "fit": short_fit,
    "Pipeline": short_pipeline_fit,
    "MultiOutputRegressor": short_multioutput_fit,
    "L-BFGS": short_lbfgs_fit,
}


def left_after_ignoring(call, **filter_args):
    """The warnings ``call()`` shows under ``filterwarnings("ignore",
    **filter_args)``, each of them, not just the first per line."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", **filter_args)
        call()
    return caught


@pytest.mark.parametrize("fit", FITS.values(), ids=FITS.keys())
def test_every_filter_form_silences_our_warnings(fit):
    call = fit()
    assert left_after_ignoring(call, module="skmlp") == []
    # A regular expression, matched from the start: the form that names
    # scikit-learn and skmlp at once in code that runs either estimator.
    assert left_after_ignoring(call, module="sklearn|skmlp") == []
    assert left_after_ignoring(call, category=ConvergenceWarning) == []
    assert left_after_ignoring(call, message="(Stochastic Optimizer|lbfgs)") == []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", ConvergenceWarning)
        call()
    assert caught == []
    # The filter scikit-learn's examples use for its own MLP: our warnings
    # come from skmlp, not from scikit-learn.
    kept = left_after_ignoring(call, category=ConvergenceWarning, module="sklearn")
    assert kept and {w.filename for w in kept} == {__file__}


@pytest.mark.parametrize("fit", FITS.values(), ids=FITS.keys())
def test_an_error_filter_on_skmlp_raises_at_the_users_call(fit):
    call = fit()
    with warnings.catch_warnings():
        warnings.filterwarnings("error", category=ConvergenceWarning, module="skmlp")
        with pytest.raises(ConvergenceWarning, match="Stochastic Optimizer|lbfgs"):
            call()


@pytest.mark.parametrize("fit", FITS.values(), ids=FITS.keys())
def test_pytest_warns_sees_our_warnings_at_the_users_call(fit):
    call = fit()
    with pytest.warns(ConvergenceWarning) as record:
        call()
    assert {w.filename for w in record} == {__file__}


def test_the_module_filtered_by_is_skmlp_itself():
    # -W and PYTHONWARNINGS match the whole module name, so the public
    # package, not the private module that warns (which moves), is named.
    call = short_fit()
    assert left_after_ignoring(call, module=r"skmlp\Z") == []
    assert _warnings._public_name("skmlp._estimators.base") == "skmlp"
    assert _warnings._public_name("skmlp.plotting") == "skmlp.plotting"
    assert _warnings._public_name("skmlp_contrib._x") == "skmlp_contrib._x"
    assert _warnings._module_of(_warnings.__file__) == "skmlp"
    assert _warnings._module_of(sklearn.pipeline.__file__) == "sklearn.pipeline"
    assert _warnings._module_of("<stdin>") is None


def test_scikit_learns_warnings_inside_our_calls_keep_their_module():
    # Fitted with feature names, predicting without: scikit-learn warns from
    # sklearn.base, and a module="sklearn" filter still reaches that warning.
    X, y = digits(100)
    frame = pd.DataFrame(X, columns=[f"pixel{i}" for i in range(X.shape[1])])
    clf = MLPClassifierScratch(max_iter=2, **SMALL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(frame, y)
    kept = left_after_ignoring(lambda: clf.predict(X), module="skmlp")
    message = (
        "X does not have valid feature names, but MLPClassifierScratch was "
        "fitted with feature names"
    )
    assert [str(w.message) for w in kept] == [message]
    assert left_after_ignoring(lambda: clf.predict(X), module="sklearn") == []


def warn_from_two_lines(warn, message):
    for _ in range(3):
        warn(message, UserWarning)  # three times from one line
    warn(message, UserWarning)  # and once from another


@pytest.mark.parametrize(
    "action, n_shown", [("default", 2), ("module", 1), ("once", 1), ("always", 4)]
)
def test_repeats_are_shown_as_pythons_own_warnings_are(action, n_shown):
    # Counted in the registry of the user's module, per user line. (A fit
    # clears it, as it does for scikit-learn's MLP: check_array changes the
    # filters, and Python forgets what it showed when they change.)
    def shown(warn):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter(action)
            # "once" remembers the text for good: a new text for each run.
            warn_from_two_lines(warn, f"{action} from {warn.__module__}")
        return [(w.filename, w.lineno) for w in caught]

    ours = shown(_warnings.warn)
    assert len(ours) == n_shown
    assert ours == shown(warnings.warn)


def run_python(script, *options):
    return subprocess.run(
        [sys.executable, *options, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        check=False,
    )


SHORT_FIT_SCRIPT = """
    from sklearn.datasets import load_digits
    from skmlp import MLPClassifierScratch

    X, y = load_digits(return_X_y=True)
    MLPClassifierScratch(hidden_layer_sizes=(5,), max_iter=2).fit(X[:100], y[:100])
    print("fitted")
    """


def test_the_command_lines_W_option_names_skmlp():
    # -W (and PYTHONWARNINGS) escape the module field and match it whole.
    run = run_python(SHORT_FIT_SCRIPT, "-W", "error:::skmlp")
    assert run.returncode == 1 and "fitted" not in run.stdout
    assert run.stderr.rstrip().endswith(
        "sklearn.exceptions.ConvergenceWarning: Stochastic Optimizer: Maximum "
        "iterations (2) reached and the optimization hasn't converged yet."
    )


@pytest.mark.skipif(
    parse_version(sklearn.__version__) < parse_version("1.7"),
    reason="scikit-learn passes the warning filters on to joblib's worker "
    "processes since 1.7",
)
def test_filters_reach_multioutput_workers_in_other_processes():
    run = run_python(
        """
        import sys
        import warnings
        import numpy as np
        from sklearn.datasets import load_digits
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.multioutput import MultiOutputRegressor
        from skmlp import MLPRegressorScratch

        X, y = load_digits(return_X_y=True)
        multi = MultiOutputRegressor(
            MLPRegressorScratch(hidden_layer_sizes=(5,), max_iter=2), n_jobs=2
        )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=ConvergenceWarning, module="skmlp")
            multi.fit(X[:100], np.c_[y[:100], -y[:100]])
        print("unfiltered:", file=sys.stderr, flush=True)
        multi.fit(X[:100], np.c_[y[:100], -y[:100]])
        """
    )
    assert run.returncode == 0, run.stderr
    filtered, unfiltered = run.stderr.split("unfiltered:\n")
    assert "Warning" not in filtered
    assert unfiltered.count("ConvergenceWarning: Stochastic Optimizer") == 2
