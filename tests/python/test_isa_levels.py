"""Run-time dispatch over instruction-set levels (fhn_inverse/_loader.py).

The loader's choices are tested everywhere; the tests that load each level need a portable
installation (a core per level, scripts/build_wheel.sh) and run where scripts/test_wheel.sh
tests the installed wheel. Each loads a forced level in a fresh process: results are seed-exact
at each level, and across levels within the bounds docs/speed.md states.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse import _loader

V2 = {"pni", "ssse3", "sse4_1", "sse4_2", "popcnt", "cx16", "lahf_lm"}
V3 = V2 | {"avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "abm", "xsave"}
V4 = V3 | {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}
INSTALLED = _loader.installed_levels()
RUNNABLE = [lv for lv in INSTALLED if lv in _loader.cpu_levels()]
needs_levels = pytest.mark.skipif(len(RUNNABLE) < 2, reason="needs a portable installation (a core per "
                                  "instruction-set level) on a CPU that runs two levels or more")


def test_cpu_levels_follow_the_psabi_levels():
    assert _loader.cpu_levels(set()) == ["baseline"]
    assert _loader.cpu_levels({"sse2", "avx", "avx2", "fma"}) == ["baseline"]  # no BMI2, MOVBE, …: not v3
    assert _loader.cpu_levels(V3) == ["baseline", "avx2"]
    assert _loader.cpu_levels(V3 - {"sse4_2"}) == ["baseline"]  # v3 includes v2
    assert _loader.cpu_levels(V3 | {"avx512f"}) == ["baseline", "avx2"]  # AVX-512 F alone is not v4
    assert _loader.cpu_levels(V4) == ["baseline", "avx2", "avx512"]


def test_build_info_names_the_level_loaded():
    info = fi.build_info()
    assert info["levels_cpu"] == _loader.cpu_levels()
    assert info["levels_installed"] == INSTALLED
    assert info["dispatch"] == ("runtime" if INSTALLED else "single")
    assert info["cpu_has_level"] in (True, None) and info["level"] in _loader.LEVELS
    if INSTALLED and not info["level_forced"]:
        assert info["level"] == RUNNABLE[-1]  # the best level this CPU runs


@pytest.mark.parametrize("value", ["avx3", "sse", "AVX-512", "1"])
def test_a_level_that_does_not_exist_is_refused_by_name(monkeypatch, value):
    monkeypatch.setenv(_loader.ENV, value)
    with pytest.raises(ImportError, match=rf"FHN_INVERSE_ISA='{value}' is not an instruction-set level; "
                                          "accepted: auto, baseline, avx2, avx512"):
        _loader.load()


def test_a_level_above_the_cpu_is_refused_before_anything_loads(monkeypatch):
    monkeypatch.setattr(_loader, "installed_levels", lambda: list(_loader.LEVELS))
    monkeypatch.setattr(_loader, "cpu_flags", lambda: V3)
    monkeypatch.setenv(_loader.ENV, "avx512")
    with pytest.raises(ImportError, match=r"avx512: this CPU cannot run that level \(it lacks avx512bw, avx512cd, "
                                          r"avx512dq, avx512f, avx512vl\); it runs baseline, avx2"):
        _loader.load()
    monkeypatch.setattr(_loader, "cpu_flags", lambda: set())
    with pytest.raises(ImportError, match="avx512: /proc/cpuinfo is unreadable, so only baseline is known to run"):
        _loader.load()
    monkeypatch.setattr(_loader, "installed_levels", lambda: ["baseline", "avx2"])
    monkeypatch.setattr(_loader, "cpu_flags", lambda: V4)
    with pytest.raises(ImportError, match="has no core for that level; it has baseline, avx2"):
        _loader.load()


def _run(code: str, level: str | None, **extra) -> subprocess.CompletedProcess:
    env = {**{k: v for k, v in os.environ.items() if k != _loader.ENV}, **extra}
    if level is not None:
        env[_loader.ENV] = level
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)


@pytest.mark.skipif(bool(INSTALLED), reason="a single-core installation only")
def test_forcing_a_level_on_a_single_core_build_is_refused():
    done = _run("import fhn_inverse", "avx2")
    assert done.returncode != 0
    assert "FHN_INVERSE_ISA=avx2 forces an instruction-set level, but this installation has one native core" \
        in done.stderr
    assert _run("import fhn_inverse", "auto").returncode == 0


# One process per level: its build record, simulated series on both integrators, and a CNN
# trained for two epochs, each twice from the same seeds; and FitzHugh–Nagumo written as equations,
# compiled for that level (its flags, its static core), against the built-in model.
_WORKER = r"""
import json, sys
import numpy as np
import fhn_inverse as fi
from fhn_inverse.models import compile as native
info = fi.build_info()
theta = fi.default_prior().sample(64, seed=3)
out = {"info": info, "runs": [], "record": native.build_record()}
fhn = fi.ODEModel(equations={"u": "gamma*(u - u^3/3 + v + zeta)", "v": "-(u - theta0 + theta1*v)/gamma"},
                  initial={"u": 0.0, "v": 0.0}, parameters={"theta0": (-0.2, 1.0), "theta1": (-0.4, 1.2)},
                  constants={"gamma": 3.0, "zeta": -0.4}, observe="u", name="FHNLevels", grid=(0.2, 1000))
out["user_model_gap"] = max(float(np.abs(fi.simulate(theta, model=fhn, method=m) - fi.simulate(theta, method=m)).max())
                            for m in ("rkf78", "rkf78-simd"))
for _ in range(2):
    series = {m: fi.simulate(theta, method=m).tolist() for m in ("rkf78", "rkf78-simd")}
    rng = np.random.default_rng(0)
    x = rng.standard_normal((96, 1, 1000)).astype(np.float32)
    y = rng.random((96, 2)).astype(np.float32)
    m = fi.InverseMap.cnn(seed=5).fit(x, y, config=fi.TrainingConfig(epochs=2, batch_size=32, n_threads=2))
    out["runs"].append({"series": series, "pred": m.predict(x[:16]).tolist(),
                        "loss": [float(v) for v in m.history_["loss"]]})
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def per_level(tmp_path_factory):
    cache = str(tmp_path_factory.mktemp("levels_cache"))  # one cache: the levels' modules must not collide
    results = {}
    for level in RUNNABLE:
        done = _run(_WORKER, level, FHN_INVERSE_CACHE=cache)
        assert done.returncode == 0, done.stderr[-2000:]
        results[level] = json.loads(done.stdout.strip().splitlines()[-1])
    return results


@needs_levels
def test_each_forced_level_loads_and_says_so(per_level):
    for level, res in per_level.items():
        info = res["info"]
        assert info["level"] == level and info["level_forced"] and info["dispatch"] == "runtime"
        sets = set(info["instruction_sets"])
        assert ("avx512f" in sets) == (level == "avx512")
        assert ({"avx2", "fma"} <= sets) == (level in ("avx2", "avx512"))
        assert info["simd_doubles"] == {"baseline": 2, "avx2": 4, "avx512": 8}[level]
        assert info["float_lanes"] == (16 if level == "avx512" else 8)


@needs_levels
def test_user_models_compile_for_the_level_loaded(per_level):
    for level, res in per_level.items():
        record = res["record"]
        assert record["level"] == level and record["library"] == f"lib/{level}/libfhn_core.a"
        march = {"baseline": "-march=x86-64 ", "avx2": "-march=x86-64-v3 ", "avx512": "-march=x86-64-v4 "}[level]
        assert march in record["flags"] + " " and "-march=native" not in record["flags"]
        assert res["user_model_gap"] <= 1e-10, (level, res["user_model_gap"])


@needs_levels
def test_results_are_seed_exact_at_each_level(per_level):
    for level, res in per_level.items():
        first, second = res["runs"]
        assert first == second, f"two runs at {level} differ"


@needs_levels
def test_levels_agree_within_rounding(per_level):
    """Across levels the series agree to integration rounding (the SIMD integrator's lanes and FMA
    contraction change the last bits), and a CNN trained for two epochs to float rounding grown
    through 6 Adam steps: the bounds docs/speed.md states."""
    ref = per_level[RUNNABLE[-1]]["runs"][0]
    for level in RUNNABLE[:-1]:
        run = per_level[level]["runs"][0]
        for method in ("rkf78", "rkf78-simd"):
            a, b = np.array(run["series"][method]), np.array(ref["series"][method])
            assert np.abs(a - b).max() <= 1e-9 * max(1.0, np.abs(b).max()), (level, method)
        np.testing.assert_allclose(run["loss"], ref["loss"], rtol=1e-4)
        np.testing.assert_allclose(run["pred"], ref["pred"], rtol=0, atol=1e-4)
