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
from fhn_inverse._util import io as _io


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


def test_hostile_model_files_raise_value_error_naming_the_file(tmp_path):
    m, _ = small_map()
    m.save(tmp_path / "m.safetensors")
    header, tail = split((tmp_path / "m.safetensors").read_bytes())
    meta = header["__metadata__"]
    for key in ("checksum_sha256", "header_sha256"):  # as an attacker would: no checksums to stop at
        del meta[key]
    arch = json.loads(meta["architecture"])
    first = next(k for k in header if k != "__metadata__")
    raw_header = lambda raw: len(raw).to_bytes(8, "little") + raw  # noqa: E731
    with_meta = lambda **kw: join(dict(header, __metadata__=dict(meta, **kw)), tail)  # noqa: E731
    with_arch = lambda **kw: with_meta(architecture=json.dumps(dict(arch, **kw)))  # noqa: E731
    with_tensor = lambda **kw: join(dict(header, **{first: dict(header[first], **kw)}), tail)  # noqa: E731
    cases = {
        "deeply nested header (RecursionError)": raw_header(b"[" * 100000 + b"]" * 100000),
        "deeply nested architecture": with_meta(architecture="[" * 100000 + "]" * 100000),
        "units 2**64 (pybind11 cast error)": with_arch(layers=[{"kind": "dense", "units": 2**64}, "swish"]),
        "input_shape 2**64": with_arch(input_shape=[2**64]),
        "n_targets 2**64": with_arch(n_targets=2**64),
        "units -1": with_arch(layers=[{"kind": "dense", "units": -1}]),
        "units a string": with_arch(layers=[{"kind": "dense", "units": "8"}]),
        "layers a dict": with_arch(layers={"kind": "dense"}),
        "layers an int": with_arch(layers=5),
        "layer a list": with_arch(layers=[[1]]),
        "input_shape a string": with_arch(input_shape="ab"),
        "input_shape an int (TypeError)": with_arch(input_shape=20),
        "seed 2**64": with_arch(seed=2**64),
        "output_activation an int": with_arch(output_activation=5),
        "architecture a list": with_meta(architecture="[]"),
        "architecture not a string (TypeError)": with_meta(architecture=5),
        "scaling of strings": with_meta(scaling=json.dumps({"kind": "minmax", "offset": ["a"], "scale": [1]})),
        "scaling of dicts": with_meta(scaling=json.dumps({"kind": "minmax", "offset": {"a": 1}, "scale": {"a": 1}})),
        "scaling NaN": with_meta(scaling='{"kind": "minmax", "offset": [NaN, 0], "scale": [1, 1]}'),
        "input scaling a list": with_meta(input_scaling="[]"),
        "tensor entry an int": join(dict(header, **{first: 5}), tail),
        "offsets booleans": with_tensor(data_offsets=[False, True]),
        "offsets floats": with_tensor(data_offsets=[0.0, 4.0]),
        "shape a string": with_tensor(shape="ab"),
        "header null": raw_header(b"null"),
        "header 1e999": raw_header(b"1e999"),
        "metadata a list": join(dict(header, __metadata__=[1]), tail),
        "checksum a list": with_meta(checksum_sha256=[1]),
        "header checksum an object": with_meta(header_sha256={"a": 1}),
    }
    bad = tmp_path / "bad.safetensors"
    for data in cases.values():
        bad.write_bytes(data)
        with pytest.raises(ValueError, match=str(bad)):
            fi.InverseMap.load(bad)
    with pytest.raises(OSError):  # I/O problems stay OSError (and name the file)
        fi.InverseMap.load(tmp_path)
    with pytest.raises(FileNotFoundError, match="missing.safetensors"):
        fi.InverseMap.load(tmp_path / "missing.safetensors")


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
        monkeypatch.setattr("fhn_inverse.nn.ensemble_files.atomic_write_text",
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
    for data in cases.values():
        (folder / "ensemble.json").write_bytes(data)
        with pytest.raises(ValueError, match="ensemble.json"):
            fi.Ensemble.load(folder)


def test_ensemble_like_has_a_bounded_size():
    m = fi.InverseMap.dense(units=[4])
    assert len(fi.Ensemble.like(m, 1000)) == 1000
    with pytest.raises(ValueError, match=r"members must be in \[1, 1000\], got 1000000000000"):
        fi.Ensemble.like(m, 10**12)


# ------------------------------------------------------------------------------------- data sets
def tiny_dataset(n=5, length=20, seed=3):
    rng = np.random.default_rng(seed)
    u = rng.normal(size=(n, length))
    return fi.Dataset(np.linspace(0.0, 1.0, length), rng.random((n, 2)), u, u + 0.1, np.full((n, 2), 0.5),
                      np.arange(10, 10 + n), seed, {"noise": None, "start": 10})


def savez(path, **overrides):
    """A data-set archive with some arrays replaced (None: left out)."""
    data = tiny_dataset()
    arrays = {name: getattr(data, name) for name in ("t", "theta", "u", "d", "noise", "index")}
    arrays.update(seed=np.uint64(data.seed), config=np.array(json.dumps(data.config)))
    arrays.update(overrides)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


def npy_bytes(header_shape, dtype="<f8", payload=b""):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": header_shape})
    return buf.getvalue() + payload


def test_dataset_save_is_compressed_atomic_and_round_trips(tmp_path):
    data = tiny_dataset()
    path = data.save(tmp_path / "data")
    assert path.name == "data.npz" and [p.name for p in tmp_path.iterdir()] == ["data.npz"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~current_umask()  # mkstemp gave 0600
    with zipfile.ZipFile(path) as z:
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_DEFLATED}
    loaded = fi.Dataset.load(path)
    for name in ("t", "theta", "u", "d", "noise", "index"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(data, name))
    assert loaded.seed == data.seed and loaded.config == data.config
    old = savez(tmp_path / "old.npz")  # uncompressed files (written before) still load
    np.testing.assert_array_equal(fi.Dataset.load(old).u, data.u)


def test_dataset_save_on_a_full_disk_keeps_the_previous_file(tmp_path, full_disk):
    path = tmp_path / "data.npz"
    path.write_bytes(b"previous")
    with pytest.raises(OSError):
        tiny_dataset().save(path)
    assert path.read_bytes() == b"previous" and [p.name for p in tmp_path.iterdir()] == ["data.npz"]


def test_hostile_dataset_files_raise_value_error_naming_the_file(tmp_path):
    data = tiny_dataset()
    nan_u, inf_theta = data.u.copy(), data.theta.copy()
    nan_u[2, 3], inf_theta[0, 1] = np.nan, np.inf
    structured = np.zeros(5, dtype=[("a", "f8"), ("b", "i4")])
    cases = {
        "NaN in u": dict(u=nan_u),
        "inf in theta": dict(theta=inf_theta),
        "strings": dict(u=np.array([["a"] * 20] * 5)),
        "bytes": dict(d=np.zeros((5, 20), dtype="S3")),
        "complex": dict(u=data.u.astype(np.complex128)),
        "structured": dict(index=structured),
        "object": dict(theta=np.array([[None, 1]] * 5, dtype=object)),
        "bool": dict(noise=np.ones((5, 2), dtype=bool)),
        "float index": dict(index=np.arange(5.0)),
        "negative index": dict(index=np.arange(-5, 0)),
        "decreasing grid": dict(t=np.linspace(1.0, 0.0, 20)),
        "repeated time": dict(t=np.r_[0.0, np.linspace(0.0, 1.0, 19)]),
        "negative seed": dict(seed=np.int64(-1)),
        "float seed": dict(seed=np.float64(1e30)),
        "seed array": dict(seed=np.arange(3)),
        "config list": dict(config=np.array(json.dumps([1, 2]))),
        "config not json": dict(config=np.array("{")),
        "config number": dict(config=np.float64(3.0)),
        "config nested": dict(config=np.array("[" * 100000 + "]" * 100000)),
        "u one-dimensional": dict(u=data.u.ravel()),
        "theta scalar": dict(theta=np.float64(1.0)),
        "d shorter": dict(d=data.d[:4]),
        "t longer": dict(t=np.linspace(0, 1, 21)),
        "missing u": dict(u=None),
    }
    path = tmp_path / "bad.npz"
    for overrides in cases.values():
        savez(path, **overrides)
        with pytest.raises(ValueError, match="bad.npz"):
            fi.Dataset.load(path)
    raw_cases = {
        "empty": b"",
        "not a zip": b"\x93NUMPY garbage",
        "zip header only": b"PK\x03\x04garbage",
        "a directory": None,
    }
    for raw in raw_cases.values():
        target = tmp_path / "dir.npz" if raw is None else path
        if raw is None:
            target.mkdir()
        else:
            target.write_bytes(raw)
        with pytest.raises(ValueError, match=target.name):
            fi.Dataset.load(target)


def test_dataset_member_declaring_a_huge_shape_is_refused_before_allocation(tmp_path):
    path = savez(tmp_path / "bad.npz", u=None)
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("u.npy", npy_bytes((10**6, 10**6), payload=b"\0" * 64))
    with pytest.raises(ValueError, match=r"declares shape \(1000000, 1000000\)"):
        fi.Dataset.load(path)


def test_dataset_member_with_an_unparsable_npy_header_raises_value_error(tmp_path):
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (5, 2"  # unclosed: numpy raises TokenError
    header += b" " * (117 - len(header)) + b"\n"
    path = savez(tmp_path / "bad.npz", theta=None)
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("theta.npy", b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header)
    with pytest.raises(ValueError, match="bad.npz: TokenError"):
        fi.Dataset.load(path)


def test_dataset_size_guard_refuses_a_compression_bomb(tmp_path, monkeypatch):
    from fhn_inverse.data import dataset

    monkeypatch.setattr(dataset, "_EXPANSION_ALLOWANCE", 0)  # scale the 4.9 GB reproducer down to 4 MB
    path = savez(tmp_path / "bomb.npz", u=np.zeros((5, 100_000)), d=np.zeros((5, 100_000)),
                 t=np.arange(100_000.0))
    with zipfile.ZipFile(path) as z:
        declared = sum(i.file_size for i in z.infolist())
    bomb = tmp_path / "bomb_compressed.npz"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    assert declared > 64 * bomb.stat().st_size
    with pytest.raises(ValueError, match=r"bomb_compressed.npz: the archive declares \d+ bytes of arrays"):
        fi.Dataset.load(bomb)
    monkeypatch.undo()
    assert len(fi.Dataset.load(bomb)) == 5  # the same file within the default allowance


def test_bit_flipped_dataset_files_raise_or_load_unchanged(tmp_path):
    data = tiny_dataset()
    good = data.save(tmp_path / "data.npz").read_bytes()
    rng = np.random.default_rng(1)
    bad = tmp_path / "bad.npz"
    for pos in rng.integers(0, len(good), 300):
        flipped = bytearray(good)
        flipped[pos] ^= 1 << int(rng.integers(8))
        bad.write_bytes(bytes(flipped))
        try:
            loaded = fi.Dataset.load(bad)
        except ValueError as e:
            assert "bad.npz" in str(e)
            continue
        for name in ("t", "theta", "u", "d", "noise", "index"):  # the CRC guards the contents
            np.testing.assert_array_equal(getattr(loaded, name), getattr(data, name))
        assert loaded.seed == data.seed and loaded.config == data.config


def test_dataset_integer_index_out_of_range_raises_index_error():
    data = tiny_dataset()
    assert data[-1].index.tolist() == [14] and data[np.int64(2)].index.tolist() == [12]
    assert data[-5].index.tolist() == [10]
    for key in (10**9, 5, -6, -10**9):
        with pytest.raises(IndexError, match=f"index {key} is out of range for a Dataset of 5 samples"):
            data[key]


# ------------------------------------------------------------------------------- run folders
def test_run_folder_files_are_atomic_with_umask_modes(tmp_path):
    from fhn_inverse.study import experiments

    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = experiments.Run(tmp_path, "check")
    stale = tmp_path / ".results.json.999999999.0badf00d.tmp"  # left by a killed run
    stale.write_text("{")
    payload = run.write({"a": 1}, {"b": 2})
    assert json.loads((tmp_path / "results.json").read_text()) == payload
    fig = plt.figure()
    path = run.figure(fig, "plot")
    plt.close(fig)
    assert path.read_bytes()[:4] == b"\x89PNG"
    mode = 0o666 & ~current_umask()
    assert stat.S_IMODE((tmp_path / "results.json").stat().st_mode) == mode  # mkstemp gave 0600
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models", "plot.png", "results.json"]


def test_write_errors_name_the_target(tmp_path, full_disk):
    with pytest.raises(FileNotFoundError, match="no_such_folder/a.txt"):
        _io.atomic_write_text(tmp_path / "no_such_folder" / "a.txt", "x")
    with pytest.raises(OSError, match=r"No space left on device: .*big.bin"):
        _io.atomic_write_bytes(tmp_path / "big.bin", b"x" * 1000)
    with pytest.raises(OSError, match="^disk full$"):  # an OSError without errno keeps its message
        with _io.atomic_open(tmp_path / "c.bin"):
            raise OSError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_files_in_the_package_layout_load_and_ours_are_reproducible(tmp_path):
    """A file laid out by safetensors.numpy.save (tensors sorted by name, the metadata in a hash
    map's order) loads to the same map; fhn_inverse's writer is deterministic: the same map gives
    the same bytes."""
    import safetensors.numpy

    from fhn_inverse.nn import files

    rng = np.random.default_rng(3)
    m = fi.InverseMap.cnn().fit(rng.normal(size=(40, 1000)), rng.uniform(size=(40, 2)), epochs=1, progress=False)

    params = m.network.params.astype("<f4")
    tensors = {name: params[o: o + int(np.prod(s))].reshape(s) for name, o, s in m.network.param_tensors()}
    meta = files.metadata(m)  # without checksums: files written before them load without
    (tmp_path / "package.safetensors").write_bytes(safetensors.numpy.save(tensors, metadata=meta))
    back = fi.InverseMap.load(tmp_path / "package.safetensors")
    x = rng.normal(size=(5, 1000))
    np.testing.assert_array_equal(back.predict(x), m.predict(x))
    m.save(tmp_path / "a.safetensors")
    back.save(tmp_path / "b.safetensors")
    m.save(tmp_path / "c.safetensors")
    assert (tmp_path / "a.safetensors").read_bytes() == (tmp_path / "c.safetensors").read_bytes()
    np.testing.assert_array_equal(fi.InverseMap.load(tmp_path / "b.safetensors").predict(x), m.predict(x))
