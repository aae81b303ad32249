"""``python -m skmlp``: train skmlp and scikit-learn's MLP side by side.

Runs on a dataset bundled with scikit-learn (no download) and prints, for
both, the test accuracy (classification) or R² and mean absolute error
(regression), the fit time and the epochs, with the same parameters and
seed. ``--plot`` draws skmlp's training curve.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn import datasets
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import MLPClassifierScratch, MLPRegressorScratch
from ._backends import BACKENDS, get_backend

LOADERS = {
    "digits": datasets.load_digits,
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
    "diabetes": datasets.load_diabetes,
    "linnerud": datasets.load_linnerud,
}


def positive(kind):
    """argparse type: a number of ``kind`` above 0, so that a bad value is a
    usage error (``--batch-size 0`` is not 'auto', and no traceback from
    deep inside ``fit``)."""

    def parse(text):
        value = kind(text)
        if not value > 0:  # also refuses NaN
            raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse's "invalid int value" names it
    return parse


def make_parser():
    parser = argparse.ArgumentParser(
        prog="python -m skmlp",
        description="Train skmlp's MLP and scikit-learn's on a dataset bundled "
        "with scikit-learn, with the same settings, and print their test scores "
        "and fit times side by side: accuracy for the classification datasets, "
        "R² and mean absolute error for the regression ones (diabetes; "
        "linnerud, with 3 targets).",
    )
    parser.add_argument(
        "--dataset",
        choices=list(LOADERS),
        default="digits",
        help="the bundled dataset to train on (default: digits)",
    )
    parser.add_argument(
        "--hidden",
        type=positive(int),
        nargs="+",
        default=[100],
        metavar="UNITS",
        help="hidden layer sizes (default: 100)",
    )
    parser.add_argument(
        "--solver",
        choices=["lbfgs", "sgd", "adam", "rmsprop"],
        default="adam",
        help="optimizer; scikit-learn has no rmsprop, so it is "
        "skipped for that one (default: adam)",
    )
    parser.add_argument(
        "--epochs",
        type=positive(int),
        default=200,
        help="most epochs (L-BFGS: iterations) to train; max_iter (default: 200)",
    )
    parser.add_argument(
        "--batch-size",
        type=positive(int),
        default=None,
        help="mini-batch size (default: min(200, n_samples))",
    )
    parser.add_argument("--learning-rate-init", type=positive(float), default=1e-3)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="numpy",
        help="where skmlp trains: numpy (CPU), cupy (NVIDIA "
        "GPU, needs `pip install skmlp[gpu]`) or auto (cupy "
        "when usable, else numpy); default: numpy",
    )
    parser.add_argument(
        "--progress",
        action="store_true",
        help="show a progress bar of skmlp's epochs (scikit-learn's ProgressBar "
        'callback; needs scikit-learn >= 1.9 and rich: pip install "skmlp[progress]")',
    )
    parser.add_argument(
        "--plot",
        metavar="PATH",
        help="write skmlp's training loss per epoch, beside "
        "scikit-learn's, to this PNG file (needs matplotlib: "
        'pip install "skmlp[plot]")',
    )
    return parser


def is_classification(y):
    """The bundled loaders give class labels as integers, regression targets
    as floats."""
    return np.issubdtype(y.dtype, np.integer)


def make_models(classification, args):
    """skmlp's MLP and, where it has the solver, scikit-learn's, with the same
    parameters."""
    shared = {
        "hidden_layer_sizes": tuple(args.hidden),
        "solver": args.solver,
        "max_iter": args.epochs,
        "batch_size": args.batch_size or "auto",
        "learning_rate_init": args.learning_rate_init,
        "random_state": args.random_state,
    }
    if classification:
        models = {"skmlp": MLPClassifierScratch(backend=args.backend, **shared)}
        if args.solver != "rmsprop":
            models["sklearn"] = MLPClassifier(**shared)
    else:
        models = {"skmlp": MLPRegressorScratch(backend=args.backend, **shared)}
        if args.solver != "rmsprop":
            models["sklearn"] = MLPRegressor(**shared)
    return models


def make_pipeline_for(mlp, classification, callbacks=()):
    """Standardised inputs and, for regression, standardised targets (the
    MLP's loss and step sizes assume values of about unit scale), with
    ``callbacks`` set where they reach the MLP."""
    if classification:
        # A pipeline passes its callbacks on to its last step (with
        # scikit-learn >= 1.9; without callbacks the call is not needed).
        pipeline = make_pipeline(StandardScaler(), mlp)
        return pipeline.set_callbacks(*callbacks) if callbacks else pipeline
    # TransformedTargetRegressor passes none on: they go on the MLP itself.
    if callbacks:
        mlp.set_callbacks(*callbacks)
    target_scaled = TransformedTargetRegressor(mlp, transformer=StandardScaler())
    return make_pipeline(StandardScaler(), target_scaled)


def fitted_mlp(pipeline):
    """The MLP fitted inside ``pipeline`` (a regressor's is a clone)."""
    last = pipeline[-1]
    return last.regressor_ if isinstance(last, TransformedTargetRegressor) else last


def fit_and_time(pipeline, X_train, y_train):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline.fit(X_train, y_train)
    return time.perf_counter() - start


def progress_bar():
    """scikit-learn's ProgressBar callback, or an ImportError saying what
    to install."""
    try:
        from sklearn.callback import ProgressBar
    except ImportError as exc:
        raise ImportError(
            "--progress needs scikit-learn's callback API, new in scikit-learn "
            "1.9. Upgrade it with: pip install -U scikit-learn"
        ) from exc
    try:
        return ProgressBar()
    except ImportError as exc:
        raise ImportError(
            '--progress needs rich. Install it with: pip install "skmlp[progress]"'
        ) from exc


def save_plot(path, mlps):
    from matplotlib.figure import Figure

    from .plotting import LossCurveDisplay

    figure = Figure(figsize=(7, 4.5), layout="constrained")
    ax = figure.subplots()
    # scikit-learn's MLP keeps no loss curve with L-BFGS.
    curves = {name: mlp for name, mlp in mlps.items() if hasattr(mlp, "loss_curve_")}
    for (name, mlp), style in zip(curves.items(), ["-", "--"]):
        LossCurveDisplay.from_estimator(
            mlp, ax=ax, name=name, loss_kw={"linestyle": style}
        )
    ax.set_yscale("log")
    figure.savefig(path, format="png")


def main(argv=None):
    parser = make_parser()
    args = parser.parse_args(argv)
    # What the options need is checked before anything trains.
    try:
        if args.plot:
            from .plotting import _check_matplotlib

            _check_matplotlib("--plot")
        callbacks = [progress_bar()] if args.progress else []
    except ImportError as exc:
        parser.error(str(exc))
    try:
        backend = get_backend(args.backend).name
    except ValueError as exc:
        raise SystemExit(f"python -m skmlp: {exc}") from None

    X, y = LOADERS[args.dataset](return_X_y=True)
    classification = is_classification(y)
    X_train, X_test, y_train, y_test = train_test_split(
        X,
        y,
        test_size=0.25,
        stratify=y if classification else None,
        random_state=args.random_state,
    )
    if classification:
        task = f"{len(np.unique(y))} classes"
        header = f"{'accuracy':>10}"
    else:
        task = "regression" + (f", {y.shape[1]} targets" if y.ndim == 2 else "")
        header = f"{'R²':>8}{'MAE':>10}"
    print(
        f"{args.dataset}: {X_train.shape[0]} train / {X_test.shape[0]} test samples, "
        f"{X.shape[1]} features, {task}; hidden={tuple(args.hidden)}, "
        f"solver={args.solver}, max_iter={args.epochs}, skmlp backend={backend}"
    )
    print(f"{'model':<10}{header}{'fit time (s)':>15}{'epochs':>9}")
    mlps = {}
    for name, mlp in make_models(classification, args).items():
        # scikit-learn's MLP takes no callbacks.
        pipeline = make_pipeline_for(
            mlp, classification, callbacks if name == "skmlp" else ()
        )
        seconds = fit_and_time(pipeline, X_train, y_train)
        mlps[name] = fitted_mlp(pipeline)
        score = pipeline.score(X_test, y_test)
        if classification:
            scores = f"{score:>10.4f}"
        else:
            mae = mean_absolute_error(y_test, pipeline.predict(X_test))
            scores = f"{score:>8.4f}{mae:>10.3g}"
        print(f"{name:<10}{scores}{seconds:>15.3f}{mlps[name].n_iter_:>9d}")
    if args.plot:
        save_plot(args.plot, mlps)
        print(f"training curves written to {args.plot}")


if __name__ == "__main__":
    main()
