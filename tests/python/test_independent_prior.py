"""Per-parameter priors: independent uniform, (truncated) normal and log-normal marginals.

Draws against SciPy's distributions (Kolmogorov–Smirnov), reproducible by (seed, index) whatever
the chunking; records, pickles and data sets round-trip; the Gaussian terms of fits and Laplace
covariances are the normal marginals'; the command line reads a TOML prior; bad input is named."""

import math
import pickle

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse.models import LogNormal, Normal, Uniform, prior_from_dict

stats = pytest.importorskip("scipy.stats")

PRIOR = fi.IndependentPrior({"theta0": Normal(0.4, 0.3, lower=-0.2, upper=1.0), "theta1": Uniform(-0.4, 1.2),
                             "gamma": LogNormal(math.log(3.0), 0.2)})


def test_each_marginal_has_its_distribution():
    x = PRIOR.sample(20_000, seed=3)
    a, b = (-0.2 - 0.4) / 0.3, (1.0 - 0.4) / 0.3
    assert stats.kstest(x[:, 0], stats.truncnorm(a, b, loc=0.4, scale=0.3).cdf).pvalue > 1e-3
    assert stats.kstest(x[:, 1], stats.uniform(-0.4, 1.6).cdf).pvalue > 1e-3
    assert stats.kstest(x[:, 2], stats.lognorm(0.2, scale=3.0).cdf).pvalue > 1e-3
    assert abs(np.corrcoef(x.T)[0, 2]) < 0.03  # independent
    truncated = fi.IndependentPrior([LogNormal(0.0, 1.0, lower=0.5, upper=2.0)]).sample(20_000, seed=1)[:, 0]
    assert truncated.min() >= 0.5 and truncated.max() <= 2.0
    lo, hi = stats.lognorm(1.0).cdf([0.5, 2.0])  # the truncated CDF
    assert stats.kstest(truncated, lambda v: (stats.lognorm(1.0).cdf(v) - lo) / (hi - lo)).pvalue > 1e-3


def test_draws_depend_on_the_seed_and_index_alone():
    whole = PRIOR.sample(1000, seed=9)
    parts = np.vstack([PRIOR.sample(300, seed=9, start=lo) for lo in range(0, 900, 300)] +
                      [PRIOR.sample(100, seed=9, start=900)])
    np.testing.assert_array_equal(whole, parts)
    assert not np.array_equal(whole, PRIOR.sample(1000, seed=10))


def test_priors_round_trip_through_records_pickles_and_data_sets(tmp_path):
    again = prior_from_dict(PRIOR.to_dict())
    assert again.names == PRIOR.names and again.marginals == PRIOR.marginals
    assert pickle.loads(pickle.dumps(PRIOR)).marginals == PRIOR.marginals
    model = fi.FitzHughNagumo(free=("theta0", "theta1", "gamma"))
    ds = fi.Dataset.generate(10, seed=1, model=model, prior=PRIOR, progress=False)
    ds.save(tmp_path / "d.npz")
    loaded = prior_from_dict(fi.Dataset.load(tmp_path / "d.npz").config["prior"])
    np.testing.assert_array_equal(loaded.sample(10, seed=1), ds.theta)


def test_a_free_sets_default_prior_keeps_the_studys_marginals():
    prior = fi.default_prior(fi.FitzHughNagumo(free=("theta0", "theta1", "gamma")))
    assert prior.names == ["theta0", "theta1", "gamma"] and prior.marginals[2] == Uniform(1.0, 5.0)
    x, study = prior.sample(20_000, seed=2), fi.default_prior().sample(20_000, seed=5)
    for j in range(2):
        assert stats.ks_2samp(x[:, j], study[:, j]).pvalue > 1e-3


def test_normal_marginals_are_the_gaussian_term_of_laplace_and_fits():
    theta = fi.default_prior().sample(3, seed=0)
    gaussian = fi.GaussianPrior([0.4, 0.4], std=[0.3, 0.4])
    marginals = fi.IndependentPrior([Normal(0.4, 0.3), Normal(0.4, 0.4)])
    c_g = fi.laplace_covariance(theta, noise=(0.3, 0.5), prior=gaussian)
    c_m = fi.laplace_covariance(theta, noise=(0.3, 0.5), prior=marginals)
    np.testing.assert_allclose(c_m, c_g, rtol=1e-10)
    flat = fi.IndependentPrior([Uniform(-0.2, 1.0), Uniform(-0.4, 1.2)])  # no term: the likelihood's covariance
    np.testing.assert_allclose(fi.laplace_covariance(theta, noise=(0.3, 0.5), prior=flat),
                               fi.laplace_covariance(theta, noise=(0.3, 0.5), prior=None), rtol=1e-6)
    # a MAP fit under a log-normal marginal stays inside its bounds
    data = fi.Dataset.generate(3, seed=4, noise=fi.AR1Noise(), progress=False)
    lognormal = fi.IndependentPrior([Normal(0.4, 0.3), LogNormal(math.log(0.5), 0.5, upper=1.2)])
    fit = fi.map_fit(data.theta + 0.05, data.d, prior=lognormal)
    assert np.all(fit.lower >= [-0.2 - 1e-12, 0.0]) and np.all(fit.upper <= [1.0 + 1e-12, 1.2])


def test_bad_marginals_and_mismatched_names_are_named():
    with pytest.raises(ValueError, match="marginal 1: needs a finite location and a finite scale > 0"):
        fi.IndependentPrior([Uniform(0, 1), Normal(0.0, -1.0)])
    with pytest.raises(ValueError, match="log-normal marginal's lower bound must be >= 0"):
        fi.IndependentPrior([LogNormal(0.0, 1.0, lower=-1.0)])
    with pytest.raises(ValueError, match="uniform marginal needs finite bounds"):
        fi.IndependentPrior([Uniform(0.0, math.inf)])
    with pytest.raises(TypeError, match="marginal 0 must be a Uniform, Normal or LogNormal"):
        fi.IndependentPrior([(0.0, 1.0)])
    with pytest.raises(ValueError, match=r"the prior's marginals are for \(theta0, theta1, gamma\); the model's free"):
        fi.Dataset.generate(5, model=fi.FitzHughNagumo(free=("theta0", "gamma", "theta1")), prior=PRIOR)
    with pytest.raises(ValueError, match="marginal 0: a marginal names its family"):
        prior_from_dict({"kind": "independent", "marginals": [{"family": "cauchy", "loc": 0}]})


def test_the_command_line_reads_a_prior_file(tmp_path, capsys):
    from fhn_inverse.cli import main

    spec = tmp_path / "prior.toml"
    spec.write_text('[gamma]\nfamily = "lognormal"\nmu = 1.0986\nsigma = 0.2\nupper = 6.0\n\n'
                    '[theta0]\nfamily = "normal"\nmean = 0.4\nstd = 0.3\n\n'
                    '[theta1]\nfamily = "uniform"\nlower = -0.4\nupper = 1.2\n')
    out = tmp_path / "d.npz"
    assert main(["simulate", str(out), "-n", "30", "--free", "theta0,theta1,gamma", "--prior", str(spec),
                 "--quiet"]) == 0
    data = fi.Dataset.load(out)
    assert [m["family"] for m in data.config["prior"]["marginals"]] == ["normal", "uniform", "lognormal"]
    assert 0 < data.theta[:, 2].min() and data.theta[:, 2].max() <= 6.0
    spec.write_text('[theta0]\nfamily = "normal"\nmean = 0.4\nstd = 0.3\n')
    with pytest.raises(SystemExit) as exit_:
        main(["simulate", str(tmp_path / "e.npz"), "-n", "5", "--prior", str(spec), "--quiet"])
    assert exit_.value.code == 2 and "missing: theta1" in capsys.readouterr().err


def test_unbounded_priors_are_recorded_without_infinity_and_a_map_trains_on_their_data():
    """JSON has no infinity: unbounded sides are recorded as None, read back as ±inf (records of
    earlier versions, with inf, still read), and a map keeps such a prior in its file."""
    import json
    import math

    import numpy as np

    import fhn_inverse as fi
    from fhn_inverse.models import LogNormal, Normal, prior_from_dict

    prior = fi.IndependentPrior({"theta0": Normal(0.4, 0.2), "theta1": LogNormal(math.log(0.4), 0.3)})
    record = prior.to_dict()
    json.dumps(record, allow_nan=False)  # strict JSON
    assert record["marginals"][0]["lower"] is None and record["marginals"][1]["upper"] is None
    back = prior_from_dict(record)
    assert back.marginals == prior.marginals
    gauss = fi.GaussianPrior([0.4, 0.4], std=[0.3, 0.4], upper=[1.0, 1.2])
    assert gauss.to_dict()["lower"] == [None, None]
    assert prior_from_dict(gauss.to_dict()).lower.tolist() == [-math.inf, -math.inf]
    old = {**gauss.to_dict(), "lower": [-math.inf, -math.inf]}  # as earlier versions wrote it
    assert prior_from_dict(old).lower.tolist() == [-math.inf, -math.inf]
    data = fi.Dataset.generate(60, seed=1, prior=prior, noise=fi.AR1Noise(), progress=False)
    m = fi.InverseMap.dense((8,)).fit(data.d, data.theta, epochs=1, progress=False, trained_on=data)
    assert m.prior.marginals == prior.marginals and np.isfinite(m.predict(data.d[:2])).all()
