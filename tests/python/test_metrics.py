"""Metrics against scikit-learn and NumPy, and their algebraic identities."""

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse import metrics

sklearn_metrics = pytest.importorskip("sklearn.metrics")


@pytest.fixture
def pair():
    rng = np.random.default_rng(0)
    y = rng.uniform(0.1, 1.0, size=(200, 3))
    return y, y + rng.normal(scale=[0.01, 0.1, 0.5], size=y.shape)


def test_r2_matches_sklearn(pair):
    y, p = pair
    np.testing.assert_allclose(metrics.r2_score(y, p), sklearn_metrics.r2_score(y, p, multioutput="raw_values"),
                               rtol=1e-12)
    assert metrics.r2_score(y, y).tolist() == [1.0, 1.0, 1.0]
    # Predicting the mean scores 0; worse than the mean is negative.
    assert np.allclose(metrics.r2_score(y, np.broadcast_to(y.mean(0), y.shape)), 0.0)
    assert np.all(metrics.r2_score(y, y[::-1]) < 0)


def test_constant_column_follows_sklearn():
    y = np.column_stack([np.ones(5), np.arange(5.0)])
    p = np.column_stack([np.ones(5) * 1.1, np.arange(5.0)])
    np.testing.assert_allclose(metrics.r2_score(y, p), sklearn_metrics.r2_score(y, p, multioutput="raw_values"))


def test_median_ape_matches_numpy_and_sklearn(pair):
    y, p = pair
    ape = np.abs(p - y) / np.abs(y)
    np.testing.assert_allclose(metrics.median_ape(y, p, per_parameter=True), np.median(ape, axis=0))
    assert metrics.median_ape(y, p) == pytest.approx(np.median(ape))
    for j in range(3):
        assert metrics.median_ape(y[:, j], p[:, j]) == pytest.approx(
            np.median(np.abs(p[:, j] - y[:, j]) / np.abs(y[:, j])))
    with pytest.raises(ValueError, match="undefined where y_true == 0"):
        metrics.median_ape([0.0, 1.0], [0.1, 1.0])


def test_resimulation_errors_split_mse():
    rng = np.random.default_rng(1)
    d = rng.normal(size=(20, 100))
    u_hat = d + 0.3 + rng.normal(scale=0.1, size=d.shape)
    err = metrics.resimulation_errors(d, u_hat)
    np.testing.assert_allclose(err.mse, sklearn_metrics.mean_squared_error(d.T, u_hat.T, multioutput="raw_values"))
    np.testing.assert_allclose(err.squared_bias + err.c_mse, err.mse, rtol=1e-12)
    np.testing.assert_allclose(err.squared_bias, np.mean(d - u_hat, axis=1) ** 2)
    np.testing.assert_allclose(err.c_mse, np.var(d - u_hat, axis=1))


def test_pooled_resimulation_errors_split_and_cancel():
    rng = np.random.default_rng(2)
    d = rng.normal(size=(30, 50))
    u_hat = d + rng.normal(scale=0.2, size=d.shape)
    u_hat[::2] += 0.5  # half the series above, half below: the per-series biases cancel when pooled
    u_hat[1::2] -= 0.5
    pooled = metrics.pooled_resimulation_errors(d, u_hat)
    assert pooled.mse == pytest.approx(sklearn_metrics.mean_squared_error(d.ravel(), u_hat.ravel()))
    assert pooled.squared_bias == pytest.approx(np.mean(d - u_hat) ** 2)
    assert pooled.squared_bias + pooled.c_mse == pytest.approx(pooled.mse)
    per_series = metrics.resimulation_errors(d, u_hat)
    assert pooled.squared_bias < 1e-3 < 0.2 < per_series.squared_bias.mean()
    with pytest.raises(ValueError, match="same shape"):
        metrics.pooled_resimulation_errors(d, u_hat[:, :10])


def test_report_and_bad_input(pair):
    y, p = pair
    rep = metrics.report(y[:, :2], p[:, :2], names=["theta0", "theta1"])
    assert set(rep["r2"]) == {"theta0", "theta1"} and rep["r2"]["theta0"] > rep["r2"]["theta1"]
    with pytest.raises(ValueError, match="same shape"):
        metrics.r2_score(y, p[:, :2])
    with pytest.raises(ValueError, match="y_pred must be finite"):
        metrics.r2_score(y, np.full_like(y, np.nan))
    with pytest.raises(ValueError, match="at least 2 samples"):
        metrics.r2_score(y[:1], p[:1])
    assert fi.metrics is metrics


def test_median_ape_readings_by_hand():
    y = np.array([[3.0, 4.0], [1.0, 0.5], [2.0, 2.0]])
    p = np.array([[3.0, 5.0], [1.5, 0.5], [2.0, 2.0]])
    # per sample: ‖(0, 1)‖/5 = 0.2, ‖(0.5, 0)‖/‖(1, 0.5)‖ = 0.4472…, 0 → median 0.2
    assert metrics.median_ape(y, p, reading="sample") == pytest.approx(0.2, abs=1e-15)
    # per entry: 0, 0.25, 0.5, 0, 0, 0 → median 0
    assert metrics.median_ape(y, p, reading="component") == 0.0 == metrics.median_ape(y, p)
    np.testing.assert_allclose(metrics.median_ape(y, p, per_parameter=True, reading="sample"), [0.0, 0.0])
    assert metrics.report(y, p)["median_ape_sample"] == pytest.approx(0.2)
    with pytest.raises(ValueError, match="reading must be one of"):
        metrics.median_ape(y, p, reading="pooled")
    with pytest.raises(ValueError, match="row of y_true is 0"):
        metrics.median_ape([[0.0, 0.0]], [[1.0, 1.0]], reading="sample")
    assert metrics.median_ape([[0.0, 2.0]], [[1.0, 2.0]], reading="sample") == pytest.approx(0.5)
