"""AMSGrad, the cosine schedule, class weights and early-stopping scoring,
each against an independent computation (PyTorch, the written-out formula,
scikit-learn's metrics) and on data."""

import itertools
import math
import pickle
import warnings

import numpy as np
import pytest
from _parity_helpers import initial_weights, torch_copy
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_iris, make_blobs, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss, make_scorer, mean_squared_error, recall_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.estimator_checks import check_class_weight_balanced_classifiers

from skmlp import MLPClassifierScratch, MLPRegressorScratch
from skmlp._backends import NumpyBackend
from skmlp._nn import Adam
from skmlp._training import LearningRateSchedule

torch = pytest.importorskip("torch")


def fit_quietly(estimator, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y, **fit_params)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


# ------------------------------------------------------------------ AMSGrad
def shrinking_gradients(n_steps=12, size=9, seed=0):
    """Gradients that shrink, so v falls below its running maximum and
    AMSGrad's step differs from Adam's."""
    rng = np.random.RandomState(seed)
    return [rng.normal(size=size) * 0.7**t for t in range(n_steps)]


def amsgrad_by_hand(params, gradients, rates, beta_1, beta_2, epsilon):
    """AMSGrad written out (Reddi et al.; PyTorch's bias correction), with
    epsilon added to sqrt(v_max) as skmlp's Adam does."""
    m, v, v_max = (np.zeros_like(params) for _ in range(3))
    history = []
    for t, (g, lr) in enumerate(zip(gradients, rates), start=1):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        v_max = np.maximum(v_max, v)
        rate = lr * math.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        params = params - rate * m / (np.sqrt(v_max) + epsilon)
        history.append(params)
    return np.array(history), v_max


def skmlp_steps(optimizer, params, gradients, rates):
    params = params.copy()
    optimizer.prepare(params, NumpyBackend())
    scratch = np.empty_like(params)
    history = []
    for g, lr in zip(gradients, rates):
        optimizer.step(params, g, lr, scratch)
        history.append(params.copy())
    return np.array(history)


def test_amsgrad_step_matches_the_written_out_formula():
    gradients = shrinking_gradients()
    rates = [0.1, 0.05] * 6
    start = np.linspace(-1, 1, 9)
    got = skmlp_steps(Adam(0.8, 0.95, 1e-3, amsgrad=True), start, gradients, rates)
    expected, _v_max = amsgrad_by_hand(start, gradients, rates, 0.8, 0.95, 1e-3)
    assert_allclose(got, expected, rtol=1e-14, atol=1e-15)
    # The maximum did take over: plain Adam goes elsewhere.
    adam = skmlp_steps(Adam(0.8, 0.95, 1e-3), start, gradients, rates)
    assert np.abs(adam[-1] - got[-1]).max() > 1e-3


@pytest.mark.parametrize("epsilon, rtol", [(0.0, 1e-13), (1e-8, 1e-6)])
def test_amsgrad_step_matches_torch(epsilon, rtol):
    # PyTorch adds epsilon after the bias correction of sqrt(v_max), skmlp
    # before (as its Adam and scikit-learn's do): equal for epsilon=0, and
    # within epsilon / sqrt(v) otherwise.
    gradients = shrinking_gradients()
    rates = [0.1] * len(gradients)
    start = np.linspace(-1, 1, 9)
    weight = torch.tensor(start, requires_grad=True)
    optimizer = torch.optim.Adam(
        [weight], lr=0.1, betas=(0.9, 0.99), eps=epsilon, amsgrad=True
    )
    expected = []
    for g in gradients:
        weight.grad = torch.from_numpy(g.copy())
        optimizer.step()
        expected.append(weight.detach().numpy().copy())
    ours = Adam(0.9, 0.99, epsilon, amsgrad=True)
    got = skmlp_steps(ours, start, gradients, rates)
    assert_allclose(got, np.array(expected), rtol=rtol, atol=0)
    max_exp_avg_sq = optimizer.state[weight]["max_exp_avg_sq"].numpy()
    assert_allclose(ours.max_second_moment, max_exp_avg_sq, rtol=1e-13)


def test_amsgrad_is_ignored_by_other_solvers(iris):
    X, y = iris
    for solver in ("sgd", "rmsprop"):
        params = {
            "solver": solver,
            "hidden_layer_sizes": (5,),
            "max_iter": 5,
            "random_state": 0,
        }
        plain = fit_quietly(MLPClassifierScratch(**params), X, y)
        ams = fit_quietly(MLPClassifierScratch(amsgrad=True, **params), X, y)
        assert_array_equal(plain.coefs_[0], ams.coefs_[0])


def test_amsgrad_state_carries_over_warm_start_pickle_and_partial_fit(iris):
    X, y = iris
    params = {
        "hidden_layer_sizes": (5,),
        "amsgrad": True,
        "shuffle": False,
        "random_state": 0,
        "learning_rate_init": 0.05,
    }
    once = fit_quietly(MLPClassifierScratch(max_iter=6, **params), X, y)
    twice = MLPClassifierScratch(max_iter=3, warm_start=True, **params)
    fit_quietly(twice, X, y)
    # Saved on the host, and loaded back it continues the same maximum.
    twice = pickle.loads(pickle.dumps(twice))
    assert type(twice._trainer.optimizer.max_second_moment) is np.ndarray
    fit_quietly(twice, X, y)
    assert_allclose(twice.coefs_[0], once.coefs_[0], rtol=0, atol=1e-13)
    # Without the maximum carried over, the continued fit goes elsewhere.
    restarted = MLPClassifierScratch(max_iter=3, warm_start=True, **params)
    fit_quietly(restarted, X, y)
    restarted._trainer.optimizer.max_second_moment = None
    fit_quietly(restarted, X, y)
    assert np.abs(restarted.coefs_[0] - once.coefs_[0]).max() > 1e-6

    streamed = MLPClassifierScratch(**params)
    for _ in range(6):
        streamed.partial_fit(X, y, classes=np.unique(y))
    assert_allclose(streamed.coefs_[0], once.coefs_[0], rtol=0, atol=1e-13)


# ---------------------------------------------------- training against torch
@pytest.mark.parametrize(
    "params, make_optimizer, make_scheduler",
    [
        (
            {"solver": "adam", "amsgrad": True, "epsilon": 1e-16},
            lambda w: torch.optim.Adam(w, lr=0.05, eps=1e-16, amsgrad=True),
            lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=1.0),
        ),
        (
            {"solver": "sgd", "momentum": 0.0, "learning_rate": "cosine"},
            lambda w: torch.optim.SGD(w, lr=0.05),
            lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=8),
        ),
        (
            {
                "solver": "adam",
                "amsgrad": True,
                "epsilon": 1e-16,
                "learning_rate": "cosine",
            },
            lambda w: torch.optim.Adam(w, lr=0.05, eps=1e-16, amsgrad=True),
            lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=8),
        ),
    ],
    ids=["amsgrad", "sgd-cosine", "amsgrad-cosine"],
)
def test_training_matches_torch(iris, params, make_optimizer, make_scheduler):
    X, y = iris
    clf = MLPClassifierScratch(
        hidden_layer_sizes=(6,),
        activation="tanh",
        alpha=0.0,
        batch_size=len(X),
        shuffle=False,
        learning_rate_init=0.05,
        max_iter=8,
        random_state=0,
        **params,
    )
    net = torch_copy(*initial_weights([4, 6, 3], seed=0))
    optimizer = make_optimizer(net.parameters())
    scheduler = make_scheduler(optimizer)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    for _ in range(8):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(net(X_t), y_t).backward()
        optimizer.step()
        scheduler.step()
    fit_quietly(clf, X, y)
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    for linear, coef, intercept in zip(linears, clf.coefs_, clf.intercepts_):
        assert_allclose(linear.weight.detach().numpy().T, coef, rtol=0, atol=1e-10)
        assert_allclose(linear.bias.detach().numpy(), intercept, rtol=0, atol=1e-10)


# ------------------------------------------------------------ cosine schedule
def cosine(init=0.3, period=7):
    return LearningRateSchedule("cosine", init, 0.5, 10, 0.1, cosine_period=period)


def test_cosine_matches_torch_cosine_annealing_then_warm_restarts():
    weight = torch.zeros(1, requires_grad=True)
    annealing = torch.optim.SGD([weight], lr=0.3)
    torch_annealing = torch.optim.lr_scheduler.CosineAnnealingLR(annealing, T_max=7)
    restarting = torch.optim.SGD([weight], lr=0.3)
    torch_restarts = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        restarting, T_0=7
    )
    schedule = cosine()
    rate = schedule.after_epoch(0.3, 0, 0)
    for epochs_done in range(1, 22):
        # The rate epoch number `epochs_done` trains with.
        assert rate == pytest.approx(restarting.param_groups[0]["lr"], rel=1e-13)
        if epochs_done <= 7:  # the first cycle is CosineAnnealingLR's
            assert rate == pytest.approx(annealing.param_groups[0]["lr"], rel=1e-13)
        for optimizer, torch_schedule in (
            (annealing, torch_annealing),
            (restarting, torch_restarts),
        ):
            optimizer.step()
            torch_schedule.step()
        rate = schedule.after_epoch(rate, epochs_done, samples_seen=0)
    assert schedule.on_plateau(rate) is None


def test_cosine_counts_epochs_over_partial_fit_and_warm_start(iris):
    X, y = iris
    params = {
        "hidden_layer_sizes": (4,),
        "learning_rate": "cosine",
        "learning_rate_init": 0.2,
        "max_iter": 5,
        "random_state": 0,
    }
    expected = [0.1 * (1 + math.cos(math.pi * (e % 5) / 5)) for e in range(12)]
    streamed = MLPClassifierScratch(**params)
    used = []
    for _ in range(12):
        streamed.partial_fit(X, y, classes=np.unique(y))
        used.append(streamed._trainer.learning_rate)  # for the next epoch
    assert_allclose(used, expected[1:] + [expected[12 % 5]], rtol=1e-13)

    warm = MLPClassifierScratch(warm_start=True, **params)
    for n_fits in range(1, 3):
        fit_quietly(warm, X, y)
        assert warm._trainer.epochs == 5 * n_fits
        assert warm._trainer.learning_rate == pytest.approx(0.2, rel=1e-13)


# -------------------------------------------------------------- class weights
def test_class_weight_dict_equals_sample_weight(iris):
    X, y = iris
    params = {
        "hidden_layer_sizes": (5,),
        "learning_rate_init": 0.05,
        "max_iter": 10,
        "random_state": 0,
    }
    weights = {0: 3.0, 2: 0.5}
    per_sample = np.array([3.0, 1.0, 0.5])[y]
    user_weight = np.linspace(0.5, 2, len(y))
    user_copy = user_weight.copy()
    by_class = fit_quietly(
        MLPClassifierScratch(class_weight=weights, **params),
        X,
        y,
        sample_weight=user_weight,
    )
    by_sample = fit_quietly(
        MLPClassifierScratch(**params), X, y, sample_weight=per_sample * user_weight
    )
    assert_array_equal(user_weight, user_copy)  # the user's array is untouched
    assert_allclose(by_class.coefs_[0], by_sample.coefs_[0], rtol=1e-13)
    unweighted = fit_quietly(MLPClassifierScratch(**params), X, y)
    assert np.abs(by_class.coefs_[0] - unweighted.coefs_[0]).max() > 1e-4


def test_balanced_equals_the_weights_computed_by_hand():
    # scikit-learn's check_class_weight_balanced_linear_classifier, for
    # non-contiguous labels, on the weights instead of a linear coef_.
    X = np.array([[-1.0, -1.0], [-1.0, 0], [-0.8, -1.0], [1.0, 1.0], [1.0, 0.0]])
    y = np.array([1, 1, 1, -1, -1])
    clf = MLPClassifierScratch(hidden_layer_sizes=(3,), max_iter=30, random_state=0)
    balanced = fit_quietly(clone(clf).set_params(class_weight="balanced"), X, y)
    by_hand = {1: 5 / (3 * 2), -1: 5 / (2 * 2)}
    manual = fit_quietly(clone(clf).set_params(class_weight=by_hand), X, y)
    assert_allclose(balanced.coefs_[0], manual.coefs_[0], rtol=1e-13)


def test_balanced_counts_samples_by_their_weight(iris):
    X, y = iris
    sample_weight = np.where(y == 0, 3.0, 1.0)
    clf = MLPClassifierScratch(
        hidden_layer_sizes=(3,), max_iter=5, class_weight="balanced", random_state=0
    )
    balanced = fit_quietly(clone(clf), X, y, sample_weight=sample_weight)
    expected = compute_class_weight(
        "balanced", classes=np.unique(y), y=y, sample_weight=sample_weight
    )
    manual = fit_quietly(
        clone(clf).set_params(class_weight=dict(enumerate(expected))),
        X,
        y,
        sample_weight=sample_weight,
    )
    assert_allclose(balanced.coefs_[0], manual.coefs_[0], rtol=1e-13)


def test_balanced_raises_minority_recall():
    X, y = make_classification(
        n_samples=800,
        n_features=6,
        n_informative=3,
        weights=[0.9, 0.1],
        class_sep=0.5,
        flip_y=0.0,
        random_state=1,
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, stratify=y, random_state=0
    )
    params = {
        "hidden_layer_sizes": (8,),
        "learning_rate_init": 0.01,
        "max_iter": 100,
        "random_state": 0,
    }
    plain = fit_quietly(MLPClassifierScratch(**params), X_train, y_train)
    balanced = fit_quietly(
        MLPClassifierScratch(class_weight="balanced", **params), X_train, y_train
    )
    plain_recall = recall_score(y_test, plain.predict(X_test))
    balanced_recall = recall_score(y_test, balanced.predict(X_test))
    # 0.2 and 0.7 (of 20 minority rows); other seeds gain 0.4 to 0.45.
    assert balanced_recall >= plain_recall + 0.3, (plain_recall, balanced_recall)


def test_sklearn_check_class_weight_balanced_classifiers():
    # scikit-learn runs it for its own classifiers only; on its
    # imbalanced-iris setting, 'balanced' must raise the weighted F1.
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    keep = np.r_[np.arange(50), np.arange(50, 65), np.arange(100, 108)]
    X, y = X[keep], y[keep]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.5, stratify=y, random_state=0
    )
    clf = MLPClassifierScratch(
        hidden_layer_sizes=(4,), learning_rate_init=0.01, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check_class_weight_balanced_classifiers(
            "MLPClassifierScratch", clf, X_train, y_train, X_test, y_test, None
        )


def test_class_weight_refusals(iris):
    X, y = iris
    with pytest.raises(
        ValueError, match=r"class_weight has labels \[7\] that are not classes"
    ):
        MLPClassifierScratch(class_weight={0: 1.0, 1: 2.0, 2: 1.0, 7: 3.0}).fit(X, y)
    with pytest.raises(
        ValueError, match="class_weight is not supported for multilabel targets"
    ):
        MLPClassifierScratch(class_weight={0: 2.0}).fit(X, np.eye(3)[y].astype(int))
    balanced = MLPClassifierScratch(class_weight="balanced")
    with pytest.raises(
        ValueError,
        match=r"class_weight 'balanced' is not supported for partial_fit\. In order "
        r"to use 'balanced' weights, use compute_class_weight\('balanced'",
    ):
        balanced.partial_fit(X, y, classes=np.unique(y))
    assert not hasattr(balanced, "classes_")
    with pytest.raises(ValueError, match="The 'class_weight' parameter of"):
        MLPClassifierScratch(class_weight="uniform").fit(X, y)


def test_partial_fit_takes_a_class_weight_dict(iris):
    X, y = iris
    params = {"hidden_layer_sizes": (5,), "random_state": 0}
    weighted = MLPClassifierScratch(class_weight={1: 4.0}, **params)
    by_sample = MLPClassifierScratch(**params)
    for chunk in (slice(0, 75), slice(75, None)):
        weighted.partial_fit(X[chunk], y[chunk], classes=[0, 1, 2])
        by_sample.partial_fit(
            X[chunk],
            y[chunk],
            classes=[0, 1, 2],
            sample_weight=np.where(y[chunk] == 1, 4.0, 1.0),
        )
    assert_allclose(weighted.coefs_[0], by_sample.coefs_[0], rtol=1e-13)


# ----------------------------------------------------- early-stopping scoring
class RecordingScorer:
    """A callable scorer: negated half squared error of predict_proba's
    class-1 column, remembering what it was called with."""

    def __init__(self, fail_at=None):
        self.calls = []
        self.fail_at = fail_at

    def __call__(self, estimator, X, y, **kwargs):
        self.calls.append((X, y, kwargs, [c.copy() for c in estimator.coefs_]))
        if len(self.calls) == self.fail_at:
            raise RuntimeError("scorer failed")
        return -float(np.mean((estimator.predict_proba(X)[:, 1] - (y == 1)) ** 2))


def early_stopping_params(**params):
    defaults = {
        "hidden_layer_sizes": (6,),
        "early_stopping": True,
        "learning_rate_init": 0.05,
        "n_iter_no_change": 4,
        "max_iter": 100,
        "random_state": 0,
    }
    return defaults | params


def test_loss_scoring_is_the_held_out_log_loss(iris):
    X, y = iris
    recorder = RecordingScorer()
    fit_quietly(MLPClassifierScratch(**early_stopping_params(scoring=recorder)), X, y)
    X_val, y_val, _, _ = recorder.calls[0]  # the held-out rows of this seed

    by_loss = fit_quietly(
        MLPClassifierScratch(**early_stopping_params(scoring="loss")), X, y
    )
    neg_log_loss = make_scorer(
        log_loss, greater_is_better=False, response_method="predict_proba"
    )
    by_scorer = fit_quietly(
        MLPClassifierScratch(**early_stopping_params(scoring=neg_log_loss)), X, y
    )
    # The same curve (scikit-learn's log_loss computing it), the same stop.
    assert len(by_loss.validation_scores_) == by_loss.n_iter_ == by_scorer.n_iter_
    assert_allclose(
        by_loss.validation_scores_, -np.array(by_scorer.validation_scores_), rtol=1e-12
    )
    assert by_loss.best_validation_score_ == min(by_loss.validation_scores_)
    # The restored weights are those of the lowest held-out loss.
    assert by_loss.best_validation_score_ == pytest.approx(
        log_loss(y_val, by_loss.predict_proba(X_val)), rel=1e-12
    )
    assert by_loss.n_iter_ > int(np.argmin(by_loss.validation_scores_)) + 1


def test_loss_scoring_of_the_regressor_leaves_the_penalty_out():
    X, y = make_blobs(n_samples=120, centers=3, random_state=0)
    y = X @ [1.0, -2.0] + y
    recorder_values = []

    def half_squared_error(estimator, X_val, y_val):
        recorder_values.append((X_val, y_val))
        return -0.5 * mean_squared_error(y_val, estimator.predict(X_val))

    params = early_stopping_params(alpha=10.0)
    by_loss = fit_quietly(MLPRegressorScratch(scoring="loss", **params), X, y)
    by_scorer = fit_quietly(
        MLPRegressorScratch(scoring=half_squared_error, **params), X, y
    )
    assert_allclose(
        by_loss.validation_scores_, -np.array(by_scorer.validation_scores_), rtol=1e-12
    )
    X_val, y_val = recorder_values[0]
    assert by_loss.best_validation_score_ == pytest.approx(
        0.5 * mean_squared_error(y_val, by_loss.predict(X_val)), rel=1e-12
    )


def test_callable_scorer_sees_each_epoch_and_nothing_leaks(iris):
    X, y = iris
    recorder = RecordingScorer()
    clf = fit_quietly(
        MLPClassifierScratch(**early_stopping_params(scoring=recorder)), X, y
    )
    assert len(recorder.calls) == clf.n_iter_ == len(clf.validation_scores_)
    # Each call saw that epoch's weights: they change from call to call.
    first_layers = [coefs[0] for *_, coefs in recorder.calls]
    assert all(np.abs(a - b).max() > 0 for a, b in itertools.pairwise(first_layers))
    assert all(kwargs == {} for _, _, kwargs, _ in recorder.calls)
    assert len(recorder.calls[0][0]) == 15  # validation_fraction=0.1 of 150 rows

    failing = MLPClassifierScratch(**early_stopping_params(scoring=RecordingScorer(3)))
    with pytest.raises(RuntimeError, match="scorer failed"):
        failing.fit(X, y)
    assert not hasattr(failing, "coefs_")  # the fit's weights did not leak out

    fit_quietly(failing.set_params(scoring=None, max_iter=3), X, y)
    fitted = failing.coefs_
    failing.set_params(warm_start=True, scoring=RecordingScorer(2))
    with pytest.raises(RuntimeError, match="scorer failed"):
        failing.fit(X, y)
    assert failing.coefs_ is fitted


def test_scorer_gets_sample_and_class_weights_of_the_held_out_rows(iris):
    X, y = iris
    recorder = RecordingScorer()
    # Each row's weight tells which row it is.
    sample_weight = 1 + np.arange(len(y)) / 1000
    fit_quietly(
        MLPClassifierScratch(
            **early_stopping_params(
                scoring=recorder, class_weight={2: 10.0}, max_iter=2
            )
        ),
        X,
        y,
        sample_weight=sample_weight,
    )
    X_val, y_val, kwargs, _ = recorder.calls[0]
    received = kwargs["sample_weight"]
    class_weight = np.where(y_val == 2, 10.0, 1.0)
    rows = np.round((received / class_weight - 1) * 1000).astype(int)
    assert_array_equal(X[rows], X_val)
    assert_allclose(received, sample_weight[rows] * class_weight, rtol=1e-15)
    assert (y_val == 2).any() and (y_val != 2).any()


def test_scorer_name_and_dataframe_input(iris):
    pd = pytest.importorskip("pandas")
    X, y = iris
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names"
        clf = MLPClassifierScratch(
            **early_stopping_params(scoring="balanced_accuracy", max_iter=200)
        ).fit(frame, y)
    assert 0.5 < clf.best_validation_score_ <= 1.0
    assert list(clf.feature_names_in_) == ["a", "b", "c", "d"]


def test_changed_scoring_starts_a_new_record(iris):
    X, y = iris
    clf = MLPClassifierScratch(**early_stopping_params(max_iter=5, warm_start=True))
    fit_quietly(clf, X, y)
    assert len(clf.validation_scores_) == 5
    fit_quietly(clf.set_params(scoring="loss"), X, y)
    assert len(clf.validation_scores_) == 5
    assert clf.best_validation_score_ == min(clf.validation_scores_)
    fit_quietly(clf, X, y)  # the same scoring: the record goes on
    assert len(clf.validation_scores_) == 10


@pytest.mark.parametrize("Estimator", [MLPClassifierScratch, MLPRegressorScratch])
def test_unknown_scoring_name_is_refused(iris, Estimator):
    X, y = iris
    message = (
        r"scoring='acuracy' is neither 'loss' nor the name of a scikit-learn "
        r"scorer\. Use None \(accuracy for classifiers, R\^2 for regressors\), "
        r"'loss'"
    )
    with pytest.raises(ValueError, match=message):
        Estimator(scoring="acuracy").fit(X, y)
    with pytest.raises(ValueError, match=message):
        Estimator(scoring="acuracy").partial_fit(
            X,
            y,
            **({"classes": [0, 1, 2]} if Estimator is MLPClassifierScratch else {}),
        )
