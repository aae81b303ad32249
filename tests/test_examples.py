"""The documentation runs: the gallery's scripts draw their figures, the user
guide's code gives the output it shows, and the docstring examples pass."""

import contextlib
import doctest
import functools
import importlib
import inspect
import io
import math
import pkgutil
import re
import runpy
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

import skmlp
from skmlp import MLPClassifierScratch, MLPRegressorScratch

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "docs" / "examples").glob("plot_*.py"))
# The longest scripts (several seconds on a quiet core; the docs build runs
# them all anyway).
SLOW_EXAMPLES = {
    "plot_partial_fit",
    "plot_solvers",
    "plot_mlp_alpha",
    "plot_mlp_training_curves",
    "plot_skmlp_vs_sklearn",
    "plot_dropout_batch_norm",
    "plot_tabular",
}
# The pages whose code runs: the getting-started page and the user guide.
# The GPU page's code sketches a session on a device and is not run here.
PAGES = [ROOT / "docs" / "getting_started.md"] + sorted(
    page
    for page in (ROOT / "docs" / "user_guide").glob("*.md")
    if page.name != "gpu.md"
)


# ------------------------------------------------------------ example scripts
def test_examples_are_found():
    assert {p.stem for p in EXAMPLES} >= {
        "plot_solvers",
        "plot_schedules",
        "plot_early_stopping",
        "plot_partial_fit",
    }
    assert len(EXAMPLES) >= 8


@pytest.mark.parametrize(
    "script",
    [
        pytest.param(
            p, id=p.stem, marks=pytest.mark.slow if p.stem in SLOW_EXAMPLES else ()
        )
        for p in EXAMPLES
    ],
)
def test_example_script_draws_its_figures(script):
    # sphinx-gallery shows the figures a script leaves open, as here.
    plt.close("all")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        runpy.run_path(str(script), run_name="__main__")
    figures = [plt.figure(number) for number in plt.get_fignums()]
    plt.close("all")
    assert figures, "an example draws at least one figure"
    for figure in figures:
        width, height = figure.get_size_inches() * figure.dpi
        assert width >= 600 and height >= 400
        assert figure.axes and all(ax.has_data() for ax in figure.axes)


def test_example_starts_with_a_gallery_title():
    for script in EXAMPLES:
        lines = script.read_text(encoding="utf-8").splitlines()
        assert lines[0] == '"""' and set(lines[1]) == set(lines[3]) == {"="}, script
        assert len(lines[1]) >= len(lines[2]), f"{script}: title longer than its bar"


@functools.cache
def replay_learning_rates():
    """plot_schedules.py's ``learning_rates``, from one run of the script."""
    namespace = runpy.run_path(str(ROOT / "docs/examples/plot_schedules.py"))
    plt.close("all")
    return namespace["learning_rates"]


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
    learning_rates = replay_learning_rates()
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
HEADING = re.compile(r"^#{1,2} (.+)$", re.MULTILINE)
# What the guide's output may vary in: "..." (any text) and decimal numbers.
VARIABLE = re.compile(r"(\.\.\.|-?\d+\.\d+(?:e[-+]?\d+)?)")
DECIMAL = r"(-?\d+\.\d+(?:e[-+]?\d+)?)"


def guide_sections():
    """The pages' code, grouped by page and ``##`` section: each section is run
    on its own, like a notebook, with its blocks in order. A block is the code,
    its page, its first line number there and the output shown under it (or
    None)."""
    sections = {}
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        # Headings outside code blocks: a "# comment" in code is not one.
        prose = BLOCK.sub(lambda m: " " * len(m[0]), text)
        headings = [(m.start(), m.group(1)) for m in HEADING.finditer(prose)]
        for match in BLOCK.finditer(text):
            title = [t for start, t in headings if start < match.start()][-1]
            line = text.count("\n", 0, match.start("code"))
            block = (match["code"], page, line, match["output"])
            sections.setdefault(f"{page.stem}: {title}", []).append(block)
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


def uses_dask(blocks):
    return any("distributed" in code for code, *_ in blocks)


@pytest.mark.parametrize(
    "blocks",
    [
        # A section that starts a Dask cluster takes tens of seconds.
        pytest.param(
            blocks, id=title, marks=pytest.mark.slow if uses_dask(blocks) else ()
        )
        for title, blocks in guide_sections().items()
    ],
)
def test_user_guide_section_runs_and_prints_what_it_shows(blocks):
    namespace = {"__name__": "user_guide"}
    if uses_dask(blocks):
        pytest.importorskip("distributed")
        pytest.importorskip("dask_ml")
    with warnings.catch_warnings():
        # A block that runs out of epochs on purpose says so itself.
        warnings.simplefilter("error", ConvergenceWarning)
        for code, page, line, expected in blocks:
            if "import torch" in code:
                pytest.importorskip("torch")
            if "sklearn.callback" in code:  # scikit-learn >= 1.9
                pytest.importorskip("sklearn.callback")
            printed = io.StringIO()
            # Padding with blank lines makes tracebacks point into the page.
            compiled = compile("\n" * line + code, str(page), "exec")
            with contextlib.redirect_stdout(printed):
                exec(compiled, namespace)  # noqa: S102 - running the guide is the test
            if expected is not None:
                assert_same_output(printed.getvalue(), expected)
    plt.close("all")


# -------------------------------------------------------- docstring examples
# Every module, the wings' included: an example inside skmlp._nn runs too.
MODULES = sorted(m.name for m in pkgutil.walk_packages(skmlp.__path__, "skmlp."))


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


def public_skmlp_docstrings():
    """Every public name of skmlp and every public method written in skmlp
    (scikit-learn's inherited and generated methods are its to document)."""
    for name in skmlp.__all__:
        obj = getattr(skmlp, name)
        yield pytest.param(obj, id=name)
        for attr in dir(obj) if inspect.isclass(obj) else ():
            member = getattr(obj, attr, None)
            module = getattr(member, "__module__", None) or ""
            if not attr.startswith("_") and callable(member) and module[:6] == "skmlp.":
                yield pytest.param(member, id=f"{name}.{attr}")


@pytest.mark.parametrize("obj", list(public_skmlp_docstrings()))
def test_public_docstring_has_a_doctest_example(obj):
    # test_docstring_examples_pass runs them.
    doc = inspect.getdoc(obj)
    assert "\nExamples\n--------\n" in doc, "no Examples section"
    assert doctest.DocTestParser().get_examples(doc), "the Examples run nothing"
