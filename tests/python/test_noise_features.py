"""AR(1) noise statistics and Fourier features against numpy.fft."""

import numpy as np
import pytest

import fhn_inverse as fi


def test_ar1_moments_within_confidence_bounds():
    n, length, sigma, rho = 2000, 400, 0.07, 0.8
    eta = fi.ar1_noise(np.full(n, sigma), np.full(n, rho), length, seed=3)
    for k in (0, 1, length - 1):  # stationary from the first point
        x = eta[:, k]
        assert abs(x.mean()) < 4 * sigma / np.sqrt(n)
        assert abs(x.var(ddof=1) / sigma**2 - 1) < 4 * np.sqrt(2 / (n - 1))
    lag1 = np.sum(eta[:, 1:] * eta[:, :-1]) / np.sum(eta[:, :-1] ** 2)
    # Standard error of the lag-1 estimate ≈ sqrt((1 − ρ²) / (n (L − 1))).
    assert abs(lag1 - rho) < 4 * np.sqrt((1 - rho**2) / (n * (length - 1)))


def test_noise_parameters_drawn_in_their_ranges():
    noise = fi.AR1Noise()
    params = noise.parameters(5000, seed=1)
    assert params[:, 0].min() >= 0.038 and params[:, 0].max() <= 0.096
    assert params[:, 1].min() >= 0.66 and params[:, 1].max() <= 0.92
    assert abs(params[:, 0].mean() - 0.067) < 0.002 and abs(params[:, 1].mean() - 0.79) < 0.005
    fixed = fi.AR1Noise(sigma=0.05, rho=(0.1, 0.2)).parameters(10, seed=1)
    assert np.all(fixed[:, 0] == 0.05) and np.all((fixed[:, 1] >= 0.1) & (fixed[:, 1] <= 0.2))


def test_study_convention_scales_by_grid_spacing():
    sigma = 0.07
    eta, params = fi.AR1Noise(sigma=sigma, rho=0.8).sample(400, 1000, seed=4)
    assert np.all(params == [sigma, 0.8])
    assert abs(eta.std() / (sigma / 0.2) - 1) < 0.03  # η ~ N(0, σ²/Δt²), Δt = 0.2
    eta1, _ = fi.AR1Noise(sigma=sigma, rho=0.8, dt=1.0).sample(400, 1000, seed=4)
    np.testing.assert_allclose(eta1, eta * 0.2, rtol=1e-9, atol=1e-15)
    with pytest.raises(ValueError, match="dt must be finite and > 0, got 0"):
        fi.AR1Noise(dt=0)


def test_gaussian_noise_is_uncorrelated():
    eta, params = fi.GaussianNoise(0.1).sample(500, 200, seed=2)
    assert np.all(params[:, 1] == 0.0)
    lag1 = np.sum(eta[:, 1:] * eta[:, :-1]) / np.sum(eta[:, :-1] ** 2)
    assert abs(lag1) < 4 / np.sqrt(500 * 199)
    assert abs(eta.std() - 0.1) < 0.002


@pytest.mark.parametrize("kwargs, match", [({"rho": 1.0}, "rho must be in \\(-1.0, 1.0\\), got 1.0"),
                                           ({"rho": -1.0}, "rho must be in"),
                                           ({"sigma": -0.1}, "sigma must be in \\[0.0, inf\\), got -0.1"),
                                           ({"sigma": (0.2, 0.1)}, "low < high")])
def test_bad_noise_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fi.AR1Noise(**kwargs)


def test_bad_native_noise_parameters():
    with pytest.raises(ValueError, match="rho\\[1\\] must be in \\(-1, 1\\), got 1.5"):
        fi.ar1_noise([0.1, 0.1], [0.5, 1.5], 10)
    with pytest.raises(ValueError, match="sigma\\[0\\] must be finite and >= 0"):
        fi.ar1_noise([-0.1], [0.5], 10)


@pytest.mark.parametrize("length", [1, 2, 3, 5, 7, 16, 31, 97, 128, 999, 1000, 1009])
@pytest.mark.parametrize("norm", ["backward", "ortho", "forward"])
def test_fourier_matches_numpy(length, norm):
    x = np.random.default_rng(length).normal(size=(4, length))
    expected = np.fft.rfft(x, norm=norm)
    packed = fi.fourier_features(x, "packed", norm)
    assert packed.shape == (4, length)
    np.testing.assert_allclose(fi.unpack_spectrum(packed), expected, rtol=0, atol=1e-12 * np.abs(expected).max())
    np.testing.assert_allclose(fi.fourier_features(x, "magnitude", norm), np.abs(expected),
                               rtol=0, atol=1e-12 * np.abs(expected).max())
    # Round trip: packed -> complex -> numpy's inverse gives the series back.
    np.testing.assert_allclose(np.fft.irfft(fi.unpack_spectrum(packed), n=length, norm=norm), x, atol=1e-12)


def test_feature_channels():
    x = np.random.default_rng(0).normal(size=(3, 100))
    both = fi.features(x, "time+fourier")
    assert both.shape == (3, 2, 100)
    assert np.array_equal(both[:, 0], x) and np.array_equal(both[:, 1], fi.fourier_features(x))
    assert fi.features(x, "fourier").shape == (3, 1, 100)
    with pytest.raises(ValueError, match="kind must be one of"):
        fi.features(x, "wavelet")
    with pytest.raises(ValueError, match="norm must be one of"):
        fi.fourier_features(x, norm="none")


# ------------------------------------------------------------------- the study's noise law
def test_study_noise_law_has_the_moments_of_the_authors_arrays(reference):
    from conftest import REFERENCE

    sigma = np.load(REFERENCE / "noise_correlated_Nt1000_Nsim10000_stddev.npy").astype(np.float64)
    rho = np.load(REFERENCE / "noise_correlated_Nt1000_Nsim10000_correlation.npy").astype(np.float64)
    draws = fi.AR1Noise.study().parameters(400_000, seed=5)
    for j, ref in enumerate((sigma, rho)):
        assert draws[:, j].mean() == pytest.approx(ref.mean(), rel=2e-3)
        assert draws[:, j].std() == pytest.approx(ref.std(), rel=1e-2)
    assert np.all(draws >= [0.038, 0.66]) and np.all(draws <= [0.096, 0.92])
    assert abs(np.corrcoef(draws.T)[0, 1]) < 0.01
    # the uniform law puts several times more mass at the low ends, as the authors' arrays do not
    uniform = fi.AR1Noise().parameters(400_000, seed=5)
    assert np.mean(uniform[:, 0] < 0.05) > 4 * np.mean(draws[:, 0] < 0.05)
    assert np.mean(draws[:, 0] < 0.05) == pytest.approx(np.mean(sigma < 0.05), abs=0.02)


def test_noise_laws_round_trip_and_reject_bad_input():
    from fhn_inverse.models.noise import noise_from_dict

    study = fi.AR1Noise.study()
    back = noise_from_dict(study.to_dict())
    np.testing.assert_array_equal(back.parameters(50, seed=1), study.parameters(50, seed=1))
    assert "law" not in fi.AR1Noise().to_dict()  # uniform noise keeps its dictionary
    a, _ = study.sample(20, 100, seed=3, start=7)
    b, _ = study.sample(20, 100, seed=3, start=7, n_threads=1)
    np.testing.assert_array_equal(a, b)
    fixed = fi.AR1Noise(sigma=0.05, rho=(0.66, 0.92), law="normal", mean=(1.0, 0.8), std=(1.0, 0.05))
    assert np.all(fixed.parameters(30)[:, 0] == 0.05)
    with pytest.raises(ValueError, match="law must be one of"):
        fi.AR1Noise(law="beta")
    with pytest.raises(ValueError, match="belong to law='normal'"):
        fi.AR1Noise(mean=(0.07, 0.8))
    with pytest.raises(ValueError, match="std finite and > 0"):
        fi.AR1Noise(law="normal", mean=(0.07, 0.8), std=(0.0, 0.05))
    with pytest.raises(ValueError, match="pairs"):
        fi.AR1Noise(law="normal", mean=(0.07,), std=(0.01,))
