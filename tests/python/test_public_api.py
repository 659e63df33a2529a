"""Nothing users call disappears: every name pinned in ``data/public_api.json`` (made by
``public_api.py`` from the package) is still importable where it was, classes still have every
pinned method and attribute, and functions and methods still take every pinned parameter."""

import json
from pathlib import Path

import pytest

from public_api import PUBLIC_MODULES, record

PINNED = json.loads((Path(__file__).parent / "data" / "public_api.json").read_text())


@pytest.fixture(scope="module")
def current():
    return record()


def _missing(pinned: dict, now: dict, where: str) -> list[str]:
    lost = []
    for name, was in pinned.items():
        path = f"{where}.{name}"
        if name not in now:
            lost.append(path)
            continue
        is_ = now[name]
        if was["kind"] != is_["kind"]:
            lost.append(f"{path} (was a {was['kind']}, now a {is_['kind']})")
        elif was["kind"] == "module":
            lost += [f"{path}.{n}" for n in was["names"] if n not in is_["names"]]
        elif was["kind"] == "class":
            for member, params in was["members"].items():
                if member not in is_["members"]:
                    lost.append(f"{path}.{member}")
                elif params is not None:
                    now_params = is_["members"][member] or []
                    lost += [f"{path}.{member}({p}=)" for p in params if p not in now_params]
        elif was["kind"] == "function" and was["parameters"] is not None:
            lost += [f"{path}({p}=)" for p in was["parameters"] if p not in (is_["parameters"] or [])]
    return lost


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_nothing_pinned_disappears(current, module):
    assert _missing(PINNED[module], current[module], module) == []


def test_the_check_sees_a_removal(current):
    pinned = {"InverseMap": PINNED["fhn_inverse"]["InverseMap"], "simulate": PINNED["fhn_inverse"]["simulate"]}
    now = json.loads(json.dumps({k: current["fhn_inverse"][k] for k in pinned}))
    del now["InverseMap"]["members"]["predict"]
    now["simulate"]["parameters"].remove("rtol")
    assert _missing(pinned, now, "fhn_inverse") == ["fhn_inverse.InverseMap.predict", "fhn_inverse.simulate(rtol=)"]


def test_every_public_name_resolves():
    import fhn_inverse as fi

    assert [n for n in fi.__all__ if not hasattr(fi, n)] == []
