"""Maps, ensembles, priors, noise models and the ODE model pickle (joblib, multiprocessing):
predictions bitwise equal after the round trip."""

import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

import fhn_inverse as fi


@pytest.fixture(scope="module")
def data():
    return fi.Dataset.generate(120, 0, noise=fi.AR1Noise(), progress=False)


@pytest.fixture(scope="module")
def nll_map(data):
    m = fi.InverseMap.dense(units=[8], output_activation=None, seed=0)
    m.fit(data.d, data.theta, loss="gaussian_nll", epochs=2, features="time", scaling="standard", progress=False)
    m.calibrate(data.d, data.theta, method="quantile")
    return m


def _predict(model, x):
    return model.predict(x)


def test_maps_and_ensembles_round_trip(data, nll_map):
    back = pickle.loads(pickle.dumps(nll_map))
    np.testing.assert_array_equal(back.predict(data.d), nll_map.predict(data.d))
    assert back.calibration == nll_map.calibration and back.inputs == nll_map.inputs
    assert back.history["loss"] == nll_map.history["loss"]
    np.testing.assert_array_equal(back.interval(data.d, 0.9)[0], nll_map.interval(data.d, 0.9)[0])
    ens = fi.Ensemble([nll_map, back])
    ens.calibrate(data.d, data.theta)
    ens_back = pickle.loads(pickle.dumps(ens))
    np.testing.assert_array_equal(ens_back.predict(data.d), ens.predict(data.d))
    assert ens_back.calibration == ens.calibration
    unbuilt = pickle.loads(pickle.dumps(fi.InverseMap.cnn(seed=3)))
    assert not unbuilt.built and unbuilt.seed == 3 and unbuilt.layers == fi.InverseMap.cnn(seed=3).layers


def test_a_process_pool_predicts_with_a_map(data, nll_map):
    # "spawn": a child forked from a process whose OpenMP threads have run cannot start its own
    # (libgomp), so process pools must spawn (or forkserver) — joblib's default does
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = list(pool.map(_predict, [nll_map, nll_map], [data.d[:60], data.d[60:]]))
    np.testing.assert_array_equal(np.concatenate(parts), nll_map.predict(data.d))


def test_priors_noise_and_the_model_round_trip():
    for prior in (fi.default_prior(), fi.UniformPrior([0.0, -1.0], [1.0, 1.0])):
        np.testing.assert_array_equal(pickle.loads(pickle.dumps(prior)).sample(20, seed=4), prior.sample(20, seed=4))
    for noise in (fi.AR1Noise(), fi.AR1Noise.study(), fi.GaussianNoise(0.1)):
        np.testing.assert_array_equal(pickle.loads(pickle.dumps(noise)).parameters(10, seed=2),
                                      noise.parameters(10, seed=2))
    model = fi.FitzHughNagumo(gamma=2.5, zeta=-0.3, initial=(0.1, -0.2))
    back = pickle.loads(pickle.dumps(model))
    assert (back.gamma, back.zeta, tuple(back.initial)) == (2.5, -0.3, (0.1, -0.2))
    theta = np.array([[0.5, 0.3]])
    np.testing.assert_array_equal(fi.simulate(theta, model=back), fi.simulate(theta, model=model))
