"""The examples in the package's docstrings run as doctests, module by module."""

import doctest
import importlib
import pkgutil

import pytest

import fhn_inverse

#: modules whose import needs an optional extra, and entry points that run on import
SKIP = {"fhn_inverse.__main__", "fhn_inverse.cli.__main__"}


def _modules():
    names = [fhn_inverse.__name__] + [m.name for m in pkgutil.walk_packages(fhn_inverse.__path__, "fhn_inverse.")]
    out = []
    for name in sorted(set(names) - SKIP):
        try:
            out.append(importlib.import_module(name))
        except ImportError:  # an optional extra (torch, dask) that is not installed
            continue
    return out


MODULES = _modules()
FINDER = doctest.DocTestFinder(exclude_empty=True)
TESTS = [t for m in MODULES for t in FINDER.find(m) if t.examples]


def test_the_docstrings_hold_examples():
    assert len(TESTS) >= 22, [t.name for t in TESTS]


@pytest.mark.parametrize("test", TESTS, ids=[t.name for t in TESTS])
def test_docstring_example(test):
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0, f"{test.name}: see the doctest output above"
