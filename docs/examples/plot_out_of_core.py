"""
==================================================
Out-of-core training with partial_fit
==================================================

When the training data do not fit in memory, keep them on disk and feed them
to :meth:`~skmlp.MLPClassifierScratch.partial_fit` a chunk at a time: each
call trains one epoch over the chunk it is given, and the optimizer's state
(here Adam's moments) carries over from call to call, so a pass over all the
chunks is one epoch over the data set, in a new order every pass.

Here the "large" data set is a NumPy file opened with ``mmap_mode='r'``: only
the chunk being used is read into memory. The same loop works over chunks
read from a database, Parquet files or a data stream; for data spread over a
cluster, see :doc:`the scale-out page </user_guide/scale_out>` (dask-ml's
``Incremental`` runs this loop over a Dask array).
"""

import tempfile
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from skmlp import MLPClassifierScratch

# %%
# Write a data set to disk once; training only ever sees a memory map of it.

CHUNK_ROWS, PASSES = 2000, 5
X, y = make_classification(
    n_samples=24_000,
    n_features=40,
    n_informative=20,
    n_classes=4,
    class_sep=0.8,
    random_state=0,
)
X = X.astype(np.float32)
folder = Path(tempfile.mkdtemp())
np.save(folder / "X_train.npy", X[:20_000])
np.save(folder / "y_train.npy", y[:20_000])
X_test, y_test = X[20_000:], y[20_000:]
del X, y

X_disk = np.load(folder / "X_train.npy", mmap_mode="r")
y_disk = np.load(folder / "y_train.npy", mmap_mode="r")
classes = np.arange(4)  # every class must be named on the first call
starts = np.arange(0, len(X_disk), CHUNK_ROWS)
print(f"{len(X_disk)} rows on disk, {len(starts)} chunks of {CHUNK_ROWS}")

# %%
# Several passes over the chunks, in a new random order each pass. A chunk is
# copied into memory (``np.asarray``) only while it is used.

clf = MLPClassifierScratch(
    hidden_layer_sizes=(64,), learning_rate_init=0.003, random_state=0
)
rng = np.random.default_rng(0)
seen, test_accuracy = [], []
for _ in range(PASSES):
    for start in rng.permutation(starts):
        rows = slice(start, start + CHUNK_ROWS)
        clf.partial_fit(np.asarray(X_disk[rows]), y_disk[rows], classes=classes)
        seen.append(clf.t_)
        test_accuracy.append(clf.score(X_test, y_test))
print(f"test accuracy after {PASSES} passes: {test_accuracy[-1]:.3f}")

# %%
# The same number of epochs with ``fit`` on the whole array in memory, for
# reference: streaming the chunks gets as far.

in_memory = MLPClassifierScratch(
    hidden_layer_sizes=(64,),
    learning_rate_init=0.003,
    max_iter=PASSES,
    random_state=0,
    tol=0,  # run every epoch: the ConvergenceWarning is the expected budget
)
X_all, y_all = np.asarray(X_disk), np.asarray(y_disk)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    in_memory.fit(X_all, y_all)

fig, ax = plt.subplots(figsize=(7, 4.5))
ax.plot(seen, test_accuracy, label="partial_fit over chunks from disk")
ax.axhline(
    in_memory.score(X_test, y_test),
    color="black",
    linestyle=":",
    label=f"fit in memory, {PASSES} epochs",
)
for n_pass in range(1, PASSES):
    ax.axvline(n_pass * len(X_disk), color="tab:gray", linewidth=0.6)
ax.set_xlabel("training samples seen (gray lines: end of a pass)")
ax.set_ylabel("test accuracy")
ax.set_title(f"Out-of-core training: {len(starts)} chunks of {CHUNK_ROWS} rows")
ax.legend(loc="lower right")
ax.grid(True, alpha=0.3)
fig.tight_layout()
plt.show()

# %%
# Delete the files (a real data set would stay on disk).

del X_disk, y_disk
for path in folder.iterdir():
    path.unlink()
folder.rmdir()
