"""The engine's structure, as docs/architecture.md states it: executors dispatch on what layers
say of themselves (no dynamic_cast), raw SIMD intrinsics live only in cpp/src/nn/kernels/, and
no engine function runs past 80 lines."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENGINE = [p for d in ("cpp/src", "cpp/include") for p in sorted((ROOT / d).rglob("*.[ch]pp"))]
BINDINGS = sorted((ROOT / "cpp" / "bindings").glob("*.cpp"))

pytestmark = pytest.mark.skipif(not (ROOT / "cpp" / "src").is_dir(), reason="needs the source tree")


def _code(path: Path) -> list[str]:
    """Lines without comments and string literals."""
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), path.read_text(), flags=re.S)
    return [re.sub(r'"(\\.|[^"\\])*"', '""', re.sub(r"//.*", "", line)) for line in text.split("\n")]


def test_no_dynamic_cast_in_the_engine():
    hits = [f"{p.relative_to(ROOT)}:{i + 1}" for p in ENGINE for i, line in enumerate(_code(p))
            if "dynamic_cast" in line]
    assert hits == []


def test_intrinsics_only_in_kernels():
    pattern = re.compile(r"\b_mm\d*_|\b__m(128|256|512)|immintrin\.h")
    hits = [f"{p.relative_to(ROOT)}:{i + 1}" for p in ENGINE if "kernels" not in p.parts
            for i, line in enumerate(_code(p)) if pattern.search(line)]
    assert hits == []


def _functions(path: Path):
    """(name, first line, length) of every function body in ``path``: a ``{`` whose statement
    (the code since the previous ``;``, ``{`` or ``}``) is a signature — a name, a parameter list
    in parentheses, then at most qualifiers, a trailing return type or a constructor's
    initialisers — however many lines the signature spans; lambdas and functions nested in
    functions count with the function around them, classes and namespaces are looked into."""
    lines = _code(path)
    text = "\n".join(lines)
    line_of = [0] * (len(text) + 1)
    row = 0
    for k, ch in enumerate(text):
        line_of[k] = row
        row += ch == "\n"
    stack = []  # per open brace: ("fn", name, start line) or ("scope",) or ("block",)
    statement_start = 0
    for k, ch in enumerate(text):
        if ch in ";{}":
            statement = text[statement_start:k]
            if ch == "{":
                inside_fn = any(kind[0] == "fn" for kind in stack)
                sig = re.search(r"((?:[~\w<>]+::)*operator\s*(?:\(\)|[^\s(]+)|[~\w:<>]+)\s*"
                                r"\((?:[^()]|\([^()]*\))*\)\s*(const|noexcept|override|final|->[^{]*|:[^{]*|\s)*$",
                                statement, flags=re.S)
                if re.match(r"\s*(template\s*<[^{]*>\s*)?(namespace|extern|class|struct|union|enum)\b", statement):
                    stack.append(("scope",))
                elif not inside_fn and sig and sig.group(1) not in ("if", "for", "while", "switch", "catch"):
                    first = statement_start + len(statement) - len(statement.lstrip())
                    stack.append(("fn", sig.group(1), line_of[first]))
                else:
                    stack.append(("block",))
            elif ch == "}" and stack:
                kind = stack.pop()
                if kind[0] == "fn":
                    yield kind[1], kind[2] + 1, line_of[k] - kind[2] + 1
            statement_start = k + 1


def _function_lengths(path: Path):
    """(first line, length) of every function body (see :func:`_functions`)."""
    for _, first, n in _functions(path):
        yield first, n


#: A function over 80 lines says why in a comment that starts "Long:" just above it (its signature,
#: or the comment block over it, within three lines).
LONG_REASON = re.compile(r"//\s*Long:")


def _long_without_reason(path: Path) -> list[str]:
    raw = path.read_text().split("\n")
    out = []
    for name, first, n in _functions(path):
        if n > 80 and not any(LONG_REASON.search(line) for line in raw[max(0, first - 5): first]):
            where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
            out.append(f"{where}:{first} {name} ({n} lines)")
    return out


def test_no_engine_function_over_80_lines_without_a_reason():
    assert [hit for p in ENGINE + BINDINGS for hit in _long_without_reason(p)] == []


def test_the_length_check_sees_functions():
    lengths = dict(_function_lengths(ROOT / "cpp" / "src" / "nn" / "network.cpp"))
    assert len(lengths) >= 10 and max(lengths.values()) > 20


def test_the_length_check_sees_multi_line_signatures(tmp_path):
    src = tmp_path / "probe.cpp"
    body = "\n".join(f"  x += {k};" for k in range(90))
    src.write_text("namespace a {\n"
                   "struct S { int f(int x) const { return x; } };\n"
                   "History fit(Network& net,\n            Optimizer& opt,\n            int x) {\n"
                   f"{body}\n  auto g = [&](int y) {{ return y; }};\n  if (x) {{ x = 1; }}\n  return x;\n}}\n"
                   "Thing::Thing(int a)\n    : a_(a), b_(2) {\n  run();\n}\n"
                   "}  // namespace a\n")
    found = {name: (first, n) for name, first, n in _functions(src)}
    assert found["fit"] == (3, 97) and found["f"][1] == 1 and found["Thing::Thing"] == (100, 4)
    assert "if" not in found and "g" not in found
    assert len(_long_without_reason(src)) == 1
    src.write_text(src.read_text().replace("History fit(", "// Long: one loop with its bookkeeping\nHistory fit("))
    assert _long_without_reason(src) == []
