"""The fuzz targets: each turns one input (bytes) into a file or folder, calls one loader, and
judges the outcome against the loader's contract.

Documented outcomes: the loader returns a valid object, or raises one of the target's documented
exception types with a message that names the file. Everything else is a finding:

- ``exception``: another exception type (RecursionError, TypeError, MemoryError, ...);
- ``unnamed-error``: a documented type whose message does not name the file;
- ``accepted-invalid``: the loader returned an object that breaks its own invariants
  (NaN in a data set, a decreasing time grid, a model that predicts NaN for ordinary input);
- ``seed-rejected``: a file the package wrote itself does not load;
- ``crash``, ``hang``, ``memory``: found by the runner (a signal, no answer in time, too much memory).
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

import fuzz_mutators as mut

MAX_INPUT = 4 << 20  # inputs above 4 MiB are cut (the seeds are a few kB)
BOMB_BYTES = 640 << 20  # the decompressed size of the data-set "zip bomb" input


@dataclass
class Target:
    name: str
    documented: tuple
    make_seeds: Callable[[Path], list]  # folder -> [bytes]: files the package wrote itself
    mutate: Callable  # (bytes, random.Random, others) -> bytes
    load: Callable  # (bytes, folder) -> (loaded object, the name its errors must mention); None: skipped
    check: Callable  # loaded object -> None, or what is wrong with it
    make_fixed: Callable[[Path], list] = field(default=lambda folder: [])  # [(label, bytes)] tried once


# -- seeds: tiny objects made by the package itself

def _tiny_dataset():
    import fhn_inverse as fi

    return fi.Dataset.generate(6, seed=3, noise=fi.AR1Noise(), t=np.linspace(0.0, 20.0, 41), progress=False,
                               n_threads=1)


def _tiny_maps(data):
    import fhn_inverse as fi

    X = fi.features(data.d, "time")
    dense = fi.InverseMap.dense((4,), seed=0)
    dense.fit(X, data.theta, epochs=1, batch_size=6, progress=False, n_threads=1)
    cnn = fi.InverseMap.cnn((2, 2), seed=1)
    cnn.fit(X, data.theta, epochs=1, batch_size=6, progress=False, n_threads=1)
    return dense, cnn


def _without_checksums(data: bytes) -> bytes:
    parts = mut.split_safetensors(data)
    if parts is None:
        return data
    header, blob = parts
    mut.drop_checksums(header)
    return mut.join_safetensors(json.dumps(header), blob)


def model_seeds(folder: Path) -> list:
    dense, cnn = _tiny_maps(_tiny_dataset())
    out = []
    for i, m in enumerate((dense, cnn)):
        path = folder / f"seed_{i}.safetensors"
        m.save(path)
        out.append(path.read_bytes())
    return out + [_without_checksums(b) for b in out]  # older files, without checksums, still load


def model_fixed(folder: Path) -> list:
    """Known hostile files: deep nesting, a 2**64 layer width, absurd finite weights."""
    seed = model_seeds(folder)[2]
    header, blob = mut.split_safetensors(seed)
    fixed = [("deep-header", mut.join_safetensors('{"a":' * 100_000 + "1" + "}" * 100_000, b""))]
    arch = json.loads(header["__metadata__"]["architecture"])
    arch["layers"][0]["units"] = 2**64
    header["__metadata__"]["architecture"] = json.dumps(arch)
    fixed.append(("units-2**64", mut.join_safetensors(json.dumps(header), blob)))
    header, blob = mut.split_safetensors(seed)
    fixed.append(("absurd-weights", mut.join_safetensors(json.dumps(header),
                                                         struct.pack("<f", 3e38) * (len(blob) // 4))))
    return fixed


def model_load(data: bytes, folder: Path):
    import fhn_inverse as fi

    path = folder / "fuzzinput.safetensors"
    path.write_bytes(data)
    return fi.InverseMap.load(path), path.name


def model_check(m) -> str | None:
    """A loaded map predicts finite values for ordinary input (or refuses with ValueError)."""
    x = np.random.default_rng(0).normal(size=(3, *m.network.input_shape)).astype(np.float32)
    try:
        pred = m.predict(x, n_threads=1)
    except ValueError:
        return None
    if not np.isfinite(pred).all():
        return "predicts non-finite values for standard normal input"
    return None


# -- ensembles: a folder packed into one input

def ensemble_seeds(folder: Path) -> list:
    import fhn_inverse as fi

    data = _tiny_dataset()
    ens = fi.Ensemble.like(fi.InverseMap.dense((3,), seed=0), 3)
    ens.fit(fi.features(data.d, "time"), data.theta, epochs=1, batch_size=6, progress=False, n_threads=1)
    out = folder / "seed_ensemble"
    ens.save(out)
    files = [(p.name, p.read_bytes()) for p in sorted(out.iterdir()) if p.is_file()]
    legacy = [f for f in files if f[0].endswith(".safetensors")]  # a folder from before manifests
    return [mut.pack_folder(files), mut.pack_folder(legacy)]


def _safe_name(name: str) -> bool:
    base = name[:-1] if name.endswith("/") else name
    return bool(base) and base not in (".", "..") and "/" not in base and "\\" not in base \
        and "\x00" not in base and len(base.encode()) <= 200


def ensemble_load(data: bytes, folder: Path):
    import fhn_inverse as fi

    files = mut.unpack_folder(data)
    if files is None:
        return None
    target = folder / "fuzzensemble"
    target.mkdir()
    for name, payload in files:
        if not _safe_name(name):
            continue
        if (target / name.rstrip("/")).exists():
            continue
        if name.endswith("/"):
            (target / name[:-1]).mkdir()
        else:
            (target / name).write_bytes(payload)
    return fi.Ensemble.load(target), target.name


def ensemble_check(ens) -> str | None:
    for m in ens.members:
        problem = model_check(m)
        if problem:
            return problem
    return None


# -- data sets (.npz)

def dataset_seeds(folder: Path) -> list:
    import fhn_inverse as fi

    data = _tiny_dataset()
    clean = fi.Dataset.generate(3, seed=4, t=np.linspace(0.0, 10.0, 11), progress=False, n_threads=1)
    out = []
    for i, d in enumerate((data, clean)):
        path = d.save(folder / f"seed_{i}.npz")
        out.append(path.read_bytes())
    return out


def _bomb(folder: Path) -> bytes:
    """A data set whose ``u`` expands from a few MB to BOMB_BYTES (like a 5 MB file that once expanded to 4.9 GB)."""
    seed = dataset_seeds(folder)[1]
    members = mut.read_zip(seed)
    buf = io.BytesIO()
    n = BOMB_BYTES // 8 // 11
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (n, 11)})
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, payload in members:
            if name != "u.npy":
                z.writestr(name, payload)
                continue
            with z.open(name, "w", force_zip64=True) as f:
                f.write(header.getvalue())
                chunk = bytes(1 << 24)
                left = n * 11 * 8
                while left:
                    f.write(chunk[:min(left, len(chunk))])
                    left -= min(left, len(chunk))
    return buf.getvalue()


def dataset_fixed(folder: Path) -> list:
    seed = dataset_seeds(folder)[1]
    fixed = [("zip-bomb", _bomb(folder))]
    hostile = {
        "nan-u": ("u.npy", np.full((3, 11), np.nan)),
        "strings-theta": ("theta.npy", np.full((3, 2), "x")),
        "complex-d": ("d.npy", np.ones((3, 11), dtype=complex)),
        "structured-noise": ("noise.npy", np.zeros((3, 2), dtype=[("a", "<f8")])),
        "decreasing-t": ("t.npy", np.linspace(10.0, 0.0, 11)),
        "negative-seed": ("seed.npy", np.array(-1)),
        "huge-seed": ("seed.npy", np.array(2.0**80)),
        "config-list": ("config.npy", np.array("[1, 2]")),
    }
    members = mut.read_zip(seed)
    for label, (name, array) in hostile.items():
        fixed.append((label, mut.write_zip([(n, mut.npy_bytes(array) if n == name else p) for n, p in members])))
    return fixed


def dataset_load(data: bytes, folder: Path):
    import fhn_inverse as fi

    path = folder / "fuzzinput.npz"
    path.write_bytes(data)
    return fi.Dataset.load(path), path.name


def dataset_check(ds) -> str | None:
    for name in ("t", "theta", "u", "d", "noise"):
        a = getattr(ds, name)
        if not isinstance(a, np.ndarray) or a.dtype.kind != "f":
            return f"{name} has dtype {getattr(a, 'dtype', type(a))}, not floating point"
        if not np.isfinite(a).all():
            return f"{name} holds NaN or inf"
    if not isinstance(ds.index, np.ndarray) or ds.index.dtype.kind not in "iu":
        return f"index has dtype {getattr(ds.index, 'dtype', type(ds.index))}, not integer"
    if ds.t.size > 1 and not (np.diff(ds.t) > 0).all():
        return "the time grid is not strictly increasing"
    if not isinstance(ds.seed, int) or not 0 <= ds.seed < 2**64:
        return f"seed {ds.seed!r} is outside [0, 2**64)"
    if not isinstance(ds.config, dict):
        return f"config is a {type(ds.config).__name__}, not a dict"
    return None


# -- the series reader of `fhn-inverse predict` (first byte: 0 CSV, 1 .npy)

def series_seeds(folder: Path) -> list:
    data = _tiny_dataset()
    buf = io.StringIO()
    np.savetxt(buf, data.d[:3], delimiter=",")
    one = ",".join(f"{v:.6g}" for v in data.d[0])
    return [b"\x00" + buf.getvalue().encode(), b"\x00" + one.encode() + b"\n",
            b"\x01" + mut.npy_bytes(data.d[:2]), b"\x01" + mut.npy_bytes(data.d[0].astype(np.float32))]


def series_mutate(data: bytes, rng, others=()):
    kind, body = (data[:1] or b"\x00"), data[1:]
    if rng.random() < 0.02:
        kind = bytes([kind[0] ^ 1])
    same = [o[1:] for o in others if o[:1] == kind]
    body = (mut.mutate_npy if kind[0] & 1 else mut.mutate_csv)(body, rng, same)
    return kind + body


def series_load(data: bytes, folder: Path):
    from fhn_inverse import read_series

    path = folder / ("fuzzinput.npy" if data[:1] and data[0] & 1 else "fuzzinput.csv")
    path.write_bytes(data[1:])
    return read_series(path), path.name


def series_check(table) -> str | None:
    d = getattr(table, "d", None)
    if not isinstance(d, np.ndarray) or d.dtype.kind not in "fiu" or d.ndim not in (2, 3):
        return (f"returned {type(d).__name__} of dtype {getattr(d, 'dtype', None)}, not a 2-D (N, L) or 3-D (N, K, L) "
                "array of real numbers")
    if d.shape[0] < 1 or d.shape[-1] < 1 or (d.ndim == 3 and d.shape[1] < 1):
        return f"returned {d.shape[0]} series of shape {d.shape[1:]} (at least one series of one point, or an error)"
    if not np.all(np.isfinite(d)):
        return "returned series with values that are not finite"
    if len(table.ids) != len(d):
        return f"returned {len(table.ids)} IDs for {len(d)} series"
    if table.t is not None and np.shape(table.t) != (d.shape[-1],):
        return f"returned times of shape {np.shape(table.t)} for series of {d.shape[-1]} points"
    if len(set(table.ids)) != len(table.ids):
        return "returned an ID twice"
    return None


TARGETS = {
    "model": Target("model", (ValueError, OSError), model_seeds, mut.mutate_safetensors, model_load, model_check,
                    model_fixed),
    "ensemble": Target("ensemble", (ValueError, OSError), ensemble_seeds, mut.mutate_folder, ensemble_load,
                       ensemble_check),
    "dataset": Target("dataset", (ValueError, OSError), dataset_seeds, mut.mutate_npz, dataset_load, dataset_check,
                      dataset_fixed),
    "series": Target("series", (ValueError,), series_seeds, series_mutate, series_load, series_check),
}


def _more_targets() -> None:
    import importlib.util

    import fuzz_targets_more as more

    if importlib.util.find_spec("zarr") is not None:  # stores need the optional scale extra
        TARGETS["store"] = Target("store", (ValueError, OSError), more.store_seeds, more.store_mutate,
                                  more.store_load, more.store_check)
    TARGETS["config"] = Target("config", (ValueError,), lambda folder: list(more.CONFIG_SEEDS), more.config_mutate,
                               more.config_load, more.config_check)


_more_targets()


# -- the harness's own check: a loader that fails in every way the runner must notice

def _selftest_load(data: bytes, folder: Path):
    import os
    import signal
    import time

    path = folder / "fuzzinput.bin"
    path.write_bytes(data)
    action = data[:1]
    if action == b"V":
        raise ValueError(f"{path}: rejected")
    if action == b"N":
        raise ValueError("rejected, without naming the file")
    if action == b"T":
        raise TypeError(f"{path}: a type that is not documented")
    if action == b"S":
        os.kill(os.getpid(), signal.SIGSEGV)
    if action == b"H":
        time.sleep(60)
    if action == b"M":
        np.ones(32 << 20)  # 256 MiB, touched
    if action == b"I":
        return [np.nan], path.name
    return [1.0], path.name


SELFTEST_INPUTS = [(f"selftest-{c}", c.encode()) for c in "VNTSHMI"]

TARGETS["selftest"] = Target(
    "selftest", (ValueError, OSError), lambda folder: [b"ok"], mut.mutate_bytes, _selftest_load,
    lambda obj: None if np.isfinite(obj).all() else "holds NaN", lambda folder: list(SELFTEST_INPUTS))
