"""Multilabel classification and multi-output regression, against
scikit-learn's MLP where it is right and against its own loss where not."""

import numpy as np
import pytest
from _parity_helpers import assert_same_loss_curve, fit_both, fit_quietly
from sklearn.datasets import load_linnerud, make_multilabel_classification
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

from skmlp import MLPClassifierScratch, MLPRegressorScratch


def multilabel(n_samples=300):
    X, Y = make_multilabel_classification(
        n_samples=n_samples, n_features=12, n_classes=4, random_state=0
    )
    return X / X.max(), Y


def linnerud():
    X, Y = load_linnerud(return_X_y=True)
    return StandardScaler().fit_transform(X), StandardScaler().fit_transform(Y)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_multilabel_matches_sklearn(solver):
    X, Y = multilabel()
    ours, theirs = fit_both(
        MLPClassifierScratch,
        X,
        Y,
        hidden_layer_sizes=(16,),
        solver=solver,
        max_iter=25,
        random_state=0,
    )
    assert_same_loss_curve(ours, theirs)
    proba = ours.predict_proba(X)
    assert proba.shape == Y.shape
    np.testing.assert_allclose(proba, theirs.predict_proba(X), rtol=0, atol=1e-12)
    prediction = ours.predict(X)
    assert prediction.shape == Y.shape and prediction.dtype.kind == "i"
    np.testing.assert_array_equal(prediction, theirs.predict(X))


def test_multilabel_probabilities_stay_strictly_inside_0_1():
    # L-BFGS without penalty on separable labels saturates the sigmoids.
    X, Y = multilabel(60)
    clf = fit_quietly(
        MLPClassifierScratch(
            hidden_layer_sizes=(32,),
            solver="lbfgs",
            alpha=0,
            max_iter=500,
            random_state=0,
        ),
        X * 100,
        Y,
    )
    proba = clf.predict_proba(X * 100)
    assert np.all((proba > 0) & (proba < 1))
    assert np.isfinite(clf.predict_log_proba(X * 100)).all()
    np.testing.assert_array_equal(clf.predict(X * 100), Y)


def test_multilabel_partial_fit_matches_sklearn():
    X, Y = multilabel()
    params = {"hidden_layer_sizes": (8,), "shuffle": False, "random_state": 0}
    ours, theirs = MLPClassifierScratch(**params), MLPClassifier(**params)
    labels = np.arange(Y.shape[1])  # required by the first call, then ignored
    for chunk in np.array_split(np.arange(len(Y)), 3):
        ours.partial_fit(X[chunk], Y[chunk], classes=labels)
        theirs.partial_fit(X[chunk], Y[chunk], classes=labels)
    assert_same_loss_curve(ours, theirs)


def test_multilabel_early_stopping_matches_sklearn():
    # Multilabel splits are not stratified, in either library.
    X, Y = multilabel()
    ours, theirs = fit_both(
        MLPClassifierScratch,
        X,
        Y,
        hidden_layer_sizes=(8,),
        early_stopping=True,
        max_iter=15,
        random_state=0,
    )
    np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_)
    assert_same_loss_curve(ours, theirs)


def test_multi_output_regression_shapes():
    X, Y = linnerud()
    reg = fit_quietly(MLPRegressorScratch(hidden_layer_sizes=(5,), max_iter=5), X, Y)
    assert reg.n_outputs_ == 3
    assert reg.predict(X).shape == (20, 3)


def test_sklearn_multi_output_gradient_is_n_outputs_times_ours():
    # Without penalty, scikit-learn's squared-error gradient is n_outputs
    # times the gradient of the loss both report (ours; see
    # test_lbfgs.py for ours against finite differences). Plain SGD is linear
    # in the gradient, so ours with a learning rate n_outputs times larger
    # takes exactly scikit-learn's steps.
    X, Y = linnerud()
    n_outputs = Y.shape[1]
    params = {
        "hidden_layer_sizes": (6,),
        "solver": "sgd",
        "alpha": 0,
        "max_iter": 20,
        "random_state": 0,
    }
    theirs = fit_quietly(MLPRegressor(learning_rate_init=0.01, **params), X, Y)
    ours = fit_quietly(
        MLPRegressorScratch(learning_rate_init=0.01 * n_outputs, **params), X, Y
    )
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)
    same_rate = fit_quietly(
        MLPRegressorScratch(learning_rate_init=0.01, **params), X, Y
    )
    assert not np.allclose(same_rate.loss_curve_, theirs.loss_curve_, rtol=1e-3)


def test_tags_declare_multi_output_and_multilabel():
    classifier_tags = MLPClassifierScratch().__sklearn_tags__()
    assert classifier_tags.classifier_tags.multi_label
    assert classifier_tags.target_tags.multi_output
    assert MLPRegressorScratch().__sklearn_tags__().target_tags.multi_output
