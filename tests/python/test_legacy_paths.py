"""Pickles made by the package before it was laid out by area name the old module paths
(``fhn_inverse.simulation``, ``fhn_inverse.ensemble``, …). They load, and the objects give the same
numbers as they did. The fixtures in ``data/legacy_pickles`` were written by that build (commit
4444b97) with the script in their README, beside ``expected.npz``, what the objects computed there."""

import importlib
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse._util import legacy

HERE = Path(__file__).parent / "data" / "legacy_pickles"


def load(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with open(HERE / f"{name}.pkl", "rb") as f:
            return pickle.load(f)


@pytest.fixture(scope="module")
def expected():
    return np.load(HERE / "expected.npz")


def test_old_pickles_name_the_old_paths():
    for name, old in [("gaussian_prior", b"fhn_inverse.simulation"), ("ensemble", b"fhn_inverse.ensemble"),
                      ("dataset", b"fhn_inverse.dataset"), ("calibration", b"fhn_inverse.calibration")]:
        assert old in (HERE / f"{name}.pkl").read_bytes()


def test_old_pickles_load_and_give_the_same_numbers(expected):
    gp, up, noise = load("gaussian_prior"), load("uniform_prior"), load("ar1_noise")
    assert isinstance(gp, fi.GaussianPrior) and isinstance(up, fi.UniformPrior) and isinstance(noise, fi.AR1Noise)
    np.testing.assert_array_equal(gp.sample(5, seed=2), expected["gp"])
    np.testing.assert_array_equal(up.sample(5, seed=2), expected["up"])
    np.testing.assert_array_equal(noise.parameters(5, seed=2), expected["noise"])
    assert isinstance(load("gaussian_noise"), fi.GaussianNoise) and load("gaussian_noise").sigma == 0.05
    cfg = load("training_config")
    assert isinstance(cfg, fi.TrainingConfig) and (cfg.epochs, cfg.lr) == (3, 1e-3)
    data = load("dataset")
    assert isinstance(data, fi.Dataset)
    np.testing.assert_array_equal(data.d, expected["d"])
    x = np.random.default_rng(0).standard_normal((64, 20)).astype(np.float32)
    m = load("inverse_map")
    assert isinstance(m, fi.InverseMap) and m.head == "gaussian_nll"
    # the predictions were recorded by a build with eight-float AVX kernels: bit for bit there;
    # another width (AVX-512's sixteen) or the baseline level changes their last bits
    info = fi.build_info()
    if info["float_lanes"] == 8 and info["level"] != "baseline":
        same = np.testing.assert_array_equal
    else:
        def same(a, b):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    same(m.predict(x[:5]), expected["map"])
    ens = load("ensemble")
    assert isinstance(ens, fi.Ensemble)
    same(ens.predict(x[:5]), expected["ens"])
    cal = load("calibration")
    assert type(cal).__name__ == "QuantileCalibration"
    m.calibration = cal
    lo, hi = m.interval(x[:5], 0.9)
    assert np.all(lo < hi)


def test_old_paths_import_with_a_warning_naming_the_new_one():
    sys.modules.pop("fhn_inverse.ensemble", None)
    with pytest.warns(DeprecationWarning, match="fhn_inverse.ensemble moved to fhn_inverse.nn.ensemble"):
        old = importlib.import_module("fhn_inverse.ensemble")
    assert old.Ensemble is fi.Ensemble
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        old.Nothing  # noqa: B018
    assert "Ensemble" in dir(old)
    # every old path resolves, and each of its targets exists
    for targets in legacy.MOVED.values():
        for target in targets:
            importlib.import_module(target)
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("fhn_inverse.nothing_here")
