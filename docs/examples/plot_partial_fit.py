"""
=======================================================================
Learning from a stream with partial_fit: test accuracy after each chunk
=======================================================================

The training part of the digits data arrives in chunks of 30 samples, twice
over. Each chunk gets one call to ``partial_fit`` (one epoch over the chunk:
here a single mini-batch step); the first call names every class with
``classes=``. The optimizer's state (Adam's moments, RMSprop's averages, SGD's
velocity) carries over from chunk to chunk. scikit-learn's ``MLPClassifier``
with the same settings is drawn for reference (a chunk is a single batch here,
so its curve and skmlp's Adam coincide); the dotted line is one ``fit`` on all
the training data.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from skmlp import MLPClassifierScratch

CHUNK_SIZE = 30
PASSES = 2
SHARED = {"hidden_layer_sizes": (64,), "learning_rate_init": 0.01, "random_state": 0}
MODELS = {
    "skmlp, Adam": lambda: MLPClassifierScratch(solver="adam", **SHARED),
    "skmlp, RMSprop": lambda: MLPClassifierScratch(solver="rmsprop", **SHARED),
    "skmlp, SGD + Nesterov": lambda: MLPClassifierScratch(solver="sgd", **SHARED),
    "scikit-learn, Adam": lambda: MLPClassifier(solver="adam", **SHARED),
}


def stream_accuracy(clf, chunks, classes, X_test, y_test):
    """Test accuracy after each ``partial_fit`` call, and the samples seen."""
    accuracy, seen = [], []
    for X_chunk, y_chunk in chunks:
        clf.partial_fit(X_chunk, y_chunk, classes=classes)
        accuracy.append(clf.score(X_test, y_test))
        seen.append(clf.t_)
    return seen, accuracy


X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
starts = range(0, len(X_train), CHUNK_SIZE)
chunks = [
    (X_train[i : i + CHUNK_SIZE], y_train[i : i + CHUNK_SIZE]) for i in starts
] * PASSES
classes = np.unique(y)

fig, ax = plt.subplots(figsize=(7, 4.5))
for label, make in MODELS.items():
    style = "--" if label.startswith("scikit-learn") else "-"
    seen, accuracy = stream_accuracy(make(), chunks, classes, X_test, y_test)
    ax.plot(seen, accuracy, style, label=label)
full = MLPClassifierScratch(max_iter=200, **SHARED).fit(X_train, y_train)
ax.axhline(
    full.score(X_test, y_test),
    color="black",
    linestyle=":",
    label="skmlp, Adam, fit on all training data",
)
ax.axvline(len(X_train), color="tab:gray", linewidth=0.8)
ax.text(len(X_train), 0.15, " second pass over the stream", color="tab:gray")
ax.set_xlabel(f"training samples seen (chunks of {CHUNK_SIZE})")
ax.set_ylabel("test accuracy")
ax.set_ylim(0, 1)
ax.set_title("partial_fit on a stream of digits")
ax.legend(loc="center right", fontsize="small")
ax.grid(True, alpha=0.3)
fig.tight_layout()

plt.show()
