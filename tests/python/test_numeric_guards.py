"""No silent NaN or inf out of predictions and spectra; refinement stops when it has converged."""

import numpy as np
import pytest

import fhn_inverse as fi


@pytest.fixture(scope="module")
def dense_map():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 64)), rng.uniform(0.0, 1.0, (16, 2))
    model = fi.InverseMap.dense((8,), seed=0)
    model.fit(x, y, epochs=1, progress=False)
    return model, x


# ----------------------------------------------------------------------------- predictions
def test_inputs_the_map_cannot_evaluate_raise_naming_the_rows(dense_map):
    model, x = dense_map
    x = x.copy()
    x[[3, 7]] = 1e38  # finite in float32, but the first layer overflows
    with pytest.raises(ValueError, match=r"not finite for 2 of 16 rows of X \(rows 3, 7\).*largest \|value\| 1e\+38"):
        model.predict(x)
    assert np.isfinite(model.predict(x[:3])).all()  # the other rows evaluate as before
    np.testing.assert_array_equal(model.predict(x[:3]), model.predict(dense_map[1][:3]))


def test_a_model_file_with_absurd_weights_does_not_predict_nan(dense_map, tmp_path):
    model, x = dense_map
    absurd = fi.InverseMap.dense((8,), seed=0).build((64,), 2)
    # finite weights of alternating sign: the hidden layer overflows to ±inf, the output to inf − inf
    absurd.network.params = (1e38 * (-1.0) ** np.arange(absurd.n_params)).astype(np.float32)
    absurd.save(tmp_path / "absurd.safetensors")
    loaded = fi.InverseMap.load(tmp_path / "absurd.safetensors")
    with pytest.raises(ValueError, match=r"not finite for 16 of 16 rows .*rows 0, 1, 2, 3, 4 and 11 more"):
        loaded.predict(x)


# -------------------------------------------------------------------------------- spectra
@pytest.mark.parametrize("norm", ["backward", "ortho", "forward"])
def test_spectra_that_overflow_raise(norm):
    x = np.zeros((3, 8))
    x[1] = 1e308
    with pytest.raises(ValueError, match=r"overflows float64 \(first: row 1, max \|x\| = 1e\+308\).*below 2\.25e\+307"):
        fi.fourier_features(x, norm=norm)
    with pytest.raises(ValueError, match="overflows float64"):
        fi.features(x, "time+fourier", norm=norm)
    # below the stated bound the spectrum is finite and exact
    x[1] = 2.2e307
    np.testing.assert_allclose(fi.fourier_features(x, norm="backward")[1], [8 * 2.2e307] + [0.0] * 7)


def test_magnitude_spectrum_that_overflows_raises():
    x = np.array([1e308, -1e308] * 4)
    with pytest.raises(ValueError, match="overflows float64"):
        fi.fourier_features(x, "magnitude", norm="backward")


# ------------------------------------------------------------------------------ refinement
@pytest.fixture(scope="module")
def series():
    theta = fi.default_prior().sample(12, seed=3)
    d = fi.simulate(theta)
    noisy = d + 0.05 * np.random.default_rng(1).standard_normal(d.shape)
    return theta, d, noisy


@pytest.fixture()
def simulations(monkeypatch):
    """The batched simulations ``refine`` runs: one entry (its number of series) per call."""
    import sys

    module = sys.modules["fhn_inverse.fitting.refine"]
    calls, simulate = [], module.simulate_rows

    def counted(theta, **kwargs):
        calls.append(len(theta))
        if len(calls) > 2_000:
            raise AssertionError("refine did not stop")
        return simulate(theta, **kwargs)

    monkeypatch.setattr(module, "simulate_rows", counted)
    return calls


def test_refine_from_an_exact_start_stops_at_once(series, simulations):
    theta, d, _ = series
    res = fi.refine(theta, d, iterations=50)
    assert simulations == [12]  # the start's misfit, then nothing: every series fits exactly
    np.testing.assert_array_equal(res.theta, theta)
    assert np.all(res.mse == 0)


def test_refine_iterations_are_bounded(series, simulations):
    theta, d, _ = series
    with pytest.raises(ValueError, match=r"iterations must be in \[0, 10,000\], got 1,000,000,000,000"):
        fi.refine(theta, d, iterations=10**12)
    with pytest.raises(ValueError, match=r"iterations must be in \[0, 5,000\] \(the restarts refine for twice"):
        fi.fit_series(theta[None], d, iterations=5_001)
    for tol in (-1e-3, 1.0, np.nan):
        with pytest.raises(ValueError, match=r"tol must be in \[0, 1\)"):
            fi.refine(theta, d, tol=tol)
    assert simulations == []


@pytest.mark.parametrize("noisy", [False, True])
def test_refine_stops_once_converged_where_more_steps_would_not_help(series, simulations, noisy):
    theta, d, noisy_d = series
    theta, obs = theta[:4], (noisy_d if noisy else d)[:4]
    start = np.clip(theta + 0.02 * np.random.default_rng(2).standard_normal(theta.shape),
                    fi.default_prior().lower, fi.default_prior().upper)
    res = fi.refine(start, obs, iterations=10_000, n_threads=1)
    steps = (len(simulations) - 1) // 2  # the start, then a Jacobian and a trial per step
    assert steps < 100
    assert simulations[-1] < simulations[0]  # series drop out as they converge
    # the rules that stop exactly where further steps change nothing (tol = 0) give the same fit
    exact = fi.refine(start, obs, iterations=10_000, tol=0.0, n_threads=1)
    np.testing.assert_allclose(res.mse, exact.mse, rtol=1e-9, atol=0)
    np.testing.assert_allclose(res.theta, exact.theta, rtol=0, atol=1e-8)
    # and no fewer steps than the study's 20 were needed to get there
    np.testing.assert_allclose(res.mse, fi.refine(start, obs, iterations=20, n_threads=1).mse, rtol=1e-9, atol=1e-20)


@pytest.mark.parametrize("kwargs, match", [
    (dict(epochs=10**21), r"epochs must be in \[1, 1,000,000\]"),
    (dict(batch_size=2**40), r"batch_size must be in \[1, 16,777,216\]"),
    (dict(early_stopping=10**21), r"early_stopping must be in \[1, 1,000,000\]"),
    (dict(step_epochs=10**12), r"step_epochs must be in \[1, 1,000,000\]"),
    (dict(warmup_steps=2**70), r"warmup_steps must be in \[0, "),
])
def test_fit_bounds_its_counts(kwargs, match):
    """Huge counts get a ValueError naming the range instead of an overflow deep in the binding."""
    x = np.zeros((8, 20))
    with pytest.raises(ValueError, match=match):
        fi.InverseMap.dense(units=[4]).fit(x, np.zeros((8, 2)), progress=False, **kwargs)


def test_swish_goes_to_zero_far_left_and_matches_numpy_elsewhere():
    """x σ(x) through a one-unit map (weights 1, biases 0, no output activation): within float
    rounding of NumPy's x / (1 + e^−x) across the range, 0 where that underflows (not x · 2^−126,
    which the reciprocal estimate of some levels would give), inf at +inf, NaN at −inf."""
    m = fi.InverseMap.dense((1,), seed=0, output_activation=None).build((1,), 1)
    m.network.params = np.array([1, 0, 1, 0], np.float32)
    x = np.array([-1e38, -3e38, -1e30, -200.0, -100.0, -80.0, -20.0, -1.0, 0.0, 0.5, 5.0, 30.0, 1e38],
                 np.float32)
    got = m.network.predict(x[:, None]).ravel()
    with np.errstate(over="ignore"):
        ref = x.astype(np.float64) / (1.0 + np.exp(-x.astype(np.float64)))
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-30)
    assert np.all(got[x <= -200] == 0.0)
    special = m.network.predict(np.array([[np.inf], [-np.inf]], np.float32)).ravel()
    assert special[0] == np.inf and np.isnan(special[1])
