"""Warnings shown at the user's call, filtered as coming from skmlp.

A warning carries two addresses: the file and line it is shown at, and the
module that warning filters match (``filterwarnings(module=...)``, the fourth
field of ``-W`` and ``PYTHONWARNINGS``). ``warnings.warn`` takes both from the
one frame its ``stacklevel`` picks, which cannot serve here twice over: the
same warning is reached through ``fit``, ``partial_fit``, ``predict_proba``, a
Pipeline or joblib at different depths, and the frame worth showing (the
user's line) is not the module worth filtering by (``skmlp``, not the user's
``__main__``, which no ``module="skmlp"`` filter matches).

:func:`warn` therefore finds the user's frame itself -- the first outside
skmlp, scikit-learn (whose Pipeline and meta-estimators call ours) and joblib
(through which they call ours) -- and hands the two addresses apart to
``warnings.warn_explicit``, with the registry of the user's module, as
``warnings.warn`` would: ``once``, ``default`` and ``module`` filters count
occurrences per user line and module, as they do for any warning. (In a
joblib worker process no frame is the user's: the warning shows at the
worker's entry point, and the filters scikit-learn passes on still match.)

Python 3.12's ``warn(skip_file_prefixes=...)`` finds the same frame but takes
the module from it too, and Python 3.10 and 3.11 lack it.

Deprecations warn with ``FutureWarning``, as scikit-learn's do: Python's
default filters hide ``DeprecationWarning`` outside ``__main__``, and these
come from ``skmlp``.
"""

import contextlib
import importlib.util
import itertools
import linecache
import os
import sys
import warnings

# The top package (this module sits in its _utils wing).
_PACKAGE = __package__.partition(".")[0]


def _package_dir(name):
    # find_spec does not import a top-level package: the core, which warns
    # through this module, stays free of scikit-learn.
    spec = importlib.util.find_spec(name)
    return None if spec is None else os.path.dirname(os.path.abspath(spec.origin))


# Frames from these are library code; contextlib's come from at_user_call.
_LIBRARY_FILES = (
    *(
        directory + os.sep
        for directory in map(_package_dir, (_PACKAGE, "sklearn", "joblib"))
        if directory is not None
    ),
    os.path.abspath(contextlib.__file__),
)


def _public_name(module):
    """``module``, within skmlp, cut at its first private part: the path that
    the users' filters name and the package's renovation leaves in place
    (``skmlp._training.trainer`` -> ``skmlp``, so ``-W ignore:::skmlp``, which matches
    the whole name, catches it)."""
    if module != _PACKAGE and not module.startswith(_PACKAGE + "."):
        return module
    parts = module.split(".")
    return ".".join(itertools.takewhile(lambda part: not part.startswith("_"), parts))


def _user_frame():
    """The innermost frame outside the libraries: the user's call."""
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        _LIBRARY_FILES
    ):
        frame = frame.f_back
    return frame


def _warn_at_user_call(message, category, module):
    """``warnings.warn_explicit`` shown at the user's call, filtered by
    ``module``, counted in the user's module's registry as ``warnings.warn``
    counts it."""
    frame = _user_frame()
    if frame is None:  # the whole stack is library code: as warnings.warn
        user_globals, filename, lineno = sys.__dict__, "<sys>", 0
    else:
        user_globals = frame.f_globals
        filename, lineno = frame.f_code.co_filename, frame.f_lineno
    # The user's globals let linecache show a line whose file is not on disk
    # (a zip app), as warnings.warn's Python version does. Not passed as
    # warn_explicit's module_globals: its C version asks their loader for the
    # source at once and raises ImportError for `python -c`'s __main__.
    linecache.getlines(filename, user_globals)
    warnings.warn_explicit(
        message,
        category,
        filename,
        lineno,
        module=module,
        registry=user_globals.setdefault("__warningregistry__", {}),
    )


def warn(message, category=UserWarning):
    """Warn from the user's line that called into skmlp.

    Parameters
    ----------
    message : str
        What happened and what to do about it.
    category : type of Warning, default=UserWarning
        The warning's class.

    Notes
    -----
    Filters match the warning as coming from the public module around the
    caller of this function (``skmlp`` for all of today's callers).
    """
    module = _public_name(sys._getframe(1).f_globals["__name__"])
    _warn_at_user_call(message, category, module)


def _module_of(filename):
    """The public name of the imported module whose source is ``filename``,
    or None (``warn_explicit`` then names it after the file, as Python does
    for a warning that has no frame)."""
    for name, module in list(sys.modules.items()):
        if getattr(module, "__file__", None) == filename:
            return _public_name(name)
    return None


@contextlib.contextmanager
def at_user_call():
    """Re-raise the warnings that library code raises inside this block
    (scikit-learn's helpers, with their own ``stacklevel``) from the user's
    call instead.

    Each keeps the module that Python gave it, the module of the frame its
    ``stacklevel`` named: ``skmlp`` where that frame is ours (the helpers
    that warn about their caller's input), ``sklearn.<module>`` where it is
    scikit-learn's. The user's filters apply as usual when they are re-raised.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for record in caught:
        _warn_at_user_call(record.message, record.category, _module_of(record.filename))
