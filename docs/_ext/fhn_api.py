"""Sphinx extension: the API reference of fhn_inverse, generated from the packages' ``__all__``.

At ``config-inited`` it walks ``fhn_inverse`` and its public subpackages (``SUBPACKAGES``) and writes
one listing page per module into ``api/generated/``: the module's docstring and autosummary tables
of its public names (``__all__``; for a package without ``__all__``, its public submodules, each
listed the same way). autosummary then writes one page per object from ``_templates/autosummary``,
and numpydoc renders the docstrings.

An object that several modules export (``fhn_inverse.AR1Noise`` is ``fhn_inverse.models.AR1Noise``
is ``fhn_inverse.models.noise.AR1Noise``) gets one page, under its most public name (the top-level
package first, then the subpackages in the order of ``SUBPACKAGES``, then their modules); the
other listings link to that page, and the page names the other paths. A cross-reference to any of
those paths (docstrings cite the defining module's) is resolved to that page by the identity of
the object it names: short targets are qualified in the docstring as it is rendered
(``qualify_docstring``), the rest at ``missing-reference``; one that names a real object of the
package outside the reference (a private helper, ``fhn_inverse.study``) is left as plain text.

Docstrings are rendered, never edited: a constant's page shows its ``#:`` doc comment from the
module that defines it (``constant_doc``), and two reST pitfalls of plain-text docstrings, |x| and
an inline literal followed by a letter (``repair_docstring``), are escaped on the way.

Nothing here is specific to a version of the package: names added to an ``__all__`` appear at the
next build, and a name that cannot be imported fails the build.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import sys
import types
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from sphinx.util import logging
from sphinx.util.inspect import object_description

logger = logging.getLogger(__name__)

ROOT = "fhn_inverse"
SUBPACKAGES = ("models", "nn", "data", "uncertainty", "fitting")
OUT = Path("api") / "generated"

KINDS = (  # (kind, section title) in the order the listing pages show them
    ("class", "Classes"),
    ("function", "Functions"),
    ("exception", "Exceptions and warnings"),
    ("data", "Constants"),
)


@dataclass
class Module:
    name: str  # the module's own dotted name (fhn_inverse.data.streams)
    module: types.ModuleType
    entries: list = field(default_factory=list)  # (public name, kind, object's primary full name, primary here?)


def kind_of(obj) -> str:
    if isinstance(obj, types.ModuleType):
        return "module"
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    if inspect.isroutine(obj) or callable(obj):
        return "function"
    return "data"


def identity(name: str, obj) -> tuple:
    """Key under which two exports are the same object: identity for classes, functions and modules;
    identity and name for data (small ints and strings are shared between unrelated constants)."""
    if kind_of(obj) == "data":
        return ("data", name, id(obj))
    return ("object", id(obj))


def public_names(module: types.ModuleType) -> list[str]:
    if hasattr(module, "__all__"):
        return list(module.__all__)
    if hasattr(module, "__path__"):  # a package without __all__: its public submodules
        return [m.name for m in pkgutil.iter_modules(module.__path__) if not m.name.startswith("_")]
    raise RuntimeError(f"{module.__name__} has no __all__: its public names are unknown")


def member(module: types.ModuleType, name: str):
    if hasattr(module, name):
        return getattr(module, name)
    return importlib.import_module(f"{module.__name__}.{name}")  # a submodule not imported by the package


class Reference:
    """The walk over the public API: modules, their entries, each object's primary name."""

    def __init__(self):
        self.modules: dict[str, Module] = {}  # by the module's own name, in walk order
        self.primary: dict[tuple, str] = {}  # identity -> primary full name
        self.paths: dict[tuple, list[str]] = {}  # identity -> every public path, primary first
        self.module_parent: dict[str, str] = {}  # module page -> the listing page whose toctree holds it
        root = importlib.import_module(ROOT)
        queue = [root] + [importlib.import_module(f"{ROOT}.{sub}") for sub in SUBPACKAGES]
        self.tops = [m.__name__ for m in queue]  # in api/index's toctree
        seen = {id(m) for m in queue}
        while queue:
            mod = queue.pop(0)
            entry = self.modules[mod.__name__] = Module(mod.__name__, mod)
            for name in public_names(mod):
                obj = member(mod, name)
                kind = kind_of(obj)
                path = f"{mod.__name__}.{name}"
                if kind == "module":
                    if id(obj) not in seen:
                        seen.add(id(obj))
                        queue.append(obj)
                        self.module_parent[obj.__name__] = mod.__name__  # first referrer, for now
                    key = identity(name, obj)
                    self.primary.setdefault(key, obj.__name__)
                    self.paths.setdefault(key, [obj.__name__])
                    if path != obj.__name__:
                        self.paths[key].append(path)
                    entry.entries.append((name, kind, obj.__name__, False))
                    continue
                key = identity(name, obj)
                first = key not in self.primary
                self.primary.setdefault(key, path)
                self.paths.setdefault(key, []).append(path)
                entry.entries.append((name, kind, self.primary[key], first))
        for name in self.module_parent:  # a module's page sits under its package's where that is listed
            package = name.rsplit(".", 1)[0]
            if package in self.modules:
                self.module_parent[name] = package

    # -- cross-references ------------------------------------------------------------------------

    def resolve(self, dotted: str) -> str | None:
        """The documented full name for a dotted path to a public object or its attribute, or None."""
        parts = dotted.split(".")
        if parts[0] != ROOT:
            return None
        obj, i = None, 0
        for i in range(len(parts), 0, -1):  # the longest importable module prefix
            try:
                obj = importlib.import_module(".".join(parts[:i]))
                break
            except ImportError:
                continue
        if obj is None:
            return None
        best = None
        name_so_far = ".".join(parts[:i])
        key = identity(parts[i - 1], obj)
        if key in self.primary:
            best = (self.primary[key], i)
        for j in range(i, len(parts)):
            if not hasattr(obj, parts[j]):
                return None
            obj = getattr(obj, parts[j])
            name_so_far += "." + parts[j]
            key = identity(parts[j], obj)
            if key in self.primary:
                best = (self.primary[key], j + 1)
        if best is None:
            return None
        primary, used = best
        return ".".join([primary] + parts[used:])

    def short_aliases(self) -> dict[str, str]:
        """numpydoc_xref_aliases: every public path, and every unambiguous short class name, to the
        documented full name."""
        aliases, short = {}, {}
        for key, paths in self.paths.items():
            primary = self.primary[key]
            if key[0] == "data":
                continue
            for path in paths:
                aliases[path] = primary
            short.setdefault(primary.rsplit(".", 1)[-1], set()).add(primary)
        for name, targets in short.items():
            if len(targets) == 1 and name[:1].isupper():
                aliases[name] = next(iter(targets))
        return aliases

    def also(self) -> dict[str, list[str]]:
        """Primary full name -> the other public paths of the same object."""
        return {self.primary[key]: paths[1:] for key, paths in self.paths.items() if len(paths) > 1}

    @staticmethod
    def relative(name: str, current: str) -> str:
        """``name`` as autosummary wants it under ``.. currentmodule:: current``."""
        return name[len(current) + 1:] if name.startswith(current + ".") else f"~{name}"

    # -- pages -----------------------------------------------------------------------------------

    def listing(self, mod: Module) -> str:
        title = f"``{mod.name}``"
        lines = [title, "=" * len(title), ""]
        lines += [f".. automodule:: {mod.name}", "   :no-members:", "", f".. currentmodule:: {mod.name}", ""]
        if not hasattr(mod.module, "__all__"):
            lines += [
                f"``{mod.name}`` defines no ``__all__``: its public names are its public modules, "
                "each listed below with the names of its own ``__all__``.",
                "",
            ]
        exported_modules = [e for e in mod.entries if e[1] == "module"]
        if exported_modules:
            lines += ["Modules", "-------", "", ".. autosummary::", ""]
            lines += [f"   {self.relative(target, mod.name)}" for _, _, target, _ in exported_modules]
            lines += [""]
            children = [t for _, _, t, _ in exported_modules if self.module_parent.get(t) == mod.name]
            if children:
                lines += [".. toctree::", "   :hidden:", ""] + [f"   {t}" for t in children] + [""]
        for kind, heading in KINDS:
            here = [e for e in mod.entries if e[1] == kind and e[3]]
            if not here:
                continue
            lines += [heading, "-" * len(heading), "", ".. autosummary::", "   :toctree: .", "   :nosignatures:", ""]
            lines += [f"   {name}" for name, *_ in here]
            lines += [""]
        elsewhere = [e for e in mod.entries if e[1] != "module" and not e[3]]
        if elsewhere:
            heading = "Documented under another path"
            lines += [heading, "-" * len(heading), ""]
            lines += [
                f"These names of ``{mod.name}`` are the same objects as the paths they link to, "
                "where each is documented.",
                "",
                ".. autosummary::",
                "   :nosignatures:",
                "",
            ]
            lines += [f"   {target}" for _, _, target, _ in elsewhere]
            lines += [""]
        if mod.name == ROOT:
            heading = "Subpackages"
            lines += [heading, "-" * len(heading), "", ".. autosummary::", ""]
            lines += [f"   {self.relative(m, ROOT)}" for m in self.tops[1:]] + [""]
        return "\n".join(lines)


REFERENCE: Reference | None = None
MISSING = object()


def lookup(dotted: str):
    """The object a dotted path inside the package names, or MISSING."""
    parts = dotted.split(".")
    if parts[0] != ROOT:
        return MISSING
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
            break
        except ImportError:
            continue
    else:
        return MISSING
    for part in parts[i:]:
        try:
            obj = getattr(obj, part)
        except Exception:
            return MISSING
    return obj


def data_docs(ref: Reference) -> dict[str, list[str]]:
    """Primary full name of each constant -> its ``#:`` doc comment, from whichever module of the
    package defines it with one (autodoc looks only in the module it documents, and falls back on
    the docstring of the value's type: ``int``'s, ``ndarray``'s)."""
    from sphinx.pycode import ModuleAnalyzer

    docs, analyzers = {}, {}
    modules = [name for name in sorted(sys.modules) if name == ROOT or name.startswith(ROOT + ".")]
    for key, paths in ref.paths.items():
        if key[0] != "data":
            continue
        _, name, _ = key
        obj = lookup(paths[0])
        owners = [p.rsplit(".", 1)[0] for p in paths] + modules
        for owner in dict.fromkeys(owners):
            if owner not in analyzers:
                try:
                    analyzers[owner] = ModuleAnalyzer.for_module(owner).find_attr_docs()
                except Exception:
                    analyzers[owner] = {}
            if ("", name) in analyzers[owner] and getattr(sys.modules.get(owner), name, MISSING) is obj:
                docs[ref.primary[key]] = list(analyzers[owner][("", name)])
                break
        else:
            docs[ref.primary[key]] = []
        if len(object_description(obj)) > LONG_VALUE:  # shown as a summary instead (see base.rst)
            docs[ref.primary[key]] += ["", value_summary(obj)]
    return docs


LONG_VALUE = 1000  # characters of a constant's value shown in full on its page


def value_summary(obj) -> str:
    if hasattr(obj, "shape") and hasattr(obj, "dtype") and getattr(obj, "size", 0):
        flat = obj.reshape(-1)
        return (f"An array of shape ``{tuple(obj.shape)}`` and dtype ``{obj.dtype}``, from ``{flat[0].item()!r}`` to "
                f"``{flat[-1].item()!r}``.")
    return f"A ``{type(obj).__name__}`` of {len(obj)} entries." if hasattr(obj, "__len__") else ""


def _write(path: Path, text: str) -> None:
    if not path.exists() or path.read_text(encoding="utf-8") != text:  # untouched pages keep their mtime
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def generate(app, config) -> None:
    global REFERENCE, DATA_DOCS
    REFERENCE = ref = Reference()
    DATA_DOCS = data_docs(ref)
    out = Path(app.srcdir) / OUT
    wanted = set()
    for mod in ref.modules.values():
        page = out / f"{mod.name}.rst"
        wanted.add(page.name)
        _write(page, ref.listing(mod))
    # stubs of names no longer exported would linger as orphans: remove them and old listings
    documented = set(ref.primary.values())
    if out.is_dir():
        for page in out.glob("*.rst"):
            if page.name not in wanted and page.stem not in documented:
                page.unlink()
    long_values = sorted(name for name, lines in DATA_DOCS.items()
                         if len(object_description(lookup(name))) > LONG_VALUE)
    # classes built of the package's own parts (InverseMap's scikit-learn protocol): their pages show
    # the members they inherit from those parts too
    inherit = sorted(name for name in set(ref.primary.values()) if inspect.isclass(obj := lookup(name)) and any(
        base.__module__.startswith(ROOT + ".") for base in obj.__mro__[1:]))
    config.autosummary_context = {**config.autosummary_context, "fhn_also": ref.also(), "fhn_no_value": long_values,
                                  "fhn_inherit": inherit}
    aliases = ref.short_aliases()
    aliases.update(config.numpydoc_xref_aliases)
    config.numpydoc_xref_aliases = aliases


DATA_DOCS: dict[str, list[str]] = {}


def constant_doc(app, what, name, obj, options, lines) -> None:
    """A documented constant's doc comment instead of its type's docstring."""
    if what == "data" and name in DATA_DOCS:
        lines[:] = DATA_DOCS[name]


# -- docstrings: two reST pitfalls repaired as they are rendered ----------------------------------
# |x| for an absolute value is a substitution reference to reST, an undefined one; an inline literal
# followed by a letter-like character (``std``²) never ends. Both are escaped here, as the docstring
# is rendered, the source left alone (scripts/docs.sh prints nothing about them; `sphinx-build -v`
# lists each docstring repaired).

_SPANS = re.compile(r"``.+?``|(?::[\w:.+-]+:)?`[^`]+`_{0,2}")  # inline literals, roles, interpreted text
_BARS = re.compile(r"(?<![\w|\\])\|(?=[^\s|])([^|]*?[^\s|\\])\|(?![\w|])")
_END_OK = set(" \t-.,:;!?\\/'\")]}>")


def _literal_end_ok(char: str) -> bool:
    return char in _END_OK or unicodedata.category(char) in ("Pd", "Po", "Pe", "Pf", "Pi", "Zs")


def repair_line(line: str) -> str:
    if line.lstrip().startswith(("|", "+")) or line.count("``") % 2:  # a line block, a table row, or a
        return line  # literal that spans lines: left as it is
    out, pos = [], 0
    for m in _SPANS.finditer(line):
        out.append(_BARS.sub(r"\\|\1\\|", line[pos:m.start()]))
        out.append(m.group(0))
        after = line[m.end():m.end() + 1]
        if m.group(0).startswith("``") and after and not _literal_end_ok(after):
            out.append("\\ ")  # an escaped space: nothing in the output, the literal ends
        pos = m.end()
    out.append(_BARS.sub(r"\\|\1\\|", line[pos:]))
    return "".join(out)


def repair_docstring(app, what, name, obj, options, lines) -> None:
    repaired = [repair_line(line) for line in lines]
    if repaired != lines:
        logger.verbose("fhn_api: reST repaired in the docstring of %s", name)
        lines[:] = repaired


# -- docstrings: short cross-reference targets qualified by the namespace they were written in -----
# A docstring names its neighbours as its own module sees them (:class:`Uniform` in
# fhn_inverse.models.priors), but is rendered on a page of another module (fhn_inverse), or as a
# one-line summary in a listing. Each target is looked up where Python would (the class, the defining
# module, its packages) and replaced by the object's documented name, the text shown unchanged.

_ROLE = re.compile(r":(?:py:)?(class|func|meth|attr|data|obj|exc|mod|const):`([^`<>]*?)(?:\s*<([^`<>]+)>)?`")


def _namespaces(name: str) -> list[str]:
    spaces, parts = [], name.split(".")
    for i in range(len(parts), 0, -1):
        path = ".".join(parts[:i])
        owner = lookup(path)
        if owner is MISSING:
            continue
        if inspect.isclass(owner):
            spaces += [path, f"{owner.__module__}.{owner.__qualname__}"]
            defining = owner.__module__
        elif isinstance(owner, types.ModuleType):
            spaces.append(path)
            defining = owner.__name__
        else:
            defining = getattr(owner, "__module__", None) if i == len(parts) else None
        while defining and (defining == ROOT or defining.startswith(ROOT + ".")):
            spaces.append(defining)
            defining = defining.rpartition(".")[0]
    return list(dict.fromkeys(spaces))


def _fits(role: str, obj) -> bool:
    """Whether ``obj`` can be what a ``role`` reference names (a submodule is no attribute)."""
    if obj is MISSING:
        return False
    return role in ("mod", "obj") or not isinstance(obj, types.ModuleType)


def qualify(text: str, spaces: list[str], parentheses: bool) -> str:
    def replace(m):
        role, first, explicit = m.group(1), m.group(2), m.group(3)
        target = (explicit or first).strip()
        bare = target.lstrip("~.")
        if not bare or " " in bare:
            return m.group(0)
        full = next((c for c in [bare] + [f"{s}.{bare}" for s in spaces] if _fits(role, lookup(c))), None)
        if full is None:
            return m.group(0)  # not the package's: left for Sphinx to resolve or to report
        documented = REFERENCE.resolve(full) if REFERENCE else None
        if explicit:
            title = first.strip()
        else:
            title = bare.rsplit(".", 1)[-1] if target.startswith("~") else bare
            if parentheses and role in ("func", "meth") and not title.endswith(")"):
                title += "()"
        return f":py:{role}:`{title} <{documented or full}>`"

    return _ROLE.sub(replace, text)


def qualify_docstring(app, what, name, obj, options, lines) -> None:
    if not any(":" in line and "`" in line for line in lines):
        return
    spaces = _namespaces(name)
    lines[:] = [qualify(line, spaces, app.config.add_function_parentheses) for line in lines]


# -- cross-references -----------------------------------------------------------------------------


def _context_prefixes(node) -> list[str]:
    """Namespaces a docstring's short names may come from: the py:module/py:class context, the module
    that defines the documented object (the page's name is the object's), and their packages."""
    prefixes = []
    modname, clsname = node.get("py:module"), node.get("py:class")
    if modname:
        if clsname:
            prefixes.append(f"{modname}.{clsname}")
        prefixes.append(modname)
    page = node.get("refdoc", "").rsplit("/", 1)[-1]
    for owner_name in (page, f"{modname}.{clsname}" if modname and clsname else None):
        owner = lookup(owner_name) if owner_name else MISSING
        if owner is MISSING:
            continue
        defining = owner.__name__ if isinstance(owner, types.ModuleType) else getattr(owner, "__module__", None)
        if inspect.isclass(owner) and defining:
            prefixes.append(f"{defining}.{owner.__qualname__}")
        while defining and defining.startswith(ROOT):
            prefixes.append(defining)
            defining = defining.rpartition(".")[0]
    return list(dict.fromkeys(prefixes))


def missing_reference(app, env, node, contnode):
    """Resolve a Python reference by the object it names: to that object's page under its primary
    name; to plain text when it names a real object of the package that the reference does not
    list (a private helper, a module outside the listed subpackages)."""
    if node.get("refdomain") != "py" or REFERENCE is None:
        return None
    target = node["reftarget"].lstrip(".~")
    candidates = [target] + [f"{prefix}.{target}" for prefix in _context_prefixes(node)]
    domain = env.get_domain("py")
    for candidate in candidates:
        if not _fits(node.get("reftype", "obj"), lookup(candidate)):
            continue
        resolved = REFERENCE.resolve(candidate)
        if resolved:
            found = domain.resolve_xref(env, node["refdoc"], app.builder, "obj", resolved, node, contnode)
            if found is not None:
                return found
        logger.verbose("fhn_api: %s is not in the API reference: %s left as text", candidate, node["reftarget"])
        return contnode
    return None


def setup(app):
    app.connect("config-inited", generate, priority=400)
    app.connect("autodoc-process-docstring", constant_doc, priority=390)
    app.connect("autodoc-process-docstring", repair_docstring, priority=400)
    app.connect("autodoc-process-docstring", qualify_docstring, priority=410)
    app.connect("missing-reference", missing_reference)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
