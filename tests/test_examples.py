"""The documentation runs: the example scripts draw their figures, the user
guide's code gives the output it shows, and the docstring examples pass."""

import contextlib
import doctest
import importlib
import io
import math
import pkgutil
import re
import runpy
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.image
import matplotlib.pyplot as plt
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

import skmlp
from skmlp import MLPClassifierScratch, MLPRegressorScratch

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "docs" / "examples").glob("plot_*.py"))
# The longest script (about 1 s on a quiet core, several on a busy one).
SLOW_EXAMPLES = {"plot_partial_fit"}
GUIDE = ROOT / "docs" / "user_guide.md"


# ------------------------------------------------------------ example scripts
def test_examples_are_found():
    assert {p.stem for p in EXAMPLES} >= {
        "plot_solvers",
        "plot_schedules",
        "plot_early_stopping",
        "plot_partial_fit",
    }


@pytest.mark.parametrize(
    "script",
    [
        pytest.param(
            p, id=p.stem, marks=pytest.mark.slow if p.stem in SLOW_EXAMPLES else ()
        )
        for p in EXAMPLES
    ],
)
def test_example_script_writes_its_figure(script, tmp_path, monkeypatch):
    output = tmp_path / f"{script.stem}.png"
    monkeypatch.setattr(sys, "argv", [str(script), str(output)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        runpy.run_path(str(script), run_name="__main__")
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width = matplotlib.image.imread(output).shape[:2]
    assert width >= 600 and height >= 400
    assert not plt.get_fignums(), "the script should close its figures"


@pytest.mark.parametrize(
    "schedule",
    [
        {"learning_rate": "constant"},
        {"learning_rate": "invscaling", "power_t": 0.3},
        {"learning_rate": "adaptive"},
        {"learning_rate": "step", "step_size": 4, "gamma": 0.5},
        {"learning_rate": "cosine"},
    ],
    ids=lambda s: s["learning_rate"],
)
@pytest.mark.parametrize("solver", ["sgd", "adam", "rmsprop"])
def test_schedule_example_replays_the_learning_rate(schedule, solver):
    # plot_schedules.py draws rates it recomputes from loss_curve_; they must
    # be the rates training used, of which the trainer keeps the latest.
    learning_rates = runpy.run_path(str(ROOT / "docs/examples/plot_schedules.py"))[
        "learning_rates"
    ]
    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16, y[:300]
    clf = MLPClassifierScratch(
        hidden_layer_sizes=(8,),
        solver=solver,
        learning_rate_init=0.05,
        n_iter_no_change=2,
        tol=0.1,
        max_iter=30,
        random_state=0,
        **schedule,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    rates = learning_rates(clf, len(X))
    assert len(rates) == clf.n_iter_ + 1
    assert rates[-1] == pytest.approx(clf._trainer.learning_rate, rel=1e-12)
    if schedule["learning_rate"] == "adaptive":
        assert rates[-1] < rates[0], "the plateau rule should have fired"


# ----------------------------------------------------------- user guide code
BLOCK = re.compile(
    r"```python\n(?P<code>.*?)```\n(?:\s*```text\n(?P<output>.*?)```)?", re.DOTALL
)
HEADING = re.compile(r"^## (.+)$", re.MULTILINE)
# What the guide's output may vary in: "..." (any text) and decimal numbers.
VARIABLE = re.compile(r"(\.\.\.|-?\d+\.\d+(?:e[-+]?\d+)?)")
DECIMAL = r"(-?\d+\.\d+(?:e[-+]?\d+)?)"


def guide_sections():
    """The guide's code, grouped by ``##`` section: each section is run on its
    own, like a notebook, with its blocks in order. A block is the code, its
    first line number in the guide and the output shown under it (or None)."""
    text = GUIDE.read_text(encoding="utf-8")
    headings = [(m.start(), m.group(1)) for m in HEADING.finditer(text)]
    sections = {}
    for match in BLOCK.finditer(text):
        title = [t for start, t in headings if start < match.start()][-1]
        line = text.count("\n", 0, match.start("code"))
        sections.setdefault(title, []).append((match["code"], line, match["output"]))
    return sections


def assert_same_output(actual, expected):
    """``actual`` reads as ``expected``, where ``...`` stands for any text (as
    doctest's ELLIPSIS) and decimal numbers may differ in the last digit shown:
    a rounded score can move with the BLAS library's rounding."""
    parts = VARIABLE.split(expected)
    pattern = "".join(
        re.escape(part) if i % 2 == 0 else ".*?" if part == "..." else DECIMAL
        for i, part in enumerate(parts)
    )
    match = re.fullmatch(pattern, actual, re.DOTALL)
    assert match, f"printed:\n{actual}\nthe guide shows:\n{expected}"
    shown = [float(p) for p in parts[1::2] if p != "..."]
    for printed, number in zip(map(float, match.groups()), shown):
        assert math.isclose(printed, number, abs_tol=0.02), actual


def test_output_comparison_allows_only_ellipses_and_rounding():
    assert_same_output("accuracy 0.97 of {'b', 'a'}\n", "accuracy 0.96 of {...}\n")
    for printed, shown in [
        ("accuracy 0.90\n", "accuracy 0.97\n"),
        ("accuracy 0.97\n", "accuracy 0.97"),
        ("(2, 10)\n", "(2, 11)\n"),
        ("True\n", "False\n"),
    ]:
        with pytest.raises(AssertionError):
            assert_same_output(printed, shown)


def test_user_guide_has_code_with_output():
    sections = guide_sections()
    assert len(sections) >= 8
    assert (
        sum(out is not None for blocks in sections.values() for *_, out in blocks) >= 10
    )


@pytest.mark.parametrize(
    "blocks",
    [pytest.param(blocks, id=title) for title, blocks in guide_sections().items()],
)
def test_user_guide_section_runs_and_prints_what_it_shows(blocks):
    namespace = {"__name__": "user_guide"}
    with warnings.catch_warnings():
        # A block that runs out of epochs on purpose says so itself.
        warnings.simplefilter("error", ConvergenceWarning)
        for code, line, expected in blocks:
            if "import torch" in code:
                pytest.importorskip("torch")
            printed = io.StringIO()
            # Padding with blank lines makes tracebacks point into the guide.
            compiled = compile("\n" * line + code, str(GUIDE), "exec")
            with contextlib.redirect_stdout(printed):
                exec(compiled, namespace)  # noqa: S102 - running the guide is the test
            if expected is not None:
                assert_same_output(printed.getvalue(), expected)
    plt.close("all")


# -------------------------------------------------------- docstring examples
MODULES = sorted(m.name for m in pkgutil.iter_modules(skmlp.__path__, "skmlp."))


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples_pass(module_name):
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != "cupy":
            raise
        pytest.skip("needs CuPy")
    results = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    assert results.failed == 0


@pytest.mark.parametrize("estimator", [MLPClassifierScratch, MLPRegressorScratch])
def test_estimator_docstrings_have_examples(estimator):
    for section in ("Parameters", "Attributes", "See Also", "Examples"):
        assert f"\n    {section}\n    {'-' * len(section)}\n" in estimator.__doc__
    assert len(doctest.DocTestParser().get_examples(estimator.__doc__)) >= 3
