"""Hardening of several entry points, one fault each (the letter in a test's comment names it):

A. every Dataset the constructor accepts saves to a file that loads (one validation for both);
B. lists where arrays are expected, and a prior given as (low, high) bounds or of a wrong type;
C. a data set whose config holds the noise in a form the package does not write;
D. n_threads and stream indices beyond the native integer types: ValueError naming the range;
E. laplace_covariance's message on a singular precision true to whether a prior was given;
F. ar1_whiten refuses series whose whitened values overflow, naming the rows;
G. reproduce --seeds below 1;
H. atomic writes through a symbolic link replace the file it points to, not the link;
I. Ctrl-C while diagnose draws and ranks 100,000 posterior samples per series lands within 0.5 s.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse import _core, cli
from fhn_inverse._util.io import atomic_open, atomic_write_text
from fhn_inverse.models.noise import noise_from_dict
from fhn_inverse.uncertainty import calibration as cal
from fhn_inverse.uncertainty import coverage as cov_module
from fhn_inverse.uncertainty import sbc as sbc_module
from fhn_inverse.uncertainty import stats

ARRAYS = ("t", "theta", "u", "d", "noise", "index")
LATENCY = 0.5  # seconds from SIGINT to KeyboardInterrupt (as tests/python/test_interrupt_threads.py)
THREADS_RANGE = rf"n_threads must be in \[0, {_core.MAX_THREADS}\]"


def arrays(n=4, length=12, seed=1):
    """The arrays of a small valid data set, as keyword arguments of Dataset."""
    rng = np.random.default_rng(seed)
    u = rng.normal(size=(n, length))
    return dict(t=np.linspace(0.0, 2.2, length), theta=rng.random((n, 2)), u=u, d=u + 0.1,
                noise=np.full((n, 2), 0.5), index=np.arange(7, 7 + n))


def assert_same(a: fi.Dataset, b: fi.Dataset):
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.seed == b.seed and a.config == b.config


# --------------------------------------------------------------- A: what exists saves and loads
def _nan_in(name):
    kw = arrays()
    kw[name] = kw[name].astype(np.float64)
    kw[name].flat[1] = np.nan
    return kw


CANDIDATES = {  # keyword arguments of Dataset: valid ones must round-trip, the others be refused
    "valid": lambda: arrays(),
    "integer series": lambda: {**arrays(), "u": np.arange(48).reshape(4, 12), "d": np.ones((4, 12), np.int32)},
    "float32": lambda: {k: v.astype(np.float32) if v.dtype.kind == "f" else v for k, v in arrays().items()},
    "uint index": lambda: {**arrays(), "index": np.arange(4, dtype=np.uint32)},
    "numpy seed": lambda: {**arrays(), "seed": np.uint64(2**64 - 1)},
    "nested config": lambda: {**arrays(), "config": {"a": [1, {"b": None}], "noise": fi.AR1Noise().to_dict()}},
    "NaN in u": lambda: _nan_in("u"),
    "NaN in t": lambda: _nan_in("t"),
    "inf in theta": lambda: {**arrays(), "theta": np.full((4, 2), np.inf)},
    "NaN in noise": lambda: _nan_in("noise"),
    "strings in d": lambda: {**arrays(), "d": np.full((4, 12), "x")},
    "objects in u": lambda: {**arrays(), "u": np.full((4, 12), None, dtype=object)},
    "complex u": lambda: {**arrays(), "u": arrays()["u"] + 0j},
    "bool noise": lambda: {**arrays(), "noise": np.ones((4, 2), dtype=bool)},
    "float index": lambda: {**arrays(), "index": np.arange(4.0)},
    "negative index": lambda: {**arrays(), "index": np.arange(-4, 0)},
    "index beyond int64": lambda: {**arrays(), "index": np.full(4, 2**63, dtype=np.uint64)},
    "decreasing t": lambda: {**arrays(), "t": np.linspace(1.0, 0.0, 12)},
    "repeated t": lambda: {**arrays(), "t": np.r_[0.0, np.linspace(0.0, 1.0, 11)]},
    "negative seed": lambda: {**arrays(), "seed": -1},
    "seed 2**64": lambda: {**arrays(), "seed": 2**64},
    "float seed": lambda: {**arrays(), "seed": 1.5},
    "config list": lambda: {**arrays(), "config": [1, 2]},
    "config not JSON": lambda: {**arrays(), "config": {"x": object()}},
    "ragged theta": lambda: {**arrays(), "theta": [[0.1, 0.2]] * 3 + [[0.1]]},
    "u one-dimensional": lambda: {**arrays(), "u": np.zeros(12)},
    "d shorter": lambda: {**arrays(), "d": np.zeros((3, 12))},
    "t longer": lambda: {**arrays(), "t": np.linspace(0, 1, 13)},
}
VALID = {"valid", "integer series", "float32", "uint index", "numpy seed", "nested config"}


@pytest.mark.parametrize("case", list(CANDIDATES))
def test_a_every_dataset_the_constructor_accepts_saves_to_a_file_that_loads(case, tmp_path):  # A
    kwargs = CANDIDATES[case]()
    try:
        data = fi.Dataset(**kwargs)
    except (TypeError, ValueError) as err:
        assert case not in VALID, f"{case}: refused ({err})"
        return
    path = data.save(tmp_path / "data.npz")
    loaded = fi.Dataset.load(path)  # before: ValueError for NaN, strings, bools, … written by save
    assert_same(loaded, data)
    assert case in VALID, f"{case}: accepted, saved and loaded, but not a valid data set"
    for name in ARRAYS:  # the constructor stores what load gives: float64 arrays, an int64 index
        assert getattr(data, name).dtype == (np.int64 if name == "index" else np.float64)


@pytest.mark.parametrize("case, error, match", [
    ("NaN in u", ValueError, r"Dataset\.u must be finite, got nan at index \(0, 1\)"),
    ("strings in d", TypeError, r"Dataset\.d must be a real numeric array.*got dtype <U1"),
    ("bool noise", TypeError, r"Dataset\.noise must be a real numeric array.*got dtype bool"),
    ("float index", TypeError, r"Dataset\.index must be an integer array, got dtype float64"),
    ("negative index", ValueError, r"Dataset\.index must hold integers in \[0, 2\*\*63\), got -4"),
    ("decreasing t", ValueError, r"Dataset\.t must be strictly increasing"),
    ("seed 2**64", ValueError, r"seed must be in \[0, 2\*\*64\), got 18446744073709551616"),
    ("config list", TypeError, r"Dataset\.config must be a dict, got list"),
    ("config not JSON", TypeError, r"Dataset\.config must be JSON-serialisable"),
    ("d shorter", ValueError, r"Dataset\.d must have shape \(4, 12\), got \(3, 12\)"),
])
def test_a_the_constructor_names_the_value_and_what_is_accepted(case, error, match):  # A
    with pytest.raises(error, match=match):
        fi.Dataset(**CANDIDATES[case]())


def test_a_load_reports_the_shared_checks_naming_the_file(tmp_path):  # A
    kw = arrays()
    kw["u"][2, 3] = np.nan
    path = tmp_path / "nan.npz"
    np.savez(path, **kw, seed=np.uint64(0), config=np.array("{}"))
    with pytest.raises(ValueError, match=r"nan\.npz: Dataset\.u must be finite, got nan at index \(2, 3\)"):
        fi.Dataset.load(path)


def test_a_generated_data_round_trip(tmp_path):  # A
    data = fi.Dataset.generate(6, 3, noise=fi.AR1Noise(), start=11, progress=False)
    assert_same(fi.Dataset.load(data.save(tmp_path / "g.npz")), data)
    assert_same(fi.Dataset.load(data[2:5].save(tmp_path / "rows.npz")), data[2:5])


# ----------------------------------------------------------------------- B: lists and priors
def test_b_the_constructor_takes_lists_where_it_takes_arrays(tmp_path):  # B
    kw = arrays()
    data = fi.Dataset(**{k: v.tolist() for k, v in kw.items()}, seed=5, config={"noise": None})
    assert_same(data, fi.Dataset(**kw, seed=5, config={"noise": None}))
    assert len(data) == 4 and isinstance(data.u, np.ndarray)
    assert_same(fi.Dataset.load(data.save(tmp_path / "lists.npz")), data)


def test_b_generate_takes_a_list_of_bounds_as_a_uniform_box_prior():  # B
    bounds = [(0.1, 0.5), (0.2, 0.9)]
    data = fi.Dataset.generate(5, 2, prior=bounds, progress=False)
    expected = fi.UniformPrior([0.1, 0.2], [0.5, 0.9])
    np.testing.assert_array_equal(data.theta, expected.sample(5, 2))
    assert data.config["prior"] == expected.to_dict()
    assert np.all((data.theta >= [0.1, 0.2]) & (data.theta <= [0.5, 0.9]))
    same = fi.Dataset.generate(5, 2, prior=np.array(bounds), progress=False)
    np.testing.assert_array_equal(same.u, data.u)


@pytest.mark.parametrize("prior, error, match", [
    ("gaussian", TypeError, r"prior must be a GaussianPrior, a UniformPrior, .*\(low, high\).* got str"),
    (3, TypeError, r"prior must be a GaussianPrior, a UniformPrior, .* got int"),
    ({"kind": "uniform"}, TypeError, r"prior must be .* got dict"),
    ([0.4, 0.4], ValueError, r"prior bounds must have shape \(P, 2\).*got shape \(2,\)"),
    ([("a", "b")], TypeError, r"prior must be a real numeric array"),
    ([(0.5, 0.1), (0.2, 0.9)], ValueError, r"lower\[0\] < upper\[0\]"),
])
def test_b_generate_refuses_other_priors_naming_the_accepted_types(prior, error, match):  # B
    with pytest.raises(error, match=match):
        fi.Dataset.generate(3, prior=prior, progress=False)


def test_b_a_gaussian_prior_without_a_box_is_untruncated():  # found beside B: std without bounds failed
    prior = fi.GaussianPrior([0.4, 0.4], std=[0.3, 0.4])
    assert prior.lower.tolist() == [-np.inf, -np.inf] and prior.upper.tolist() == [np.inf, np.inf]
    theta = prior.sample(20_000, 1)
    assert np.all(np.abs(theta.mean(axis=0) - [0.4, 0.4]) < 0.02)
    assert np.all(np.abs(theta.std(axis=0) - [0.3, 0.4]) < 0.02)  # truncated at ±2 std it would be 0.26, 0.35
    only_upper = fi.GaussianPrior([0.0], std=[1.0], upper=[0.0])
    assert only_upper.lower.tolist() == [-np.inf] and np.all(only_upper.sample(100) <= 0.0)


# ------------------------------------------------------------------- C: the config's noise entry
def _savez(path, config):
    np.savez(path, **arrays(), seed=np.uint64(0), config=np.array(json.dumps(config)))
    return path


@pytest.mark.parametrize("noise", ["ar1", 0.07, ["ar1"], {"kind": "pink"}, {"kind": "ar1", "sigma": 0.1},
                                   {"kind": "ar1", "sigma": 0.1, "rho": 0.5, "dt": "x"}])
def test_c_a_noise_entry_the_package_does_not_write_is_refused_naming_the_file(noise, tmp_path):  # C
    path = _savez(tmp_path / "strange.npz", {"noise": noise})
    with pytest.raises(ValueError, match=r"strange\.npz: Dataset\.config\['noise'\] must be None or a noise's "
                                         r"to_dict\(\)"):
        fi.Dataset.load(path)
    with pytest.raises(ValueError, match=r"config\['noise'\] must be None or"):
        fi.Dataset(**arrays(), config={"noise": noise})


def test_c_noise_from_dict_names_the_expected_form():  # C
    with pytest.raises(ValueError, match=r"noise must be None or a dict such as AR1Noise\(\)\.to_dict\(\).*got 'ar1'"):
        noise_from_dict("ar1")
    with pytest.raises(ValueError, match=r"noise \{'kind': 'ar1'\} lacks 'sigma'"):
        noise_from_dict({"kind": "ar1"})
    for noise in (fi.AR1Noise(), fi.AR1Noise.study(), fi.GaussianNoise(0.1), fi.AR1Noise(0.05, 0.7, dt=1.0)):
        assert noise_from_dict(noise.to_dict()).to_dict() == noise.to_dict()


@pytest.fixture(scope="module")
def diagnose_files(tmp_path_factory):
    """A data set of 200 noisy series and a calibrated Gaussian-NLL map trained on it (the CLI's way)."""
    folder = tmp_path_factory.mktemp("diagnose")
    data, model = folder / "data.npz", folder / "nll.safetensors"
    assert cli.main(["simulate", str(data), "-n", "200", "--quiet"]) == 0
    assert cli.main(["train", str(data), str(model), "--arch", "dense", "--epochs", "2", "--loss", "gaussian_nll",
                     "--quiet"]) == 0
    assert fi.InverseMap.load(model).calibration is not None
    return data, model


def test_c_diagnose_on_a_data_set_with_a_string_noise_says_which_file_and_form(diagnose_files, tmp_path,
                                                                             capsys):  # C
    data, model = diagnose_files
    with np.load(data) as f:  # the data set as written, but for its config
        members = {k: f[k] for k in f.files}
    strange = tmp_path / "strange.npz"
    np.savez(strange, **{**members, "config": np.array(json.dumps({"noise": "ar1"}))})
    capsys.readouterr()
    with pytest.raises(SystemExit) as err:  # before: AttributeError: 'str' object has no attribute 'get'
        cli.main(["diagnose", str(model), str(strange), "--out", str(tmp_path / "out"), "--quiet"])
    message = capsys.readouterr().err
    assert err.value.code == 2
    assert "strange.npz" in message and "config['noise'] must be None or a noise's to_dict()" in message


# -------------------------------------------------------- D: beyond the native integer types
def _entry_points():
    theta = fi.default_prior().sample(2)
    u = np.sin(np.linspace(0, 20, 100))[None].repeat(2, axis=0)
    return {
        "simulate": lambda n: fi.simulate(theta, t=[0.0, 0.2], n_threads=n),
        "AR1Noise.sample": lambda n: fi.AR1Noise().sample(2, 5, n_threads=n),
        "ar1_noise": lambda n: fi.ar1_noise([1.0], [0.5], 5, n_threads=n),
        "spike_statistics": lambda n: fi.spike_statistics(u, np.arange(100) * 0.2, n_threads=n),
        "sensitivities": lambda n: fi.sensitivities(theta, t=[0.0, 0.2], n_threads=n),
        "laplace_covariance": lambda n: fi.laplace_covariance(theta, t=[0.0, 0.2, 0.4], n_threads=n),
        "ar1_whiten": lambda n: fi.ar1_whiten(u, 0.5, n_threads=n),
        "Dataset.generate": lambda n: fi.Dataset.generate(2, t=[0.0, 0.2], n_threads=n, progress=False),
    }


@pytest.mark.parametrize("name", list(_entry_points()))
@pytest.mark.parametrize("n_threads", [2**63, 2**64, 10**30])
def test_d_thread_counts_beyond_a_long_long_name_the_range(name, n_threads):  # D
    with pytest.raises(ValueError, match=THREADS_RANGE):  # before: pybind's "incompatible function arguments"
        _entry_points()[name](n_threads)


@pytest.mark.parametrize("name", list(_entry_points()))
def test_d_negative_thread_counts_beyond_a_long_long_name_the_range(name):  # D
    with pytest.raises(ValueError, match=rf"n_threads must be >= 0, got {-(2**63) - 1}; the range is "
                                         rf"\[0, {_core.MAX_THREADS}\]"):
        _entry_points()[name](-(2**63) - 1)


def test_d_diagnose_checks_the_thread_count_before_predicting(diagnose_files):  # D
    data, model = diagnose_files
    series = fi.Dataset.load(data)
    with pytest.raises(ValueError, match=THREADS_RANGE):  # before: pybind's TypeError from predict
        fi.diagnose(fi.InverseMap.load(model), series.d, series.theta, n_threads=2**63)


@pytest.mark.parametrize("draw", [
    lambda n, start: fi.default_prior().sample(n, 0, start),
    lambda n, start: fi.UniformPrior([0.0], [1.0]).sample(n, 0, start),
    lambda n, start: fi.AR1Noise().parameters(n, 0, start),
    lambda n, start: fi.AR1Noise().sample(n, 3, 0, start)[0],
    lambda n, start: fi.ar1_noise(np.ones(n), np.full(n, 0.5), 3, 0, start),
])
def test_d_stream_indices_stay_below_2_to_the_64(draw):  # D
    for n, start in ((1, 2**64), (2, 2**64 - 1), (3, 10**30)):
        with pytest.raises(ValueError, match=rf"start must be in \[0, 2\*\*64 - {n}\] for n = {n}\b"):
            draw(n, start)
    assert len(draw(1, 2**64 - 1)) == 1 and len(draw(2, 2**64 - 2)) == 2  # the last indices of the stream


def test_d_a_data_sets_indices_stay_within_int64():  # D
    for n, start in ((1, 2**64), (2, 2**63 - 1)):
        with pytest.raises(ValueError, match=rf"start must be in \[0, 2\*\*63 - {n}\] for n = {n}\b"):
            fi.Dataset.generate(n, start=start, t=[0.0, 0.2], progress=False)
    data = fi.Dataset.generate(1, start=2**63 - 1, t=[0.0, 0.2], progress=False)
    assert data.index.tolist() == [2**63 - 1]


def test_d_simulate_start_beyond_the_stream_is_a_one_line_error(tmp_path, capsys):  # D
    with pytest.raises(SystemExit) as err:
        cli.main(["simulate", str(tmp_path / "d.npz"), "-n", "3", "--start", str(2**64), "--quiet"])
    message = capsys.readouterr().err
    assert err.value.code == 2 and "start must be in [0, 2**63 - 3] for n = 3" in message, message
    assert "incompatible function arguments" not in message and not (tmp_path / "d.npz").exists()


# ---------------------------------------------------------------- E: laplace_covariance's message
def test_e_a_singular_precision_with_a_prior_does_not_ask_for_a_prior():  # E
    theta = [0.4, 0.4]
    with pytest.raises(ValueError) as err:  # σ = 1e-200: the information JᵀΓ⁻¹J overflows
        fi.laplace_covariance(theta, noise=(1e-200, 0.5))
    message = str(err.value)
    assert "pass a prior" not in message
    assert "with the prior given" in message and "information" in message and "overflow" in message
    with pytest.raises(ValueError, match="pass a prior"):  # one point at t = 0: J = 0, no prior
        fi.laplace_covariance(theta, t=[0.0], prior=None)
    cov = fi.laplace_covariance(theta, t=[0.0])  # the same with the default prior: its covariance
    np.testing.assert_allclose(cov, fi.default_prior().covariance)


# ------------------------------------------------------------------------- F: ar1_whiten overflow
def test_f_ar1_whiten_refuses_series_whose_whitened_values_overflow():  # F
    with pytest.raises(ValueError, match=r"overflow.*row\(s\) \[0\]"):
        fi.ar1_whiten([1e308, -1e308, 1e308], 0.9)  # x_1 − ρ x_0 = −1.9e308
    x = np.zeros((4, 3))
    x[1] = [1e308, -1e308, 0.0]
    x[3] = [0.0, 1.5e308, -1.5e308]
    with pytest.raises(ValueError, match=r"row\(s\) \[1, 3\]"):
        fi.ar1_whiten(x, [0.9, 0.9, 0.9, 0.2])
    big = fi.ar1_whiten([1e308, 1e308, -1e307], 0.5)  # large but representable: computed
    np.testing.assert_allclose(big, [np.sqrt(0.75) * 1e308, 0.5e308, -0.6e308])


# ------------------------------------------------------------------------- G: reproduce --seeds
def test_g_reproduce_needs_at_least_one_seed(monkeypatch, tmp_path, capsys):  # G
    from fhn_inverse.study import experiments

    calls = []

    def fake(name, out, **kwargs):
        calls.append(kwargs["seeds"])
        return {"results": {}, "elapsed_s": 0.0}

    monkeypatch.setattr(experiments, "reproduce", fake)
    for seeds in ("0", "-2"):
        with pytest.raises(SystemExit) as err:  # before: --seeds 0 ran the experiment with one seed
            cli.main(["reproduce", "accuracy", "--quick", "--seeds", seeds, "--out", str(tmp_path)])
        assert err.value.code == 2 and f"--seeds must be >= 1, got {seeds}" in capsys.readouterr().err
    assert calls == []
    for argv, expected in ((["--seeds", "3"], 3), (["--quick"], 1), ([], 5)):
        assert cli.main(["reproduce", "accuracy", *argv, "--out", str(tmp_path), "--quiet"]) == 0
        assert calls.pop() == expected


# ----------------------------------------------------------------------- H: writes through links
def test_h_atomic_writes_replace_the_file_a_link_points_to(tmp_path):  # H
    real_dir, link_dir = tmp_path / "real", tmp_path / "links"
    real_dir.mkdir()
    link_dir.mkdir()
    target = real_dir / "model.bin"
    target.write_text("old")
    link = link_dir / "model.bin"
    link.symlink_to(os.path.relpath(target, link_dir))  # a relative link …
    chain = link_dir / "current.bin"
    chain.symlink_to(link)  # … and a link to it
    with atomic_open(chain, "w") as f:
        f.write("new")
        temporaries = [p.name for p in real_dir.iterdir() if p.name.endswith(".tmp")]
        assert len(temporaries) == 1 and temporaries[0].startswith(".model.bin.")  # beside the real file
        assert not [p for p in link_dir.iterdir() if p.name.endswith(".tmp")]
    assert chain.is_symlink() and link.is_symlink()  # before: the link became a regular file
    assert os.readlink(link) == os.path.relpath(target, link_dir) and os.readlink(chain) == str(link)
    assert target.read_text() == "new" and chain.read_text() == "new"
    assert sorted(p.name for p in real_dir.iterdir()) == ["model.bin"]
    assert sorted(p.name for p in link_dir.iterdir()) == ["current.bin", "model.bin"]
    dangling = link_dir / "later.txt"
    dangling.symlink_to(real_dir / "later.txt")
    atomic_write_text(dangling, "created")  # a link to a file not there yet: the file is created
    assert dangling.is_symlink() and (real_dir / "later.txt").read_text() == "created"


def test_h_saving_a_model_and_a_data_set_over_links_keeps_the_links(tmp_path):  # H
    rng = np.random.default_rng(0)
    x = rng.random((30, 8)).astype(np.float32)
    model = fi.InverseMap.dense(units=[4], seed=0).fit(x, rng.random((30, 2)), epochs=1, progress=False)
    store = tmp_path / "store"
    store.mkdir()
    model.save(store / "v1.safetensors")
    link = tmp_path / "latest.safetensors"
    link.symlink_to(store / "v1.safetensors")
    model.fit(x, rng.random((30, 2)), epochs=1, progress=False)
    model.save(link)
    assert link.is_symlink() and not [p for p in (*tmp_path.iterdir(), *store.iterdir()) if p.suffix == ".tmp"]
    np.testing.assert_array_equal(fi.InverseMap.load(store / "v1.safetensors").predict(x), model.predict(x))
    data = fi.Dataset(**arrays())
    data.save(store / "data.npz")
    data_link = tmp_path / "data.npz"
    data_link.symlink_to(store / "data.npz")
    fi.Dataset(**arrays(seed=2)).save(data_link)
    assert data_link.is_symlink()
    assert_same(fi.Dataset.load(store / "data.npz"), fi.Dataset(**arrays(seed=2)))


# ------------------------------------------------------------------- I: Ctrl-C while drawing
def _interrupted_after(delay: float, call):
    """Run call() with SIGINT sent to this process after ``delay`` s; seconds from the signal to
    the KeyboardInterrupt (fails when the call ends without one)."""
    sent = []
    timer = threading.Timer(delay, lambda: (sent.append(time.perf_counter()), os.kill(os.getpid(), signal.SIGINT)))
    timer.start()
    try:
        call()
    except KeyboardInterrupt:
        caught = time.perf_counter()
    else:
        timer.cancel()
        try:  # a signal already on its way lands here
            timer.join()
            time.sleep(0.05)
        except KeyboardInterrupt:
            pass
        pytest.fail(f"the call ended without KeyboardInterrupt (signal sent: {bool(sent)})")
    timer.join()
    return caught - sent[0]


N_SERIES, N_DRAWS = 400, 100_000  # (N, S, D) = 8e7 numbers: whole-array NumPy calls took up to a second each


@pytest.fixture(scope="module")
def gaussians():
    rng = np.random.default_rng(3)
    mean = rng.normal(size=(N_SERIES, 2))
    a = rng.normal(size=(N_SERIES, 2, 2))
    cov = a @ np.transpose(a, (0, 2, 1)) + 0.1 * np.eye(2)
    theta = mean + rng.normal(size=(N_SERIES, 2))
    calibration = cal.QuantileCalibration.fit(theta, mean, cov, knots=50)
    return theta, mean, cov, calibration


DRAW_CALLS = {
    "QuantileCalibration.sample": lambda g, draws: g[3].sample(g[1], g[2], N_DRAWS, seed=1),
    "sample_gaussian": lambda g, draws: stats.sample_gaussian(g[1], g[2], N_DRAWS, seed=1),
    "sbc": lambda g, draws: sbc_module.sbc(g[0], draws),
    "coverage from samples": lambda g, draws: cov_module.coverage(g[0], samples=draws),
}


@pytest.mark.parametrize("name", list(DRAW_CALLS))
def test_i_ctrl_c_stops_work_on_many_draws_within_half_a_second(gaussians, name):  # I
    draws = np.random.default_rng(0).normal(size=(N_SERIES, N_DRAWS, 2)) if name in ("sbc", "coverage from samples") \
        else None
    latency = _interrupted_after(0.3, lambda: DRAW_CALLS[name](gaussians, draws))
    assert latency < LATENCY, f"{name}: KeyboardInterrupt {latency:.2f} s after SIGINT"


def test_i_draws_in_blocks_are_the_draws_of_one_call(gaussians, monkeypatch):  # I
    theta, mean, cov, calibration = gaussians
    theta, mean, cov = theta[:30], mean[:30], cov[:30]
    whole = {"cal": calibration.sample(mean, cov, 500, seed=4), "gauss": stats.sample_gaussian(mean, cov, 500, seed=4)}
    z = np.random.default_rng(4).standard_normal((30, 500, 2))
    expected = mean[:, None, :] + z @ np.transpose(np.linalg.cholesky(cov), (0, 2, 1))
    np.testing.assert_array_equal(whole["gauss"], expected)  # the law and stream of one NumPy call
    reference = (sbc_module.sbc(theta, whole["cal"]), cov_module.coverage(theta, samples=whole["cal"]))
    monkeypatch.setattr(stats, "BLOCK_ELEMENTS", 1000)  # 1 row of 500 draws per block
    np.testing.assert_array_equal(calibration.sample(mean, cov, 500, seed=4), whole["cal"])
    np.testing.assert_array_equal(stats.sample_gaussian(mean, cov, 500, seed=4), whole["gauss"])
    blocked = (sbc_module.sbc(theta, whole["cal"]), cov_module.coverage(theta, samples=whole["cal"]))
    np.testing.assert_array_equal(blocked[0].ranks, reference[0].ranks)
    np.testing.assert_array_equal(blocked[1].per_parameter, reference[1].per_parameter)
    np.testing.assert_array_equal(blocked[1].joint, reference[1].joint)
    monkeypatch.setattr(stats, "BLOCK_ELEMENTS", 64)  # a row split into blocks of 32 draws
    split = stats.sample_gaussian(mean, cov, 500, seed=4)
    np.testing.assert_allclose(split, whole["gauss"], rtol=1e-14, atol=1e-14)
    np.testing.assert_array_equal(sbc_module.sbc(theta, whole["cal"]).ranks, reference[0].ranks)


CHILD = textwrap.dedent("""
    import sys
    from fhn_inverse import cli
    from fhn_inverse.uncertainty import diagnostics

    def marked(name, function):
        def call(*args, **kwargs):
            print(name, flush=True)
            return function(*args, **kwargs)
        return call

    diagnostics._model_draws = marked("drawing", diagnostics._model_draws)
    diagnostics.sbc = marked("ranking", diagnostics.sbc)
    sys.exit(cli.main(sys.argv[1:]))
""")


@pytest.mark.parametrize("phase", ["drawing", "ranking"])
def test_i_sigint_stops_diagnose_with_100000_samples_within_half_a_second(diagnose_files, tmp_path, phase):  # I
    data, model = diagnose_files
    argv = ["diagnose", str(model), str(data), "--samples", str(N_DRAWS), "--out", str(tmp_path / "out"), "--quiet"]
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    child = subprocess.Popen([sys.executable, "-c", CHILD, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env)
    try:
        for line in child.stdout:
            if line.strip() == phase:
                break
        time.sleep(0.2)
        assert child.poll() is None, "diagnose ended before the signal"
        sent = time.perf_counter()
        child.send_signal(signal.SIGINT)
        child.wait(timeout=60)
        latency = time.perf_counter() - sent
        err = child.stderr.read()
    finally:
        child.kill()
        child.communicate()
    assert child.returncode == 130 and "interrupted" in err, err
    assert latency < LATENCY, f"diagnose exited {latency:.2f} s after SIGINT ({phase})"
    assert not Path(tmp_path / "out" / "report.json").exists()
