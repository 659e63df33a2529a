"""Helpers the command handlers share: a text table, the checks made before any work starts
(series that fit in memory, a file path that is not a folder, ``--threads`` in the core's range)
and the inputs of a model file, with the JSON sidecar that files written before models recorded
their inputs carry."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .._util.io import file_sha256
from .._util.paths import read_regular

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

#: the largest TOML file (a config or a prior: a few lines) the command line reads; the bound keeps
#: a wrong path (a device, a data file) from being read whole
TOML_MAX_BYTES = 1 << 20


def _read_toml(path: Path, what: str) -> dict:
    """The TOML file ``path`` (a regular file of at most TOML_MAX_BYTES) as a dict; ValueError
    saying which ``what`` (config, prior) and why when it cannot be read or parsed."""
    try:
        raw = read_regular(path, TOML_MAX_BYTES)
    except OSError as err:
        raise ValueError(f"cannot read {what} {path}: {err}") from None
    except ValueError as err:  # not a regular file, or too large
        raise ValueError(f"cannot read {what} {err}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ValueError(f"{what} {path} is not valid TOML: {err}") from None
    except RecursionError:  # tables or arrays nested thousands deep
        raise ValueError(f"{what} {path} nests too deeply to be a TOML file") from None

__all__ = ["_table", "_physical_memory", "_check_series_count", "_check_store_size", "_output_file",
           "_check_threads", "_sidecar", "_model_inputs", "_read_sidecar"]

# Bytes held per simulated series of L points: the clean series, the noise and the noisy series
# (float64).
_BYTES_PER_POINT = 3 * 8


def _table(rows, header) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(v).ljust(w) for v, w in zip(r, widths))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def _physical_memory() -> int | None:
    """This machine's memory in bytes, or None where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _check_series_count(option: str, n: int) -> None:
    """ValueError unless ``n`` series of the study's grid fit in this machine's memory (a size of
    10**12 would otherwise run until the allocator gives up). Sizes below 1 are left to the API,
    whose message names the lower bound."""
    from fhn_inverse import DEFAULT_GRID

    per_series = _BYTES_PER_POINT * DEFAULT_GRID.size
    memory = _physical_memory()
    if memory is None or n <= memory // per_series:
        return
    raise ValueError(f"{option} must be in [1, {memory // per_series:,}] on this machine (each series takes "
                     f"{per_series / 1e3:.0f} kB, the memory is {memory / 1e9:.1f} GB), got {n:,}")


def _check_store_size(option: str, n: int, path, dtype: str) -> None:
    """ValueError unless a store of ``n`` series of the study's grid (the clean and the noisy series
    in ``dtype``, uncompressed) fits in the free space of the disk ``path`` goes to: the store's
    size limit, as the memory is the .npz path's. Sizes below 1 are left to the API."""
    import shutil

    from fhn_inverse import DEFAULT_GRID

    per_series = 2 * DEFAULT_GRID.size * (4 if dtype == "float32" else 8)
    folder = Path(path).resolve().parent
    while not folder.exists():
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    if n <= free // per_series:
        return
    raise ValueError(f"{option} must be in [1, {free // per_series:,}] for a store on this disk (each series takes "
                     f"up to {per_series / 1e3:.0f} kB in {dtype}, {free / 1e9:.1f} GB are free at {folder}), "
                     f"got {n:,}")


def _output_file(path) -> Path:
    """``path`` as a file to write; ValueError if a folder is there."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give the path of a file to write")
    return path


def _check_threads(args) -> None:
    """``--threads`` within the native core's range, checked before any work starts."""
    from fhn_inverse import _core

    threads = getattr(args, "threads", None)
    if threads is not None and not 0 <= threads <= _core.MAX_THREADS:
        raise ValueError(f"--threads must be in [0, {_core.MAX_THREADS}] (0 = all cores), got {threads}")


def _sidecar(model: Path) -> Path:
    return Path(str(model) + ".json")


def _model_inputs(model, path: Path, series: np.ndarray) -> tuple[np.ndarray, list | None]:
    """(what to give ``model.predict``, the targets' names or None) for observed ``series``: a
    map whose file records its inputs takes the series as they are; a file written before that
    takes the features its sidecar names (a series without one)."""
    import fhn_inverse as fi

    first = model.members[0] if isinstance(model, fi.Ensemble) else model
    if first.inputs is not None:
        return series, first.inputs["targets"]
    meta = {"features": "time", "targets": None} if path.is_dir() else _read_sidecar(path)
    return fi.features(series, meta["features"]), meta["targets"]


def _read_sidecar(model: Path, raw: bool = False) -> dict:
    """The feature kind and target names written by 'train' beside ``model`` (defaults without
    one), or with ``raw`` the sidecar's whole record; ValueError naming the sidecar if it is not
    valid or belongs to another model file."""
    from fhn_inverse.data.features import KINDS

    path = _sidecar(model)
    if not path.exists():
        return {"features": "time", "targets": None}
    try:
        meta = json.loads(read_regular(path, 1 << 20).decode("utf-8"))
    except (ValueError, RecursionError) as err:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ValueError(f"model sidecar {path} is not valid JSON: {err}") from None
    if not isinstance(meta, dict):
        raise ValueError(f"model sidecar {path} must hold a JSON object, got {type(meta).__name__}")
    if meta.get("features") not in KINDS:
        raise ValueError(f"model sidecar {path}: 'features' must be one of {KINDS}, got {meta.get('features')!r}")
    targets = meta.get("targets")
    if targets is not None and not (isinstance(targets, list) and all(isinstance(t, str) for t in targets)):
        raise ValueError(f"model sidecar {path}: 'targets' must be a list of names or null, got {targets!r}")
    digest = meta.get("model_sha256")  # sidecars written before it was added have none
    if digest is not None and digest != file_sha256(model):
        raise ValueError(f"model sidecar {path} was written for another version of {model} "
                         "(train again, or remove the sidecar)")
    return meta if raw else {"features": meta["features"], "targets": targets}
