"""
===================================================================
Early stopping on accuracy or on the held-out loss
===================================================================

With ``early_stopping=True`` the network scores a held-out
``validation_fraction`` of the training data after every epoch, stops once
the score has not improved for ``n_iter_no_change`` epochs, and keeps the
weights of the best epoch (the dot). ``scoring`` chooses the score: ``None``
(the default) is accuracy, as in scikit-learn; ``'loss'`` is the held-out
log-loss, lower being better, what Keras' ``val_loss`` watches.

The two networks below are the same, trained on the same digits with the
same held-out rows; only ``scoring`` differs. Accuracy on a few hundred
held-out digits moves in steps of one sample and stops changing while the
probabilities still improve: here it stops rising early and training ends
soon after. The loss is smooth and keeps falling slowly for longer, so the
network watched on it trains longer and keeps a model whose probabilities
are better calibrated (a lower log-loss on the test set). The titles give
each kept model's accuracy and log-loss on a separate test set; both panels
draw the losses on a log scale.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split

from skmlp import MLPClassifierScratch
from skmlp.plotting import LossCurveDisplay

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, stratify=y, random_state=0
)

fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
for ax, scoring in zip(axes, (None, "loss")):
    clf = MLPClassifierScratch(
        hidden_layer_sizes=(64,),
        learning_rate_init=0.01,
        alpha=0.0,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=10,
        scoring=scoring,
        random_state=0,
    ).fit(X_train, y_train)
    display = LossCurveDisplay.from_estimator(clf, ax=ax)
    display.ax_.set_yscale("log")
    if scoring == "loss":
        display.validation_ax_.set_yscale("log")
    display.ax_.get_legend().set_loc("center right")
    test_loss = log_loss(y_test, clf.predict_proba(X_test))
    ax.set_title(
        f"scoring={scoring!r}: best epoch {display.best_epoch_} of {clf.n_iter_}\n"
        f"test accuracy {clf.score(X_test, y_test):.3f}, test log-loss {test_loss:.3f}"
    )

plt.show()
