"""A notebook runs end to end in a real Jupyter kernel: a fit with scikit-learn's
ProgressBar, the estimator's HTML diagram and LossCurveDisplay inline, with no
error and no stray text (rich's 'install "ipywidgets" for Jupyter support', a
warning) in any output."""

import os
from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient", reason="needs nbclient (the test extra)")
pytest.importorskip("ipykernel", reason="needs ipykernel (the test extra)")
pytest.importorskip("sklearn.callback", reason="ProgressBar needs scikit-learn >= 1.9")
from nbformat.v4 import new_code_cell, new_notebook  # nbclient brings nbformat

import skmlp

NOTEBOOK = [
    # Explicit, so that an MPLBACKEND in the environment does not hide the plot.
    """\
%matplotlib inline
from sklearn.callback import ProgressBar
from sklearn.datasets import load_digits

from skmlp import MLPClassifierScratch
from skmlp.plotting import LossCurveDisplay

X, y = load_digits(return_X_y=True)
clf = MLPClassifierScratch(hidden_layer_sizes=(16,), early_stopping=True,
                           learning_rate_init=0.01, random_state=0)""",
    # Early stopping ends the fit long before max_iter: no ConvergenceWarning.
    "clf.set_callbacks(ProgressBar()).fit(X / 16, y)",
    "display = LossCurveDisplay.from_estimator(clf)",
]


def run_notebook(cells):
    """The notebook of ``cells`` after a run in a fresh kernel of this Python,
    which imports the skmlp under test."""
    notebook = new_notebook(cells=[new_code_cell(source) for source in cells])
    root = Path(skmlp.__file__).resolve().parents[1]
    pythonpath = filter(None, [str(root), os.environ.get("PYTHONPATH")])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(pythonpath)}
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",  # ipykernel's: its "python" is this interpreter
        resources={"metadata": {"path": str(root)}},
    )
    client.execute(env=env)  # a cell's error raises CellExecutionError
    return notebook


def texts(output):
    """What a reader sees of ``output`` as text: a stream's text, or the plain
    text of a display (rich shows warnings that way while its bar is live)."""
    if output.output_type == "stream":
        return [output.text]
    return [output.get("data", {}).get("text/plain", "")]


def test_a_notebook_shows_progress_diagram_and_plot_without_stray_text():
    fit_cell, plot_cell = run_notebook(NOTEBOOK).cells[1:]
    outputs = [output for cell in (fit_cell, plot_cell) for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    shown = "".join(text for output in outputs for text in texts(output))
    assert "ipywidgets" not in shown and "Warning" not in shown, shown

    # rich draws the bar in an ipywidgets Output widget.
    assert any(
        "application/vnd.jupyter.widget-view+json" in output.get("data", {})
        for output in fit_cell.outputs
    )
    # The fitted estimator's scikit-learn diagram.
    (result,) = [o for o in fit_cell.outputs if o.output_type == "execute_result"]
    assert "sk-estimator" in result.data["text/html"]
    assert "MLPClassifierScratch" in result.data["text/html"]
    # The loss curve, inline.
    assert [o for o in plot_cell.outputs if "image/png" in o.get("data", {})]
