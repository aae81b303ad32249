"""
=====================================================================
Early stopping: training loss, validation accuracy and the best epoch
=====================================================================

With ``early_stopping=True`` the classifier holds out a stratified
``validation_fraction`` of the training data and scores it (accuracy) after
every epoch. Training stops once the score has not improved by ``tol`` for more
than ``n_iter_no_change`` epochs in a row, and the weights of the best epoch
are restored: the model you get is the one at the marked epoch, not the last.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skmlp import MLPClassifierScratch

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

clf = MLPClassifierScratch(
    hidden_layer_sizes=(64,),
    early_stopping=True,
    validation_fraction=0.2,
    n_iter_no_change=10,
    max_iter=200,
    random_state=0,
).fit(X_train, y_train)
epochs = np.arange(1, clf.n_iter_ + 1)
# The first epoch reaching the best score is the one whose weights are kept.
best_epoch = int(np.argmax(clf.validation_scores_)) + 1

fig, loss_ax = plt.subplots(figsize=(7, 5), layout="constrained")
score_ax = loss_ax.twinx()
loss_ax.plot(epochs, clf.loss_curve_, color="tab:blue", label="training loss")
score_ax.plot(
    epochs, clf.validation_scores_, color="tab:orange", label="validation accuracy"
)
score_ax.axvline(
    best_epoch,
    color="tab:green",
    linestyle="--",
    label=f"best epoch {best_epoch}: weights kept",
)
score_ax.axvspan(
    best_epoch,
    clf.n_iter_,
    color="tab:gray",
    alpha=0.15,
    label=f"no improvement: stopped after epoch {clf.n_iter_}",
)
score_ax.plot(best_epoch, clf.best_validation_score_, "o", color="tab:green")

loss_ax.set_yscale("log")
loss_ax.set_xlabel("epoch")
loss_ax.set_ylabel("training loss (log scale)", color="tab:blue")
score_ax.set_ylabel("validation accuracy", color="tab:orange")
loss_ax.set_title(
    f"Early stopping on digits: validation accuracy "
    f"{clf.best_validation_score_:.3f}, test accuracy "
    f"{clf.score(X_test, y_test):.3f}"
)
handles = [h for ax in (loss_ax, score_ax) for h in ax.get_legend_handles_labels()[0]]
fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize="small")
loss_ax.grid(True, alpha=0.3)

plt.show()
