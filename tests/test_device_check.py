"""benchmarks/device_check.py, the one command for a GPU machine, rehearsed
here without one: the GPU steps skip saying why, the CPU steps run, and the
report is written. Its GPU-only parts (the JUnit summary of tests/backends/test_cupy.py,
the GPU benchmark's table and targets) are checked on made-up results."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name):
    path = ROOT / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


device_check = _load("device_check")
bench_gpu = _load("bench_gpu")

JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="tests.test_cupy" name="test_regression_matches_numpy"/>
<testcase classname="tests.test_cupy" name="test_lbfgs_matches_numpy">
  <failure message="assert">trace</failure></testcase>
<testcase classname="tests.test_cupy"
  name="test_sklearn_compatible_estimator_on_cupy[MLPClassifierScratch()-check_fit2d]"/>
<testcase classname="tests.test_cupy"
  name="test_sklearn_compatible_estimator_on_cupy[MLPRegressorScratch()-check_fit1d]">
  <skipped message="not applicable"/></testcase>
<testcase classname="tests.test_cupy"
  name="test_sklearn_compatible_estimator_on_cupy[MLPRegressorScratch()-check_dtypes]">
  <error message="boom">trace</error></testcase>
</testsuite></testsuites>"""


def test_junit_summary_counts_check_estimator_apart(tmp_path):
    path = tmp_path / "test_cupy.xml"
    path.write_text(JUNIT)
    summary = device_check.junit_summary(path)
    assert summary["all"] == {"passed": 2, "failed": 2, "skipped": 1}
    assert summary["check_estimator"] == {"passed": 1, "failed": 1, "skipped": 1}
    assert summary["failed_tests"] == [
        "tests.test_cupy::test_lbfgs_matches_numpy",
        (
            "tests.test_cupy::test_sklearn_compatible_estimator_on_cupy"
            "[MLPRegressorScratch()-check_dtypes]"
        ),
    ]


def test_report_has_the_gpu_table_and_targets():
    def row(batch, name, ms):
        return {"batch": batch, "name": name, "fit_s": 1.0, "epoch_s": ms / 1e3,
                "loss": 0.5}

    rows = [
        row(1000, "skmlp cupy", 10.0),
        row(1000, "pytorch eager (Adam foreach)", 12.0),
        row(1000, "cuBLAS GEMM floor", 4.0),
        row(1000, "skmlp numpy", 150.0),
    ]
    targets = [
        {"batch": b, "target": t, "measured": v, "met": m}
        for b, t, v, m in bench_gpu.targets(rows)
    ]
    assert [(t["measured"], t["met"]) for t in targets] == [
        (10 / 12, True), (2.5, False), (15.0, False)
    ]
    results = {
        "machine": {"date": "today", "device": "NVIDIA H100", "cupy": "14.2.0"},
        "steps": [{"step": "bench_gpu.py", "status": "passed", "seconds": 30.0,
                   "detail": "4 rows"}],
        "bench_gpu": {"rows": rows, "targets": targets},
    }
    report = device_check.markdown(results)
    assert "| device | NVIDIA H100 |" in report
    assert "| 1000 | skmlp cupy | 10.00 |" in report
    assert "| 1000 | skmlp cupy <= 2x cuBLAS GEMM floor | 2.50x | NO |" in report
    foreach = "skmlp cupy <= 1x pytorch eager (Adam foreach)"
    assert f"| 1000 | {foreach} | 0.83x | yes |" in report


@pytest.mark.slow
def test_rehearsal_without_a_gpu_skips_the_gpu_steps_and_finishes(tmp_path):
    problem = device_check._cupy_info()["device_problem"]
    if not problem:
        pytest.skip("a CUDA device is here: the rehearsal is for machines without")
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "device_check.py"), "--quick",
         "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.loads((tmp_path / "device_check.json").read_text())
    status = {s["step"]: s for s in results["steps"]}
    assert list(status) == ["machine", "tests/backends/test_cupy.py", "bench_gpu.py",
                            "bench_threads.py"]
    for gpu_step in ("tests/backends/test_cupy.py", "bench_gpu.py"):
        assert status[gpu_step]["status"] == "skipped"
        assert status[gpu_step]["detail"]  # says why
    assert status["bench_threads.py"]["status"] == "passed"
    one_thread = results["bench_threads"]["counts"]["1"]["seconds"]
    assert {"skmlp", "sklearn", "gemm floor"} <= set(one_thread)
    report = (tmp_path / "device_check.md").read_text()
    assert "| skmlp |" in report and "| bench_gpu.py | skipped |" in report
    assert {p.name for p in tmp_path.iterdir()} >= {
        "device_check.json", "device_check.md", "device_check.log",
        "test_cupy.xml", "bench_threads.json",
    }
