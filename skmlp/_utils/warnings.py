"""Warnings that point at the user's call.

A warning's ``stacklevel`` is fixed where it is raised, but the same warning
is reached through ``fit``, ``partial_fit``, ``predict_proba`` or a Pipeline at
different depths. :func:`warn` instead counts the frames of this package (and
of scikit-learn, whose Pipeline and meta-estimators call ours) between it and
the first caller outside them, as Python 3.12's ``skip_file_prefixes`` does.
"""

import contextlib
import os
import sys
import warnings

import sklearn

# Frames from these are library code; contextlib's, from :func:`at_user_call`.
_LIBRARY_FILES = (
    *(
        os.path.dirname(os.path.abspath(module.__file__)) + os.sep
        for module in (sys.modules[__name__.partition(".")[0]], sklearn)
    ),
    os.path.abspath(contextlib.__file__),
)


def _user_stacklevel():
    """The ``stacklevel`` that makes ``warnings.warn``, called by the caller
    of this function's caller, report the first frame outside skmlp and
    scikit-learn."""
    frame = sys._getframe(2)
    level = 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        _LIBRARY_FILES
    ):
        frame = frame.f_back
        level += 1
    return level


def warn(message, category=UserWarning):
    """``warnings.warn`` attributed to the user's line that called into skmlp."""
    warnings.warn(message, category, stacklevel=_user_stacklevel())


@contextlib.contextmanager
def at_user_call():
    """Re-raise the warnings that library code called inside this block
    raises (scikit-learn's, with its own ``stacklevel``) from the user's call
    instead. The user's filters apply as usual when they are re-raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for record in caught:
        warnings.warn(record.message, record.category, stacklevel=_user_stacklevel())
