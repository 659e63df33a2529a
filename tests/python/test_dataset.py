"""Data sets: reproducibility, the study's split, save/load."""

import numpy as np
import pytest

import fhn_inverse as fi


@pytest.fixture(scope="module")
def small():
    return fi.Dataset.generate(300, seed=5, noise=fi.AR1Noise(), progress=False)


def test_generated_arrays_are_consistent(small):
    assert small.u.shape == small.d.shape == (300, 1000) and small.theta.shape == (300, 2)
    assert np.array_equal(small.t, fi.DEFAULT_GRID)
    assert np.array_equal(small.u, fi.simulate(small.theta))
    resid = small.d - small.u
    assert np.allclose(resid.std(axis=1), small.noise[:, 0] / 0.2, rtol=0.5)  # std = σ/Δt


def test_identical_for_any_threads_and_chunks(small):
    other = fi.Dataset.generate(300, seed=5, noise=fi.AR1Noise(), n_threads=1, chunk=77, progress=False)
    for name in ("theta", "u", "d", "noise"):
        assert np.array_equal(getattr(small, name), getattr(other, name))


def test_start_offsets_the_streams(small):
    tail = fi.Dataset.generate(100, seed=5, noise=fi.AR1Noise(), start=200, progress=False)
    assert np.array_equal(tail.d, small.d[200:]) and np.array_equal(tail.index, small.index[200:])


def test_clean_data_has_no_noise():
    data = fi.Dataset.generate(20, seed=1, progress=False)
    assert np.array_equal(data.u, data.d) and np.all(data.noise == 0)


def test_study_split_is_nested_and_disjoint():
    pool, test = fi.study_data(seed=2, train_size=400, test_size=100, progress=False)
    sets = fi.training_sets(pool, sizes=(50, 100, 400))
    assert np.array_equal(sets[100].theta[:50], sets[50].theta)
    assert set(pool.index).isdisjoint(test.index) and len(test) == 100
    assert fi.TRAIN_SIZES == (500, 1000, 4000, 8000) and fi.TEST_SIZE == 2000
    with pytest.raises(ValueError, match="training size must be <= the pool's 400 samples, got 500"):
        fi.training_sets(pool, sizes=(500,))


def test_save_load_round_trip(small, tmp_path):
    path = small.save(tmp_path / "data.npz")
    loaded = fi.Dataset.load(path)
    for name in ("t", "theta", "u", "d", "noise", "index"):
        assert np.array_equal(getattr(loaded, name), getattr(small, name))
    assert loaded.seed == small.seed and loaded.config == small.config
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.npz"]  # no temporary left behind


def test_failed_save_leaves_no_file(small, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(OSError, match="disk full"):
        small.save(tmp_path / "data.npz")
    assert list(tmp_path.iterdir()) == []


def test_load_rejects_other_files(tmp_path):
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="not a fhn_inverse data set"):
        fi.Dataset.load(tmp_path / "other.npz")
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(ValueError, match="cannot read data set"):
        fi.Dataset.load(tmp_path / "broken.npz")


def test_bad_generate_arguments():
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        fi.Dataset.generate(0)
    with pytest.raises(TypeError, match=r"noise must be an observation law \(AR1Noise"):
        fi.Dataset.generate(5, noise="ar1")


def test_a_model_file_and_a_data_set_given_for_each_other_say_so(tmp_path):
    data = fi.Dataset.generate(40, 0, noise=fi.AR1Noise(), progress=False)
    npz = data.save(tmp_path / "data.npz")
    model = fi.InverseMap.dense(units=[4], seed=0).fit(data.d, data.theta, epochs=1, progress=False)
    model.save(tmp_path / "map.safetensors")
    with pytest.raises(ValueError, match=r"data\.npz: a zip archive \(a data set"):
        fi.InverseMap.load(npz)
    with pytest.raises(ValueError, match=r"map\.safetensors.*looks like a model file"):
        fi.Dataset.load(tmp_path / "map.safetensors")


def test_regime_labels_spell_out_train_and_test():
    from fhn_inverse.study.plotting import regime_label

    assert regime_label("clean/noisy") == "train clean, test noisy"
    assert regime_label("noisy/noisy") == "train noisy, test noisy"
    assert regime_label("time+fourier") == "time+fourier"
