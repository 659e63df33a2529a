"""fi.build_info(): what the core was built for, checked against what the core does."""

import fhn_inverse as fi
from fhn_inverse.models import compile as native


def test_build_info_agrees_with_the_core_and_the_installation():
    info = fi.build_info()
    assert info["version"] == fi.__version__
    sets = set(info["instruction_sets"])
    assert info["level"] == ("avx512" if "avx512f" in sets else "avx2" if {"avx2", "fma"} <= sets else "baseline")
    assert info["simulator_lanes"] == fi.models.simulation._core.SimulatorOptions.lanes
    assert info["simulator_lanes"] % info["simd_doubles"] == 0
    assert info["float_lanes"] in ((8, 16) if info["level"] == "avx512" else (8,))  # (8: FHN_EIGHT_LANES)
    assert info["blas"] in ("openblas", "eigen") and info["fftw"].startswith("fftw-3")
    assert info["native"] == ("-march=native" in native.build_record()["flags"])
    assert info["cpu_has_level"] in (True, None)  # the core runs here, so this CPU has its level
    assert info["user_models"] == "compiled" and info["user_models_missing"] is None


def test_build_info_says_why_user_models_would_run_on_numpy(monkeypatch, tmp_path):
    record = dict(native.build_record(), cxx="/nonexistent/g++")
    monkeypatch.setattr(native, "build_record", lambda: record)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CXX", raising=False)
    info = fi.build_info()
    assert info["user_models"] == "numpy" and "C++17 compiler" in info["user_models_missing"]
