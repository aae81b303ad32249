"""CPU training benchmark: skmlp against scikit-learn, PyTorch, Keras and the GEMM floor.

One run times, side by side on the same machine:

- per-epoch training time of ``MLPClassifierScratch``, the same with its numba
  kernels switched off (``skmlp ufuncs``: the NumPy reference, as without
  numba), scikit-learn's ``MLPClassifier`` with the same configuration, the
  same network in PyTorch on the CPU and in Keras 3 on JAX (each when
  installed), and the *GEMM floor*: the forward and backward
  matrix multiplies of the same network alone, in NumPy, into preallocated
  arrays (no bias, activation, loss, optimizer or batch gathering);
- in the settings of ``SETTINGS``: MNIST-shaped float32 data (60000 x 784,
  10 classes, fixed seed) on a 784-512-128-64-10 ReLU network with Adam at
  batch 1000 and at batch 200; a 64-100-10 network on the bundled digits,
  where per-batch overhead dominates; and the batch-1000 network with dropout
  0.2, with batch normalization, and in float64. scikit-learn has neither
  dropout nor batch normalization, so it sits those two out, and Keras on JAX
  the float64 one (JAX computes in float32 unless x64 is switched on for the
  whole process);
- ``predict_proba`` on the 60000 rows, and on a single row (per-call
  latency, as when serving one request at a time), also of the skmlp model
  exported to ONNX and run by onnxruntime (when skl2onnx and onnxruntime are
  installed: the ``onnx`` extra);
- peak traced memory (``tracemalloc``) during ``fit``, as a multiple of
  ``X.nbytes``, with and without early stopping;
- test accuracy after the same epochs, which must be within one point of
  scikit-learn's where scikit-learn runs (the exit status is 1 otherwise;
  times never fail the run).

Each timed call trains a fresh model for ``--epochs`` epochs (``fit`` with
``max_iter=epochs`` for skmlp and scikit-learn), and a time is that call's
seconds per epoch. The candidates run interleaved, one call each per round
with the order rotating, so that load from other processes hits all of them
alike; tables give the median over ``--repeats`` rounds, and each ratio is
the median of the per-round ratios. The last table checks the figures
against the CPU targets (the NumPy hot loop's, tightened for the numba
kernels).

Run from the project root::

    PYTHONPATH=. python benchmarks/bench_cpu.py            # full run, ~15-20 min
    PYTHONPATH=. python benchmarks/bench_cpu.py --quick    # tiny sizes, seconds
"""

import argparse
import gc
import json
import operator
import os
import platform
import statistics
import sys
import time
import tracemalloc
import warnings
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import sklearn
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from skmlp import MLPClassifierScratch

try:
    import torch
except ImportError:  # PyTorch is optional: its rows are left out.
    torch = None

keras = None  # Keras 3 on JAX, imported by main() unless --no-keras


def import_keras():
    """Keras on JAX (XLA fuses all the elementwise work), or None where Keras
    or JAX is not installed or another Keras backend was asked for."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    try:
        import keras
    except ImportError:  # optional, like PyTorch
        return None
    return keras if keras.backend.backend() == "jax" else None


try:  # switching the kernels off; absent in checkouts from before them
    from skmlp._backends import NumpyBackend

    reference_only = NumpyBackend.kernel_state.reference_only
except (ImportError, AttributeError):
    reference_only = None

try:
    import onnxruntime
    import skl2onnx

    import skmlp.onnx  # noqa: F401 (registers the converters)
except ImportError:  # The onnx extra is optional: its rows are left out.
    onnxruntime = None

HIDDEN = (512, 128, 64)
ADAM = {"solver": "adam", "learning_rate_init": 1e-3, "alpha": 1e-4}


@dataclass(frozen=True)
class Setting:
    """What one setting trains: ``data`` names the data set and network
    ("mnist": 784-512-128-64-10, "digits": 64-100-10), ``layers`` skmlp's
    parameters for its extra layers (``dropout``, ``batch_norm``), which the
    peers copy, and ``dtype`` that of ``X``."""

    title: str
    data: str
    batch_size: int
    layers: dict = field(default_factory=dict)
    dtype: type = np.float32


SETTINGS = {
    "mnist1000": Setting("mnist batch 1000", "mnist", 1000),
    "mnist200": Setting("mnist batch 200", "mnist", 200),
    "digits": Setting("digits 64-100-10 batch 200", "digits", 200),
    "dropout": Setting("mnist dropout 0.2", "mnist", 1000, {"dropout": 0.2}),
    "batchnorm": Setting("mnist batch norm", "mnist", 1000, {"batch_norm": True}),
    "float64": Setting("mnist float64", "mnist", 1000, dtype=np.float64),
}

# OpenBLAS worker threads spin for a while after a NumPy matrix multiply, and
# PyTorch's OpenMP threads after its own work; a candidate started at once
# shares the two cores with them (PyTorch ran ~25% slower right after NumPy).
# A short untimed pause (--settle) before every timed call lets them sleep.


def mnist_like(n_samples, n_features=784, n_classes=10, seed=0):
    """MNIST-shaped float32 data: each class has its own mean image (pixels
    uniform in [0, 1]) and every row adds Gaussian noise of standard deviation
    2, so the classes overlap and the task is learnable but not trivial."""
    rng = np.random.default_rng(seed)
    means = rng.random((n_classes, n_features), dtype=np.float32)
    y = rng.integers(0, n_classes, n_samples)
    X = rng.standard_normal((n_samples, n_features), dtype=np.float32)
    X *= 2.0
    X += means[y]
    return X, y


# ---------------------------------------------------------------- candidates
# Each candidate's ``train(X, y)`` trains a fresh model for ``epochs`` epochs,
# the same work every time it is called.
class Estimator:
    """skmlp or scikit-learn: one ``fit`` of ``epochs`` epochs from
    ``random_state=0`` (both draw the same initial weights and batches), so
    the validation and set-up of a call are spread over its epochs, as in any
    fit. ``layers`` are skmlp's ``dropout`` / ``batch_norm``."""

    def __init__(self, name, cls, hidden, batch_size, epochs, **layers):
        self.name = name
        self.epochs = epochs
        self.model = cls(
            hidden_layer_sizes=hidden,
            batch_size=batch_size,
            max_iter=epochs,
            tol=0.0,
            n_iter_no_change=np.inf,
            random_state=0,
            **ADAM,
            **layers,
        )

    def train(self, X, y):
        self.model.fit(X, y)

    def predict_proba(self, X):
        return self.model.predict_proba(X)

    def accuracy(self, X, y):
        return float(np.mean(self.model.predict(X) == y))


class UfuncEstimator(Estimator):
    """skmlp with its numba kernels switched off: the NumPy ufunc reference,
    which runs where numba is not installed (and ran before the kernels)."""

    def train(self, X, y):
        with reference_only():
            self.model.fit(X, y)

    def predict_proba(self, X):
        with reference_only():
            return self.model.predict_proba(X)


class OnnxRuntime:
    """A fitted skmlp model exported with skl2onnx and run by onnxruntime on
    the CPU (default session options), probabilities as a plain array."""

    name = "onnxruntime"

    def __init__(self, model, X_sample):
        onx = skl2onnx.to_onnx(model, X_sample[:1], options={"zipmap": False})
        self._session = onnxruntime.InferenceSession(
            onx.SerializeToString(), providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name

    def predict_proba(self, X):
        return self._session.run(["probabilities"], {self._input: X})[0]


class Torch:
    """The same network in PyTorch, in ``dtype``: Adam, the L2 term on the
    dense layers' weights only (as ``alpha / batch_size``, scikit-learn's
    scaling), Glorot-uniform weights and zero biases (Keras's), after each
    hidden dense layer a ``BatchNorm1d`` (skmlp's and PyTorch's defaults:
    momentum 0.1, eps 1e-5) if ``batch_norm``, the ReLU, then ``Dropout`` if
    ``dropout``; shuffled batches gathered from a tensor made once; default
    number of threads."""

    name = "pytorch"

    def __init__(
        self, layer_units, batch_size, epochs, dtype, dropout=0.0, batch_norm=False
    ):
        self.layer_units = layer_units
        self.batch_size = batch_size
        self.epochs = epochs
        self.dtype = getattr(torch, np.dtype(dtype).name)
        self.dropout = dropout
        self.batch_norm = batch_norm
        self._tensors = {}

    def _as_tensors(self, X, y):
        if id(X) not in self._tensors:
            self._tensors[id(X)] = (
                torch.from_numpy(X),
                torch.from_numpy(y.astype(np.int64)),
            )
        return self._tensors[id(X)]

    def _fresh_model(self):
        torch.manual_seed(0)
        dense = [
            torch.nn.Linear(fan_in, fan_out, dtype=self.dtype)
            for fan_in, fan_out in pairwise(self.layer_units)
        ]
        modules = []
        for layer in dense[:-1]:
            modules.append(layer)
            if self.batch_norm:
                modules.append(
                    torch.nn.BatchNorm1d(layer.out_features, dtype=self.dtype)
                )
            modules.append(torch.nn.ReLU())
            if self.dropout:
                modules.append(torch.nn.Dropout(self.dropout))
        self.model = torch.nn.Sequential(*modules, dense[-1])
        weights = [layer.weight for layer in dense]
        for layer in dense:
            torch.nn.init.xavier_uniform_(layer.weight)
            torch.nn.init.zeros_(layer.bias)
        # Everything else (biases, batch normalizations' scales and shifts)
        # is not penalised, as in skmlp and scikit-learn.
        others = [
            p for p in self.model.parameters() if all(p is not w for w in weights)
        ]
        self.optimizer = torch.optim.Adam(
            [
                {"params": weights, "weight_decay": ADAM["alpha"] / self.batch_size},
                {"params": others},
            ],
            lr=ADAM["learning_rate_init"],
        )

    def train(self, X, y):
        X_t, y_t = self._as_tensors(X, y)
        self._fresh_model()
        generator = torch.Generator().manual_seed(0)
        for _ in range(self.epochs):
            order = torch.randperm(len(X_t), generator=generator)
            for start in range(0, len(X_t), self.batch_size):
                rows = order[start : start + self.batch_size]
                self.optimizer.zero_grad()
                output = self.model(X_t[rows])
                torch.nn.functional.cross_entropy(output, y_t[rows]).backward()
                self.optimizer.step()

    def predict_proba(self, X):
        self.model.eval()  # no dropout; batch normalization's running statistics
        with torch.no_grad():
            return torch.softmax(self.model(torch.from_numpy(X)), dim=1).numpy()

    def accuracy(self, X, y):
        return float(np.mean(self.predict_proba(X).argmax(axis=1) == y))


class Keras:
    """The same network in Keras 3 on JAX: float32, Adam, the L2 term on the
    weights only (``alpha / (2 batch_size)`` times the sum of squares,
    scikit-learn's scaling), Glorot-uniform weights, after each hidden dense
    layer a ``BatchNormalization`` (momentum 0.9 and epsilon 1e-5: PyTorch's
    and skmlp's, in Keras's convention) if ``batch_norm``, the ReLU, then
    ``Dropout`` if ``dropout``; ``fit`` shuffling every epoch, Adam's epsilon
    1e-8 (scikit-learn's and PyTorch's; Keras's default is 1e-7). The model
    is built and compiled once (XLA compiles the training step at the
    warm-up call); each call restores the first weights and the optimizer's
    first state and trains ``epochs`` epochs."""

    name = "keras-jax"

    def __init__(self, layer_units, batch_size, epochs, dropout=0.0, batch_norm=False):
        keras.utils.set_random_seed(0)
        l2 = keras.regularizers.L2(ADAM["alpha"] / (2 * batch_size))
        layers = [keras.Input((layer_units[0],), dtype="float32")]
        for units in layer_units[1:-1]:
            layers.append(keras.layers.Dense(units, kernel_regularizer=l2))
            if batch_norm:
                layers.append(
                    keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)
                )
            layers.append(keras.layers.ReLU())
            if dropout:
                layers.append(keras.layers.Dropout(dropout))
        layers.append(keras.layers.Dense(layer_units[-1], kernel_regularizer=l2))
        self.model = keras.Sequential(layers)
        self.model.compile(
            optimizer=keras.optimizers.Adam(ADAM["learning_rate_init"], epsilon=1e-8),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        self.first_weights = self.model.get_weights()
        # Keras 3's optimizer variables are not only the moments: the step
        # count and the learning rate are variables too (zeroing them all set
        # the learning rate to 0, and nothing trained). Built now, so that all
        # of them exist, their first values are what each call restores.
        optimizer = self.model.optimizer
        optimizer.build(self.model.trainable_variables)
        self.first_optimizer_state = [
            keras.ops.convert_to_numpy(v.value) for v in optimizer.variables
        ]
        self.batch_size = batch_size
        self.epochs = epochs

    def train(self, X, y):
        self.model.set_weights(self.first_weights)
        variables = self.model.optimizer.variables
        for variable, value in zip(variables, self.first_optimizer_state, strict=True):
            variable.assign(value)
        self.model.fit(
            X,
            y,
            batch_size=self.batch_size,
            epochs=self.epochs,
            shuffle=True,
            verbose=0,
        )

    def predict_proba(self, X):
        logits = np.asarray(self.model.predict_on_batch(X))
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        return logits / logits.sum(axis=1, keepdims=True)

    def accuracy(self, X, y):
        return float(np.mean(self.predict_proba(X).argmax(axis=1) == y))


class GemmFloor:
    """The network's matrix multiplies alone, in ``dtype``: per batch,
    ``a @ W`` for every layer, then ``a_in.T @ delta`` for every layer and
    ``delta @ W.T`` for every layer but the first, into arrays allocated
    once. Rows are taken in order (no gathering); the values do not matter
    to the time. Dropout and batch normalization add no matrix multiply: the
    floor of their settings is the plain network's."""

    name = "gemm floor"

    def __init__(self, layer_units, batch_size, epochs, dtype):
        rng = np.random.default_rng(0)
        shapes = list(pairwise(layer_units))
        self.coefs = [rng.standard_normal(s, dtype=dtype) * 0.01 for s in shapes]
        self.coef_grads = [np.empty(s, dtype) for s in shapes]
        units = layer_units[1:]
        self.outputs = [np.empty((batch_size, u), dtype) for u in units]
        self.deltas = [np.full((batch_size, u), 0.01, dtype) for u in units]
        self.batch_size = batch_size
        self.epochs = epochs

    def train(self, X, y):
        for _ in range(self.epochs):
            for start in range(0, len(X), self.batch_size):
                batch = X[start : start + self.batch_size]
                outputs = [a[: len(batch)] for a in self.outputs]
                deltas = [d[: len(batch)] for d in self.deltas]
                a = batch
                for coef, z in zip(self.coefs, outputs):
                    np.matmul(a, coef, out=z)
                    a = z
                for i in range(len(self.coefs) - 1, -1, -1):
                    a_in = batch if i == 0 else outputs[i - 1]
                    np.matmul(a_in.T, deltas[i], out=self.coef_grads[i])
                    if i > 0:
                        np.matmul(deltas[i], self.coefs[i].T, out=deltas[i - 1])


def make_candidates(setting, layer_units, epochs, peers):
    """The candidates of ``setting`` (skmlp first): skmlp with its kernels on
    and off, scikit-learn where it has the setting's layers, the GEMM floor,
    and the ``peers`` ("pytorch", "keras-jax") that can run it."""
    hidden = tuple(layer_units[1:-1])
    batch, layers = setting.batch_size, setting.layers
    candidates = [
        Estimator("skmlp", MLPClassifierScratch, hidden, batch, epochs, **layers)
    ]
    if reference_only is not None:
        candidates.append(
            UfuncEstimator(
                "skmlp ufuncs", MLPClassifierScratch, hidden, batch, epochs, **layers
            )
        )
    if not layers:  # scikit-learn has neither dropout nor batch normalization
        candidates.append(Estimator("sklearn", MLPClassifier, hidden, batch, epochs))
    candidates.append(GemmFloor(layer_units, batch, epochs, setting.dtype))
    if "pytorch" in peers:
        candidates.append(Torch(layer_units, batch, epochs, setting.dtype, **layers))
    # JAX computes in float32 unless x64 is switched on for the whole process.
    if "keras-jax" in peers and setting.dtype == np.float32:
        candidates.append(Keras(layer_units, batch, epochs, **layers))
    return candidates


# ------------------------------------------------------------------ measures
def time_epochs(candidates, X, y, rounds, settle):
    """Seconds per epoch of each candidate's ``train``, by candidate name: one
    value per round. Every round trains each candidate once, in an order that
    rotates from round to round, each after ``settle`` idle seconds; a warm-up
    on a slice of the data goes first."""
    for c in candidates:
        c.train(X[:2000], y[:2000])
    times = {c.name: [] for c in candidates}
    for round_ in range(rounds):
        k = round_ % len(candidates)
        for c in candidates[k:] + candidates[:k]:
            gc.collect()
            time.sleep(settle)
            start = time.perf_counter()
            c.train(X, y)
            times[c.name].append((time.perf_counter() - start) / c.epochs)
    return times


def noise(times):
    """Spread of repeated timings of the same work: max / min - 1."""
    return max(times) / min(times) - 1


def ratio(times, other):
    """Median over rounds of ``times[i] / other[i]``: each round's candidates
    ran seconds apart, so a pair shares the machine's load of the moment."""
    return statistics.median(a / b for a, b in zip(times, other))


def time_predict(candidates, X, repeats, settle):
    """Seconds of every timed ``predict_proba`` call on all of ``X``, by
    candidate name, interleaved, after one warm-up call each."""
    times = {c.name: [] for c in candidates}
    for c in candidates:
        c.predict_proba(X)
    for _ in range(repeats):
        for c in candidates:
            gc.collect()
            time.sleep(settle)
            start = time.perf_counter()
            c.predict_proba(X)
            times[c.name].append(time.perf_counter() - start)
    return times


def time_predict_row(candidates, row, calls, repeats):
    """Seconds per ``predict_proba`` call on the single row ``row`` (the
    latency a model serving one request at a time sees), by candidate name:
    one value per round of ``calls`` calls, rounds interleaved."""
    times = {c.name: [] for c in candidates}
    for c in candidates:
        c.predict_proba(row)
    for _ in range(repeats):
        for c in candidates:
            start = time.perf_counter()
            for _ in range(calls):
                c.predict_proba(row)
            times[c.name].append((time.perf_counter() - start) / calls)
    return times


def peak_fit_memory(cls, X, y, early_stopping, n_epochs):
    """Peak traced memory of one ``fit`` at batch 1000, above what was held
    before it, as a multiple of ``X.nbytes``."""
    model = cls(
        hidden_layer_sizes=HIDDEN,
        batch_size=1000,
        max_iter=n_epochs,
        early_stopping=early_stopping,
        n_iter_no_change=np.inf,
        tol=0.0,
        random_state=0,
        **ADAM,
    )
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        model.fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return (peak - before) / X.nbytes


# -------------------------------------------------------------------- report
def machine():
    """CPU model, number of CPUs, load and library versions, in one line."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(
                line.split(":", 1)[1].strip() for line in f if "model name" in line
            )
    except (OSError, StopIteration):
        pass
    versions = [
        f"python {platform.python_version()}",
        f"numpy {np.__version__}",
        f"scikit-learn {sklearn.__version__}",
    ]
    numba = sys.modules.get("numba")
    if numba is not None:
        versions.append(f"numba {numba.__version__}")
    if torch is not None:
        versions.append(
            f"torch {torch.__version__} ({torch.get_num_threads()} threads)"
        )
    if keras is not None:
        jax = sys.modules["jax"]
        versions.append(f"keras {keras.__version__} on jax {jax.__version__}")
    load = ""
    if hasattr(os, "getloadavg"):
        load = "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{cpu}, {os.cpu_count()} CPUs, {load}; " + ", ".join(versions)


def print_table(header, rows):
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(c).rjust(w) for c, w in zip(r, widths)))


# The CPU targets on ratios of times: (figures, candidate,
# reference, comparison, bound) for "candidate / reference <comparison>
# bound", the figures a setting's epochs (by its key), "predict" or
# "predict_row". Those whose figures or candidates did not run are left out.
TARGETS = [
    ("mnist1000", "skmlp", "gemm floor", "<=", 1.10),
    ("mnist1000", "sklearn", "skmlp", ">=", 1.5),
    ("mnist1000", "pytorch", "skmlp", ">", 1),
    ("mnist1000", "keras-jax", "skmlp", ">", 1),
    ("mnist200", "sklearn", "skmlp", ">=", 1.5),
    ("dropout", "skmlp", "gemm floor", "<=", 1.25),
    ("batchnorm", "skmlp", "gemm floor", "<=", 1.25),
    ("float64", "sklearn", "skmlp", ">=", 1.5),
    ("float64", "skmlp", "gemm floor", "<=", 1.10),
    ("predict", "sklearn", "skmlp", ">=", 1),
    ("predict_row", "sklearn", "skmlp", ">=", 1),
]
COMPARISONS = {"<=": operator.le, ">=": operator.ge, ">": operator.gt}
PREDICT_TITLES = {"predict": "predict_proba", "predict_row": "one-row predict_proba"}


def accuracy_gaps(results):
    """|skmlp's test accuracy - scikit-learn's| by setting title, where
    scikit-learn ran."""
    return {
        setting: abs(accuracy["skmlp"] - accuracy["sklearn"])
        for setting, accuracy in results["accuracy"].items()
        if "sklearn" in accuracy
    }


def targets(results):
    """(target, measured, met) for each CPU target that was measured (the
    numba kernels' bound where it tightened the NumPy hot loop's)."""
    out = []
    for figures, candidate, reference, comparison, bound in TARGETS:
        if figures in PREDICT_TITLES:
            title, times = PREDICT_TITLES[figures], results.get(figures, {})
        else:
            title = SETTINGS[figures].title
            times = results["epochs"].get(title, {})
        if candidate in times and reference in times:
            value = ratio(times[candidate], times[reference])
            text = f"{title}: {candidate} / {reference} {comparison} {bound:g}"
            out.append((text, value, COMPARISONS[comparison](value, bound)))
    memory = results["memory"]
    for early, bound in ((False, 0.5), (True, 1.5)):
        value = memory["skmlp", early]
        text = f"fit peak / X.nbytes <= {bound}" + " (early stopping)" * early
        out.append((text, value, value <= bound))
    float32 = results["float32"]
    out.append(("float32 stays float32 (weights, predict_proba)", float32, float32))
    for setting, gap in accuracy_gaps(results).items():
        out.append((f"{setting}: |accuracy - sklearn's| <= 0.01", gap, gap <= 0.01))
    return out


def report(results, n_rows, quick=False):
    print(
        "\nTraining: seconds per epoch (median and best over rounds); ratios are "
        "medians over rounds"
    )
    rows = []
    for setting, times in results["epochs"].items():
        accuracy = results["accuracy"][setting]
        for name, t in times.items():
            rows.append(
                [
                    setting,
                    name,
                    f"{statistics.median(t):.4f}",
                    f"{min(t):.4f}",
                    f"{ratio(t, times['gemm floor']):.2f}",
                    f"{ratio(t, times['skmlp']):.2f}",
                    f"{accuracy[name]:.3f}" if name in accuracy else "",
                ]
            )
    header = [
        "setting",
        "candidate",
        "median",
        "best",
        "x floor",
        "x skmlp",
        "accuracy",
    ]
    print_table(header, rows)
    # The floor's work is fixed, so its spread over rounds measures the noise.
    spread = {s: noise(t["gemm floor"]) for s, t in results["epochs"].items()}
    listed = ", ".join(f"{s} {x:.0%}" for s, x in spread.items())
    print(f"GEMM floor spread over rounds (max / min - 1): {listed}")
    # Epochs of a few milliseconds jitter by more than 10% on their own; judge by
    # the settings whose floor takes at least 0.1 s an epoch.
    long_settings = [
        s for s, t in results["epochs"].items() if min(t["gemm floor"]) >= 0.1
    ]
    if any(spread[s] > 0.1 for s in long_settings):
        print("WARNING: other load disturbed this run; re-run on a quiet machine.")

    if results["predict"]:
        times = results["predict"]
        print(f"\npredict_proba on {n_rows} rows (seconds, median and best)")
        print_table(
            ["candidate", "median", "best", "rows/s", "x skmlp"],
            [
                [
                    name,
                    f"{statistics.median(t):.4f}",
                    f"{min(t):.4f}",
                    f"{n_rows / statistics.median(t):,.0f}",
                    f"{ratio(t, times['skmlp']):.2f}",
                ]
                for name, t in times.items()
            ],
        )

    if results.get("predict_row"):
        times = results["predict_row"]
        print("\npredict_proba on one row (microseconds per call, median and best)")
        print_table(
            ["candidate", "median", "best", "x skmlp"],
            [
                [
                    name,
                    f"{statistics.median(t) * 1e6:.0f}",
                    f"{min(t) * 1e6:.0f}",
                    f"{ratio(t, times['skmlp']):.2f}",
                ]
                for name, t in times.items()
            ],
        )

    print("\nPeak traced memory during fit (batch 1000), as a multiple of X.nbytes")
    print_table(
        ["candidate", "early_stopping", "peak / X.nbytes"],
        [
            [name, str(early), f"{r:.2f}"]
            for (name, early), r in results["memory"].items()
        ],
    )

    print(
        "\nTargets"
        + (" -- meaningless at --quick sizes" if quick else "")
    )
    print_table(
        ["target", "measured", "met"],
        [
            [
                text,
                value if isinstance(value, bool) else f"{value:.3f}",
                "yes" if ok else "NO",
            ]
            for text, value, ok in results["targets"]
        ],
    )
    print("\n" + machine())


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--epochs", type=int, default=3, help="epochs per timed MNIST fit (default 3)")
    add(
        "--small-epochs",
        type=int,
        default=20,
        help="epochs per timed fit on the digits (default 20)",
    )
    add(
        "--repeats",
        type=int,
        default=5,
        help="timed fits per candidate and setting, and timed predict_proba "
        "calls; medians are taken over these (default 5)",
    )
    add("--memory-epochs", type=int, default=1, help="epochs of the traced fits")
    add(
        "--settings",
        default=",".join(SETTINGS),
        help=f"comma-separated subset of {','.join(SETTINGS)} (default all)",
    )
    add(
        "--settle",
        type=float,
        default=0.2,
        help="idle seconds before each timed call, so that other libraries' "
        "spinning threads go to sleep (default 0.2)",
    )
    add("--no-torch", action="store_true", help="leave PyTorch out")
    add("--no-keras", action="store_true", help="leave Keras out")
    add("--no-onnx", action="store_true", help="leave onnxruntime out")
    add("--quick", action="store_true", help="tiny sizes and counts, for a smoke test")
    add("--json", metavar="PATH", help="also write the figures here")
    args = parser.parse_args(argv)
    args.settings = args.settings.split(",")
    unknown = set(args.settings) - set(SETTINGS)
    if unknown:
        parser.error(
            f"unknown settings {sorted(unknown)}; choose from {list(SETTINGS)}"
        )
    if args.quick:
        args.epochs, args.small_epochs, args.repeats, args.settle = 1, 2, 2, 0.0
    return args


def main(argv=None):
    """Run the benchmark, print the report and return its figures."""
    args = parse_args(argv)
    global keras
    keras = None if args.no_keras else import_keras()
    peers = set()
    if torch is not None and not args.no_torch:
        peers.add(Torch.name)
    if keras is not None:
        peers.add(Keras.name)
    use_onnx = onnxruntime is not None and not args.no_onnx
    # The imported libraries (PyTorch, JAX, numba, scikit-learn) leave
    # millions of objects that every gc.collect() before a timed call would
    # walk (0.2 s each, most of the --quick run), and that a collection
    # inside a timed call would walk too: none of it is the candidates' work.
    gc.freeze()
    n_train, n_test = (1200, 600) if args.quick else (60000, 10000)
    X, y = mnist_like(n_train + n_test)
    X, X_test, y, y_test = X[:n_train], X[n_train:], y[:n_train], y[n_train:]
    digits_X, digits_y = load_digits(return_X_y=True)
    digits_X = (digits_X / 16).astype(np.float32)
    # Setting.data: (X, y, test set, layer units, epochs per fit). The digits
    # have no held-out rows here: their setting is about overhead.
    data_sets = {
        "mnist": (X, y, (X_test, y_test), [X.shape[1], *HIDDEN, 10], args.epochs),
        "digits": (
            digits_X,
            digits_y,
            (digits_X, digits_y),
            [64, 100, 10],
            args.small_epochs,
        ),
    }
    print(machine())
    print(f"MNIST-shaped X: {X.shape} {X.dtype} ({X.nbytes / 1e6:.0f} MB)", flush=True)
    warnings.simplefilter("ignore", ConvergenceWarning)

    results = {"epochs": {}, "accuracy": {}, "predict": {}}
    for key in args.settings:
        setting = SETTINGS[key]
        data, target, (test_X, test_y), units, epochs = data_sets[setting.data]
        data = data.astype(setting.dtype, copy=False)
        test_X = test_X.astype(setting.dtype, copy=False)
        candidates = make_candidates(setting, units, epochs, peers)
        times = time_epochs(candidates, data, target, args.repeats, args.settle)
        results["epochs"][setting.title] = times
        results["accuracy"][setting.title] = {
            c.name: c.accuracy(test_X, test_y)
            for c in candidates
            if hasattr(c, "accuracy")
        }
        print(f"timed {setting.title}", flush=True)
        # Predictions are timed on the first plain float32 MNIST setting's models.
        if data is X and not setting.layers and not results["predict"]:
            predictors = [c for c in candidates if hasattr(c, "predict_proba")]
            if use_onnx:
                predictors.append(OnnxRuntime(candidates[0].model, X))
            results["predict"] = time_predict(predictors, X, args.repeats, args.settle)
            results["predict_row"] = time_predict_row(
                predictors, X[:1], 20 if args.quick else 1000, args.repeats
            )
            results["float32"] = is_float32(candidates[0].model, X)

    if "float32" not in results:  # no MNIST setting ran: check on a small fit
        ours = MLPClassifierScratch(hidden_layer_sizes=(8,), max_iter=1)
        results["float32"] = is_float32(ours.fit(X[:100], y[:100]), X)
    results["memory"] = {
        (name, early): peak_fit_memory(cls, X, y, early, args.memory_epochs)
        for early in (False, True)
        for name, cls in (("skmlp", MLPClassifierScratch), ("sklearn", MLPClassifier))
    }
    results["targets"] = targets(results)
    results["accuracy_ok"] = all(gap <= 0.01 for gap in accuracy_gaps(results).values())
    report(results, n_train, args.quick)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(as_json(results), f, indent=1)
    return results


def is_float32(model, X):
    """Whether a model fitted on float32 ``X`` kept float32 weights and outputs."""
    dtypes = {c.dtype for c in model.coefs_ + model.intercepts_}
    dtypes.add(model.predict_proba(X[:10]).dtype)
    return dtypes == {np.dtype(np.float32)}


def as_json(results):
    """The figures with JSON-friendly keys and values."""
    out = dict(results)
    out["memory"] = [
        {"candidate": name, "early_stopping": early, "peak_over_X_nbytes": ratio}
        for (name, early), ratio in results["memory"].items()
    ]
    out["targets"] = [
        {"target": text, "measured": value, "met": bool(ok)}
        for text, value, ok in results["targets"]
    ]
    out["machine"] = machine()
    return out


if __name__ == "__main__":
    sys.exit(0 if main()["accuracy_ok"] else 1)
