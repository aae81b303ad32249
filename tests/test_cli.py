"""``python -m skmlp``: every bundled dataset runs, --plot writes a PNG, and
its options are checked before anything trains."""

import re
import sys

import pytest

from skmlp.__main__ import LOADERS, main

TINY = ["--hidden", "3", "--epochs", "2"]
NUMBER = r"-?\d+\.\d+"


@pytest.mark.parametrize("dataset", list(LOADERS))
def test_every_dataset_runs_and_scores_both_models(dataset, capsys):
    main(["--dataset", dataset, *TINY])
    header, columns, *rows = capsys.readouterr().out.splitlines()
    assert header.startswith(f"{dataset}: ")
    regression = dataset in ("diabetes", "linnerud")
    assert ("regression" in header) == regression
    assert ("3 targets" in header) == (dataset == "linnerud")
    scores = ["R²", "MAE"] if regression else ["accuracy"]
    assert columns.split() == ["model", *scores, "fit", "time", "(s)", "epochs"]
    assert [row.split()[0] for row in rows] == ["skmlp", "sklearn"]
    for row in rows:
        # The scores and the fit time, then the 2 epochs.
        assert re.fullmatch(rf"\w+( +{NUMBER}){{{len(scores) + 1}}} +2", row), row


def test_same_split_and_seed_give_scikit_learns_scores(capsys):
    main(["--dataset", "diabetes", *TINY])
    skmlp, sklearn = capsys.readouterr().out.splitlines()[2:]
    # R² and MAE agree; only the fit times differ.
    assert skmlp.split()[1:3] == sklearn.split()[1:3]


def test_rmsprop_runs_without_scikit_learn(capsys):
    main(["--dataset", "iris", "--solver", "rmsprop", *TINY])
    rows = capsys.readouterr().out.splitlines()[2:]
    assert [row.split()[0] for row in rows] == ["skmlp"]


def test_plot_writes_a_png(tmp_path, capsys):
    path = tmp_path / "curves.png"
    main(["--dataset", "wine", "--solver", "lbfgs", *TINY, "--plot", str(path)])
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"training curves written to {path}" in capsys.readouterr().out


@pytest.mark.parametrize(
    "option, value",
    [
        ("--batch-size", "0"),
        ("--hidden", "0"),
        ("--epochs", "0"),
        ("--epochs", "-3"),
        ("--learning-rate-init", "0"),
        ("--learning-rate-init", "nan"),
    ],
)
def test_values_out_of_range_are_usage_errors(option, value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--dataset", "iris", option, value])
    assert exit_info.value.code == 2
    assert f"argument {option}: must be above 0, got {value}" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--batch-size", "many"], "invalid int value: 'many'"),
        (["--dataset", "mnist"], "argument --dataset: invalid choice: 'mnist'"),
        (["--solver", "lion"], "argument --solver: invalid choice: 'lion'"),
        (["--backend", "tpu"], "argument --backend: invalid choice: 'tpu'"),
        (["--plot"], "argument --plot: expected one argument"),
        (["--max-iter", "5"], "unrecognized arguments: --max-iter 5"),
    ],
)
def test_bad_arguments_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: python -m skmlp")
    assert message in err


def test_plot_without_matplotlib_is_a_usage_error(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(SystemExit) as exit_info:
        main(["--dataset", "iris", *TINY, "--plot", str(tmp_path / "x.png")])
    assert exit_info.value.code == 2
    assert 'pip install "skmlp[plot]"' in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(
    "dataset, estimator",
    [("iris", "MLPClassifierScratch"), ("diabetes", "MLPRegressorScratch")],
)
def test_progress_shows_skmlps_epochs(dataset, estimator, capsys):
    pytest.importorskip("sklearn.callback")
    pytest.importorskip("rich")
    main(["--dataset", dataset, *TINY, "--progress"])
    out = capsys.readouterr().out
    assert f"{estimator} - fit" in out and "100%" in out
    assert "MLPClassifier -" not in out and "MLPRegressor -" not in out


@pytest.mark.parametrize(
    "hidden, message",
    [
        ("rich", 'needs rich. Install it with: pip install "skmlp[progress]"'),
        ("sklearn.callback", "needs scikit-learn's callback API, new in scikit-learn"),
    ],
)
def test_progress_says_what_it_needs(hidden, message, monkeypatch, capsys):
    if hidden == "rich":  # asked for only where the callback API exists
        pytest.importorskip("sklearn.callback")
    monkeypatch.setitem(sys.modules, hidden, None)
    with pytest.raises(SystemExit) as exit_info:
        main(["--dataset", "iris", *TINY, "--progress"])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert f"--progress {message}" in captured.err
    assert "accuracy" not in captured.out  # nothing trained
