"""The Python package's layout, as docs/architecture.md states it: areas stacked in one order
(imports run down, never up), no import cycle between modules (imports inside functions count),
no private name imported from another area, and no module over 600 lines."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "python" / "fhn_inverse"

#: The areas from the bottom up; a module may import from its own area and from areas below it.
#: ``_core`` (the extension), ``_loader`` (which build of it), ``_version`` and ``_util`` are the ground
#: every area stands on.
LAYERS = [
    {"_core", "_loader", "_version", "_util"},
    {"metrics", "models"},
    {"data"},
    {"uncertainty"},
    {"nn"},
    {"fitting"},
    {"study"},
    {"distributed", "sklearn", "about"},
    {"__init__"},
    {"cli"},
    {"__main__"},
]
SHARED = LAYERS[0]
MAX_LINES = 600

pytestmark = pytest.mark.skipif(not PACKAGE.is_dir(), reason="needs the source tree")


def _name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


MODULES = {_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _area(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _layer(area: str) -> int:
    return next(i for i, names in enumerate(LAYERS) if area in names)


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    is_package = MODULES[module].name == "__init__.py"
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(module: str):
    """(imported module, imported name or None, line) for every import of the package, at any depth."""
    tree = ast.parse(MODULES[module].read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "fhn_inverse":
                    yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            if target.split(".")[0] != "fhn_inverse":
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in MODULES or (PACKAGE.parent / sub.replace(".", "/")).with_suffix(".pyi").exists():
                    yield sub, None, node.lineno  # a module imported from its package
                else:
                    yield target, alias.name, node.lineno


def _graph():
    return {m: sorted({t for t, _, _ in imports(m) if t in MODULES and t != m}) for m in MODULES}


def _cycles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_every_area_has_a_layer():
    assert sorted({_area(m) for m in MODULES} - set().union(*LAYERS)) == []


def test_no_import_cycle():
    assert _cycles(_graph()) == []


def test_imports_run_down():
    up = [f"{m}:{line} imports {t}" for m in MODULES for t, _, line in imports(m)
          if t in MODULES and _layer(_area(t)) > _layer(_area(m))]
    assert up == []


def test_no_private_name_across_areas():
    hits = []
    for m in MODULES:
        for target, name, line in imports(m):
            if _area(target) in SHARED or _area(target) == _area(m):
                continue
            leaf = name if name is not None else target.rsplit(".", 1)[-1]
            if leaf.startswith("_") and not leaf.startswith("__"):
                hits.append(f"{m}:{line} imports {target}{'.' + name if name else ''}")
    assert hits == []


def _private_attributes(module: str):
    """(module, private name, line) for every ``alias._name`` where ``alias`` is a module of the
    package bound by an import in ``module`` (``from ..study import report``; ``report._TABLES``)."""
    tree = ast.parse(MODULES[module].read_text())
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            for alias in node.names:
                if f"{target}.{alias.name}" in MODULES:
                    aliases[alias.asname or alias.name] = f"{target}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "fhn_inverse" and alias.asname:
                    aliases[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            yield aliases[node.value.id], node.attr, node.lineno


def test_no_private_attribute_across_areas():
    hits = [f"{m}:{line} uses {target}.{name}" for m in MODULES for target, name, line in _private_attributes(m)
            if _area(target) not in SHARED and _area(target) != _area(m)]
    assert hits == []


def test_no_module_over_600_lines():
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_the_checks_see_what_they_look_for():
    assert _cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]
    graph = _graph()
    assert "fhn_inverse.nn.estimator" in graph["fhn_inverse.nn"]  # relative imports of a package resolve
    assert any(t == "fhn_inverse._core" for t, _, _ in imports("fhn_inverse.data.features"))
    assert len(MODULES) > 30


def test_the_attribute_check_sees_a_private_use(tmp_path, monkeypatch):
    probe = tmp_path / "probe.py"
    probe.write_text("from fhn_inverse.study import report\nimport fhn_inverse.uncertainty.stats as st\n"
                     "x = report._render, st._gaussian, report.TABLES\n")
    monkeypatch.setitem(MODULES, "fhn_inverse.cli.probe", probe)
    assert sorted(_private_attributes("fhn_inverse.cli.probe")) == [
        ("fhn_inverse.study.report", "_render", 3), ("fhn_inverse.uncertainty.stats", "_gaussian", 3)]


def _parameter_literals(path: Path, names: set) -> list[int]:
    """Lines of the file with a string constant among ``names`` (outside docstrings)."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names
            and id(node) not in docstrings]


def test_parameter_names_come_from_the_model(tmp_path):
    """No module names a model's parameters in a string literal: names (and units, sizes) come from
    the model objects (``param_names``, ``param_units``; ``models.simulation.MODELS``)."""
    from fhn_inverse.models.simulation import MODELS

    names = {name for model in MODELS for name in model.param_names}
    assert names and all(len(model.param_units) == len(model.param_names) for model in MODELS)
    hits = [f"{m}:{line}" for m, path in MODULES.items() for line in _parameter_literals(path, names)]
    assert hits == []
    probe = tmp_path / "probe.py"
    probe.write_text('"""Mentions theta0 in a docstring."""\nx = "theta0"\n')
    assert _parameter_literals(probe, {"theta0"}) == [2]
