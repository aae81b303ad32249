"""Where the generated kernels' sources go, and their compilation.

The generated source is written to a per-user cache directory
(``$NUMBA_CACHE_DIR/skmlp``, else the platform's user cache directory), so
numba's ``cache=True`` keeps the machine code between processes whether or
not the installed package's directory is writable; where no such directory
is writable the kernels are compiled in memory in every process.
"""

import functools
import hashlib
import os
import sys
import tempfile
import types


def _user_cache_dir():
    """The platform's per-user cache directory (not created here)."""
    if sys.platform == "win32":
        return os.environ.get("LOCALAPPDATA") or os.path.expanduser("~")
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Caches")
    return os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")


@functools.cache
def kernel_dir():
    """Directory for generated kernel sources (and, beside them, numba's
    cached machine code), or None where it cannot be written: kernels are
    then compiled in memory, in every process. Never a shared temporary
    directory, since the files written there are executed."""
    base = os.environ.get("NUMBA_CACHE_DIR") or _user_cache_dir()
    path = os.path.join(base, "skmlp", "kernels")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK | os.X_OK) else None


def _source_file(source, name):
    """Path of a file holding ``source`` (written once; its modification
    time must stay, since numba's cache is keyed by it), or None."""
    directory = kernel_dir()
    if directory is None:
        return None
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    path = os.path.join(directory, f"{name}_{digest}.py")
    if not os.path.exists(path):
        try:
            # A temporary of this thread's own (threads of one process may
            # compile the same kernel), then an atomic rename: other
            # processes and threads see all of the file or nothing.
            handle, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(source)
            os.replace(temporary, path)
        except OSError:
            return None
    return path


def compile_source(numba, source, name):
    """The numba dispatcher of function ``name`` defined by ``source``, cached
    on disk where the source could be written to a file."""
    path = _source_file(source, name)
    # A module registered under its own name: numba's cache imports the
    # module of a cached function by name when loading it.
    module_name = (
        f"skmlp_kernels.{name}_{hashlib.sha256(source.encode()).hexdigest()[:16]}"
    )
    module = sys.modules.get(module_name)
    if module is None:
        module = types.ModuleType(module_name)
        module.__file__ = path
        code = compile(source, path or f"<skmlp kernel {name}>", "exec")
        exec(code, module.__dict__)  # noqa: S102
        sys.modules[module_name] = module
    return numba.njit(error_model="numpy", cache=path is not None)(
        getattr(module, name)
    )
