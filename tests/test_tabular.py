"""TabularMLPClassifier / TabularMLPRegressor: the columns they find, the
preprocessing they fit (checked against the transformers built by hand), the
target standardisation, early stopping's best epoch, and the estimator
contract."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmlp import (
    MLPClassifierScratch,
    MLPRegressorScratch,
    TabularMLPClassifier,
    TabularMLPRegressor,
)
from skmlp.preprocessing import PiecewiseLinearEncoder, RobustSoftClipScaler

pd = pytest.importorskip("pandas")

# Small and quick: the recipe's width is not what these tests are about.
QUICK = {"hidden_layer_sizes": (32,), "max_iter": 30, "batch_size": 32, "random_state": 0}


def _table(n=240, seed=0):
    """Numbers with NaN and an outlier, a category, strings, bools."""
    rng = np.random.RandomState(seed)
    income = rng.lognormal(10, 1, n)
    income[::17] = np.nan
    income[5] = 1e9
    X = pd.DataFrame(
        {
            "income": income,
            "age": rng.randint(18, 80, n).astype(float),
            "plan": pd.Categorical(rng.choice(["basic", "plus", "pro"], n)),
            "city": rng.choice(["Oslo", "Lima", "Pune", None], n).astype(object),
            "member": rng.rand(n) < 0.4,
        }
    )
    signal = (X["age"] > 45).to_numpy() | (X["plan"] == "pro").to_numpy()
    return X, signal.astype(int)


def _categorical(X, categorical_features="from_dtype"):
    model = TabularMLPClassifier(
        **{**QUICK, "max_iter": 1}, categorical_features=categorical_features
    )
    return model.fit(X, np.arange(len(X)) % 2).categorical_features_.tolist()


def test_categorical_columns_from_dtype_and_by_name_index_or_mask():
    X, _ = _table(n=40)
    assert _categorical(X) == [False, False, True, True, True]
    numeric = X[["income", "age"]]
    assert _categorical(numeric.to_numpy()) == [False, False]
    assert _categorical(X, ["plan", "city", "member"]) == [0, 0, 1, 1, 1]
    assert _categorical(X, [2, 3, -1]) == [0, 0, 1, 1, 1]
    # An array's categorical columns are named by index or mask.
    assert _categorical(X.to_numpy(), [2, 3, 4]) == [0, 0, 1, 1, 1]
    assert _categorical(numeric, np.array([1, 0], dtype=bool)) == [1, 0]
    assert _categorical(numeric, []) == [False, False]


@pytest.mark.parametrize(
    "categorical_features, message",
    [
        (["plan", "colour"], "does not have: \\['colour'\\]"),
        ([7], "out of range for 5 columns"),
        (np.array([True, False]), "one entry per column \\(5\\)"),
    ],
)
def test_wrong_categorical_features_are_refused(categorical_features, message):
    X, y = _table()
    model = TabularMLPClassifier(categorical_features=categorical_features, **QUICK)
    with pytest.raises(ValueError, match=message):
        model.fit(X, y)


def test_names_need_a_dataframe():
    X, y = _table()
    model = TabularMLPClassifier(categorical_features=["plan"], **QUICK)
    with pytest.raises(ValueError, match="X has no column names"):
        model.fit(X[["income", "age"]].to_numpy(), y)


def test_the_network_sees_the_hand_built_preprocessing():
    X, y = _table()
    model = TabularMLPClassifier(**QUICK).fit(X, y)
    numeric, categorical = X[["income", "age"]], X[["plan", "city", "member"]]
    scaled = RobustSoftClipScaler().fit_transform(numeric)
    scaled[np.isnan(numeric.to_numpy())] = 0.0
    piecewise = PiecewiseLinearEncoder(
        16, extrapolate=False, add_indicator=True
    ).fit_transform(numeric)
    one_hot = OneHotEncoder(
        handle_unknown="infrequent_if_exist", max_categories=32, sparse_output=False
    ).fit_transform(categorical)
    expected = np.hstack([scaled, piecewise, one_hot]).astype(np.float32)
    encoded = model.preprocessor_.transform(X).astype(np.float32)
    np.testing.assert_array_equal(encoded, expected)
    assert [m.n_features_in_ for m in model.members_] == [expected.shape[1]] * 3
    # A missing value is the median after scaling; the indicator says so.
    names = list(model.preprocessor_.get_feature_names_out())
    assert "numeric__piecewise__income_missing" in names
    assert isinstance(model.preprocessor_, ColumnTransformer)


def _members_mean(model, X, method):
    encoded = model.preprocessor_.transform(X).astype(np.float32)
    outputs = [getattr(m, method)(encoded).astype(np.float64) for m in model.members_]
    return (outputs[0] + outputs[1] + outputs[2]) / 3


def test_predictions_average_the_members_on_the_encoded_rows():
    X, y = _table()
    labels = np.array(["no", "yes"])[y]
    model = TabularMLPClassifier(**QUICK).fit(X, labels)
    proba = model.predict_proba(X)
    assert proba.dtype == np.float64
    np.testing.assert_array_equal(proba, _members_mean(model, X, "predict_proba"))
    np.testing.assert_array_equal(model.predict(X), np.where(proba[:, 1] > 0.5, "yes", "no"))
    np.testing.assert_allclose(np.exp(model.predict_log_proba(X)), proba)
    assert model.score(X, labels) > 0.8
    # Three seeds drawn from random_state: three different networks.
    first_layers = [m.coefs_[0] for m in model.members_]
    assert not np.array_equal(first_layers[0], first_layers[1])


def test_multiclass_and_multilabel_predictions_follow_the_averaged_probabilities():
    X, y = _table()
    three = y + (X["member"].to_numpy() & (y == 0))
    model = TabularMLPClassifier(**QUICK).fit(X, three)
    proba = model.predict_proba(X)
    np.testing.assert_array_equal(model.predict(X), proba.argmax(axis=1))
    both = np.column_stack([y, X["member"].to_numpy()]).astype(int)
    multilabel = TabularMLPClassifier(**QUICK).fit(X, both)
    proba = multilabel.predict_proba(X)
    np.testing.assert_array_equal(multilabel.predict(X), (proba > 0.5).astype(int))


def test_unseen_levels_and_missing_values_at_predict():
    X, y = _table()
    model = TabularMLPClassifier(**QUICK).fit(X, y)
    new = X.head(4).copy()
    new["city"] = ["Quito", None, "Oslo", "Quito"]
    new.loc[new.index[0], "age"] = np.nan
    assert model.predict_proba(new).shape == (4, 2)


def test_the_users_table_is_left_as_it_was():
    X, y = _table()
    before = X.copy()
    TabularMLPClassifier(**QUICK).fit(X, y).predict(X)
    pd.testing.assert_frame_equal(X, before)


def test_regression_targets_are_standardised_and_mapped_back():
    X, y = _table()
    target = 3.0 * X["age"].to_numpy() + 50.0 * y
    model = TabularMLPRegressor(**QUICK).fit(X, target)
    np.testing.assert_allclose(model.target_mean_, [target.mean()])
    np.testing.assert_allclose(model.target_scale_, [target.std()])
    inner = _members_mean(model, X, "predict")
    np.testing.assert_array_equal(
        model.predict(X), inner * model.target_scale_[0] + model.target_mean_[0]
    )
    # The network sees the same standardised targets whatever their units.
    shifted = TabularMLPRegressor(**QUICK).fit(X, 1000.0 * target - 7.0)
    np.testing.assert_allclose(
        shifted.predict(X), 1000.0 * model.predict(X) - 7.0, rtol=1e-4
    )
    assert model.score(X, target) > 0.8


def test_weighted_target_statistics_and_two_outputs():
    X, _y = _table()
    targets = np.column_stack([X["age"].to_numpy(), np.zeros(len(X)) + 4.0])
    weights = np.linspace(0.5, 2.0, len(X))
    model = TabularMLPRegressor(**QUICK).fit(X, targets, sample_weight=weights)
    np.testing.assert_allclose(
        model.target_mean_, np.average(targets, axis=0, weights=weights)
    )
    # A constant target is divided by 1, not 0.
    assert model.target_scale_[1] == 1.0
    assert model.predict(X).shape == (len(X), 2)


@pytest.mark.parametrize("Estimator", [TabularMLPClassifier, TabularMLPRegressor])
def test_the_best_epochs_weights_are_kept(Estimator):
    X, y = _table()
    model = Estimator(**{**QUICK, "max_iter": 40, "n_iter_no_change": 3}).fit(X, y)
    for member, best_epoch in zip(model.members_, model.best_epochs_, strict=True):
        scores = member.validation_scores_
        assert best_epoch == int(np.argmin(scores)) + 1
        assert member.n_iter_ == len(scores) == len(member.loss_curve_)
        assert member.scoring == "loss"
        assert member.best_validation_score_ == min(scores)
    assert model.n_iter_ == max(m.n_iter_ for m in model.members_)


def test_a_table_too_small_to_hold_out_trains_on_every_row():
    X, y = _table(n=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = TabularMLPClassifier(**QUICK).fit(X, y)
    member = model.members_[0]
    assert member.validation_scores_ is None
    # The stop rule then watches the training loss; the last epoch is kept.
    assert model.best_epochs_[0] == member.n_iter_ <= QUICK["max_iter"]
    assert member.batch_size == 10


def test_the_recipe_warns_neither_of_its_batch_size_nor_of_its_schedules_end():
    X, y = _table(n=60)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        warnings.simplefilter("error", UserWarning)
        model = TabularMLPClassifier(**{**QUICK, "batch_size": 256, "n_iter_no_change": 100})
        model.fit(X, y)
    assert model.n_iter_ == model.max_iter and model.members_[0].batch_size == 60 - 6


@pytest.mark.parametrize("Estimator", [TabularMLPClassifier, TabularMLPRegressor])
def test_random_state_makes_fits_repeatable(Estimator):
    X, y = _table()
    first = Estimator(**QUICK).fit(X, y).predict(X)
    np.testing.assert_array_equal(first, Estimator(**QUICK).fit(X, y).predict(X))
    other = Estimator(**{**QUICK, "random_state": 1}).fit(X, y)
    if Estimator is TabularMLPRegressor:
        assert not np.array_equal(first, other.predict(X))


def test_the_recipe_reaches_the_network():
    X, y = _table()
    model = TabularMLPClassifier(
        **{**QUICK, "batch_size": 64}, dropout=0.2, weight_decay=0.01, label_smoothing=0.1
    ).fit(X, y)
    assert len(model.members_) == 3
    inner = model.members_[0].get_params()
    assert isinstance(model.members_[0], MLPClassifierScratch)
    assert inner["dropout"] == 0.2 and inner["weight_decay"] == 0.01
    assert inner["label_smoothing"] == 0.1 and inner["batch_size"] == 64
    assert inner["activation"] == "silu" and inner["learning_rate"] == "cosine"
    assert inner["early_stopping"] and inner["scoring"] == "loss"
    regressor = TabularMLPRegressor(**QUICK).fit(X, y.astype(float))
    assert isinstance(regressor.members_[-1], MLPRegressorScratch)
    single = TabularMLPRegressor(**QUICK, n_members=1).fit(X, y.astype(float))
    assert len(single.members_) == 1


@pytest.mark.parametrize(
    "params, message",
    [
        ({"dropout": 1.0}, "dropout"),
        ({"n_bins": 1}, "n_bins"),
        ({"n_members": 0}, "n_members"),
        ({"activation": "identity"}, "activation"),
        ({"max_categories": 1}, "max_categories"),
        ({"categorical_features": "auto"}, "categorical_features"),
        ({"validation_fraction": 0.0}, "validation_fraction"),
    ],
)
def test_invalid_parameters_are_refused_at_fit(params, message):
    X, y = _table(n=40)
    with pytest.raises(ValueError, match=message):
        TabularMLPClassifier(**params).fit(X, y)


@pytest.mark.parametrize("Estimator", [TabularMLPClassifier, TabularMLPRegressor])
def test_pickle_round_trip(Estimator):
    X, y = _table()
    model = Estimator(**QUICK).fit(X, y)
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert type(loaded).__module__ == "skmlp"


@pytest.mark.parametrize("Estimator", [TabularMLPClassifier, TabularMLPRegressor])
def test_skops_round_trip_trusts_skmlps_classes_only(Estimator):
    sio = pytest.importorskip("skops.io")
    X, y = _table()
    model = Estimator(**QUICK).fit(X, y)
    data = sio.dumps(model)
    untrusted = sio.get_untrusted_types(data=data)
    assert all(name.startswith("skmlp.") for name in untrusted), untrusted
    loaded = sio.loads(data, trusted=untrusted)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def _expected_failed_checks(estimator):
    return {
        "check_sample_weight_equivalence_on_dense_data": (
            "the held-out split and the dropout masks are per row, not weighted"
        ),
        # rtol 1e-7 is float64's; BLAS blocks a float32 product by the
        # batch's rows, so an output can move in its last bits.
        "check_methods_subset_invariance": (
            "the network computes in float32: a row's output can move by "
            "~1e-7 relative with the rows beside it"
        ),
    }


@parametrize_with_checks(
    # Narrower than the default: the contract does not depend on the width.
    [
        TabularMLPClassifier((64, 64), max_iter=50, random_state=0),
        TabularMLPRegressor((64, 64), max_iter=50, random_state=0),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def _damaged(model, **changes):
    # A copy: __getstate__ may return the model's own __dict__.
    state = {**model.__getstate__(), **changes}
    loaded = type(model).__new__(type(model))
    loaded.__setstate__(state)
    return loaded


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"members_": [MLPRegressorScratch()]}, "members_ hold a MLPRegressorScratch"),
        ({"members_": []}, "members_ is not a list of networks"),
        ({"categorical_features_": np.zeros(4, bool)}, "categorical_features_"),
        ({"classes_": np.array([0, 2])}, "classes_ are not the members'"),
    ],
)
def test_an_inconsistent_saved_classifier_never_loads(changes, message):
    X, y = _table(n=80)
    model = TabularMLPClassifier(**QUICK).fit(X, y)
    with pytest.raises(ValueError, match=message):
        _damaged(model, **changes)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"target_mean_": np.zeros(2)}, "target_mean_ is not one float per output"),
        ({"target_scale_": np.array([0.0])}, "target_scale_ is not positive"),
        ({"target_mean_": np.array([np.nan])}, "not finite"),
    ],
)
def test_an_inconsistent_saved_regressor_never_loads(changes, message):
    X, y = _table(n=80)
    model = TabularMLPRegressor(**QUICK).fit(X, y.astype(float))
    with pytest.raises(ValueError, match=message):
        _damaged(model, **changes)


def test_a_preprocessor_of_another_width_never_loads():
    X, y = _table(n=80)
    model = TabularMLPClassifier(**QUICK).fit(X, y)
    other = TabularMLPClassifier(**{**QUICK, "n_bins": 4}).fit(X, y)
    with pytest.raises(ValueError, match="preprocessor_ gives .* features and a member takes"):
        _damaged(model, preprocessor_=other.preprocessor_)
    # Intact, it loads as it was saved.
    np.testing.assert_array_equal(_damaged(model).predict_proba(X), model.predict_proba(X))


def test_nullable_string_columns_with_pd_na():
    X, y = _table(n=80)
    nullable = X.convert_dtypes()
    assert nullable["city"].isna().any()
    model = TabularMLPClassifier(**QUICK).fit(nullable, y)
    # pd.NA reads as the same missing category as None in an object column.
    plain = TabularMLPClassifier(**QUICK).fit(X, y)
    np.testing.assert_array_equal(model.predict_proba(nullable), plain.predict_proba(X))
    assert nullable["city"].dtype == X.convert_dtypes()["city"].dtype


def test_dates_are_refused_with_what_to_do():
    X, y = _table(n=40)
    X["joined"] = pd.date_range("2020-01-01", periods=len(X))
    with pytest.raises(ValueError, match=r"\['joined'\] hold dates .* turn them into numbers"):
        TabularMLPClassifier(**QUICK).fit(X, y)


def test_zero_weights_advice_names_what_these_estimators_have():
    X, y = _table(n=40)
    weights = np.zeros(len(X))
    weights[:3] = 1.0
    with pytest.raises(ValueError, match="weigh fewer rows 0") as error:
        TabularMLPClassifier(**QUICK).fit(X, y, sample_weight=weights)
    assert "early_stopping" not in str(error.value)


def test_an_array_of_strings_says_how_to_name_categorical_columns():
    X = np.array([["a", "1.0"], ["b", "2.0"]] * 10)
    with pytest.raises(ValueError, match="name the categorical ones with categorical_features"):
        TabularMLPClassifier(**QUICK).fit(X, [0, 1] * 10)
    model = TabularMLPClassifier(**QUICK, categorical_features=[0]).fit(X, [0, 1] * 10)
    assert model.categorical_features_.tolist() == [True, False]


@pytest.mark.parametrize("missing", ["preprocessor_", "classes_"])
def test_a_saved_classifier_missing_a_part_never_loads(missing):
    X, y = _table(n=80)
    state = dict(TabularMLPClassifier(**QUICK).fit(X, y).__getstate__())
    del state[missing]
    loaded = TabularMLPClassifier.__new__(TabularMLPClassifier)
    with pytest.raises(ValueError, match="damaged"):
        loaded.__setstate__(state)
