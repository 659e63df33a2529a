"""Sphinx configuration of the fhn_inverse documentation (built by scripts/docs.sh, offline)."""

import os
import shutil
import sys
from pathlib import Path

import fhn_inverse
from numpydoc.xref import DEFAULT_LINKS

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "fhn_inverse"
author = "The fhn_inverse developers"
copyright = "the fhn_inverse developers, GPL-3.0-or-later"
version = release = fhn_inverse.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_nb",  # Markdown pages (MyST) and the tutorials' notebooks, executed
    "mathjax_local",  # _ext/mathjax_local.py: MathJax 3 served from the site itself, formulas render offline
    "fhn_api",  # _ext/fhn_api.py: the API pages from the packages' __all__
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "_ext", "_templates", "runs", "figures", "**/.ipynb_checkpoints"]
nitpicky = True  # also set by scripts/docs.sh (-n)

# -- MyST: the Markdown pages of docs/ as they are --------------------------------------------------
myst_heading_anchors = 3  # links such as benchmarks.md#the-simulator-in-simd-lanes-run-on-its-own
myst_enable_extensions = ["dollarmath"]  # the notebooks' $…$ formulas

# -- The tutorials: the notebooks of notebooks/, executed at quick size during the build -----------
# copied into docs/tutorials/ (generated, not in git) so that Sphinx sees them as pages; myst-nb runs
# each in a fresh kernel in a temporary folder, with FHN_QUICK=1 (the kernel inherits the variable),
# and caches the outputs by the notebook's code (jupyter-cache, in docs/_build): a notebook whose
# code did not change is not run again.
_here = Path(__file__).resolve().parent
_tutorials = _here / "tutorials"
_tutorials.mkdir(exist_ok=True)
_notebooks = sorted((_here.parent / "notebooks").glob("*.ipynb"))
for _old in _tutorials.glob("*.ipynb"):
    if _old.name not in {nb.name for nb in _notebooks}:
        _old.unlink()
for _nb in _notebooks:
    _copy = _tutorials / _nb.name
    if not _copy.exists() or _copy.read_bytes() != _nb.read_bytes():  # untouched copies keep their mtime
        shutil.copyfile(_nb, _copy)
os.environ["FHN_QUICK"] = "1"
nb_execution_mode = "cache"
nb_execution_cache_path = str(_here / "_build" / ".jupyter_cache")
nb_execution_in_temp = True
nb_execution_timeout = 900
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
nb_output_stderr = "remove"  # warnings of the kernel's libraries (tqdm without ipywidgets), not the tutorial's

# -- API reference: autosummary + autodoc + numpydoc -----------------------------------------------
autosummary_generate = True  # the stubs of api/generated/, from _templates/autosummary
autosummary_generate_overwrite = True
autosummary_imported_members = True
autosummary_ignore_module_all = False
autosummary_context = {}  # fhn_api adds "fhn_also": the other public paths of each object
autodoc_default_options = {}
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
autoclass_content = "class"

numpydoc_show_class_members = False  # autoclass :members: documents them, each once
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_validation_checks = set()  # docstring style is the package's business, not the build's
numpydoc_xref_param_type = True
# Link the package's own classes in parameter types (fhn_api adds every public path and short class
# name) and leave every other word as text: there is no intersphinx offline, so numpydoc's default
# links to Python's and NumPy's docs (python:int, numpy.ndarray, …) are turned back into plain words.
numpydoc_xref_ignore = "all"
numpydoc_xref_aliases = {word: word for word in DEFAULT_LINKS}

# Cross-references that have no target in this site, offline (there is no intersphinx): the base
# classes of the standard library and pybind11 that the package's classes derive from
# (:show-inheritance:).
nitpick_ignore_regex = [
    (r"py:class", r"(pybind11_builtins|collections\.abc)\..*"),
]
# Named by InverseMap's docstring, documented nowhere: an instance attribute, not in its Attributes.
nitpick_ignore = [("py:attr", "parts")]

# benchmarks.md's generated block (benchmarks/run_all.py) puts H3 right under the page's H1.
suppress_warnings = ["myst.header"]

# -- HTML -------------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"fhn_inverse {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "header_links_before_dropdown": 6,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": []}
html_show_sourcelink = False
html_copy_source = False
