"""Loaders bound what a file may make them allocate by the file's size, refuse what is not a
regular file at once (a named pipe made them wait forever), and the command line turns deep
configs into one-line errors; prediction from series keeps its copies bounded."""

import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse.nn import files


def _rewrite(src, dst, edit):
    """Copy the model file ``src`` to ``dst`` with ``edit(metadata)`` applied and its header
    checksum recomputed (a hostile file that passes the checksum)."""
    with open(src, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8: 8 + n])
    edit(header["__metadata__"])
    header["__metadata__"].pop("header_sha256", None)
    header["__metadata__"]["header_sha256"] = files._header_digest(header)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(dst, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + raw[8 + n:])


@pytest.mark.parametrize("kind,size", [("conv1d", 10**9), ("conv1d", 10**8), ("dense", 10**9)])
def test_a_header_declaring_a_huge_layer_is_refused_before_it_is_built(tmp_path, kind, size):
    if kind == "conv1d":
        fi.InverseMap.cnn(seed=0).build((1, 1000), 2).save(tmp_path / "m.safetensors")
    else:
        fi.InverseMap.dense(units=[16], seed=0).build((1000,), 2).save(tmp_path / "m.safetensors")

    def grow(meta):
        arch = json.loads(meta["architecture"])
        layer = next(layer for layer in arch["layers"] if layer["kind"] == kind)
        layer["filters" if kind == "conv1d" else "units"] = size
        meta["architecture"] = json.dumps(arch, sort_keys=True)

    _rewrite(tmp_path / "m.safetensors", tmp_path / "huge.safetensors", grow)
    assert os.path.getsize(tmp_path / "huge.safetensors") < 200_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"huge\.safetensors.*parameters"):
        fi.InverseMap.load(tmp_path / "huge.safetensors")
    assert time.perf_counter() - start < 1.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # kB: nothing allocated


def _fifo(tmp_path, name):
    path = tmp_path / name
    os.mkfifo(path)
    return path


CHILD = """
import sys, fhn_inverse as fi
from fhn_inverse.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_named_pipes_are_refused_at_once_not_waited_on(tmp_path):
    model = tmp_path / "m.safetensors"
    fi.InverseMap.dense(units=[8], seed=0).build((1000,), 2).save(model)
    pipe = _fifo(tmp_path, "pipe.safetensors")
    with pytest.raises(ValueError, match="a named pipe"):
        fi.InverseMap.load(pipe)
    os.mkdir(tmp_path / "ens")
    os.mkfifo(tmp_path / "ens" / "ensemble.json")
    with pytest.raises(ValueError, match="a named pipe"):
        fi.Ensemble.load(tmp_path / "ens")
    data = tmp_path / "d.csv"
    np.savetxt(data, np.zeros((2, 1000)), delimiter=",")
    config = _fifo(tmp_path, "c.toml")
    runs = {"info": ["info", str(pipe)], "predict": ["predict", str(pipe), str(data)],
            "diagnose": ["diagnose", str(pipe), str(data)],
            "config": ["simulate", str(tmp_path / "x.npz"), "-n", "4", "--config", str(config)]}
    for what, argv in runs.items():
        out = subprocess.run([sys.executable, "-c", CHILD, *argv], capture_output=True, text=True, timeout=60)
        assert out.returncode == 2 and "named pipe" in out.stderr and out.stderr.count("\n") == 1, (what, out.stderr)


def test_a_config_nested_thousands_deep_is_a_one_line_error(tmp_path, capsys):
    from fhn_inverse.cli import main

    model = tmp_path / "m.safetensors"
    fi.InverseMap.dense(units=[8], seed=0).build((1000,), 2).save(model)
    for text in ("x = " + "[" * 5000 + "]" * 5000, "".join(f"[{'a.' * 5000}b]\n")):
        (tmp_path / "c.toml").write_text(text)
        with pytest.raises(SystemExit) as info:
            main(["simulate", str(tmp_path / "x.npz"), "-n", "4", "--config", str(tmp_path / "c.toml")])
        err = capsys.readouterr().err
        assert info.value.code == 2 and err.count("\n") == 1 and "c.toml" in err, err


def test_predicting_from_series_keeps_its_copies_bounded(monkeypatch):
    from fhn_inverse.nn import series

    rng = np.random.default_rng(0)
    train = rng.normal(size=(64, 1000))
    model = fi.InverseMap.dense(units=[8], seed=0).fit(train, rng.random((64, 2)), epochs=1, features="time",
                                                     progress=False, calibration_split=None)
    X = rng.normal(size=(20_000, 1000)).astype(np.float32)  # 80 MB of float32 series
    expected = np.concatenate([model.predict(X[lo: lo + 500]) for lo in range(0, len(X), 500)])
    monkeypatch.setattr(series, "SERIES_BLOCK", 1 << 18)  # blocks of 262 series: what the copies hold
    tracemalloc.start()
    got = model.predict(X)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)  # blocks change nothing but float32 rounding
    assert peak < 0.1 * X.nbytes, f"peak {peak / 1e6:.0f} MB for {X.nbytes / 1e6:.0f} MB of series"
