"""
===================================================================
Class weights on an imbalanced problem
===================================================================

A binary problem where nine samples in ten belong to class 0
(``make_classification`` with ``weights=[0.9, 0.1]``). Trained on the plain
mean loss, the network leans toward the majority: many minority samples of
the held-out set are called class 0. With ``class_weight='balanced'`` each
sample's loss is weighed by ``n_samples / (n_classes * count of its class)``,
so both classes count as much in total: the minority recall rises, paid for
with more majority samples called class 1. The confusion matrices below are
normalized by the true class, so their diagonals are the recalls.
"""

import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import ConfusionMatrixDisplay, recall_score
from sklearn.model_selection import train_test_split

from skmlp import MLPClassifierScratch

X, y = make_classification(
    n_samples=2000,
    n_features=10,
    n_informative=4,
    weights=[0.9, 0.1],
    flip_y=0.05,
    class_sep=1.0,
    random_state=0,
)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.5, stratify=y, random_state=0
)

fig, axes = plt.subplots(1, 2, figsize=(9, 4.5), layout="constrained")
for ax, class_weight in zip(axes, (None, "balanced")):
    clf = MLPClassifierScratch(
        hidden_layer_sizes=(32,),
        max_iter=50,
        class_weight=class_weight,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    y_pred = clf.predict(X_test)
    ConfusionMatrixDisplay.from_predictions(
        y_test, y_pred, normalize="true", ax=ax, colorbar=False, values_format=".2f"
    )
    minority_recall = recall_score(y_test, y_pred, pos_label=1)
    ax.set_title(
        f"class_weight={class_weight!r}\nminority recall {minority_recall:.2f}"
    )
fig.suptitle("Held-out confusion matrices, normalized by the true class")

plt.show()
