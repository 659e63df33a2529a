"""The residual check needs no truth: at the true parameters the whitened residual of a series
with AR(1) noise is white, so the Ljung–Box p-values are uniform (5 % below 0.05, within the
binomial band); at a wrong estimate they collapse."""

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse.uncertainty.residuals import chi2_sf_even, residual_check


def test_the_chi2_tail_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    q = np.array([0.0, 0.5, 3.0, 9.7, 18.3, 40.0, 300.0])
    for df in (2, 4, 10, 30):
        np.testing.assert_allclose(chi2_sf_even(q, df), stats.chi2.sf(q, df), rtol=1e-10, atol=1e-300)
    with pytest.raises(ValueError, match="df must be even"):
        chi2_sf_even(q, 3)


@pytest.fixture(scope="module")
def data():
    return fi.Dataset.generate(400, 11, noise=fi.AR1Noise(), progress=False)


def _band(n, p=0.05):
    half = 3 * np.sqrt(n * p * (1 - p))
    return n * p - half, n * p + half


@pytest.mark.parametrize("known_rho", [True, False])
def test_p_values_at_the_truth_are_uniform(data, known_rho):
    rho = data.noise[:, 1] if known_rho else None
    check = residual_check(data.theta, data.d, rho=rho)
    lo, hi = _band(len(data))
    assert lo <= np.sum(check.p_value < 0.05) <= hi, np.sum(check.p_value < 0.05)
    assert check.df == 10 if known_rho else check.df == 10
    sd = data.noise[:, 0] / 0.2  # the study's σ is the noise's sd times Δt
    np.testing.assert_allclose(np.median(check.sd / sd), 1.0, atol=0.05)
    np.testing.assert_allclose(np.median(check.rho - data.noise[:, 1]), 0.0, atol=0.03)


def test_a_wrong_estimate_is_flagged(data):
    spiking = np.flatnonzero(data.u.std(axis=1) > 0.5)[:100]
    wrong = data.theta[spiking] + np.array([0.0, 0.15])  # a shifted θ1: the spikes move
    check = residual_check(wrong, data.d[spiking], rho=data.noise[spiking, 1])
    assert np.mean(check.p_value < 0.001) > 0.8


def test_bad_input_names_the_value(data):
    with pytest.raises(ValueError, match="one row per series"):
        residual_check(data.theta[:3], data.d[:4])
    with pytest.raises(ValueError, match="lags must be in"):
        residual_check(data.theta[:3], data.d[:3], lags=500)
    with pytest.raises(ValueError, match=r"rho must lie in \(-1, 1\)"):
        residual_check(data.theta[:3], data.d[:3], rho=1.0)
