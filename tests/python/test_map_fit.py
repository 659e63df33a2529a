"""map_fit: the MAP fit under AR(1) noise with Laplace intervals, and refine's measured-noise
keywords (noise_sd, noise_rho) against the study's convention (σ = standard deviation × Δt)."""

from statistics import NormalDist

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse.fitting.map_fit import FLAGS, RHO_RANGE, map_fit, noise_from_residuals

DT = 0.2  # the study's grid step


@pytest.fixture(scope="module")
def simulated():
    """300 series of the study's setting: θ from its prior, AR(1) noise with its ranges."""
    return fi.Dataset.generate(300, seed=5, noise=fi.AR1Noise(), progress=False)


def _near_truth(data, spread, seed=0):
    prior = fi.default_prior()
    rng = np.random.default_rng(seed)
    return np.clip(data.theta + rng.normal(0.0, spread, data.theta.shape), prior.lower, prior.upper)


def test_measured_sd_equals_the_study_convention(simulated):
    data = simulated[:8]
    start = _near_truth(data, 0.02)
    sd, rho = data.noise[:, 0] / DT, data.noise[:, 1]
    study = fi.refine(start, data.d, noise=data.noise, prior=fi.default_prior())
    measured = fi.refine(start, data.d, noise_sd=sd, noise_rho=rho, prior=fi.default_prior())
    np.testing.assert_allclose(measured.theta, study.theta, rtol=1e-9, atol=1e-12)
    # one number for every series, as the tuple (σ, ρ) is
    shared = fi.refine(start, data.d, noise=(0.3 * DT, 0.8))
    np.testing.assert_allclose(fi.refine(start, data.d, noise_sd=0.3, noise_rho=0.8).theta, shared.theta,
                               rtol=1e-9, atol=1e-12)
    # the trap the keywords avoid: the standard deviation passed as the study's σ fits differently
    assert not np.allclose(fi.refine(start, data.d, noise=np.column_stack([sd, rho])).theta, study.theta)
    # map_fit takes the same noise either way and reports it in both conventions
    a = map_fit(start, data.d, noise=data.noise, rounds=0)
    b = map_fit(start, data.d, noise_sd=sd, noise_rho=rho, rounds=0)
    np.testing.assert_allclose(b.theta, a.theta, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b.sd, a.sd, rtol=1e-9)
    np.testing.assert_allclose(a.noise, np.column_stack([sd, rho]), rtol=1e-12)
    np.testing.assert_allclose(b.study_noise, data.noise, rtol=1e-12)
    assert not a.noise_estimated.any() and not b.noise_estimated.any()


def test_the_residuals_recover_the_noise(simulated):
    data = simulated[:120]
    fit = map_fit(_near_truth(data, 0.005), data.d, rounds=0)
    assert fit.noise_estimated.all()
    sd_true, rho_true = data.noise[:, 0] / DT, data.noise[:, 1]
    rel = fit.noise[:, 0] / sd_true - 1  # about 5 % spread per series (L = 1000, ρ about 0.8)
    assert abs(np.median(rel)) < 0.02 and np.median(np.abs(rel)) < 0.06, (np.median(rel), np.median(np.abs(rel)))
    err = fit.noise[:, 1] - rho_true  # about 0.02 spread per series
    assert abs(np.median(err)) < 0.01 and np.median(np.abs(err)) < 0.03, (np.median(err), np.median(np.abs(err)))
    np.testing.assert_allclose(fit.study_noise[:, 0], fit.noise[:, 0] * DT)
    # what is given is used, what is not is estimated
    half = map_fit(_near_truth(data[:10], 0.005), data.d[:10], noise_sd=sd_true[:10], rounds=0)
    assert np.array_equal(half.noise_estimated, np.tile([False, True], (10, 1)))
    np.testing.assert_array_equal(half.noise[:, 0], sd_true[:10])
    assert np.all(np.abs(half.noise[:, 1] - rho_true[:10]) < 0.08)
    # white residuals: ρ near 0, the standard deviation as drawn
    sd, rho, clipped = noise_from_residuals(np.random.default_rng(1).normal(0.0, 0.5, (40, 2000)))
    assert np.all(np.abs(sd - 0.5) < 0.05) and np.all(rho <= 0.1) and np.all((rho >= RHO_RANGE[0]))
    assert np.array_equal(clipped, rho == 0.0)


def test_map_fit_improves_on_its_start(simulated):
    data = simulated[:60]
    start = _near_truth(data, 0.05, seed=3)  # a network's error, about
    fit = map_fit(start, data.d)
    err_start = np.mean(np.abs(start - data.theta), axis=0)
    err_fit = np.mean(np.abs(fit.theta - data.theta), axis=0)
    assert np.all(err_fit < 0.5 * err_start), (err_fit, err_start)
    assert np.all(np.isfinite(fit.mse)) and np.all(fit.flag & FLAGS["failed"] == 0)


def test_90_percent_intervals_cover_within_the_binomial_band(simulated):
    """The 90 % intervals of 300 series of the study's setting (noise estimated from the
    residuals, starts near the truth so that the local search suffices) cover 90 % of the true
    values of each parameter, within the binomial band of 300 draws."""
    fit = map_fit(_near_truth(simulated, 0.01, seed=4), simulated.d, level=0.9, rounds=0)
    inside = (fit.lower <= simulated.theta) & (simulated.theta <= fit.upper)
    coverage = inside.mean(axis=0)
    band = 1.96 * np.sqrt(0.9 * 0.1 / len(simulated))  # 3.4 points
    assert np.all(np.abs(coverage - 0.9) < band), coverage
    # the same intervals at half the z-score would be far too narrow: the test can fail
    half = NormalDist().inv_cdf(0.95) * fit.sd / 2
    narrow = np.mean(np.abs(fit.theta - simulated.theta) <= half, axis=0)
    assert np.all(narrow < 0.9 - band), narrow


def test_intervals_stay_inside_the_box(simulated):
    data = simulated[:12]
    start = _near_truth(data, 0.01)
    prior = fi.default_prior()
    wide = map_fit(start, data.d, level=0.9999, rounds=0)
    assert np.all(wide.lower >= prior.lower) and np.all(wide.upper <= prior.upper)
    assert np.all((wide.lower <= wide.theta) & (wide.theta <= wide.upper))
    assert np.any(wide.lower == prior.lower) or np.any(wide.upper == prior.upper)  # the clipping was needed
    # a uniform prior: no prior term, its box bounds the fit and the intervals; a narrower box given
    box = fi.UniformPrior([0.0, -0.2], [0.9, 1.0])
    narrow = map_fit(start, data.d, prior=box, level=0.9999, rounds=0, lower=[0.1, 0.0], upper=[0.8, 0.9])
    assert np.all(narrow.lower >= [0.1, 0.0]) and np.all(narrow.upper <= [0.8, 0.9])
    assert np.all((narrow.theta >= [0.1, 0.0]) & (narrow.theta <= [0.8, 0.9]))
    at_edge = np.any((narrow.theta == [0.1, 0.0]) | (narrow.theta == [0.8, 0.9]), axis=1)
    assert np.array_equal(narrow.flag & FLAGS["edge"] > 0, at_edge)


def test_bad_input_names_the_value_and_the_range(simulated):
    data = simulated[:3]
    start = data.theta
    with pytest.raises(ValueError, match=r"noise_sd .* must be > 0, got -0\.1"):
        map_fit(start, data.d, noise_sd=-0.1)
    with pytest.raises(ValueError, match=r"noise_rho .* must be in \(-1, 1\), got 1\.0"):
        map_fit(start, data.d, noise_rho=1.0)
    with pytest.raises(ValueError, match=r"noise_rho .* must be in \(-1, 1\), got -1\.5 \(series 2\)"):
        fi.refine(start, data.d, noise_sd=0.3, noise_rho=[0.5, 0.5, -1.5])
    with pytest.raises(ValueError, match=r"noise_sd must be a number or one value per series \(N = 3\), got shape"):
        map_fit(start, data.d, noise_sd=[0.3, 0.3])
    with pytest.raises(ValueError, match="come together; noise_rho is missing"):
        fi.refine(start, data.d, noise_sd=0.3)
    with pytest.raises(ValueError, match="not both"):
        map_fit(start, data.d, noise=(0.06, 0.8), noise_sd=0.3)
    with pytest.raises(ValueError, match="not both"):
        fi.fit_series(start[None], data.d, noise=(0.06, 0.8), noise_sd=0.3, noise_rho=0.8)
    with pytest.raises(ValueError, match=r"sigma must be > 0, got -0\.06"):
        map_fit(start, data.d, noise=(-0.06, 0.8))
    with pytest.raises(ValueError, match=r"level must be in \(0, 1\), got 1\.5"):
        map_fit(start, data.d, level=1.5)
    with pytest.raises(ValueError, match=r"one row per starting estimate \(3\), got 2"):
        map_fit(start, data.d[:2])
    with pytest.raises(ValueError, match="d has 999 points per series, the grid t has 1000"):
        map_fit(start, data.d[:, :999])
    with pytest.raises(ValueError, match=r"prior must have 3 parameters"):
        map_fit(np.ones((3, 3)) * 0.4, data.d)
    with pytest.raises(TypeError, match="GaussianPrior, a UniformPrior, an IndependentPrior or None"):
        map_fit(start, data.d, prior="flat")


def test_a_noise_free_series_gets_the_noise_floor_and_the_clipped_flag():
    from fhn_inverse.fitting.map_fit import FLAGS, SD_FLOOR
    data = fi.Dataset.generate(3, seed=1, noise=None, progress=False)
    fit = fi.map_fit(data.theta, data.d, rounds=0, iterations=2)
    assert np.all(fit.flag & FLAGS["noise_clipped"])  # residuals of an exact fit: the floor, flagged
    rms = np.sqrt(np.mean(data.d**2, axis=1))
    np.testing.assert_allclose(fit.noise[:, 0], SD_FLOOR * rms, rtol=1e-6)
    assert np.all(np.isfinite(fit.theta)) and np.all(np.isfinite(fit.sd))
    np.testing.assert_allclose(fit.theta, data.theta, atol=1e-6)
