"""Everything the CuPy backend needs a GPU for, as one command of under 8 minutes.

On a machine with an NVIDIA GPU, from the project root::

    PYTHONPATH=. python3 benchmarks/device_check.py --out device_check

In order, each step in its own process and under its own time limit, all of
them within ``--budget`` seconds (450):

1. the machine: ``nvidia-smi``, the driver, CUDA runtime and NVRTC versions,
   CuPy's (and its configuration), PyTorch's and the rest;
2. ``tests/backends/test_cupy.py``: NumPy and CuPy train the same models (every
   solver, activation, schedule and output), each kernel against NumPy,
   scikit-learn's ``check_estimator`` with ``backend='cupy'``, CuPy inputs,
   memory; each test's result in JUnit XML;
3. ``benchmarks/bench_gpu.py``, float32, batch 1000 and 256: skmlp on CuPy
   against PyTorch CUDA eager, the cuBLAS GEMM floor and skmlp on the CPU;
4. ``benchmarks/bench_threads.py --scaling 1 4 16``: skmlp, PyTorch and
   scikit-learn training on the CPU with 1, 4 and 16 threads.

Into ``--out`` it writes ``device_check.json`` (all of it),
``device_check.md`` (the tables), ``device_check.log`` (every step's
output), ``test_cupy.xml``, ``bench_gpu.json`` and ``bench_threads.json``.
A step that fails or runs out of time is reported and the next one runs;
the exit status is 1 when a step failed. Without a usable CUDA device the GPU
steps are skipped, saying why, and the rest runs: that is how the command is
rehearsed on a machine without one (``--quick`` shrinks the CPU work).
"""

import argparse
import contextlib
import io
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import bench_gpu  # its table's figures: GEMM FLOPs, the targets
import bench_threads

CHECK_ESTIMATOR = "test_sklearn_compatible_estimator_on_cupy"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--out", default="device_check", help="folder for the results")
    add("--budget", type=float, default=450, help="seconds for all steps (450)")
    add("--quick", action="store_true", help="small CPU work, for a rehearsal")
    return parser.parse_args(argv)


class Run:
    """The steps' results and the log, shared by every step."""

    def __init__(self, out, budget):
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.deadline = time.monotonic() + budget
        self.log = open(self.out / "device_check.log", "w")  # noqa: SIM115
        self.steps = []

    def say(self, text=""):
        print(text, flush=True)
        self.log.write(text + "\n")
        self.log.flush()

    def left(self):
        return self.deadline - time.monotonic()

    def step(self, name, status, seconds, detail=""):
        self.steps.append(
            {"step": name, "status": status, "seconds": round(seconds, 1),
             "detail": detail}
        )
        self.say(f"== {name}: {status} ({seconds:.0f} s) {detail}".rstrip())

    def command(self, name, argv, limit):
        """Run ``argv`` from the project root, for at most ``limit`` seconds
        (and no longer than the budget left); log its output. Return
        ``(returncode or None when cut off, seconds)``."""
        limit = max(1.0, min(limit, self.left()))
        self.say(f"\n== {name}: {' '.join(argv)} (at most {limit:.0f} s)")
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        start = time.monotonic()
        try:
            run = subprocess.run(
                argv, cwd=ROOT, env=env, capture_output=True, text=True,
                timeout=limit, check=False,  # the status is reported, not raised
            )
            code, output = run.returncode, run.stdout + run.stderr
        except subprocess.TimeoutExpired as exc:
            code = None
            output = "".join(
                part.decode(errors="replace") if isinstance(part, bytes) else part
                for part in (exc.stdout or "", exc.stderr or "")
            )
        self.say(output.rstrip())
        return code, time.monotonic() - start


# ------------------------------------------------------------------ machine
def machine(run):
    """Versions and devices, printed and returned; ``device_problem`` is ''
    where CuPy has a usable device."""
    info = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }
    for module in ("numpy", "scipy", "sklearn", "numba", "skmlp", "torch"):
        try:
            info[module] = __import__(module).__version__
        except ImportError:
            info[module] = None
    if info["torch"]:
        import torch

        info["torch_cuda"] = torch.version.cuda
        info["torch_sees_gpu"] = torch.cuda.is_available()
    try:
        smi = subprocess.run(
            ["nvidia-smi"], capture_output=True, text=True, timeout=60, check=False
        )
        info["nvidia_smi"] = (smi.stdout + smi.stderr).strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        info["nvidia_smi"] = f"nvidia-smi did not run: {exc}"
    info.update(_cupy_info())
    for key, value in info.items():
        if key != "nvidia_smi" and key != "cupy_config":
            run.say(f"{key}: {value}")
    run.say(info["nvidia_smi"])
    run.say(info.get("cupy_config", ""))
    return info


def _cupy_info():
    from skmlp._backends.selection import _cuda_device_problem

    try:
        import cupy
    except ImportError as exc:
        return {"cupy": None, "device_problem": f"CuPy cannot be imported ({exc})"}
    info = {"cupy": cupy.__version__}
    runtime = cupy.cuda.runtime
    for key, read in (
        ("cuda_runtime", runtime.runtimeGetVersion),
        ("cuda_driver", runtime.driverGetVersion),
        ("nvrtc", cupy.cuda.nvrtc.getVersion),
    ):
        try:
            info[key] = read()
        except Exception as exc:  # noqa: BLE001 - reported, not needed
            info[key] = f"{type(exc).__name__}: {exc}"
    info["device_problem"] = _cuda_device_problem(cupy)
    if not info["device_problem"]:
        info["device"] = runtime.getDeviceProperties(0)["name"].decode()
    config = io.StringIO()
    with contextlib.redirect_stdout(config):
        try:
            cupy.show_config()
        except Exception as exc:  # noqa: BLE001 - reported, not needed
            print(f"cupy.show_config() failed: {type(exc).__name__}: {exc}")
    info["cupy_config"] = config.getvalue()
    return info


# ------------------------------------------------------------------ steps
def gpu_tests(run, limit):
    """tests/backends/test_cupy.py; its JUnit XML summarised."""
    xml = run.out / "test_cupy.xml"
    code, seconds = run.command(
        "tests/backends/test_cupy.py",
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/backends/test_cupy.py", f"--junitxml={xml}"],
        limit,
    )
    summary = junit_summary(xml) if xml.exists() else None
    if code is None:
        status, detail = "timed out", "the XML is written only at the end"
    elif summary is None:
        status, detail = "failed", f"pytest exited {code} without a report"
    elif summary["all"]["passed"] == 0 and summary["all"]["skipped"] > 0:
        status, detail = "skipped", summary["skip_reason"]
    else:
        status = "passed" if code == 0 else "failed"
        detail = _counts(summary["all"]) + "; check_estimator: " + _counts(
            summary["check_estimator"]
        )
    run.step("tests/backends/test_cupy.py", status, seconds, detail)
    return summary


def junit_summary(path):
    """Counts of the JUnit XML at ``path``, overall and for check_estimator's
    checks, the failed tests' names, and the first skip's reason."""
    counts = {"all": _zero(), "check_estimator": _zero()}
    failed, skip_reason = [], ""
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed"
            elif child.tag == "skipped" and outcome == "passed":
                outcome = "skipped"
                skip_reason = skip_reason or _skip_reason(child)
        name = case.get("name", "")
        counts["all"][outcome] += 1
        if CHECK_ESTIMATOR in name:
            counts["check_estimator"][outcome] += 1
        if outcome == "failed":
            failed.append(f"{case.get('classname')}::{name}")
    return {**counts, "failed_tests": failed, "skip_reason": skip_reason}


def _skip_reason(skipped):
    # A module skipped at collection keeps its reason in the text, as
    # "(path, line, 'Skipped: reason')".
    found = re.search(r"Skipped: (.*?)'?\)?$", skipped.text or "")
    return found.group(1) if found else skipped.get("message", "")


def _zero():
    return {"passed": 0, "failed": 0, "skipped": 0}


def _counts(counts):
    return ", ".join(f"{n} {outcome}" for outcome, n in counts.items() if n)


def gpu_benchmark(run, limit, quick):
    path = run.out / "bench_gpu.json"
    argv = [sys.executable, "benchmarks/bench_gpu.py", "--json", str(path),
            "--batch-sizes", "1000", "256", "--epochs", "3" if quick else "6",
            "--numpy-epochs", "2"]
    code, seconds = run.command("bench_gpu.py", argv, limit)
    figures = json.loads(path.read_text()) if path.exists() else None
    status = {0: "passed", None: "timed out"}.get(code, "failed")
    rows = len(figures["rows"]) if figures else 0
    run.step("bench_gpu.py", status, seconds, f"{rows} rows")
    return figures


def thread_scaling(run, limit, quick):
    path = run.out / "bench_threads.json"
    argv = [sys.executable, "benchmarks/bench_threads.py", "--scaling", "1", "4",
            "16", "--json", str(path)]
    if quick:
        argv += ["--samples", "2000", "--rounds", "1"]
    code, seconds = run.command("bench_threads.py", argv, limit)
    figures = json.loads(path.read_text()) if path.exists() else None
    status = {0: "passed", None: "timed out"}.get(code, "failed")
    counts = (figures or {}).get("counts", {})
    measured = ", ".join(n for n, f in counts.items() if "seconds" in f) or "none"
    run.step("bench_threads.py", status, seconds, f"threads measured: {measured}")
    return figures


# ------------------------------------------------------------------ report
def markdown(results):
    """The results as Markdown tables."""
    info = results["machine"]
    lines = [
        f"# Device check, {info['date']}",
        "",
        "| | |",
        "| --- | --- |",
    ]
    for key in ("device", "device_problem", "cuda_driver", "cuda_runtime", "nvrtc",
                "cupy", "torch", "torch_cuda", "numpy", "sklearn", "skmlp",
                "python", "cpu_count"):
        if info.get(key) not in (None, ""):
            lines.append(f"| {key} | {info[key]} |")
    lines += ["", "| step | status | seconds | detail |", "| --- | --- | --- | --- |"]
    lines += [
        f"| {s['step']} | {s['status']} | {s['seconds']} | {s['detail']} |"
        for s in results["steps"]
    ]
    tests = results.get("tests")
    if tests and tests["failed_tests"]:
        lines += ["", "Failed tests:", ""]
        lines += [f"- `{name}`" for name in tests["failed_tests"]]
    gpu = results.get("bench_gpu")
    if gpu:
        lines += [
            "", "## GPU training, float32 (`bench_gpu.py`)", "",
            "| batch | implementation | ms per epoch | GEMM GFLOP/s | last loss |",
            "| --- | --- | --- | --- | --- |",
        ]
        for row in gpu["rows"]:
            flops = bench_gpu.gemm_flops_per_epoch(row["batch"])
            gflops = flops / row["epoch_s"] / 1e9
            lines.append(
                f"| {row['batch']} | {row['name']} | {row['epoch_s'] * 1e3:.2f} | "
                f"{gflops:.0f} | {row['loss']:.4f} |"
            )
        lines += ["", "| batch | target | measured | met |", "| --- " * 4 + "|"]
        lines += [
            f"| {t['batch']} | {t['target']} | {t['measured']:.2f}x | "
            f"{'yes' if t['met'] else 'NO'} |"
            for t in gpu["targets"]
        ]
    threads = results.get("bench_threads")
    if threads:
        counts = threads["counts"]
        title = (
            "## CPU threads, seconds per epoch (`bench_threads.py`, "
            f"{threads['cores']} cores, {threads['n_samples']} rows, batch 1000)"
        )
        header = " | ".join(bench_threads.threads_label(int(n)) for n in counts)
        lines += [
            "", title, "",
            f"| candidate | {header} |",
            "| --- |" + " --- |" * len(counts),
        ]
        for name in bench_threads.CANDIDATES:
            cells = [
                f"{statistics.median(f['seconds'][name]):.3f}"
                if name in f.get("seconds", {}) else "-"
                for f in counts.values()
            ]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        notes = [
            f"{n}: {f.get('skipped') or 'failed'}"
            for n, f in counts.items()
            if "seconds" not in f
        ]
        if notes:
            lines += ["", "Not measured: " + "; ".join(notes) + "."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = parse_args(argv)
    run = Run(args.out, args.budget)
    start = time.monotonic()
    results = {"args": vars(args), "machine": machine(run), "steps": run.steps}
    run.step("machine", "passed", time.monotonic() - start)
    problem = results["machine"]["device_problem"]
    # Every step gets what is left of the budget, up to its own share, so
    # that a slow one leaves time for the next.
    results["tests"] = gpu_tests(run, limit=240)
    if problem:
        run.step("bench_gpu.py", "skipped", 0, f"no usable CUDA device: {problem}")
    else:
        results["bench_gpu"] = gpu_benchmark(run, limit=150, quick=args.quick)
    results["bench_threads"] = thread_scaling(run, limit=150, quick=args.quick)
    with open(run.out / "device_check.json", "w") as f:
        json.dump(results, f, indent=1, default=str)
    report = markdown(results)
    (run.out / "device_check.md").write_text(report)
    run.say("\n" + report)
    run.log.close()
    return 1 if any(s["status"] in ("failed", "timed out") for s in run.steps) else 0


if __name__ == "__main__":
    sys.exit(main())
