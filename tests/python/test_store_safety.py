"""Zarr stores written like every other file: built beside the old store and swapped in when
complete, never over a folder that is not a store, one writer at a time, every chunk checked
against its SHA-256 on read; corrupt stores refused with one line and exit status 2."""

import errno
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

zarr = pytest.importorskip("zarr")

import fhn_inverse as fi  # noqa: E402
from fhn_inverse.cli import main as _main  # noqa: E402
from fhn_inverse.data import store  # noqa: E402
from fhn_inverse._util.locks import exclusive  # noqa: E402


def main(argv) -> int:
    """The command's exit status (SystemExit's code for errors)."""
    try:
        return _main(argv)
    except SystemExit as e:
        return e.code


@pytest.fixture
def data():
    return fi.Dataset.generate(60, 5, noise=fi.AR1Noise(), progress=False)


def chunk_files(path, name="d"):
    return sorted(p for p in (path / name / "c").rglob("*") if p.is_file())


def test_a_folder_that_is_not_a_store_is_never_replaced(tmp_path, data, capsys):
    photos = tmp_path / "photos.zarr"
    photos.mkdir()
    (photos / "holiday.jpg").write_bytes(b"\xff\xd8 a photo")
    assert main(["simulate", str(photos), "-n", "10", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "is not a data set store" in err and "holiday.jpg" in err and err.count("\n") == 1
    assert (photos / "holiday.jpg").read_bytes() == b"\xff\xd8 a photo"
    with pytest.raises(ValueError, match="not a data set store"):
        store.save_zarr(data, photos)
    (tmp_path / "file.zarr").write_text("mine")
    with pytest.raises(ValueError, match="not a data set store"):
        store.save_zarr(data, tmp_path / "file.zarr")
    assert (tmp_path / "file.zarr").read_text() == "mine"
    (tmp_path / "empty.zarr").mkdir()  # an empty folder and an old store are replaced
    store.save_zarr(data, tmp_path / "empty.zarr")
    store.save_zarr(data[:30], tmp_path / "empty.zarr")
    assert len(store.open_zarr(tmp_path / "empty.zarr")) == 30


def test_one_writer_at_a_time(tmp_path, data):
    path = tmp_path / "same.zarr"
    store.save_zarr(data, path)
    with exclusive(tmp_path / ".same.zarr.lock", path):  # another writer holds the store
        with pytest.raises(OSError, match="another writer") as info:
            store.save_zarr(data[:10], path)
        assert info.value.errno == errno.EBUSY and str(path) in str(info.value)
        assert main(["simulate", str(path), "-n", "10", "--quiet"]) == 2
    assert len(store.open_zarr(path)) == 60  # untouched by the refused writers
    store.save_zarr(data[:10], path)  # the lock went with its holder
    assert len(store.open_zarr(path)) == 10


def test_two_simulations_of_one_store_one_succeeds_the_other_is_refused(tmp_path):
    path = tmp_path / "same.zarr"
    cmd = [sys.executable, "-m", "fhn_inverse", "simulate", str(path), "--chunk", "50", "--quiet", "--threads", "1"]
    first = subprocess.Popen(cmd + ["-n", "100000", "--seed", "1"], stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not list(tmp_path.glob(".same.zarr.*.building")) and time.time() < deadline:
        time.sleep(0.02)
    second = subprocess.run(cmd + ["-n", "100", "--seed", "2"], capture_output=True, text=True, timeout=120)
    building = list(tmp_path.glob(".same.zarr.*.building"))
    first.kill()
    first.wait()
    assert building, "the first writer finished before the second started"
    assert second.returncode == 2 and "another writer" in second.stderr and second.stderr.count("\n") == 1
    assert not path.exists()  # the first never finished: nothing at the path, no mixed rows


def test_ensemble_saves_to_one_folder_are_one_at_a_time(tmp_path):
    ens = fi.Ensemble([fi.InverseMap.dense(units=[8], seed=s).build((20,), 2) for s in (0, 1)])
    ens.save(tmp_path / "ens")
    with exclusive(tmp_path / ".ens.lock", tmp_path / "ens"):
        with pytest.raises(OSError, match="another writer"):
            ens.save(tmp_path / "ens")
    assert len(fi.Ensemble.load(tmp_path / "ens").members) == 2


def test_a_deleted_chunk_is_refused_not_read_as_zeros(tmp_path, data, capsys):
    path = tmp_path / "s.zarr"
    store.save_zarr(data, path, chunk=20)
    chunk_files(path, "d")[1].unlink()
    z = store.open_zarr(path)
    np.testing.assert_array_equal(z[:20].d, data.d[:20])  # the chunks that are there still read
    with pytest.raises(ValueError, match=r"d rows 20:40 differ from their SHA-256"):
        z[:]
    model = tmp_path / "m.safetensors"
    assert main(["train", str(path), str(model), "--epochs", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and err.count("\n") == 1 and not model.exists()


def test_random_bit_flips_in_chunks_never_load_silently(tmp_path, data):
    path = tmp_path / "s.zarr"
    store.save_zarr(data, path, chunk=20, dtype="float32")
    files = [p for name in ("theta", "u", "d", "noise", "index") for p in chunk_files(path, name)]
    rng = np.random.default_rng(3)
    outcomes = {"refused": 0, "same": 0}
    for _ in range(300):
        victim = files[rng.integers(len(files))]
        original = victim.read_bytes()
        flipped = bytearray(original)
        bit = rng.integers(len(flipped) * 8)
        flipped[bit // 8] ^= 1 << (bit % 8)
        victim.write_bytes(bytes(flipped))
        try:
            got = store.open_zarr(path).load()
        except ValueError as e:
            assert str(path) in str(e)
            outcomes["refused"] += 1
        else:  # a flip the codec ignores must leave the data as they were
            for name in ("theta", "u", "d", "noise", "index"):
                expected = getattr(data, name)
                if name in ("u", "d"):
                    expected = expected.astype(np.float32).astype(np.float64)
                np.testing.assert_array_equal(getattr(got, name), expected)
            outcomes["same"] += 1
        victim.write_bytes(original)
    assert outcomes["refused"] >= 250, outcomes


def test_a_digest_array_declared_larger_is_refused_before_it_is_read(tmp_path, data, monkeypatch):
    # (a fuzz finding: the digests' header declaring (chunks, 5, 10**6) had the reader read every
    # absent chunk of that shape, seconds, before comparing the shape)
    path = tmp_path / "s.zarr"
    store.save_zarr(data, path, chunk=20)
    meta = path / store._DIGESTS / "zarr.json"
    doc = json.loads(meta.read_text())
    assert doc["shape"] == [3, 5, 32]
    doc["shape"] = [3, 5, 10**6]
    meta.write_text(json.dumps(doc))
    read = []
    original = store.ZarrDataset._read_small
    monkeypatch.setattr(store.ZarrDataset, "_read_small",
                        lambda self, p, name: read.append(name) or original(self, p, name))
    with pytest.raises(ValueError, match=r"sha256 has shape \(3, 5, 1000000\), expected \(3, 5, 32\)"):
        store.open_zarr(path)
    assert store._DIGESTS not in read


def _edit_attrs(path, **changes):
    meta = path / "zarr.json"
    doc = json.loads(meta.read_text())
    for key, value in changes.items():
        if value is None:
            doc["attributes"].pop(key, None)
        else:
            doc["attributes"][key] = value
    meta.write_text(json.dumps(doc))


@pytest.mark.parametrize("digests", [True, False], ids=["with-digests", "legacy"])
@pytest.mark.parametrize("corrupt", ["truncated-chunk", "garbage-chunk", "no-seed", "no-config", "deep-config",
                                     "negative-chunk", "huge-grid", "nan-rows"])
def test_corrupt_stores_are_one_line_errors_in_train(tmp_path, data, capsys, corrupt, digests):
    path = tmp_path / "s.zarr"
    store.save_zarr(data, path, chunk=20)
    if not digests:  # a store written before there were digests: structure and values checked
        _edit_attrs(path, header_sha256=None)
    victim = chunk_files(path, "d")[0]
    if corrupt == "truncated-chunk":
        victim.write_bytes(victim.read_bytes()[:50])
    elif corrupt == "garbage-chunk":
        victim.write_bytes(os.urandom(4000))
    elif corrupt == "no-seed":
        _edit_attrs(path, seed=None)
    elif corrupt == "no-config":
        _edit_attrs(path, config=None)
    elif corrupt == "deep-config":
        _edit_attrs(path, config="[" * 5000 + "]" * 5000)
    elif corrupt == "negative-chunk":
        _edit_attrs(path, chunk=-20)
    elif corrupt == "huge-grid":
        meta = path / "t" / "zarr.json"
        doc = json.loads(meta.read_text())
        doc["shape"] = [10**12]
        meta.write_text(json.dumps(doc))
    elif corrupt == "nan-rows":
        group = zarr.open_group(str(path), mode="r+")
        group["d"][3, 7] = np.nan
    model = tmp_path / "m.safetensors"
    code = main(["train", str(path), str(model), "--epochs", "1", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("fhn-inverse train: error:") and err.count("\n") == 1, err
    assert str(path) in err and not model.exists()
