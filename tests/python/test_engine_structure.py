"""The engine's structure, as docs/architecture.md states it: executors dispatch on what layers
say of themselves (no dynamic_cast), raw SIMD intrinsics live only in cpp/src/nn/kernels/, and
no engine function runs past 80 lines."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENGINE = [p for d in ("cpp/src", "cpp/include") for p in sorted((ROOT / d).rglob("*.[ch]pp"))]

pytestmark = pytest.mark.skipif(not (ROOT / "cpp" / "src").is_dir(), reason="needs the source tree")


def _code(path: Path) -> list[str]:
    """Lines without comments and string literals."""
    text = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)
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


def _function_lengths(path: Path):
    """(first line, length) of every function body opened at namespace level."""
    lines = _code(path)
    stack, start = [], None
    for i, line in enumerate(lines):
        for ch in line:
            if ch == "{":
                at_top = all(k == "ns" for k in stack)
                if re.match(r"\s*(namespace|extern)\b", line):
                    stack.append("ns")
                elif at_top and start is None and ("(" in line or (i > 0 and ")" in lines[i - 1])):
                    first = i
                    while first > 0 and not re.match(r"\S", lines[first]):
                        first -= 1
                    start = first
                    stack.append("fn")
                else:
                    stack.append("other")
            elif ch == "}" and stack:
                if stack.pop() == "fn" and all(k == "ns" for k in stack):
                    yield start + 1, i - start + 1
                    start = None


def test_no_engine_function_over_80_lines():
    long = [f"{p.relative_to(ROOT)}:{first} ({n} lines)" for p in ENGINE for first, n in _function_lengths(p)
            if n > 80]
    assert long == []


def test_the_length_check_sees_functions():
    lengths = dict(_function_lengths(ROOT / "cpp" / "src" / "nn" / "network.cpp"))
    assert len(lengths) >= 10 and max(lengths.values()) > 20
