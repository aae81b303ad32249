"""The package's shape: wings whose imports run one way, and no cycles.

Read from the source (every import statement, lazy ones inside functions
included), not from what happens to be imported at run time.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "skmlp"

# Top to bottom: a wing imports only the wings below it. The public modules
# (skmlp/*.py) sit above them all.
WINGS = ("_estimators", "_training", "_backends", "_kernels", "_nn", "_utils")

# Third-party packages a wing must not import: the core knows nothing of
# scikit-learn, and the estimators and training reach the devices' libraries
# only through a backend.
FORBIDDEN = {
    "_estimators": {"cupy", "numba"},
    "_training": {"cupy", "numba"},
    "_nn": {"sklearn", "numba"},
    "_kernels": {"sklearn"},
    "_backends": {"sklearn"},
}


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path):
    """The absolute names ``path`` imports (``from a import b`` gives ``a.b``
    where ``a.b`` is a module, else ``a``)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
GRAPH = {
    name: {imported for imported in _imports(path) if imported in MODULES}
    for name, path in MODULES.items()
}


def _wing(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in WINGS else None


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_wings_import_only_the_wings_below(module):
    wing = _wing(module)
    if wing is None:
        return  # the public surface may import any wing
    allowed = set(WINGS[WINGS.index(wing) :])
    upward = sorted(
        imported
        for imported in GRAPH[module]
        # skmlp._version, the one fact every wing may read.
        if imported != "skmlp._version" and _wing(imported) not in allowed
    )
    assert not upward, f"{module} imports {upward}, above or outside its wing"


@pytest.mark.parametrize("wing", sorted(FORBIDDEN))
def test_wings_keep_out_of_other_libraries(wing):
    for name, path in MODULES.items():
        if _wing(name) == wing:
            roots = {imported.partition(".")[0] for imported in _imports(path)}
            assert not roots & FORBIDDEN[wing], f"{name} imports {roots & FORBIDDEN[wing]}"


def test_no_import_cycles():
    finished, on_path = set(), []

    def visit(module):
        if module in on_path:
            cycle = on_path[on_path.index(module) :] + [module]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if module in finished:
            return
        on_path.append(module)
        for imported in sorted(GRAPH[module]):
            # A package's __init__ importing its own modules is no cycle.
            if not module.startswith(imported + ".") or imported == "skmlp":
                visit(imported)
        on_path.pop()
        finished.add(module)

    for module in sorted(GRAPH):
        visit(module)


def test_the_checks_see_imports():
    # The checks above pass vacuously if the parsing finds nothing.
    assert "skmlp._nn" in GRAPH["skmlp._estimators.base"]
    assert "skmlp._kernels.cpu" in GRAPH["skmlp._kernels"]


def _layout_paths():
    """The files the README's Layout section lists: one name a line, folders
    ending in '/' (a subpackage's line stands for its ``__init__.py``),
    nesting by two spaces of indentation."""
    readme = (PACKAGE.parent / "README.md").read_text()
    block = readme.split("## Layout", 1)[1].split("```", 2)[1]
    paths, folders = set(), []
    for line in block.splitlines()[1:]:
        if not line.strip():
            continue
        indent = (len(line) - len(line.lstrip())) // 2
        name = line.split()[0]
        if not name.endswith(("/", ".py")):
            continue  # a description carried over to the next line
        folders = folders[:indent]
        if name.endswith("/"):
            folders.append(name)
            if indent:  # a subpackage: its line stands for its __init__.py
                paths.add("".join(folders) + "__init__.py")
        else:
            paths.add("".join(folders) + name)
    return paths


def test_readme_layout_matches_the_tree():
    tree = {str(path.relative_to(PACKAGE.parent)) for path in PACKAGE.rglob("*.py")}
    listed = _layout_paths()
    assert listed - tree == set(), "listed in README's Layout but not in skmlp/"
    assert tree - listed == set(), "in skmlp/ but not in README's Layout"
