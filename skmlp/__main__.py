"""``python -m skmlp``: train skmlp and scikit-learn's MLP side by side.

Runs on a dataset bundled with scikit-learn (no download) and prints test
accuracy and fit time of both, with the same parameters and seed.
"""

import argparse
import time
import warnings

from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import MLPClassifierScratch
from ._backend import BACKENDS, get_backend

LOADERS = {
    "digits": datasets.load_digits,
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
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


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m skmlp",
        description="Train skmlp's MLPClassifierScratch and scikit-learn's "
        "MLPClassifier on a bundled dataset with the same settings and print "
        "accuracy and fit time side by side.",
    )
    parser.add_argument("--dataset", choices=sorted(LOADERS), default="digits")
    parser.add_argument(
        "--hidden", type=positive(int), nargs="+", default=[100], metavar="UNITS",
        help="hidden layer sizes (default: 100)",
    )
    parser.add_argument("--solver", choices=["lbfgs", "sgd", "adam", "rmsprop"],
                        default="adam",
                        help="optimizer; scikit-learn has no rmsprop, so it is "
                        "skipped for that one (default: adam)")
    parser.add_argument("--max-iter", type=positive(int), default=200,
                        help="epochs (default: 200)")
    parser.add_argument("--batch-size", type=positive(int), default=None,
                        help="mini-batch size (default: min(200, n_samples))")
    parser.add_argument("--learning-rate-init", type=positive(float),
                        default=1e-3)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--backend", choices=BACKENDS, default="numpy",
                        help="where skmlp trains: numpy (CPU), cupy (NVIDIA "
                        "GPU, needs `pip install skmlp[gpu]`) or auto (cupy "
                        "when usable, else numpy); default: numpy")
    return parser.parse_args(argv)


def fit_and_score(model, X_train, y_train, X_test, y_test):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    mlp = model[-1]
    return model.score(X_test, y_test), seconds, mlp.n_iter_


def main(argv=None):
    args = parse_args(argv)
    try:
        backend = get_backend(args.backend).name
    except ValueError as exc:
        raise SystemExit(f"python -m skmlp: {exc}") from None
    X, y = LOADERS[args.dataset](return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=args.random_state
    )
    shared = {
        "hidden_layer_sizes": tuple(args.hidden),
        "solver": args.solver,
        "max_iter": args.max_iter,
        "batch_size": args.batch_size or "auto",
        "learning_rate_init": args.learning_rate_init,
        "random_state": args.random_state,
    }
    print(
        f"{args.dataset}: {X_train.shape[0]} train / {X_test.shape[0]} test samples, "
        f"{X.shape[1]} features, {len(set(y))} classes; "
        f"hidden={shared['hidden_layer_sizes']}, solver={args.solver}, "
        f"max_iter={args.max_iter}, skmlp backend={backend}"
    )
    models = {"skmlp": MLPClassifierScratch(backend=args.backend, **shared)}
    if args.solver != "rmsprop":
        models["sklearn"] = MLPClassifier(**shared)
    print(f"{'model':<10}{'accuracy':>10}{'fit time (s)':>15}{'epochs':>9}")
    for name, mlp in models.items():
        accuracy, seconds, epochs = fit_and_score(
            make_pipeline(StandardScaler(), mlp), X_train, y_train, X_test, y_test
        )
        print(f"{name:<10}{accuracy:>10.4f}{seconds:>15.3f}{epochs:>9d}")


if __name__ == "__main__":
    main()
