"""Faults of the fault probe (the hardening issue) that answered wrong or lost a file, each with the
test that failed before its fix: labels checked against the map before training, stream labels
checked before anything trains on them, predictions on standard output quoted as CSV, calibration
splits of at least MIN_CALIBRATION series, and sample sizes bounded before allocating."""

import csv
import io

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse import cli
from fhn_inverse.nn.checks import MAX_DRAWS
from fhn_inverse.uncertainty.calibration import MIN_CALIBRATION


@pytest.fixture(scope="module")
def data():
    return fi.Dataset.generate(120, 3, noise=fi.AR1Noise(), progress=False)


def test_targets_that_do_not_name_the_labels_columns_are_refused(data):
    m = fi.InverseMap.dense([4])
    with pytest.raises(ValueError, match=r"targets name 2 parameters \(theta0, theta1\); Y has 1 column"):
        m.fit(data.d, data.theta[:, :1], features="time", targets=["theta0", "theta1"], epochs=1, progress=False)
    assert not m.built  # refused before anything was built or trained


def test_train_on_a_one_column_theta_keeps_the_good_model(data, tmp_path, capsys):
    good = tmp_path / "good.safetensors"
    data.save(tmp_path / "data.npz")
    assert cli.main(["train", str(tmp_path / "data.npz"), str(good), "--arch", "dense", "--epochs", "1",
                     "--quiet"]) == 0
    before = good.read_bytes()
    one = fi.Dataset(data.t, data.theta[:, :1], data.u, data.d, data.noise, data.index, data.seed, data.config)
    one.save(tmp_path / "one.npz")
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        cli.main(["train", str(tmp_path / "one.npz"), str(good), "--arch", "dense", "--epochs", "1", "--quiet"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "Y has 1 column" in err and err.count("\n") == 1, err
    assert good.read_bytes() == before and fi.InverseMap.load(good).describe()["targets"] == ["theta0", "theta1"]


class _Blocks:
    """A minimal stream: two blocks of (series, labels) per epoch; ``bad`` replaces one label."""

    def __init__(self, data, bad=None):
        self.data, self.bad = data, bad
        self.t = data.t

    def block_sizes(self):
        return [60, 60]

    def describe(self):
        return {"stream": "test blocks"}

    def blocks(self, epoch):
        for k in range(2):
            labels = self.data.theta[60 * k: 60 * (k + 1)].copy()
            if self.bad is not None and (epoch, k) == self.bad[:2]:
                labels[self.bad[2], 0] = np.nan
            yield self.data.d[60 * k: 60 * (k + 1)], labels


@pytest.mark.parametrize("where", [(0, 0, 5), (1, 1, 7)])
def test_a_stream_with_labels_that_are_not_finite_trains_nothing_on_them(data, where):
    m = fi.InverseMap.dense([8], seed=0)
    epoch, k, row = where
    with pytest.raises(ValueError, match=f"block {k} of epoch {epoch} of the stream has labels that are not finite "
                                         f"\\(row {row}\\)"):
        m.fit(_Blocks(data, where), epochs=2, progress=False)
    if epoch == 0:
        assert not m.built or not m.history  # refused at the first block
    good = fi.InverseMap.dense([8], seed=0).fit(_Blocks(data), epochs=2, progress=False)
    assert np.isfinite(good.network.params).all() and len(good.history["loss"]) == 2


def test_predictions_on_standard_output_are_quoted_csv(data, tmp_path, capsys):
    model = tmp_path / "map.safetensors"
    data.save(tmp_path / "data.npz")
    assert cli.main(["train", str(tmp_path / "data.npz"), str(model), "--arch", "dense", "--epochs", "1",
                     "--quiet"]) == 0
    ids = ['cell "a", left', "cell b"]
    rows = [["series", *(f"t{k}" for k in range(1000))]] + [[ids[i], *map(repr, map(float, data.d[i]))]
                                                            for i in range(2)]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    (tmp_path / "two.csv").write_text(buffer.getvalue())
    capsys.readouterr()
    assert cli.main(["predict", str(model), str(tmp_path / "two.csv")]) == 0
    table = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert table[0][:3] == ["id", "theta0", "theta1"] and [r[0] for r in table[1:]] == ids
    assert all(len(r) == len(table[0]) for r in table)


def test_a_calibration_split_needs_enough_series(data, tmp_path, capsys):
    m = fi.InverseMap.dense([8], output_activation=None, seed=0)
    m.fit(data.d, data.theta, loss="gaussian_nll", calibration_split=None, epochs=1, progress=False)
    for method in ("nll", "coverage", "quantile"):
        with pytest.raises(ValueError, match=f"at least {MIN_CALIBRATION} series, got 1"):
            m.calibrate(data.d[:1], data.theta[:1], method=method)
    assert m.cov_scale == 1.0 and m.calibration is None
    # the command line: one line, exit 2, the model file unchanged
    model = tmp_path / "nll.safetensors"
    data.save(tmp_path / "data.npz")
    assert cli.main(["train", str(tmp_path / "data.npz"), str(model), "--arch", "dense", "--loss", "gaussian_nll",
                     "--epochs", "1", "--quiet"]) == 0
    before = model.read_bytes()
    fi.Dataset.generate(1, 9, noise=fi.AR1Noise(), progress=False).save(tmp_path / "one.npz")
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        cli.main(["calibrate", str(model), str(tmp_path / "one.npz"), "--method", "nll"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and f"at least {MIN_CALIBRATION} series" in err and err.count("\n") == 1
    assert model.read_bytes() == before


def test_draws_are_bounded_before_they_are_allocated(data):
    m = fi.InverseMap.dense([8], output_activation=None, seed=0)
    m.fit(data.d, data.theta, loss="gaussian_nll", calibration_split=0.2, epochs=1, progress=False)
    with pytest.raises(ValueError, match=f"at most {MAX_DRAWS:,} in one call"):
        m.sample(data.d[:40], 1 << 24)
    ens = fi.Ensemble.like(fi.InverseMap.dense([8], output_activation=None), 2)
    ens.fit(data.d, data.theta, loss="gaussian_nll", calibration_split=0.2, epochs=1, progress=False)
    with pytest.raises(ValueError, match=f"at most {MAX_DRAWS:,} in one call"):
        ens.sample(data.d[:40], 1 << 24)
    assert m.sample(data.d[:2], 3).shape == (2, 3, 2)


def test_a_store_bigger_than_the_disk_is_refused_before_anything_is_written(tmp_path, capsys):
    """12: ``simulate big.zarr -n 10**12`` had no size limit (the .npz path's is the memory)."""
    pytest.importorskip("zarr")
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        cli.main(["simulate", str(tmp_path / "big.zarr"), "-n", str(10**12), "--chunk", "1000"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.count("\n") == 1, err
    assert "-n must be in [1, " in err and "for a store on this disk" in err and "got 1,000,000,000,000" in err
    assert not (tmp_path / "big.zarr").exists()
    assert cli.main(["simulate", str(tmp_path / "small.zarr"), "-n", "40", "--chunk", "20", "--quiet"]) == 0
