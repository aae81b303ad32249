"""The CPU benchmark still runs: ``benchmarks/bench_cpu.py --quick`` end to end.

Tiny sizes, a few seconds; nothing here is about time. It checks that every
setting ran its candidates (scikit-learn sits out dropout and batch norm) and
produced figures and targets, that the accuracy check passed (the exit status)
and that skmlp trained float32 data in float32.
"""

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_benchmark_runs_and_reports_every_figure(tmp_path):
    figures = tmp_path / "figures.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    # A subprocess keeps PyTorch (when installed) out of the test process.
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_cpu.py"),
            "--quick",
            "--no-keras",  # JAX's import and XLA compiles would double the time
            "--json",
            str(figures),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,  # minutes under load: it times every candidate
        check=False,  # the status is asserted below, with the output
    )
    assert run.returncode == 0, run.stdout + run.stderr
    for heading in ("Training", "predict_proba", "Peak traced memory", "Targets"):
        assert heading in run.stdout

    results = json.loads(figures.read_text())
    # scikit-learn has neither dropout nor batch normalization.
    without_sklearn = {"mnist dropout 0.2", "mnist batch norm"}
    with_sklearn = {
        "mnist batch 1000",
        "mnist batch 200",
        "digits 64-100-10 batch 200",
        "mnist float64",
    }
    assert set(results["epochs"]) == with_sklearn | without_sklearn
    for setting, times in results["epochs"].items():
        expected = {"skmlp", "skmlp ufuncs", "gemm floor"}
        if setting in with_sklearn:
            expected.add("sklearn")
        if importlib.util.find_spec("torch"):
            expected.add("pytorch")
        assert set(times) == expected
        for seconds in times.values():
            assert len(seconds) == 2  # --quick times two rounds
            assert all(math.isfinite(s) and s > 0 for s in seconds)
        accuracy = results["accuracy"][setting]
        assert set(accuracy) == expected - {"gemm floor"}
        assert all(0 <= a <= 1 for a in accuracy.values())
        if "sklearn" in accuracy:
            assert abs(accuracy["skmlp"] - accuracy["sklearn"]) <= 0.01
    measured = {row["target"] for row in results["targets"]}
    for target in (
        "mnist dropout 0.2: skmlp / gemm floor <= 1.25",
        "mnist batch norm: skmlp / gemm floor <= 1.25",
        "mnist float64: sklearn / skmlp >= 1.5",
        "mnist float64: skmlp / gemm floor <= 1.1",
        "one-row predict_proba: sklearn / skmlp >= 1",
    ):
        assert target in measured
    predictors = {"skmlp", "sklearn"}
    if importlib.util.find_spec("onnxruntime") and importlib.util.find_spec("skl2onnx"):
        predictors.add("onnxruntime")
    assert predictors <= set(results["predict"]) and predictors <= set(
        results["predict_row"]
    )
    assert len(results["memory"]) == 4
    assert all(row["peak_over_X_nbytes"] > 0 for row in results["memory"])
    assert results["float32"] is True
    assert results["accuracy_ok"] is True
