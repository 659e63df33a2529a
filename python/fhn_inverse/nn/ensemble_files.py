"""The folder format of :class:`~fhn_inverse.nn.ensemble.Ensemble`: one safetensors file per member
and the manifest ``ensemble.json`` naming them with their SHA-256, written last and atomically so
that a folder always holds a complete ensemble; folders written before the manifest still load.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
from pathlib import Path
from typing import Iterator

from .._util.io import atomic_write_text, file_sha256, remove_stale_temporaries
from .._util.paths import open_regular

__all__ = ["MANIFEST", "MAX_MEMBERS", "write_members", "verified_members"]

MANIFEST = "ensemble.json"  # the folder's manifest: format, version, member files and their SHA-256
MAX_MEMBERS = 1000  # members an ensemble may have (like, load)
_FORMAT = "fhn_inverse.Ensemble"
_FORMAT_VERSION = "1"
_MAX_MANIFEST = 1 << 20  # bytes
_MEMBER_FILE = re.compile(r"member_(\d+)(\.[0-9a-f]{8})?\.safetensors")
_LEGACY_FILE = re.compile(r"member_(\d+)\.safetensors")


def _read_manifest(path: Path, *, calibration: bool = False):
    """The manifest's member entries, validated: ValueError naming ``path`` otherwise. With
    ``calibration``: ``(entries, the ensemble's QuantileCalibration or None)``."""
    with open_regular(path) as f:
        raw = f.read(_MAX_MANIFEST + 1)
    if len(raw) > _MAX_MANIFEST:
        raise ValueError(f"{path}: manifest larger than {_MAX_MANIFEST} bytes")
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ValueError(f"{path}: manifest is not valid JSON ({type(e).__name__})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
        raise ValueError(f"{path}: not an ensemble manifest (format must be {_FORMAT!r})")
    if manifest.get("format_version") != _FORMAT_VERSION:
        raise ValueError(f"{path}: format_version must be {_FORMAT_VERSION!r}, got {manifest.get('format_version')!r}")
    entries = manifest.get("members")
    if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_MEMBERS:
        raise ValueError(f"{path}: members must be a list of 1 to {MAX_MEMBERS} entries")
    seen = set()
    for i, entry in enumerate(entries):
        if (not isinstance(entry, dict) or set(entry) != {"file", "sha256"} or not isinstance(entry["file"], str)
                or not isinstance(entry["sha256"], str) or not re.fullmatch(r"[0-9a-f]{64}", entry["sha256"])):
            raise ValueError(f"{path}: member entry {i} must be {{'file': name, 'sha256': 64 hex digits}}")
        match = _MEMBER_FILE.fullmatch(entry["file"])
        if not match or int(match.group(1)) != i or entry["file"] in seen:
            raise ValueError(f"{path}: member entry {i} names {entry['file']!r}, "
                             f"expected member_{i}[.generation].safetensors")
        seen.add(entry["file"])
    if not calibration:
        return entries
    cal = manifest.get("calibration")
    if cal is not None:
        from ..uncertainty.calibration import QuantileCalibration

        try:
            cal = QuantileCalibration.from_dict(cal)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{path}: invalid calibration ({e})") from None
    return entries, cal


def _legacy_members(folder: Path) -> list[Path]:
    """member_0.safetensors … member_{K-1}.safetensors of a folder without a manifest."""
    if not folder.is_dir():
        return []
    index = {int(m.group(1)): p for p in folder.iterdir() if (m := _LEGACY_FILE.fullmatch(p.name))}
    if len(index) > MAX_MEMBERS:
        raise ValueError(f"{folder}: {len(index)} member files, more than {MAX_MEMBERS}")
    missing = [i for i in range(len(index)) if i not in index]
    if missing:
        raise ValueError(f"{folder}: member files are not numbered 0 to {len(index) - 1} "
                         f"(member_{missing[0]}.safetensors is missing)")
    return [index[i] for i in range(len(index))]


def _current_files(folder: Path) -> list[str]:
    """The member file names of the ensemble stored in ``folder`` now (none if it is unreadable)."""
    try:
        if (folder / MANIFEST).exists():
            return [e["file"] for e in _read_manifest(folder / MANIFEST)]
        return [p.name for p in _legacy_members(folder)]
    except (OSError, ValueError):
        # an unreadable previous ensemble: keep every member file it may use until the manifest is written
        return [p.name for p in folder.iterdir() if _MEMBER_FILE.fullmatch(p.name)]


def write_members(folder: Path, members, calibration) -> None:
    """Write ``members`` to the existing ``folder`` and then, last and atomically, the manifest
    (holding ``calibration``'s ``to_dict()`` unless it is None); see ``Ensemble.save``."""
    previous = set(_current_files(folder))
    generation = secrets.token_hex(4)
    while any(f".{generation}." in name for name in previous):
        generation = secrets.token_hex(4)
    entries = []
    for i, m in enumerate(members):
        name = f"member_{i}.safetensors"
        if name in previous:
            name = f"member_{i}.{generation}.safetensors"
        m.save(folder / name)
        entries.append({"file": name, "sha256": file_sha256(folder / name)})
    manifest = {"format": _FORMAT, "format_version": _FORMAT_VERSION, "members": entries}
    if calibration is not None:
        manifest["calibration"] = calibration.to_dict()
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    keep = {e["file"] for e in entries}
    for path in folder.iterdir():  # the previous generation and members of interrupted saves
        if _MEMBER_FILE.fullmatch(path.name) and path.name not in keep:
            with contextlib.suppress(OSError):
                path.unlink()
    remove_stale_temporaries(folder, "member_", prefix=True)  # of members whose save was killed


def verified_members(folder: Path, entries: list, manifest_path: Path) -> Iterator[Path]:
    """The member files the manifest's ``entries`` name, each verified against its SHA-256 just
    before it is yielded: ValueError naming the file for a missing or differing one."""
    for entry in entries:
        path = folder / entry["file"]
        try:
            digest = file_sha256(path)
        except FileNotFoundError:
            raise ValueError(f"{manifest_path}: member file {path} is missing") from None
        if digest != entry["sha256"]:
            raise ValueError(f"{path}: SHA-256 differs from the one in {manifest_path} (corrupted or replaced)")
        yield path
