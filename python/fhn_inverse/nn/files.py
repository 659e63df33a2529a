"""Model files: one safetensors file per map — the parameters (float32, little-endian, PyTorch's
layouts) and, in ``__metadata__``, the architecture, scaling, training settings, inputs, units,
calibration, what the map was trained on, the package version and SHA-256 checksums of the
tensor bytes and of the header. Writes are atomic; a truncated, corrupted or hostile file is a
ValueError naming it, and nothing is allocated beyond what the file's own size justifies."""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import safetensors
import safetensors.numpy

from .. import _core
from .._util.io import atomic_open
from .._util.paths import open_regular
from .checks import _as_cov_scale, _check_inputs, _check_trained_on, _check_units
from .architecture import Architecture
from .heads import head_from_record
from .layers import _positive_int
from .parts import MapParts
from .scaling import _InputScaling, _Scaling
from .transforms import LabelTransform

__all__ = ["save", "load", "file_bytes", "from_bytes", "state", "from_state", "metadata", "describe"]

_FORMAT = "fhn_inverse.InverseMap"
_FORMAT_VERSION = "1"
_MAX_HEADER = 16 * 1024 * 1024  # bytes of JSON header a model file may declare
_MAX_WORKSPACE = 1 << 28  # activation floats the loader will allocate for a file's architecture
_CHECKSUM_KEY = "checksum_sha256"  # SHA-256 (hex) of the tensor bytes, all tensors in file order
_HEADER_CHECKSUM_KEY = "header_sha256"  # SHA-256 (hex) of the header without this entry, see _header_digest


def _header_digest(header: dict) -> str:
    """SHA-256 (hex) of the header's canonical JSON (sorted keys, no spaces) without its own
    ``header_sha256`` entry: parsing and re-serialising reproduce it, a changed value does not."""
    meta = {k: v for k, v in header["__metadata__"].items() if k != _HEADER_CHECKSUM_KEY}
    canonical = json.dumps(dict(header, __metadata__=meta), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def metadata(m) -> dict[str, str]:
    """The ``__metadata__`` of the map's file, without its checksums.

    Parameters
    ----------
    m : InverseMap
        A built map.

    Returns
    -------
    dict of str to str
        ``format``, ``format_version``, ``architecture``, ``training``, ``history`` (its ``loss``,
        ``val_loss`` and ``best_epoch``), ``fhn_inverse_version`` and, where the map has them,
        ``scaling``, ``input_scaling``, ``calibration``, ``inputs``, ``units`` and ``trained_on``;
        the values of all but ``format``, ``format_version`` and ``fhn_inverse_version`` are JSON
        text.
    """
    parts = m.parts
    arch = {
        "input_shape": list(parts.network.input_shape), "layers": m.layers,
        "output_activation": m.output_activation, **parts.head.record(), "seed": m.seed,
    }
    meta = {
        "format": _FORMAT, "format_version": _FORMAT_VERSION,
        "architecture": json.dumps(arch, sort_keys=True),
        "training": json.dumps(parts.training, sort_keys=True),
        "history": json.dumps({k: m.history[k] for k in ("loss", "val_loss", "best_epoch") if k in m.history}),
    }
    if parts.scaling is not None:
        meta["scaling"] = json.dumps(parts.scaling.to_json(), sort_keys=True)
    if parts.input_scaling is not None:
        meta["input_scaling"] = json.dumps(parts.input_scaling.to_json(), sort_keys=True)
    if parts.transform is not None:
        meta["transform"] = json.dumps(parts.transform.to_json(), sort_keys=True)
    calibration = {}
    if _as_cov_scale(m.cov_scale) != 1.0:  # written only when set: uncalibrated files are unchanged
        calibration["cov_scale"] = float(m.cov_scale)
    if m.calibration is not None:
        calibration["quantile"] = m.calibration.to_dict()
    if calibration:
        meta["calibration"] = json.dumps(calibration)
    from .._version import __version__

    if m.inputs is not None:
        meta["inputs"] = json.dumps(m.inputs)
    if m.units is not None:
        meta["units"] = json.dumps(m.units, sort_keys=True)
    if m.trained_on is not None:
        meta["trained_on"] = json.dumps(m.trained_on, sort_keys=True)
    meta["fhn_inverse_version"] = __version__
    return meta

def save(m, path: str | os.PathLike) -> None:
    """Write the map to one safetensors file.

    The file holds the parameters (float32 little-endian, PyTorch layouts) and, in
    ``__metadata__``, the architecture, scaling, training configuration and SHA-256 checksums of the
    tensor bytes and of the header. The write is atomic: a reader, or a process killed mid-write,
    sees the previous file or the new one.

    Parameters
    ----------
    m : InverseMap
        The map.
    path : str or os.PathLike
        The file.

    Raises
    ------
    RuntimeError
        If the map is not built.
    """
    with atomic_open(path, "wb") as f:  # the previous file stays whole until the rename
        f.write(file_bytes(m))

def file_bytes(m) -> bytes:
    """The bytes of the map's file (see :meth:`save`).

    Parameters
    ----------
    m : InverseMap
        The map.

    Returns
    -------
    bytes
        The file's bytes.

    Raises
    ------
    RuntimeError
        If the map is not built.
    """
    net = m.require_network()
    params = net.params.astype("<f4")
    # Written here rather than by safetensors.numpy.save: the package writes the metadata in the
    # order of a hash map, different in every process, so its files of one map would differ
    # byte for byte. This writer is deterministic; the package reads what it writes.
    header: dict = {"__metadata__": metadata(m)}
    blobs = []
    pos = 0
    for name, offset, shape in net.param_tensors():
        size = int(np.prod(shape))
        blobs.append(params[offset: offset + size].tobytes())
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [pos, pos + 4 * size]}
        pos += 4 * size
    data = b"".join(blobs)
    header["__metadata__"][_CHECKSUM_KEY] = hashlib.sha256(data).hexdigest()
    header["__metadata__"][_HEADER_CHECKSUM_KEY] = _header_digest(header)
    raw = json.dumps(header, separators=(",", ":"), sort_keys=False).encode("utf-8")
    raw += b" " * (-len(raw) % 8)  # the safetensors convention: header padded to 8 bytes
    return len(raw).to_bytes(8, "little") + raw + data


def load(cls, path: str | os.PathLike):
    """Read a map written by ``save``.

    Nothing is allocated beyond what the file's own size justifies. Checksums are verified when the
    file has them (files written before they were added load without).

    Parameters
    ----------
    cls : type
        The class of the map, ``InverseMap``.
    path : str or os.PathLike
        The file.

    Returns
    -------
    InverseMap
        The map.

    Raises
    ------
    ValueError
        If the file is truncated, corrupted or hostile; the message names the file.
    OSError
        If the file cannot be read.
    """
    try:
        return _load(cls, path)
    except OSError:
        raise
    except ValueError as e:
        if str(path) in str(e):
            raise
        raise ValueError(f"{path}: {e}") from None
    except Exception as e:  # noqa: BLE001 - hostile content: RecursionError (nested JSON), pybind11's
        # cast errors (sizes of 2**64), TypeError, OverflowError, MemoryError, …
        raise ValueError(f"{path}: not a valid model file ({type(e).__name__}: {e})") from None

def _load(cls, path: str | os.PathLike):
    with open_regular(path) as f:
        size = os.fstat(f.fileno()).st_size
        if size < 8:
            raise ValueError(f"{path}: not a model file (truncated: {size} bytes)")
        head = f.read(8)
        if head[:4] == b"PK\x03\x04":  # a zip archive: a data set (.npz) given where a model belongs
            raise ValueError(f"{path}: a zip archive (a data set from 'simulate', .npz?), not a model file "
                             "(.safetensors from 'train' or InverseMap.save)")
        if all(32 <= b < 127 or b in b"\t\n\r" for b in head):  # safetensors starts with a small length
            raise ValueError(f"{path}: a text file (a table of series, such as a CSV?), not a model file "
                             "(.safetensors from 'train' or InverseMap.save)")
        n = int.from_bytes(head, "little")
        if n < 2 or n > _MAX_HEADER or n > size - 8:
            raise ValueError(f"{path}: header length {n} is outside [2, min({_MAX_HEADER}, {size - 8})] "
                             "(truncated or corrupted file)")
        raw = f.read(n)
        try:
            header = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"{path}: header is not valid JSON ({e})") from None
        if not isinstance(header, dict) or not isinstance(header.get("__metadata__"), dict):
            raise ValueError(f"{path}: header has no __metadata__ object")
        meta = header["__metadata__"]
        if _HEADER_CHECKSUM_KEY in meta and meta[_HEADER_CHECKSUM_KEY] != _header_digest(header):
            raise ValueError(f"{path}: header checksum mismatch (corrupted file)")
        header.pop("__metadata__")
        if meta.get("format") != _FORMAT:
            raise ValueError(f"{path}: __metadata__ format is {meta.get('format')!r}, expected {_FORMAT!r}")
        try:
            arch = json.loads(meta["architecture"])
            training = json.loads(meta.get("training", "{}"))
            history = json.loads(meta.get("history", "{}"))
            scaling = _Scaling.from_json(json.loads(meta["scaling"])) if "scaling" in meta else None
            input_scaling = json.loads(meta["input_scaling"]) if "input_scaling" in meta else None
            transform = json.loads(meta["transform"]) if "transform" in meta else None
            calibration = json.loads(meta["calibration"]) if "calibration" in meta else {}
            inputs = _check_inputs(json.loads(meta["inputs"])) if "inputs" in meta else None
            units = json.loads(meta["units"]) if "units" in meta else None
            trained_on = _check_trained_on(json.loads(meta["trained_on"])) if "trained_on" in meta else None
            version = meta.get("fhn_inverse_version")
            if version is not None and not isinstance(version, str):
                raise ValueError(f"fhn_inverse_version must be a string, got {version!r}")
        except (KeyError, TypeError, ValueError, json.JSONDecodeError) as e:
            raise ValueError(f"{path}: invalid __metadata__ ({e!r})") from None
        if not isinstance(arch, dict):
            raise ValueError(f"{path}: architecture must be a JSON object")
        try:
            architecture = Architecture(arch["layers"], arch.get("output_activation"), arch.get("seed", 0))
            input_shape = tuple(_positive_int(v, "input_shape") for v in arch["input_shape"])
            if len(input_shape) not in (1, 2):
                raise ValueError(f"input_shape must have 1 or 2 entries, got {input_shape}")
            _positive_int(arch["n_targets"], "n_targets")
            head = head_from_record(arch)
            n_targets = head.n_targets
            if not isinstance(calibration, dict) or set(calibration) - {"cov_scale", "quantile"}:
                raise ValueError(f"calibration must be {{'cov_scale': c, 'quantile': {{...}}}}, got "
                                 f"{str(calibration)[:80]!r}")
            cov_scale = _as_cov_scale(calibration.get("cov_scale", 1.0))  # files without: 1
            if (cov_scale != 1.0 or "quantile" in calibration) and not head.calibratable:
                raise ValueError(f"a calibration for a map with a {head.name!r} head")
            quantile = None
            if "quantile" in calibration:
                from ..uncertainty.calibration import QuantileCalibration

                quantile = QuantileCalibration.from_dict(calibration["quantile"])
            head.check_calibration(cov_scale, quantile)
            if inputs is not None and inputs["targets"] is not None and len(inputs["targets"]) != n_targets:
                raise ValueError(f"inputs name {len(inputs['targets'])} targets, the map has {n_targets}")
            units = _check_units(units, None if inputs is None else inputs["targets"])
            full = architecture.full_layers(input_shape, head.n_outputs())
            # the file's size bounds the parameters before any layer is built
            n_params, per_sample = _core.network_size(input_shape, full, max(0, min(size - 8 - n, 1 << 33)) // 4)
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"{path}: invalid architecture ({e})") from None
        data_size = size - 8 - n
        if 4 * n_params != data_size:
            raise ValueError(f"{path}: architecture needs {4 * n_params} bytes of parameters, "
                             f"the file holds {data_size} (truncated or corrupted)")
        if per_sample * 16 > _MAX_WORKSPACE:
            raise ValueError(f"{path}: architecture needs {per_sample} activation floats per sample, "
                             f"more than this loader accepts")
        if scaling is not None and scaling.offset.shape[0] != n_targets:
            raise ValueError(f"{path}: scaling has {scaling.offset.shape[0]} entries for {n_targets} targets")
        max_batch = int(max(1, min(256, _MAX_WORKSPACE // max(per_sample, 1))))
        net = architecture.network(input_shape, head.n_outputs(), max_batch)
        expected = {name: (offset, tuple(shape)) for name, offset, shape in net.param_tensors()}
        if set(header) != set(expected):
            raise ValueError(f"{path}: tensors {sorted(header)} do not match the architecture's {sorted(expected)}")
        blob = f.read(data_size)
        if len(blob) != data_size:
            raise ValueError(f"{path}: truncated parameter data")
        if _CHECKSUM_KEY in meta and meta[_CHECKSUM_KEY] != hashlib.sha256(blob).hexdigest():
            raise ValueError(f"{path}: tensor data checksum mismatch (corrupted file)")
        f.seek(0)
        whole = f.read(8 + n + data_size)
    for name, info in header.items():  # what the package reads must be what the architecture holds
        offset, shape = expected[name]
        if not isinstance(info, dict) or info.get("dtype") != "F32":
            raise ValueError(f"{path}: tensor {name} must have dtype F32, got {info!r}")
        if list(shape) != info.get("shape"):
            raise ValueError(f"{path}: tensor {name} has shape {info.get('shape')}, expected {list(shape)}")
    try:
        tensors = safetensors.numpy.load(whole)  # checks the offsets: in bounds, contiguous, no overlap
    except safetensors.SafetensorError as e:
        raise ValueError(f"{path}: invalid tensor layout ({e})") from None
    params = np.empty(n_params, dtype=np.float32)
    for name, (offset, shape) in expected.items():
        params[offset: offset + int(np.prod(shape))] = tensors[name].reshape(-1)
    if not np.isfinite(params).all():
        raise ValueError(f"{path}: parameters contain NaN or inf")
    net.params = params
    channels = input_shape[0] if len(input_shape) == 2 else 1
    parts = MapParts(architecture, net, head, scaling,
                     None if input_scaling is None else _InputScaling.from_json(input_scaling, channels),
                     training if isinstance(training, dict) else {},
                     None if transform is None else LabelTransform.from_json(transform, n_targets))
    return cls.from_parts(parts, history=history if isinstance(history, dict) else {}, cov_scale=cov_scale,
                          calibration=quantile, inputs=inputs, units=units, trained_on=trained_on, version=version)


def from_bytes(cls, data: bytes):
    """The map whose file's bytes these are (what pickling carries)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="fhn_inverse_") as folder:
        path = os.path.join(folder, "map.safetensors")
        with open(path, "wb") as f:
            f.write(data)
        return load(cls, path)


def state(m) -> dict:
    """What pickling carries of a map: its file's bytes and its history (or, unbuilt, its
    constructor's arguments)."""
    if not m.built:
        return {"unbuilt": (m.layers, m.output_activation, m.seed)}
    out = {"file": file_bytes(m)}
    if m.history:
        out["history"] = m.history
    return out


def from_state(cls, state: dict):
    """The map a pickled :func:`state` holds."""
    if "unbuilt" in state:
        layers, output_activation, seed = state["unbuilt"]
        return cls(layers, output_activation=output_activation, seed=seed)
    m = from_bytes(cls, state["file"])
    if "history" in state:
        m.history = state["history"]
    return m


def _default_names(trained_on, n: int) -> list[str]:
    """The names of a map's n targets where it records none: its data's model's parameter names
    where there are n of them, else theta0, theta1, …"""
    from ..models.simulation import model_from_dict

    record = (trained_on or {}).get("model")
    try:
        names = list(model_from_dict(record).free) if record else []
    except ValueError:
        names = []
    return names if len(names) == n else [f"theta{j}" for j in range(n)]


def describe(m) -> dict:
    """The model file's record of a built map, readable: see :meth:`InverseMap.describe`."""
    from .._version import __version__

    net, parts = m.require_network(), m.parts
    calibration = ("quantile" if m.calibration is not None else
                   f"cov_scale {float(m.cov_scale):g}" if _as_cov_scale(m.cov_scale) != 1.0 else None)
    names = (m.inputs or {}).get("targets") or _default_names(m.trained_on, parts.head.n_targets)
    return {
        "head": m.head, "parameters": int(net.n_params), "input_shape": list(net.input_shape),
        "layers": m.layers, "output_activation": m.output_activation,
        "inputs": m.inputs, "targets": names,
        "units": m.units, "scaling": None if parts.scaling is None else parts.scaling.to_json(),
        "transform": None if parts.transform is None else parts.transform.to_json(),
        "training": parts.training, "epochs_trained": len(m.history.get("loss", [])),
        "calibration": calibration, "trained_on": m.trained_on,
        "version": m.version or __version__,
    }
