"""The user's path without traps: every map records its grid and refuses series it cannot read
correctly (another grid, a grid running past the data, times in other units, times given to a map
that records no grid); outputs name their columns as ``info`` does; calibrated standard
deviations and bounds inside the prior's support; ensembles take times like single maps."""

import json
import warnings

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse.cli import main as _main


def main(argv) -> int:
    try:
        return _main([str(a) for a in argv])
    except SystemExit as e:
        return e.code


@pytest.fixture(scope="module")
def data():
    return fi.Dataset.generate(300, 2, noise=fi.AR1Noise(), progress=False)


@pytest.fixture(scope="module")
def cnn(data):
    """The README's first CNN: trained on the series themselves, no features= and no t=."""
    return fi.InverseMap.cnn((4, 4), dense=(8,), seed=0).fit(data.d, data.theta, epochs=2, progress=False)


@pytest.fixture(scope="module")
def fine(data):
    """Series of the same θ observed at Δt 0.1 over 0 … 99.9 (half the map's window)."""
    t = np.arange(1000) * 0.1
    u = fi.simulate(data.theta[:40], t=t)
    return t, u + 0.05 * np.random.default_rng(0).standard_normal(u.shape)


def test_a_map_trained_on_series_without_features_records_the_studys_grid(cnn, data, tmp_path):
    assert cnn.inputs == {"features": None, "grid": [0.0, 0.2, 1000], "targets": None}
    cnn.save(tmp_path / "m.safetensors")
    again = fi.InverseMap.load(tmp_path / "m.safetensors")
    assert again.inputs == cnn.inputs
    np.testing.assert_array_equal(again.predict(data.d[:5], t=data.t), cnn.predict(data.d[:5]))
    np.testing.assert_array_equal(again.predict(data.d[:5, None, :]), cnn.predict(data.d[:5]))  # (N, 1, L) too


def test_series_on_another_grid_are_refused_not_answered(cnn, fine):
    t, d = fine
    with pytest.raises(ValueError, match=r"1000 points at t = 0, 0.2, …, 199.8 \(Δt = 0.2\); these have 1000 "
                                         r"points at t = 0 … 99.9"):
        cnn.predict(d, t=t)
    with pytest.raises(ValueError, match=r"times run 0 … 99.9, so the map's grid reaches beyond them"):
        cnn.predict(d, t=t, resample=True)  # 0 … 199.8 cannot be interpolated from 0 … 99.9
    with pytest.raises(ValueError, match="other units"):
        cnn.predict(d, t=t / 1000, resample=True)  # seconds instead of the model's time


def test_resampling_within_the_data_is_exact_where_the_grids_agree(cnn, data):
    t = np.arange(2000) * 0.1  # twice as fine, covering the map's window
    u = np.stack([np.interp(t, data.t, row) for row in data.d[:5]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(cnn.predict(u, t=t, resample=True), cnn.predict(data.d[:5]), rtol=1e-6)


def _csv_with_times(path, t, d, ids=None):
    ids = ids or [f"cell {i}" for i in range(len(d))]
    lines = ["id," + ",".join(f"{v:g}" for v in t)]
    lines += [f"{i}," + ",".join(f"{v:.6g}" for v in row) for i, row in zip(ids, d)]
    path.write_text("\n".join(lines) + "\n")


def test_the_cli_refuses_each_grid_trap_with_one_line(cnn, data, fine, tmp_path, capsys):
    model = tmp_path / "m.safetensors"
    cnn.save(model)
    t, d = fine
    traps = {"fine.csv": (t, d, []), "fine_resample.csv": (t, d, ["--resample"]),
             "seconds.csv": (data.t / 1000, data.d[:5], ["--resample"])}
    for name, (times, series, extra) in traps.items():
        _csv_with_times(tmp_path / name, times, series)
        assert main(["predict", model, tmp_path / name, *extra]) == 2, name
        err = capsys.readouterr().err
        assert err.startswith("fhn-inverse predict: error:") and err.count("\n") == 1, err
    tsv = tmp_path / "fine.tsv"  # an ID cell, then the times: a time row
    tsv.write_text("id\t" + "\t".join(f"{v:g}" for v in t) + "\n"
                   + "\n".join(f"s{i}\t" + "\t".join(f"{v:.6g}" for v in row) for i, row in enumerate(d)) + "\n")
    assert main(["predict", model, tsv]) == 2
    assert "these have 1000 points at t = 0 … 99.9" in capsys.readouterr().err


def test_times_given_to_a_map_without_a_grid_are_an_error(data, tmp_path, capsys):
    # as 'train' wrote maps before they recorded their grid: trained on the time features (N, 1, L)
    old = fi.InverseMap.dense(units=[8], seed=0).fit(fi.features(data.d[:, :500], "time"), data.theta, epochs=1,
                                                    progress=False)
    assert old.inputs is None
    old.save(tmp_path / "old.safetensors")
    _csv_with_times(tmp_path / "s.csv", data.t[:500], data.d[:3, :500])
    assert main(["predict", tmp_path / "old.safetensors", tmp_path / "s.csv"]) == 2
    assert "records no grid" in capsys.readouterr().err
    np.savetxt(tmp_path / "plain.csv", data.d[:3, :500], delimiter=",")  # no times: answered
    assert main(["predict", tmp_path / "old.safetensors", tmp_path / "plain.csv"]) == 0
    # such a map on the study's grid (what 'train' used then) takes series with the study's times
    old = fi.InverseMap.dense(units=[8], seed=0).fit(fi.features(data.d, "time"), data.theta, epochs=1,
                                                    progress=False)
    old.save(tmp_path / "old1000.safetensors")
    _csv_with_times(tmp_path / "study.csv", data.t, data.d[:3])
    assert main(["predict", tmp_path / "old1000.safetensors", tmp_path / "study.csv"]) == 0
    _csv_with_times(tmp_path / "fine.csv", data.t / 2, data.d[:3])
    assert main(["predict", tmp_path / "old1000.safetensors", tmp_path / "fine.csv"]) == 2
    assert "are not its grid" in capsys.readouterr().err


def test_output_columns_are_named_as_info_names_them(cnn, data, tmp_path, capsys):
    cnn.save(tmp_path / "m.safetensors")
    np.save(tmp_path / "s.npy", data.d[:3])
    assert main(["predict", tmp_path / "m.safetensors", tmp_path / "s.npy"]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert header == "id,theta0,theta1"
    assert main(["info", tmp_path / "m.safetensors", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["targets"] == ["theta0", "theta1"]


def test_intervals_stay_inside_the_priors_support(data):
    trained_on = {**data.config, "series": "observed", "size": len(data)}
    m = fi.InverseMap.dense(units=[16], output_activation=None, seed=0)
    m.fit(data.d, data.theta, epochs=2, loss="gaussian_nll", progress=False, trained_on=trained_on)
    wide = m.calibration is not None
    lo, hi = m.interval(data.d[:100], 0.99)
    prior = m.prior
    assert wide and np.all(lo >= prior.lower) and np.all(hi <= prior.upper)
    raw_lo = m.predict(data.d[:100]) - 3 * np.sqrt(np.diagonal(m.predict(data.d[:100], return_cov=True)[1],
                                                               axis1=1, axis2=2))
    assert np.any(raw_lo < prior.lower)  # the clip did something: a 2-epoch map is wide


def test_ensembles_take_times_like_single_maps(data, tmp_path, capsys):
    ens = fi.Ensemble.like(fi.InverseMap.dense(units=[8], output_activation=None, seed=0), 2).fit(
        data.d, data.theta, epochs=1, loss="gaussian_nll", progress=False)
    lo, hi = ens.interval(data.d[:4], 0.9, t=data.t)
    np.testing.assert_array_equal(lo, ens.interval(data.d[:4], 0.9)[0])
    assert ens.sample(data.d[:4], 3, t=data.t).shape == (4, 3, 2)
    ens.save(tmp_path / "ens")
    np.save(tmp_path / "s.npy", data.d[:4])
    assert main(["predict", tmp_path / "ens", tmp_path / "s.npy", "--level", "0.9"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("id,theta0,theta1,theta0_sd") and len(out) == 5


def test_to_torch_gives_the_mean_and_covariance_of_single_maps_and_ensembles(data):
    torch = pytest.importorskip("torch")
    members = [fi.InverseMap.dense(units=[8], output_activation=None, seed=s) for s in (0, 1)]
    for m in members:
        m.fit(data.d, data.theta, epochs=1, loss="gaussian_nll", scaling="standard", progress=False)
    members[1].cov_scale = 1.7
    x = data.d[:6]
    mean, cov = members[1].predict(x, return_cov=True)
    with torch.no_grad():
        t_mean, t_cov = members[1].to_torch(return_cov=True)(torch.from_numpy(x.astype(np.float32)))
    np.testing.assert_allclose(t_mean.numpy(), mean, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(t_cov.numpy(), cov, rtol=1e-4, atol=1e-7)
    ens = fi.Ensemble(members)
    mean, cov = ens.predict(x, return_cov=True)
    with torch.no_grad():
        t_mean, t_cov = ens.to_torch(return_cov=True)(torch.from_numpy(x.astype(np.float32)))
        np.testing.assert_allclose(ens.to_torch()(torch.from_numpy(x.astype(np.float32))).numpy(), mean,
                                   rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(t_mean.numpy(), mean, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(t_cov.numpy(), cov, rtol=1e-4, atol=1e-7)
    point = fi.InverseMap.dense(units=[8], seed=0).fit(data.d, data.theta, epochs=1, progress=False)
    with pytest.raises(ValueError, match="'gaussian_nll' head"):
        point.to_torch(return_cov=True)


def test_small_traps(data, tmp_path, capsys):
    import subprocess
    import sys

    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):  # as every scikit-learn estimator before fit
        clone(fi.InverseMap.dense()).predict(data.d[:2])
    with pytest.raises(RuntimeError):  # and what the package raised before
        fi.InverseMap.dense().predict(data.d[:2])
    np.savetxt(tmp_path / "s.csv", data.d[:3], delimiter=",")
    with pytest.raises(ValueError, match=r"s\.csv: a text file \(a table of series"):
        fi.InverseMap.load(tmp_path / "s.csv")
    m = fi.InverseMap.dense(units=[8], seed=0).fit(data.d, data.theta, epochs=1, progress=False)
    m.save(tmp_path / "m.safetensors")
    np.save(tmp_path / "many.npy", np.tile(data.d, (10, 1)))  # 3,000 lines: more than the pipe holds
    out = subprocess.run(f"{sys.executable} -m fhn_inverse predict {tmp_path / 'm.safetensors'} "
                         f"{tmp_path / 'many.npy'} | head -n 2", shell=True, capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.count("\n") == 2 and out.stderr == "", out.stderr


def test_the_scikit_learn_regressor_gives_intervals_and_calibrates(data):
    pytest.importorskip("sklearn")
    from fhn_inverse.sklearn import InverseMapRegressor

    reg = InverseMapRegressor(arch="dense", units=(8,), loss="gaussian_nll", epochs=2, seed=0)
    reg.fit(data.d[:250], data.theta[:250])
    lo, hi = reg.interval(data.d[250:], 0.9)
    assert lo.shape == (50, 2) and np.all(lo <= hi)
    before = reg.model_.calibration
    assert reg.calibrate(data.d[250:], data.theta[250:]) is reg and reg.model_.calibration is not before


@pytest.fixture(scope="module")
def cli_map(tmp_path_factory):
    """A map as the command line trains it: it records the data's prior and noise."""
    folder = tmp_path_factory.mktemp("cli")
    assert main(["simulate", folder / "d.npz", "-n", "300", "--quiet"]) == 0
    assert main(["train", folder / "d.npz", folder / "m.safetensors", "--arch", "dense", "--epochs", "2",
                 "--loss", "gaussian_nll", "--quiet"]) == 0
    return folder / "m.safetensors"


def test_series_outside_the_training_data_are_flagged(cli_map, data, tmp_path, capsys):
    d = np.vstack([data.d[:20], 30 * data.d[20:23], data.d[23:26] + 2.0 * np.random.default_rng(1).standard_normal(
        (3, 1000))])  # 20 like the training data, 3 in other units, 3 with four times the noise
    np.save(tmp_path / "s.npy", d)
    assert main(["predict", cli_map, tmp_path / "s.npy", "-o", tmp_path / "p.csv"]) == 2  # no answer that misleads
    err = capsys.readouterr().err
    assert "6 of 26 series lie outside what the map was trained on" in err and "--keep-ood" in err
    assert not (tmp_path / "p.csv").exists()
    assert main(["predict", cli_map, tmp_path / "s.npy", "-o", tmp_path / "p.csv", "--keep-ood"]) == 0
    err = capsys.readouterr().err
    assert "check: 6 of 26 series outside what the map was trained on" in err and "20: min" in err
    rows = np.loadtxt(tmp_path / "p.csv", delimiter=",", skiprows=1)
    np.testing.assert_array_equal(rows[:, -1], [0] * 20 + [1] * 6)
    assert main(["predict", cli_map, tmp_path / "s.npy", "--no-check"]) == 0
    assert "ood" not in capsys.readouterr().out.splitlines()[0]


def test_predict_fit_is_the_noise_aware_map_fit_with_intervals(cli_map, tmp_path, capsys):
    data = fi.Dataset.generate(40, 21, noise=fi.AR1Noise(), progress=False)
    _csv_with_times(tmp_path / "lab.csv", data.t, data.d)
    assert main(["predict", cli_map, tmp_path / "lab.csv", "--level", "0.9", "-o", tmp_path / "net.csv"]) == 0
    assert main(["predict", cli_map, tmp_path / "lab.csv", "--fit", "--level", "0.9", "-o", tmp_path / "fit.csv"]) == 0
    capsys.readouterr()
    def read(name):
        return ((tmp_path / name).read_text().splitlines()[0].split(","),
                np.genfromtxt(tmp_path / name, delimiter=",", skip_header=1)[:, 1:])

    header, fit = read("fit.csv")
    col = {name: fit[:, header.index(name) - 1] for name in header[1:]}
    theta = np.column_stack([col["theta0"], col["theta1"]])
    net_header, net = read("net.csv")
    net_theta = net[:, :2]
    assert np.mean(np.abs(theta - data.theta)) < 0.5 * np.mean(np.abs(net_theta - data.theta))
    lo = np.column_stack([col["theta0_lo90"], col["theta1_lo90"]])
    hi = np.column_stack([col["theta0_hi90"], col["theta1_hi90"]])
    covered = np.mean((lo <= data.theta) & (data.theta <= hi))
    assert 0.80 <= covered <= 1.0, covered  # 90 % of 80 within the binomial band (3 sd)
    prior = fi.default_prior()
    assert np.all(lo >= prior.lower) and np.all(hi <= prior.upper)
    np.testing.assert_allclose(np.median(col["noise_sd"] / (data.noise[:, 0] / 0.2)), 1.0, atol=0.1)
    assert np.mean(col["ppc_p"] < 0.001) < 0.2 and np.all(col["ood"] == 0)
    # the noise as the user measures it: its standard deviation and lag-one correlation
    _csv_with_times(tmp_path / "few.csv", data.t, data.d[:6])
    assert main(["predict", cli_map, tmp_path / "few.csv", "--fit", "--noise-sd", "0.3", "--noise-rho", "0.8"]) == 0
    out = capsys.readouterr().out.splitlines()
    given = np.genfromtxt(out[1:], delimiter=",")[:, 1:]
    h = out[0].split(",")
    np.testing.assert_allclose(given[:, h.index("noise_sd") - 1], 0.3)
    np.testing.assert_allclose(given[:, h.index("noise_rho") - 1], 0.8)
    assert main(["predict", cli_map, tmp_path / "few.csv", "--fit", "--noise-rho", "1.5"]) == 2
    assert "noise_rho" in capsys.readouterr().err


def test_every_calibrate_defaults_to_the_quantile_method():
    import inspect

    from fhn_inverse.cli import build_parser

    for method in (fi.InverseMap.calibrate, fi.Ensemble.calibrate):
        assert inspect.signature(method).parameters["method"].default == "quantile", method
    args = build_parser().parse_args(["calibrate", "m.safetensors", "d.npz"])
    assert args.method == "quantile"


def test_info_says_how_a_python_map_records_its_data(data, tmp_path, capsys):
    bare = fi.InverseMap.dense(units=[8], seed=0).fit(data.d, data.theta, epochs=1, progress=False)
    bare.save(tmp_path / "bare.safetensors")
    assert main(["info", tmp_path / "bare.safetensors"]) == 0
    assert "data: not recorded (fit(X, Y, trained_on=dataset)" in capsys.readouterr().out
    recorded = fi.InverseMap.dense(units=[8], seed=0).fit(data.d, data.theta, epochs=1, progress=False,
                                                         trained_on=data)
    recorded.save(tmp_path / "recorded.safetensors")
    assert main(["info", tmp_path / "recorded.safetensors"]) == 0
    out = capsys.readouterr().out
    assert '"kind": "gaussian"' in out and '"kind": "ar1"' in out  # the prior and the noise
