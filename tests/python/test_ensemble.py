"""Seed ensembles: the mean of members trained from different seeds, its convexity bound, files."""

import numpy as np
import pytest

import fhn_inverse as fi


@pytest.fixture(scope="module")
def problem():
    train, test = fi.study_data(3, noise=fi.AR1Noise(), train_size=300, test_size=200, progress=False)
    return train, test


@pytest.fixture(scope="module")
def ensemble(problem):
    train, _ = problem
    model = fi.InverseMap.dense(units=[16, 16], seed=5)
    return fi.Ensemble.like(model, 3).fit(train.d, train.theta, epochs=8, batch_size=32, lr=2e-3, progress=False)


def test_members_differ_and_mean_is_the_estimate(ensemble, problem):
    _, test = problem
    assert [m.seed for m in ensemble.members] == [5, 6, 7]
    each = ensemble.predict_members(test.d)
    assert each.shape == (3, len(test.d), 2)
    assert not np.allclose(each[0], each[1])  # different seeds: different maps
    np.testing.assert_allclose(ensemble.predict(test.d), each.mean(axis=0))
    np.testing.assert_allclose(ensemble.predict_std(test.d), each.std(axis=0))
    assert ensemble.n_params == 3 * ensemble.members[0].n_params


def test_mean_prediction_error_is_at_most_the_members_average(ensemble, problem):
    _, test = problem
    each = ensemble.predict_members(test.d)
    member_mse = ((each - test.theta) ** 2).mean(axis=(1, 2))
    ensemble_mse = ((ensemble.predict(test.d) - test.theta) ** 2).mean()
    assert ensemble_mse <= member_mse.mean() + 1e-12  # convexity of the squared error
    r2 = fi.metrics.r2_score(test.theta, ensemble.predict(test.d)).mean()
    assert r2 >= np.mean([fi.metrics.r2_score(test.theta, p).mean() for p in each]) - 1e-12


def test_save_load_round_trip(ensemble, problem, tmp_path):
    _, test = problem
    ensemble.save(tmp_path / "ens")
    loaded = fi.Ensemble.load(tmp_path / "ens")
    assert len(loaded) == 3
    np.testing.assert_array_equal(loaded.predict(test.d), ensemble.predict(test.d))
    with pytest.raises(ValueError, match="no member_"):
        fi.Ensemble.load(tmp_path)


def test_bad_arguments():
    with pytest.raises(ValueError, match="at least one member"):
        fi.Ensemble([])
    with pytest.raises(TypeError, match="must be InverseMap"):
        fi.Ensemble([object()])
    with pytest.raises(ValueError, match="members must be >= 1"):
        fi.Ensemble.like(fi.InverseMap.dense(), 0)
