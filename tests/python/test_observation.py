"""Observation laws beyond additive Gaussian noise (fhn_inverse.models.observation): their
moments, domains, seeds, records, and data sets and stores that carry them."""

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse.models import BinomialNoise, FunctionNoise, LogNormalNoise, PoissonNoise, noise_from_dict
from fhn_inverse.models.observation import observe


def test_poisson_counts_have_the_rate_as_mean_and_variance():
    u = np.linspace(0.5, 3.0, 400)[None].repeat(200, axis=0)
    d, params = PoissonNoise(scale=4.0).observe(u, seed=3)
    assert np.array_equal(d, np.round(d)) and (d >= 0).all() and params.shape == (200, 1)
    lam = 4.0 * u[0]
    z_mean = (d.mean(axis=0) - lam) / np.sqrt(lam / 200)  # standard scores of the 400 time points' means
    assert abs(z_mean.mean()) < 0.3 and 0.8 < z_mean.std() < 1.2
    np.testing.assert_allclose(d.var(axis=0).mean(), lam.mean(), rtol=0.05)


def test_poisson_exposure_drawn_per_series_within_its_range():
    d, params = PoissonNoise(scale=(2.0, 5.0)).observe(np.ones((300, 50)), seed=1)
    assert params.min() >= 2.0 and params.max() <= 5.0 and params.std() > 0.5
    np.testing.assert_allclose(d.mean(axis=1), params[:, 0], rtol=0.35)


def test_binomial_counts_have_binomial_moments_and_stay_below_the_trials():
    p = np.full((400, 300), 0.3)
    d, params = BinomialNoise(trials=40).observe(p, seed=2)
    assert d.max() <= 40 and d.min() >= 0 and (params == 40).all()
    np.testing.assert_allclose(d.mean(), 12.0, rtol=0.01)
    np.testing.assert_allclose(d.var(), 40 * 0.3 * 0.7, rtol=0.03)


def test_lognormal_noise_is_multiplicative_ar1():
    u = np.full((100, 2000), 3.0)
    d, params = LogNormalNoise(sigma=0.2, rho=0.7).observe(u, seed=4)
    eta = np.log(d / u)
    assert (params == [0.2, 0.7]).all()
    np.testing.assert_allclose(eta.std(), 0.2, rtol=0.03)
    lag1 = np.mean([np.corrcoef(e[:-1], e[1:])[0, 1] for e in eta])
    np.testing.assert_allclose(lag1, 0.7, atol=0.02)


@pytest.mark.parametrize("law, u, message", [
    (PoissonNoise(), -np.ones((3, 4)), "Poisson noise needs a rate >= 0: series 0"),
    (BinomialNoise(trials=5), np.array([[0.2, 0.3], [0.5, 1.2]]), "probability scale \\* u in \\[0, 1\\]: series 1"),
    (LogNormalNoise(), np.array([[1.0, 2.0], [1.0, 0.0]]), "positive observed quantity: series 1"),
])
def test_a_series_outside_the_laws_domain_is_named(law, u, message):
    with pytest.raises(ValueError, match=message):
        law.observe(u, seed=0)


@pytest.mark.parametrize("law", [PoissonNoise(scale=(1.0, 3.0)), BinomialNoise(trials=30), LogNormalNoise(rho=0.5)])
def test_each_series_depends_on_its_seed_and_index_only(law):
    u = np.random.default_rng(0).uniform(0.1, 0.9, (10, 50))
    d, params = law.observe(u, seed=7, start=100)
    d2, params2 = law.observe(u[4:], seed=7, start=104)  # the same rows, drawn from the middle of the stream
    np.testing.assert_array_equal(d[4:], d2)
    np.testing.assert_array_equal(params[4:], params2)
    assert not np.array_equal(law.observe(u, seed=8, start=100)[0], d)


@pytest.mark.parametrize("law", [PoissonNoise(scale=(1.0, 3.0)), BinomialNoise(trials=30, scale=0.5),
                                 LogNormalNoise(sigma=(0.1, 0.3), rho=0.2, dt=0.5), fi.GaussianNoise(0.1)])
def test_records_round_trip(law):
    back = noise_from_dict(law.to_dict())
    assert type(back) is type(law) and back.to_dict() == law.to_dict() and repr(back) == repr(law)


def test_records_with_bad_entries_are_refused():
    with pytest.raises(ValueError, match="unknown noise kind 'poison'; expected one of ar1, gaussian, lognormal"):
        noise_from_dict({"kind": "poison"})
    with pytest.raises(ValueError, match="lacks|sigma"):
        noise_from_dict({"kind": "lognormal"})
    with pytest.raises(ValueError, match="trials must be"):
        noise_from_dict({"kind": "binomial", "trials": 0})


def test_a_function_observation_is_seeded_checked_and_named_in_records():
    law = FunctionNoise(lambda u, rng: u + rng.laplace(scale=0.1, size=u.shape), name="laplace")
    u = np.zeros((3, 20))
    np.testing.assert_array_equal(law.observe(u, seed=1)[0], law.observe(u, seed=1)[0])
    assert not np.array_equal(law.observe(u, seed=1)[0], law.observe(u, seed=2)[0])
    with pytest.raises(ValueError, match="must return an array of the series' shape"):
        FunctionNoise(lambda u, rng: u[:, :3]).observe(u)
    with pytest.raises(TypeError, match="callable"):
        FunctionNoise(3)
    # series by series, each with its own generator: the draws do not depend on the chunking
    u = np.arange(60.0).reshape(6, 10)
    whole = law.observe(u, seed=4)[0]
    np.testing.assert_array_equal(np.concatenate([law.observe(u[:2], seed=4)[0], law.observe(u[2:], seed=4,
                                                                                              start=2)[0]]), whole)
    batch = FunctionNoise(law.fn, name="laplace", batch=True)  # one call per chunk: faster, chunk-dependent
    assert batch.observe(u, seed=4)[0].shape == u.shape and not np.array_equal(batch.observe(u, seed=4)[0], whole)
    assert noise_from_dict(batch.to_dict()).batch
    back = noise_from_dict(law.to_dict())
    assert repr(back) == "FunctionNoise(laplace)"
    with pytest.raises(ValueError, match="cannot be restored; pass it again"):
        back.observe(u)


def test_observe_keeps_the_additive_laws_bitwise():
    u = fi.simulate(fi.default_prior().sample(5, seed=1))
    noise = fi.AR1Noise()
    d, params = observe(noise, u, seed=3, start=10)
    eta, params2 = noise.sample(5, u.shape[1], seed=3, start=10)
    np.testing.assert_array_equal(d, eta + u)
    np.testing.assert_array_equal(params, params2)


def test_data_sets_and_stores_carry_any_law(tmp_path):
    law = FunctionNoise(lambda u, rng: np.abs(u) * 3 + rng.integers(0, 2, size=u.shape), name="counts")
    ds = fi.Dataset.generate(30, seed=2, noise=law, progress=False)
    assert ds.noise.shape == (30, 0) and ds.config["noise"] == {"kind": "function", "name": "counts", "batch": False}
    ds.save(tmp_path / "f.npz")
    back = fi.Dataset.load(tmp_path / "f.npz")
    np.testing.assert_array_equal(back.d, ds.d)
    pois = fi.Dataset.generate(40, seed=2, noise=FunctionNoise(lambda u, rng: rng.poisson(np.abs(u) * 5)),
                               progress=False)
    assert np.array_equal(pois.d, np.round(pois.d))
    pytest.importorskip("zarr")
    from fhn_inverse.data.store import open_zarr, save_zarr

    data = fi.Dataset(ds.t, ds.theta, ds.u, ds.d, np.ones((30, 1)), ds.index, 2,
                      {**ds.config, "noise": PoissonNoise(2.0).to_dict()})
    save_zarr(data, tmp_path / "p.zarr", chunk=8)
    store = open_zarr(tmp_path / "p.zarr")
    np.testing.assert_array_equal(store.columns(0, 30, ("noise",))["noise"], np.ones((30, 1)))


def test_generate_refuses_what_is_not_an_observation_law():
    with pytest.raises(TypeError, match="noise must be an observation law"):
        fi.Dataset.generate(3, noise="poisson", progress=False)
