"""Sphinx configuration of skmlp's documentation.

Build from the project root with ``sphinx-build -W -b html docs docs/_build/html``
(``pip install -e ".[docs]"`` first). The gallery in ``docs/examples/`` runs at
every build, and the API reference is generated from the numpydoc docstrings.
"""

from pathlib import Path

import skmlp

project = "skmlp"
author = "the skmlp developers"
copyright = "2026, the skmlp developers"
release = version = skmlp.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
    "matplotlib.sphinxext.plot_directive",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "examples/GALLERY_HEADER.rst", "**/*.ipynb"]
templates_path = ["_templates"]

# MyST: "## Early stopping" gets the anchor #early-stopping, as on GitHub.
myst_heading_anchors = 3
myst_enable_extensions = ["dollarmath"]

# API reference: autosummary writes a page per object into api/generated/
# (see api.rst); numpydoc renders the docstrings.
autosummary_generate = True
# scikit-learn's metadata-routing methods and the transformers' set_output are
# left to its documentation: their docstrings refer to its glossary and user
# guide, which do not exist here.
autodoc_default_options = {
    "members": True,
    "inherited-members": True,
    "exclude-members": "get_metadata_routing, set_fit_request, "
    "set_partial_fit_request, set_score_request, set_output",
}
numpydoc_show_class_members = True
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    # "Examples using ..." under each API page (the minigallery in
    # _templates/autosummary/class.rst).
    "doc_module": ("skmlp",),
    "backreferences_dir": "generated/backreferences",
    "download_all_examples": False,
    "remove_config_comments": True,
    # The build fails when an example fails (and, with -W, when it warns).
    "only_warn_on_example_error": False,
}

# The benchmark figure (benchmarks.md) is drawn at build time from the JSON.
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 100)]
plot_working_directory = str(Path(__file__).resolve().parents[1])  # the project root

html_theme = "pydata_sphinx_theme"
html_title = f"skmlp {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path = []
