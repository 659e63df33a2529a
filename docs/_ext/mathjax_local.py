"""Sphinx extension: MathJax 3 served from the built site, so formulas (the tutorials' $…$) render
offline. The files come from the ``sphinx-mathjax-offline`` package (the docs extra), which only
bundles them; this copies them into ``_static/mathjax`` after a successful build and points
Sphinx's MathJax at them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from sphinx.util.fileutil import copy_asset


def _source() -> Path:
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or spec.origin is None:
        raise RuntimeError("MathJax for the offline site comes from the sphinx-mathjax-offline package (the docs "
                           "extra): pip install 'fhn_inverse[docs]'")
    return Path(spec.origin).parent / "static" / "mathjax"


def _copy(app, exc) -> None:
    if exc is None:
        copy_asset(str(_source()), str(Path(app.outdir) / "_static" / "mathjax"))


def setup(app):
    _source()  # fail early, naming the package, where it is missing
    app.config.mathjax_path = "mathjax/tex-chtml.js"
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
