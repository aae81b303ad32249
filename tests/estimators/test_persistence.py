"""Saving with skops: the fitted state is plain (skops trusts no class but
the estimator's), a loaded model predicts and goes on training exactly as the
unsaved one, and a damaged or mismatched file is refused, never loaded as a
different model."""

import io
import json
import pickle
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from _device_helpers import (
    DeviceArray,
    held_objects,
)
from _parity_helpers import digits
from numpy.testing import assert_array_equal
from sklearn.datasets import load_iris
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skmlp
from skmlp import MLPClassifierScratch, MLPRegressorScratch

sio = pytest.importorskip("skops.io")

OURS = {
    MLPClassifierScratch: "skmlp.MLPClassifierScratch",
    MLPRegressorScratch: "skmlp.MLPRegressorScratch",
}
# Where files saved before the estimators moved into skmlp._estimators (and
# took the public path as their __module__) say the classes are.
EARLIER = {
    MLPClassifierScratch: "skmlp._classifier.MLPClassifierScratch",
    MLPRegressorScratch: "skmlp._regressor.MLPRegressorScratch",
}
SOLVERS = ["sgd", "adam", "rmsprop", "lbfgs"]


def quietly(call, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of short fits
        return call(*args, **kwargs)


def fitted(Estimator, **params):
    X, y = digits(120)
    params = {"hidden_layer_sizes": (6,), "max_iter": 5, "random_state": 0, **params}
    return quietly(Estimator(**params).fit, X, y), X, y


def skops_round_trip(model, trusted=None):
    data = sio.dumps(model)
    untrusted = sio.get_untrusted_types(data=data)
    return sio.loads(data, trusted=untrusted if trusted is None else trusted)


def assert_same_model(a, b):
    assert a.loss_curve_ == b.loss_curve_
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert_array_equal(p, q)


@pytest.mark.parametrize("Estimator", list(OURS))
def test_saved_models_name_the_public_path(Estimator):
    # Not the module inside the package that defines the class, which may
    # move: a pickle names skmlp and the class, and nothing deeper.
    model, _, _ = fitted(Estimator)
    assert Estimator.__module__ == "skmlp"
    data = pickle.dumps(model)
    assert b"skmlp" in data and Estimator.__name__.encode() in data
    assert b"skmlp._" not in data


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("Estimator", list(OURS))
def test_skops_trusts_only_the_estimators_class(Estimator, solver):
    model, X, _ = fitted(Estimator, solver=solver)
    data = sio.dumps(model)
    assert sio.get_untrusted_types(data=data) == [OURS[Estimator]]
    loaded = sio.loads(data, trusted=[OURS[Estimator]])
    assert_array_equal(loaded.predict(X), model.predict(X))
    if hasattr(model, "predict_proba"):
        assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_inside_a_pipeline_only_the_estimators_class_is_untrusted():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(
        StandardScaler(), MLPClassifierScratch((6,), max_iter=5, random_state=0)
    )
    quietly(pipe.fit, X, y)
    data = sio.dumps(pipe)
    assert sio.get_untrusted_types(data=data) == [OURS[MLPClassifierScratch]]
    loaded = sio.loads(data, trusted=[OURS[MLPClassifierScratch]])
    assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))


@pytest.mark.parametrize(
    "params",
    [
        {"solver": "sgd", "learning_rate": "invscaling"},
        {"solver": "adam"},
        {"solver": "rmsprop", "learning_rate": "step", "step_size": 2},
        {"solver": "sgd", "learning_rate": "adaptive", "n_iter_no_change": 1},
        {"solver": "adam", "amsgrad": True, "learning_rate": "cosine"},
        {
            "solver": "sgd",
            "learning_rate": "cosine",
            "schedule_unit": "batch",
            "warmup": 2.5,
        },
    ],
    ids=[
        "sgd-invscaling",
        "adam",
        "rmsprop-step",
        "sgd-adaptive",
        "amsgrad-cosine",
        "sgd-batch-cosine-warmup",
    ],
)
@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
@pytest.mark.parametrize("Estimator", list(OURS))
def test_training_continues_after_loading_as_without_saving(Estimator, how, params):
    model, X, y = fitted(Estimator, warm_start=how == "warm_start", **params)
    copies = [skops_round_trip(model), pickle.loads(pickle.dumps(model))]
    for m in [model, *copies]:
        if how == "partial_fit":
            m.partial_fit(X, y)
        else:
            quietly(m.fit, X, y)
    for copy in copies:
        assert_same_model(copy, model)
        assert copy._trainer.learning_rate == model._trainer.learning_rate


@pytest.mark.parametrize("Estimator", list(OURS))
def test_lbfgs_warm_start_continues_after_loading_as_without_saving(Estimator):
    model, X, y = fitted(Estimator, solver="lbfgs", warm_start=True)
    copy = skops_round_trip(model)
    for m in (model, copy):
        quietly(m.fit, X, y)
    assert_same_model(copy, model)


def test_early_stopping_continues_after_loading_as_without_saving():
    model, X, y = fitted(
        MLPClassifierScratch, early_stopping=True, warm_start=True, max_iter=4
    )
    copy = skops_round_trip(model)
    assert copy.validation_scores_ == model.validation_scores_
    for m in (model, copy):
        quietly(m.fit, X, y)
    assert_same_model(copy, model)
    assert copy.validation_scores_ == model.validation_scores_
    assert copy.best_validation_score_ == model.best_validation_score_


def test_a_model_trained_on_a_device_saves_numpy_arrays(simulated_device):
    model, X, _ = fitted(MLPClassifierScratch, backend="cupy")
    copy = skops_round_trip(model, trusted=[OURS[MLPClassifierScratch]])
    assert not any(isinstance(v, DeviceArray) for v in held_objects(copy))
    assert_array_equal(copy.predict_proba(X), model.predict_proba(X))


# ---------------------------------------------------- refusing a wrong model
def saved_state(**params):
    model, X, _ = fitted(MLPClassifierScratch, **params)
    return model.__getstate__(), X


def load_state(state):
    model = MLPClassifierScratch.__new__(MLPClassifierScratch)
    model.__setstate__(state)
    return model


def test_a_damaged_array_in_a_skops_file_is_refused():
    model, _, _ = fitted(MLPClassifierScratch)
    source = zipfile.ZipFile(io.BytesIO(sio.dumps(model)))
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            if name.endswith(".npy"):
                array = np.load(io.BytesIO(content))
                if array.shape == model.coefs_[0].shape:
                    array = np.full_like(array, np.nan)
                    content = io.BytesIO()
                    np.save(content, array)
                    content = content.getvalue()
            target.writestr(name, content)
    with pytest.raises(ValueError, match="coefs_ is not a list of finite float arrays"):
        sio.loads(damaged.getvalue(), trusted=[OURS[MLPClassifierScratch]])


def test_layers_of_another_layout_are_refused():
    state, _ = saved_state()
    state["intercepts_"] = [np.zeros(7), state["intercepts_"][1]]
    with pytest.raises(ValueError, match=r"do not form a network of n_features_in_=64"):
        load_state(state)


@pytest.mark.parametrize(
    "name, value, message",
    [
        (
            "batch_norm_running_vars_",
            [np.full(5, np.nan)],
            "batch_norm_running_vars_ is not a list of finite float arrays",
        ),
        (
            "batch_norm_running_means_",
            [[0.0] * 5],
            "batch_norm_running_means_ is not a list of finite float arrays",
        ),
        ("batch_norm_shifts_", [np.zeros(4)], "batch-normalization values"),
        ("batch_norm_scales_", [], "batch-normalization values"),
    ],
)
def test_damaged_batch_norm_values_are_refused(name, value, message):
    state, _ = saved_state(hidden_layer_sizes=(5,), batch_norm=True, solver="lbfgs")
    state[name] = value
    with pytest.raises(ValueError, match=message):
        load_state(state)


# Models of every kind of output, small and briefly trained.
def model_of(kind):
    X, y = digits(120)
    Estimator, params, target = {
        "multiclass": (MLPClassifierScratch, {}, y),
        "string_classes": (MLPClassifierScratch, {}, np.array(list("abcdefghij"))[y]),
        "binary": (MLPClassifierScratch, {}, y % 2 == 1),
        "single_class": (MLPClassifierScratch, {}, np.zeros_like(y)),
        "multilabel": (MLPClassifierScratch, {}, np.c_[y % 2, y > 4, y == 0]),
        "batch_norm": (MLPClassifierScratch, {"batch_norm": True}, y),
        "squared_error": (MLPRegressorScratch, {}, y / 9),
        "poisson": (MLPRegressorScratch, {"loss": "poisson"}, y),
        "huber": (MLPRegressorScratch, {"loss": "huber"}, np.c_[y, y % 3] / 9),
    }[kind]
    params = {"hidden_layer_sizes": (6, 5), "max_iter": 5, "random_state": 0, **params}
    return quietly(Estimator(**params).fit, X, target), X


def saved_and_loaded(model, loader):
    """``model`` written as a file of ``loader``'s format, as it is, and
    read back (``__setstate__`` checking it)."""
    if loader == "pickle":
        return pickle.loads(pickle.dumps(model))
    return sio.loads(sio.dumps(model), trusted=[OURS[type(model)]])


LOADERS = ["pickle", "skops"]
KINDS = [
    "multiclass",
    "string_classes",
    "binary",
    "single_class",
    "multilabel",
    "batch_norm",
    "squared_error",
    "poisson",
    "huber",
]


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("kind", KINDS)
def test_consistent_models_load_bit_for_bit(kind, loader):
    model, X = model_of(kind)
    loaded = saved_and_loaded(model, loader)
    # Every list of arrays the model holds: the layers, and the batch
    # normalizations' values where it has them.
    arrays = {
        name: value
        for name, value in vars(model).items()
        if isinstance(value, list)
        and value
        and all(isinstance(a, np.ndarray) for a in value)
    }
    assert {"coefs_", "intercepts_"} <= set(arrays)
    for name, saved in arrays.items():
        for before, after in zip(saved, getattr(loaded, name), strict=True):
            assert_array_equal(after, before, strict=True)  # dtype included
    outputs = ["predict", "predict_proba"] if hasattr(model, "classes_") else ["predict"]
    for output in outputs:
        expected = getattr(model, output)(X)
        assert_array_equal(getattr(loaded, output)(X), expected, strict=True)


def negate_first_running_variance(model):
    model.batch_norm_running_vars_[0][0] = -1e-3


def set_classes(*classes):
    """Set ``classes_`` and the label binarizer's alike."""

    def edit(model):
        model.classes_ = model._label_binarizer.classes_ = np.array(classes)

    return edit


def reverse_classes(model):
    set_classes(*model.classes_[::-1])(model)


def set_attribute(name, value, of_label_binarizer=False):
    def edit(model):
        setattr(model._label_binarizer if of_label_binarizer else model, name, value)

    return edit


def classes_as_floats(model):
    model.classes_ = model.classes_.astype(float)


def loss_changed_after_fitting(model):
    model.set_params(loss="poisson")


# A model of each kind, an edit that makes its attributes disagree (as a
# damaged or edited file holds them), and what the error must name.
WRONG_MODELS = {
    "negative running variance": (
        "batch_norm",
        negate_first_running_variance,
        r"batch_norm_running_vars_ has negative values",
    ),
    "infinite running variance": (
        "batch_norm",
        set_attribute("batch_norm_running_vars_", [np.full(6, np.inf), np.ones(5)]),
        r"batch_norm_running_vars_ is not a list of finite float arrays",
    ),
    "fewer classes than outputs": (
        "multiclass",
        set_classes(*range(9)),
        r"classes_ \(9 for multiclass targets\) do not fit the output layer's 10",
    ),
    "three classes for one binary output": (
        "binary",
        set_classes(0, 1, 2),
        r"classes_ \(3 for binary targets\) do not fit the output layer's 1 col",
    ),
    "labels that are not the output columns": (
        "multilabel",
        set_classes(1, 2, 3),
        r"classes_ \(3 for multilabel-indicator targets\) do not fit",
    ),
    "classes_ that are not the label binarizer's": (
        "multiclass",
        set_attribute("classes_", np.arange(1, 11)),
        r"classes_ array\(\[ 1, .* are not those of _label_binarizer",
    ),
    "classes_ of another dtype than the label binarizer's": (
        "multiclass",
        classes_as_floats,
        r"classes_ array\(\[0\., .* are not those of _label_binarizer",
    ),
    "classes in another order": (
        "string_classes",
        reverse_classes,
        r"classes_ array\(\['j', .* are not sorted and unique",
    ),
    "a label binarizer of other labels": (
        "binary",
        set_attribute("pos_label", 2, of_label_binarizer=True),
        r"_label_binarizer is not the LabelBinarizer fit makes",
    ),
    "no label binarizer": (
        "binary",
        set_attribute("_label_binarizer", None),
        r"_label_binarizer is not the LabelBinarizer fit makes",
    ),
    "a binary classifier with identity outputs": (
        "binary",
        set_attribute("out_activation_", "identity"),
        r"out_activation_='identity' is not 'logistic', the output layer of binary",
    ),
    "a multilabel classifier with a softmax": (
        "multilabel",
        set_attribute("out_activation_", "softmax"),
        r"out_activation_='softmax' is not 'logistic', the output layer of multilab",
    ),
    "a multiclass classifier with sigmoids": (
        "multiclass",
        set_attribute("out_activation_", "logistic"),
        r"out_activation_='logistic' is not 'softmax', the output layer of multicl",
    ),
    "a Poisson regressor with identity outputs": (
        "poisson",
        set_attribute("out_activation_", "identity"),
        r"out_activation_='identity' is not 'exp', the output layer of loss='poiss",
    ),
    "a loss changed after fitting": (
        "squared_error",
        loss_changed_after_fitting,
        r"out_activation_='identity' is not 'exp'.* a loss set by set_params after",
    ),
    "an unknown loss": (
        "huber",
        set_attribute("loss", "hinge"),
        r"loss='hinge' is not one of the regressor's losses",
    ),
    "an unknown activation": (
        "multiclass",
        set_attribute("activation", "swish"),
        r"activation='swish' is not one of skmlp's hidden activations",
    ),
    "more layers than coefs_": (
        "multiclass",
        set_attribute("n_layers_", 5),
        r"n_layers_ is 5, but the saved coefs_ make it the integer 4",
    ),
    "more outputs than coefs_": (
        "huber",
        set_attribute("n_outputs_", 1),
        r"n_outputs_ is 1, but the saved coefs_ make it the integer 2",
    ),
    "a float number of features": (
        "squared_error",
        set_attribute("n_features_in_", 64.0),
        r"n_features_in_ is 64.0, but the saved coefs_ make it the integer 64",
    ),
    "more features than coefs_": (
        "binary",
        set_attribute("n_features_in_", 65),
        r"do not form a network of n_features_in_=65 inputs",
    ),
    "batch_norm=False with batch normalization": (
        "batch_norm",
        set_attribute("batch_norm", False),
        r"batch_norm=False does not match the file, which holds batch-norm",
    ),
    "batch_norm=True without batch normalization": (
        "multiclass",
        set_attribute("batch_norm", True),
        r"batch_norm=True does not match the file, which holds no batch-norm",
    ),
}


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("wrong", list(WRONG_MODELS))
def test_a_file_whose_attributes_disagree_is_refused(wrong, loader):
    kind, edit, message = WRONG_MODELS[wrong]
    model, _ = model_of(kind)
    # Saving writes the edited state as it is (each of these used to load
    # into a model that predicts something else, NaN, or fails in predict).
    edit(model)
    with pytest.raises(ValueError, match=message) as refused:
        saved_and_loaded(model, loader)
    assert "Load an intact copy, or fit the model again." in str(refused.value)


def test_optimizer_state_that_does_not_fit_the_layers_is_refused():
    state, _ = saved_state()
    moment = state["_trainer"]["optimizer"]["first_moment"]
    state["_trainer"]["optimizer"]["first_moment"] = moment[:-1]
    with pytest.raises(ValueError, match="is not a finite float vector of the"):
        load_state(state)


@pytest.mark.parametrize("name", ["epochs", "samples_seen", "optimizer_steps"])
@pytest.mark.parametrize("value", [-1, 2.5, "3", True])
def test_a_damaged_counter_is_refused(name, value):
    state, _ = saved_state()
    state["_trainer"][name] = value
    with pytest.raises(ValueError, match=rf"trainer's {name} is .*, not a count"):
        load_state(state)


def test_state_this_version_does_not_know_is_refused():
    state, _ = saved_state()
    state["_trainer"]["optimizer"]["velocity_squared"] = np.zeros(3)
    with pytest.raises(ValueError, match=r"\[.velocity_squared.\] that this"):
        load_state(state)
    state, _ = saved_state()
    state["_trainer"]["running_means"] = []
    with pytest.raises(ValueError, match=r"trainer has state \['running_means'\]"):
        load_state(state)
    state, _ = saved_state()
    state["_skmlp_version"] = "99.0"
    with pytest.raises(ValueError, match="saved by skmlp 99.0, newer than"):
        load_state(state)


def test_state_an_older_version_lacks_takes_its_defaults():
    # What later versions add (parameters, trainer and optimizer state) may
    # be missing from a file saved today: it gets the value of a new model.
    state, X = saved_state(solver="adam")
    expected = load_state(dict(state))
    del state["rho"], state["_trainer"]["no_improvement_count"]
    del state["_trainer"]["optimizer"]["t"]
    del state["_trainer"]["optimizer_steps"], state["_trainer"]["schedule"]["unit"]
    del state["schedule_unit"], state["warmup"]
    loaded = load_state(state)
    assert loaded.rho == 0.9 and loaded._trainer.no_improvement_count == 0
    assert loaded._trainer.optimizer.t == 0
    assert loaded._trainer.optimizer_steps == 0
    assert loaded._trainer.schedule.unit == "epoch"
    assert (loaded.schedule_unit, loaded.warmup) == ("epoch", 0.0)
    assert_array_equal(loaded.predict_proba(X), expected.predict_proba(X))


# ------------------------------------------------- models of earlier releases
DATA = Path(__file__).resolve().parents[1] / "data"
RELEASES = sorted(
    path.name.split("-")[1] for path in DATA.glob("skmlp-*-expected.json")
)


def test_this_release_has_saved_models():
    # Run tests/data/make_release_models.py when the version changes.
    assert skmlp.__version__ in RELEASES


@pytest.mark.parametrize("file_format", ["skops", "pkl"])
@pytest.mark.parametrize("version", RELEASES)
def test_models_of_earlier_releases_load(version, file_format):
    expected = json.loads((DATA / f"skmlp-{version}-expected.json").read_text())
    X = np.array(expected["X"])
    saved_numpy, numpy = (int(v.split(".")[0]) for v in (expected["numpy"], np.__version__))
    if file_format == "pkl" and saved_numpy > numpy:
        # skops files load; pickles of NumPy arrays do not go back (to
        # numpy._core from numpy.core).
        pytest.skip(f"a pickle of NumPy {expected['numpy']} does not load in {np.__version__}")
    for kind, Estimator in (
        ("classifier", MLPClassifierScratch),
        ("regressor", MLPRegressorScratch),
    ):
        path = DATA / f"skmlp-{version}-{kind}.{file_format}"
        with warnings.catch_warnings():
            # scikit-learn's LabelBinarizer inside, pickled by another
            # scikit-learn version, says so.
            warnings.simplefilter("ignore", InconsistentVersionWarning)
            if file_format == "skops":
                assert sio.get_untrusted_types(file=path) == [EARLIER[Estimator]]
                model = sio.load(path, trusted=[EARLIER[Estimator]])
            else:
                with open(path, "rb") as f:
                    model = pickle.load(f)
        if kind == "classifier":
            output, rows, y = model.predict_proba(X), X, model.predict(X)
        else:
            output, rows, y = model.predict(X[:, :3]), X[:, :3], X[:, 3]
        np.testing.assert_allclose(output, expected[kind], rtol=1e-10, atol=1e-12)
        # ... and it goes on training.
        model.partial_fit(rows, y)
        assert np.isfinite(model.loss_)
