"""
==============================================
Prediction intervals from two quantile models
==============================================

``MLPRegressorScratch(loss='quantile', quantile=q)`` minimises the pinball
loss and predicts the conditional ``q``-quantile of ``y``. Two such models, at
``q = 0.05`` and ``q = 0.95``, bound a 90% prediction interval. Here the noise
grows with ``|x|``: the interval widens where the data spreads, which a single
squared-error model (the mean, drawn too) cannot tell. The title gives the
share of held-out targets the interval holds.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from skmlp import MLPRegressorScratch

# %%
# ``sin(x)`` plus noise whose spread grows with ``|x|``.

rng = np.random.RandomState(0)
X = rng.uniform(-3, 3, size=(2000, 1))
y = np.sin(X[:, 0]) + (0.2 + 0.2 * np.abs(X[:, 0])) * rng.normal(size=2000)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

# %%
# Three quantile models (the interval's ends and the median) and the mean.

common = {
    "hidden_layer_sizes": (16,), "learning_rate_init": 0.01,
    "batch_size": 100, "tol": 1e-5, "random_state": 0,
}
low, median, high = (
    MLPRegressorScratch(loss="quantile", quantile=q, **common).fit(X_train, y_train)
    for q in (0.05, 0.5, 0.95)
)
mean = MLPRegressorScratch(**common).fit(X_train, y_train)
inside = (low.predict(X_test) <= y_test) & (y_test <= high.predict(X_test))

grid = np.linspace(-3, 3, 300)[:, None]
fig, ax = plt.subplots(figsize=(7, 5), layout="constrained")
ax.scatter(X_test[:, 0], y_test, s=6, color="tab:gray", alpha=0.5,
           label="held-out data")
ax.fill_between(grid[:, 0], low.predict(grid), high.predict(grid),
                color="tab:blue", alpha=0.25,
                label="quantiles 0.05 to 0.95 (loss='quantile')")
ax.plot(grid[:, 0], median.predict(grid), color="tab:blue",
        label="median (quantile=0.5)")
ax.plot(grid[:, 0], mean.predict(grid), color="tab:orange", linestyle="--",
        label="mean (loss='squared_error')")
ax.plot(grid[:, 0], np.sin(grid[:, 0]), color="black", linewidth=0.8,
        label="sin(x), the noise-free signal")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.set_title(
    f"A 90% prediction interval holds {inside.mean():.1%} of the held-out targets"
)
ax.legend(loc="upper left", fontsize="small")
ax.grid(True, alpha=0.3)

plt.show()
