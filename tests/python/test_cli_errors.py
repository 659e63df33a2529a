"""The command line's user errors: one line on stderr, exit status 2, no traceback, no lost file;
config values checked like command-line values."""

import errno
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse._util.io import file_sha256
from fhn_inverse import cli


def fails(argv, capsys, status=2):
    """Run the command line, expecting it to exit with ``status``; its stderr (one line)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        cli.main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert info.value.code == status, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A data set and a dense map trained on it for one epoch (its file records its inputs)."""
    root = tmp_path_factory.mktemp("cli")
    data, model = root / "data.npz", root / "map.safetensors"
    fi.Dataset.generate(64, 0, noise=fi.AR1Noise(), progress=False).save(data)
    assert cli.main(["train", str(data), str(model), "--arch", "dense", "--epochs", "1", "--quiet"]) == 0
    return data, model


@pytest.mark.parametrize("argv, line", [
    (["simulate", "x.npz", "-n", "many"],
     "fhn-inverse simulate: error: argument -n: invalid int value: 'many' (see 'fhn-inverse simulate --help')"),
    (["train", "data.npz"], "fhn-inverse train: error: the following arguments are required: model "
                            "(see 'fhn-inverse train --help')"),
    (["transform"], "fhn-inverse: error: argument COMMAND: invalid choice: 'transform'"),
])
def test_argument_errors_are_one_line_too(argv, line, capsys):
    assert fails(argv, capsys).startswith(line)


# -------------------------------------------------------------------------------- sizes, memory
def test_huge_size_is_a_one_line_error_in_a_real_process(tmp_path):
    run = subprocess.run([sys.executable, "-m", "fhn_inverse", "simulate", str(tmp_path / "x.npz"),
                          "-n", "1000000000000"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert run.stderr.startswith("fhn-inverse simulate: error: -n must be in [1, ")
    assert run.stderr.count("\n") == 1 and "1,000,000,000,000" in run.stderr
    assert not (tmp_path / "x.npz").exists()


def test_thread_counts_beyond_the_core_range_are_one_line_errors(tmp_path, capsys):
    run = subprocess.run([sys.executable, "-m", "fhn_inverse", "simulate", str(tmp_path / "x.npz"), "-n", "4",
                          "--threads", "100000"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert run.stderr == f"fhn-inverse simulate: error: --threads must be in [0, {fi._core.MAX_THREADS}] " \
                         "(0 = all cores), got 100000\n"
    config = tmp_path / "run.toml"
    config.write_text("threads = 40000\n")
    err = fails(["simulate", tmp_path / "x.npz", "-n", "4", "--config", config], capsys)
    assert "--threads must be in [0, " in err and "got 40000" in err
    assert "got -1" in fails(["simulate", tmp_path / "x.npz", "-n", "4", "--threads", "-1"], capsys)
    assert not (tmp_path / "x.npz").exists()


def test_demo_sizes_are_checked_before_anything_runs(tmp_path, capsys):
    err = fails(["demo", "--out", tmp_path / "demo", "--train-size", "10", "--test-size", 10**12], capsys)
    assert "--train-size + --test-size must be in [1, " in err
    assert not (tmp_path / "demo").exists()


def test_memory_error_and_ctrl_c(tmp_path, capsys, monkeypatch):
    def out_of_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate 7.3 TiB")

    monkeypatch.setattr(fi.Dataset, "generate", out_of_memory)
    err = fails(["simulate", tmp_path / "x.npz", "-n", "10"], capsys)
    assert err == "fhn-inverse simulate: error: out of memory: Unable to allocate 7.3 TiB\n"

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    def long_error(*args, **kwargs):
        raise TypeError("incompatible function arguments:\n" + "[0.1, 0.2]\n" * 10_000)

    monkeypatch.setattr(fi.Dataset, "generate", long_error)
    err = fails(["simulate", tmp_path / "x.npz", "-n", "10"], capsys)
    assert err.startswith("fhn-inverse simulate: error: incompatible function arguments: [0.1, 0.2] [0.1, 0.2]")
    assert err.endswith(" …\n") and len(err) < 1100

    monkeypatch.setattr(fi.Dataset, "generate", interrupted)
    assert fails(["simulate", tmp_path / "x.npz", "-n", "10"], capsys, status=130) == \
        "fhn-inverse simulate: interrupted\n"


def test_ctrl_c_in_a_real_process_exits_130_with_one_line(tmp_path):
    import signal
    import time

    log = tmp_path / "stderr.txt"
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "fhn_inverse", "simulate", str(tmp_path / "x.npz"),
                                 "-n", "200000"], stdout=subprocess.DEVNULL, stderr=err)
        try:
            deadline = time.monotonic() + 30
            while "simulate" not in log.read_text() and time.monotonic() < deadline:  # the progress bar
                time.sleep(0.05)
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) == 130
        finally:
            proc.kill()
    text = log.read_text()
    assert "Traceback" not in text
    assert text.endswith("fhn-inverse simulate: interrupted\n")
    assert not (tmp_path / "x.npz").exists()


# ----------------------------------------------------------------------------- I/O failures
def test_full_disk_keeps_the_old_model(trained, tmp_path, capsys, monkeypatch):
    data, model = trained
    target = tmp_path / "map.safetensors"
    assert cli.main(["train", str(data), str(target), "--arch", "dense", "--epochs", "1", "--quiet"]) == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    capsys.readouterr()
    err = fails(["train", data, target, "--arch", "dense", "--epochs", "2", "--seed", "1", "--quiet"], capsys)
    assert "No space left on device" in err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # whole, and no temporaries


def test_read_only_folder(trained, tmp_path, capsys, monkeypatch):
    data, model = trained
    denied = tmp_path / "read-only"
    denied.mkdir()
    real_open = os.open

    def open_(path, *args, **kwargs):  # as a folder without write permission answers (even to root)
        if str(path).startswith(str(denied)):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)
    series = tmp_path / "series.npy"
    np.save(series, fi.Dataset.load(data).d[:3])
    err = fails(["predict", model, series, "-o", denied / "pred.csv"], capsys)
    assert err.startswith("fhn-inverse predict: error: [Errno 13] Permission denied")
    assert list(denied.iterdir()) == []


def test_a_folder_where_a_file_is_expected(trained, tmp_path, capsys):
    data, model = trained
    folder = tmp_path / "folder"
    folder.mkdir()
    (tmp_path / "folder.npz").mkdir()
    assert "is a folder" in fails(["simulate", tmp_path / "folder.npz", "-n", "2"], capsys)
    assert "is a folder" in fails(["train", data, folder, "--epochs", "1"], capsys)
    assert "is a folder" in fails(["predict", model, data, "-o", folder], capsys)
    assert str(folder) in fails(["predict", model, folder], capsys)
    assert str(folder) in fails(["train", folder, tmp_path / "m.safetensors"], capsys)
    assert "cannot read config" in fails(["simulate", tmp_path / "x.npz", "--config", folder], capsys)


# --------------------------------------------------------------------------- hostile files
@pytest.mark.parametrize("name, content, match", [
    ("random.npy", os.urandom(200), "cannot read series file"),
    ("pickled.npy", None, "cannot read series file"),
    ("complex.npy", np.ones((2, 1000), dtype=complex), "must be a real numeric array"),
    ("cube.npy", np.ones((2, 3, 4)), "one observed quantity, (N, L); got shape (2, 3, 4)"),
    ("hyper.npy", np.ones((2, 3, 4, 5)), "must have 1 or 2 or 3 dimensions"),
    ("nan.csv", b"1,2,nan\n", "nan.csv, line 1, column 3: a missing value where a number belongs"),
    ("words.csv", b"theta0,theta1\nx,y\n", "words.csv, line 2, column 2: 'y' where a number belongs"),
    ("binary.csv", bytes(range(256)), "binary.csv: not a text file of series"),
    ("random.npz", os.urandom(300), "random.npz"),
])
def test_hostile_series_files(trained, tmp_path, capsys, name, content, match):
    _, model = trained
    path = tmp_path / name
    if content is None:
        np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        np.save(path, content)
    err = fails(["predict", model, path], capsys)
    assert match in err
    if "series" in match:
        assert name in err


@pytest.mark.parametrize("content", [np.ones(3, dtype=complex), np.array(["1.0", "2.0"]),
                                     np.zeros(2, dtype=[("a", "f8"), ("b", "f8")])])
def test_series_of_other_than_real_numbers_are_value_errors(tmp_path, content):
    path = tmp_path / "series.npy"
    np.save(path, content)
    with pytest.raises(ValueError, match=f"series in {path} must be a real numeric array"):
        fi.read_series(path)


def test_hostile_model_file(trained, tmp_path, capsys):
    data, _ = trained
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(os.urandom(500))
    assert "bad.safetensors" in fails(["predict", bad, data], capsys)


@pytest.mark.parametrize("sidecar, match", [
    ('{"targets": ["theta0", "theta1"]}', "'features' must be one of"),
    ('{"features": "wavelet", "targets": null}', "'features' must be one of"),
    ("[1, 2]", "must hold a JSON object"),
    ('{"features": "time", "targets": "theta0"}', "'targets' must be a list"),
    ('{"features": "time", "targets": ["a", "b", "c"]}', "names 3 targets, the model predicts 2"),
    ("[" * 100_000, "not valid JSON"),
    ('{"features": "time", "targets": null, "model_sha256": "00"}', "written for another version"),
    (b"\xff\xfe\x00binary", "not valid JSON"),
])
def test_invalid_sidecar(legacy, tmp_path, capsys, sidecar, match):
    data, model = legacy
    copy = tmp_path / "map.safetensors"
    copy.write_bytes(model.read_bytes())
    side = tmp_path / "map.safetensors.json"
    side.write_bytes(sidecar if isinstance(sidecar, bytes) else sidecar.encode())
    err = fails(["predict", copy, data], capsys)
    assert match in err and str(side) in err


@pytest.fixture(scope="module")
def legacy(tmp_path_factory):
    """A data set and a map written as 'train' wrote them before model files recorded their
    inputs: the network's input given as features, and a sidecar naming them."""
    root = tmp_path_factory.mktemp("legacy")
    data, model = root / "data.npz", root / "map.safetensors"
    ds = fi.Dataset.generate(64, 0, noise=fi.AR1Noise(), progress=False)
    ds.save(data)
    fi.InverseMap.dense(seed=0).fit(fi.features(ds.d, "fourier"), ds.theta, epochs=1, progress=False).save(model)
    meta = {"features": "fourier", "targets": ["theta0", "theta1"], "model_sha256": file_sha256(model)}
    (root / "map.safetensors.json").write_text(json.dumps(meta))
    return data, model


def test_old_model_files_with_a_sidecar_still_predict(legacy, capsys):
    data, model = legacy
    capsys.readouterr()
    assert cli.main(["predict", str(model), str(data)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "id,theta0,theta1"
    ds = fi.Dataset.load(data)
    expected = fi.InverseMap.load(model).predict(fi.features(ds.d, "fourier"))
    np.testing.assert_allclose(np.array([row.split(",")[1:] for row in lines[1:]], dtype=float), expected,
                               rtol=1e-5)


def test_a_map_predicts_from_its_file_alone(tmp_path, capsys):
    data, model = tmp_path / "data.npz", tmp_path / "map.safetensors"
    ds = fi.Dataset.generate(64, 0, noise=fi.AR1Noise(), progress=False)
    ds.save(data)
    (tmp_path / "map.safetensors.json").write_text("{}")  # a stale sidecar of an earlier file there
    assert cli.main(["train", str(data), str(model), "--arch", "dense", "--features", "fourier", "--epochs", "1",
                     "--quiet"]) == 0
    assert not (tmp_path / "map.safetensors.json").exists()  # no side file: the model file says it all
    m = fi.InverseMap.load(model)
    assert m.inputs == {"features": "fourier", "grid": [0.0, pytest.approx(0.2), 1000],
                        "targets": ["theta0", "theta1"]}
    capsys.readouterr()
    assert cli.main(["predict", str(model), str(data)]) == 0
    lines = capsys.readouterr().out.splitlines()
    bare = fi.InverseMap.load(model)
    bare.inputs = None  # the same network, given the Fourier features by hand
    assert lines[0] == "id,theta0,theta1,ood"
    np.testing.assert_allclose(np.array([r.split(",")[1:3] for r in lines[1:]], dtype=float), bare.predict(
        fi.features(ds.d, "fourier")), rtol=1e-5)
    half = tmp_path / "half.npy"
    np.save(half, ds.d[:, ::2])
    assert "the map takes series of 1000 points" in fails(["predict", model, half], capsys)


# ------------------------------------------------------------------------------- configs
@pytest.mark.parametrize("toml, match", [
    ('arch = "transformer"\n', "arch: invalid choice: 'transformer' (choose from 'cnn', 'dense')"),
    ('epochs = "ten"\n', "epochs: invalid int value: 'ten'"),
    ("epochs = 1.5\n", "epochs: invalid int value: 1.5"),
    ("epochs = true\n", "epochs must be a string or a number"),
    ("lr = [0.1]\n", "lr must be a string or a number"),
    ("lr = 'fast'\n", "lr: invalid float value: 'fast'"),
    ("joint = 1\n", "joint is a flag: it must be true or false"),
    ("quiet = 'yes'\n", "quiet is a flag"),
    ("[train]\nepochs = 3\n", "unknown option 'train'"),
    ("colour = 'blue'\n", "unknown option 'colour' for 'train'"),
    ("config = 'other.toml'\n", "unknown option 'config'"),
    ("model = 'other.safetensors'\n", "'model' is a positional argument"),
    ("epochs = \n", "is not valid TOML"),
])
def test_config_values_are_checked_like_command_line_values(trained, tmp_path, capsys, toml, match):
    data, _ = trained
    config = tmp_path / "run.toml"
    config.write_text(toml)
    err = fails(["train", data, tmp_path / "m.safetensors", "--config", config], capsys)
    assert err.startswith(f"fhn-inverse train: error: config {config}") and match in err
    assert not (tmp_path / "m.safetensors").exists()


def test_binary_and_oversized_configs(tmp_path, capsys):
    binary = tmp_path / "binary.toml"
    binary.write_bytes(bytes(range(256)))
    assert "is not valid TOML" in fails(["simulate", tmp_path / "x.npz", "--config", binary], capsys)
    big = tmp_path / "big.toml"
    big.write_text("# comment\n" * 200_000)
    assert "larger than 1,048,576 bytes" in fails(["simulate", tmp_path / "x.npz", "--config", big], capsys)
    assert "cannot read config" in fails(["simulate", tmp_path / "x.npz", "--config", tmp_path / "none"], capsys)


def test_command_line_wins_over_config_in_every_spelling(tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text('n = 7\nnoise = "none"\nquiet = true\nseed = "3"\n')
    out = tmp_path / "x.npz"
    assert cli.main(["simulate", str(out), "-n", "5", "--config", str(config)]) == 0
    data = fi.Dataset.load(out)
    assert len(data) == 5 and data.seed == 3 and data.config["noise"] is None
    assert cli.main(["simulate", str(out), "--config", str(config), "--noise=ar1"]) == 0
    data = fi.Dataset.load(out)
    assert len(data) == 7 and data.config["noise"] is not None
    assert "simulate" not in capsys.readouterr().err  # quiet from the config: no progress bar


def test_config_keys_with_dashes(trained, tmp_path):
    data, _ = trained
    config = tmp_path / "run.toml"
    config.write_text('batch-size = 16\nepochs = 2\narch = "dense"\nquiet = true\n')
    model = tmp_path / "m.safetensors"
    assert cli.main(["train", str(data), str(model), "--config", str(config), "--epochs", "1"]) == 0
    training = fi.InverseMap.load(model).parts.training
    assert training["batch_size"] == 16 and training["epochs"] == 1
