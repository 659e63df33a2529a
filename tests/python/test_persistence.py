"""Files: atomic writes, checksums, hostile model, ensemble and data-set files, umask modes."""

import errno
import io
import json
import os
import stat
import zipfile

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse import _io


def toy(n=64, length=20, seed=0):
    rng = np.random.default_rng(seed)
    a, b = rng.random(n), rng.random(n)
    x = a[:, None] + (b[:, None] - 0.5) * np.linspace(0, 1, length)[None, :]
    return x.astype(np.float32), np.stack([3 * a - 1, 10 * b], axis=1)


def small_map(seed=0, epochs=2):
    x, y = toy(seed=seed)
    return fi.InverseMap.dense(units=[8], seed=seed).fit(x, y, epochs=epochs, progress=False), x


def split(data: bytes):
    n = int.from_bytes(data[:8], "little")
    return json.loads(data[8: 8 + n]), data[8 + n:]


def join(header: dict, tail: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + tail


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class FullDisk(io.RawIOBase):
    """A file object that takes ``room`` bytes, then fails as a full disk does."""

    def __init__(self, f, room):
        self.f, self.room = f, room

    def writable(self):
        return True

    def write(self, b):
        b = bytes(b)
        if len(b) > self.room:
            self.f.write(b[: self.room])
            self.room = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(b)
        return self.f.write(b)

    def flush(self):
        self.f.flush()

    def fileno(self):
        return self.f.fileno()

    def close(self):
        if not self.closed:
            super().close()
            self.f.close()


@pytest.fixture
def full_disk(monkeypatch):
    """After this fixture, every file that ``_io`` opens fails after 100 bytes with ENOSPC."""
    real = os.fdopen

    def fdopen(fd, mode="r", *args, **kwargs):
        return FullDisk(real(fd, mode, *args, **kwargs), 100)

    monkeypatch.setattr(_io.os, "fdopen", fdopen)


# ------------------------------------------------------------------------------------ _io itself
def test_atomic_open_replaces_whole_files_with_umask_modes(tmp_path):
    target = tmp_path / "a.txt"
    _io.atomic_write_text(target, "old")
    old_umask = os.umask(0o027)
    try:
        _io.atomic_write_text(target, "new")
    finally:
        os.umask(old_umask)
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # mkstemp would give 0600
    _io.atomic_write_bytes(target, b"bytes")
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~current_umask()
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_atomic_open_keeps_the_old_file_on_error(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="stop"):
        with _io.atomic_open(target, "w") as f:
            f.write("half")
            raise RuntimeError("stop")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    with pytest.raises(ValueError, match="mode must be"):
        with _io.atomic_open(target, "a"):
            pass


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path):
    target = tmp_path / "m.safetensors"
    dead = tmp_path / ".m.safetensors.999999999.0badf00d.tmp"  # no such pid
    alive = tmp_path / f".m.safetensors.{os.getppid()}.0badf00d.tmp"  # a running process's
    other = tmp_path / ".other.999999999.0badf00d.tmp"  # another target's
    for p in (dead, alive, other):
        p.write_bytes(b"partial")
    _io.atomic_write_bytes(target, b"data")
    assert not dead.exists() and alive.exists() and other.exists()


def test_atomic_savez_and_savefig(tmp_path):
    _io.atomic_savez(tmp_path / "a.npz", x=np.arange(3))
    with np.load(tmp_path / "a.npz") as z:
        assert z["x"].tolist() == [0, 1, 2]
    with zipfile.ZipFile(tmp_path / "a.npz") as z:
        assert z.getinfo("x.npy").compress_type == zipfile.ZIP_DEFLATED
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure()
    _io.atomic_savefig(fig, tmp_path / "a.svg")
    plt.close(fig)
    assert (tmp_path / "a.svg").read_text().lstrip().startswith("<?xml")


# ------------------------------------------------------------------------------------ model files
def test_model_save_on_a_full_disk_keeps_the_previous_file(tmp_path, full_disk):
    path = tmp_path / "m.safetensors"
    m, x = small_map()
    with open(path, "wb") as f:  # the previous good model (written before the disk filled)
        f.write(b"previous")
    with pytest.raises(OSError) as err:
        m.save(path)
    assert err.value.errno == errno.ENOSPC
    assert path.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]  # no temporary left


def test_model_save_is_atomic_and_follows_the_umask(tmp_path):
    path = tmp_path / "m.safetensors"
    m, x = small_map()
    m.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~current_umask()
    m2, _ = small_map(seed=1)
    m2.save(path)
    np.testing.assert_array_equal(fi.InverseMap.load(path).predict(x), m2.predict(x))
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_model_checksum_detects_a_flipped_bit(tmp_path):
    path = tmp_path / "m.safetensors"
    m, _ = small_map()
    m.save(path)
    good = path.read_bytes()
    header, tail = split(good)
    meta = header["__metadata__"]
    assert len(meta["checksum_sha256"]) == 64 and len(meta["header_sha256"]) == 64
    flipped = bytearray(good)
    flipped[-3] ^= 0x01  # a low mantissa bit of the last weight: still finite, plausible
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match=f"{bad}: tensor data checksum mismatch"):
        fi.InverseMap.load(bad)
    scaling = json.loads(meta["scaling"])
    scaling["offset"][0] += 0.5  # a changed label offset in the header
    bad.write_bytes(join(dict(header, __metadata__=dict(meta, scaling=json.dumps(scaling))), tail))
    with pytest.raises(ValueError, match=f"{bad}: header checksum mismatch"):
        fi.InverseMap.load(bad)


def test_model_files_without_checksums_still_load(tmp_path):
    path = tmp_path / "old.safetensors"
    m, x = small_map()
    m.save(path)
    header, tail = split(path.read_bytes())
    for key in ("checksum_sha256", "header_sha256"):
        del header["__metadata__"][key]
    path.write_bytes(join(header, tail))
    np.testing.assert_array_equal(fi.InverseMap.load(path).predict(x), m.predict(x))


def test_random_bit_flips_never_load_silently(tmp_path):
    m, x = small_map()
    path = tmp_path / "m.safetensors"
    m.save(path)
    good = path.read_bytes()
    expected = m.predict(x)
    n = int.from_bytes(good[:8], "little")
    rng = np.random.default_rng(0)
    bad = tmp_path / "bad.safetensors"
    loaded = 0
    for pos in rng.integers(0, len(good), 300):
        data = bytearray(good)
        data[pos] ^= 1 << int(rng.integers(8))
        bad.write_bytes(bytes(data))
        try:
            other = fi.InverseMap.load(bad)
        except ValueError as e:
            assert str(bad) in str(e)
            continue
        loaded += 1  # only a change the JSON parser ignores (padding, an escape): same model
        assert 8 <= pos < 8 + n
        np.testing.assert_array_equal(other.predict(x), expected)
    assert loaded < 30


def test_model_file_still_opens_with_safetensors(tmp_path):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    m, _ = small_map()
    m.save(tmp_path / "m.safetensors")
    tensors = safetensors_numpy.load_file(str(tmp_path / "m.safetensors"))
    assert set(tensors) == {name for name, _, _ in m.network.param_tensors()}


# ------------------------------------------------------------------------------------- ensembles
@pytest.fixture(scope="module")
def two_ensembles():
    x, y = toy()
    make = lambda seed, k: fi.Ensemble.like(fi.InverseMap.dense(units=[8], seed=seed), k).fit(  # noqa: E731
        x, y, epochs=2, progress=False)
    return make(0, 3), make(10, 2), x


def test_ensemble_saves_members_then_the_manifest_and_alternates_names(two_ensembles, tmp_path):
    old, new, x = two_ensembles
    folder = tmp_path / "ens"
    old.save(folder)
    manifest = json.loads((folder / "ensemble.json").read_text())
    assert [e["file"] for e in manifest["members"]] == [f"member_{i}.safetensors" for i in range(3)]
    new.save(folder)
    names = [e["file"] for e in json.loads((folder / "ensemble.json").read_text())["members"]]
    assert len(names) == 2 and all(n.startswith(f"member_{i}.") and n != f"member_{i}.safetensors"
                                   for i, n in enumerate(names))
    assert sorted(p.name for p in folder.iterdir()) == sorted(names + ["ensemble.json"])  # old generation gone
    np.testing.assert_array_equal(fi.Ensemble.load(folder).predict(x), new.predict(x))
    old.save(folder)  # back to the plain names
    assert sorted(p.name for p in folder.iterdir()) == ["ensemble.json"] + [f"member_{i}.safetensors" for i in range(3)]
    np.testing.assert_array_equal(fi.Ensemble.load(folder).predict(x), old.predict(x))


@pytest.mark.parametrize("fail_at", ["second member", "manifest"])
def test_interrupted_ensemble_save_leaves_the_previous_ensemble(two_ensembles, tmp_path, monkeypatch, fail_at):
    old, new, x = two_ensembles
    folder = tmp_path / "ens"
    new.save(folder)
    if fail_at == "manifest":
        monkeypatch.setattr("fhn_inverse.ensemble.atomic_write_text",
                            lambda *a, **k: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left")))
    else:
        real, calls = fi.InverseMap.save, []

        def save(self, path):
            calls.append(path)
            if len(calls) == 2:
                raise OSError(errno.ENOSPC, "No space left")
            real(self, path)

        monkeypatch.setattr(fi.InverseMap, "save", save)
    with pytest.raises(OSError):
        old.save(folder)  # 3 members over 2
    monkeypatch.undo()
    loaded = fi.Ensemble.load(folder)
    assert len(loaded) == 2
    np.testing.assert_array_equal(loaded.predict(x), new.predict(x))
    old.save(folder)  # the next save succeeds and clears what the interrupted one left
    assert len(list(folder.glob("member_*"))) == 3 and len(fi.Ensemble.load(folder)) == 3


def test_ensemble_folders_without_manifest_still_load(two_ensembles, tmp_path):
    old, _, x = two_ensembles
    folder = tmp_path / "legacy"
    folder.mkdir()
    for i, m in enumerate(old.members):
        m.save(folder / f"member_{i}.safetensors")
    (folder / "member_0.deadbeef.safetensors").write_bytes(b"left by an interrupted save")
    np.testing.assert_array_equal(fi.Ensemble.load(folder).predict(x), old.predict(x))
    (folder / "member_1.safetensors").unlink()
    with pytest.raises(ValueError, match="member_1.safetensors is missing"):
        fi.Ensemble.load(folder)


def test_ensemble_load_requires_exactly_the_manifest_members(two_ensembles, tmp_path):
    old, new, _ = two_ensembles
    folder = tmp_path / "ens"
    old.save(folder)
    (folder / "member_2.safetensors").unlink()
    with pytest.raises(ValueError, match="member file .*member_2.safetensors is missing"):
        fi.Ensemble.load(folder)
    new.members[0].save(folder / "member_2.safetensors")  # a valid model, but not the saved one
    with pytest.raises(ValueError, match="member_2.safetensors: SHA-256 differs"):
        fi.Ensemble.load(folder)


def test_hostile_ensemble_manifests_raise_value_error(two_ensembles, tmp_path):
    old, _, _ = two_ensembles
    folder = tmp_path / "ens"
    old.save(folder)
    good = json.loads((folder / "ensemble.json").read_text())
    entry = good["members"][0]
    cases = {
        "not json": b"{",
        "binary": bytes(range(256)),
        "deeply nested": b"[" * 100000 + b"]" * 100000,
        "list": b"[]",
        "other format": json.dumps(dict(good, format="x")).encode(),
        "newer version": json.dumps(dict(good, format_version="2")).encode(),
        "no members": json.dumps(dict(good, members=[])).encode(),
        "members not a list": json.dumps(dict(good, members="member_0.safetensors")).encode(),
        "path traversal": json.dumps(dict(good, members=[dict(entry, file="../member_0.safetensors")])).encode(),
        "absolute path": json.dumps(dict(good, members=[dict(entry, file="/etc/passwd")])).encode(),
        "wrong order": json.dumps(dict(good, members=good["members"][::-1])).encode(),
        "bad digest": json.dumps(dict(good, members=[dict(entry, sha256="00")])).encode(),
        "digest not a string": json.dumps(dict(good, members=[dict(entry, sha256=2**64)])).encode(),
        "extra key": json.dumps(dict(good, members=[dict(entry, size=1)])).encode(),
        "huge": b" " * (2 << 20),
        "too many members": json.dumps(dict(good, members=[entry] * 1001)).encode(),
    }
    for name, data in cases.items():
        (folder / "ensemble.json").write_bytes(data)
        with pytest.raises(ValueError, match="ensemble.json"):
            fi.Ensemble.load(folder)


def test_ensemble_like_has_a_bounded_size():
    m = fi.InverseMap.dense(units=[4])
    assert len(fi.Ensemble.like(m, 1000)) == 1000
    with pytest.raises(ValueError, match=r"members must be in \[1, 1000\], got 1000000000000"):
        fi.Ensemble.like(m, 10**12)
