"""One training configuration end to end: TrainingConfig checks its settings, round-trips through
a dict, drives InverseMap.fit exactly as the keyword arguments do, is what the experiments train
with, and is recorded in the model file."""

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse.study import experiments


@pytest.fixture(scope="module")
def data():
    return fi.Dataset.generate(120, 0, noise=fi.AR1Noise(), progress=False)


@pytest.mark.parametrize("bad, match", [
    ({"epochs": 0}, "epochs must be >= 1, got 0"), ({"batch_size": -1}, "batch_size"),
    ({"lr": float("nan")}, "lr must be a finite number > 0"), ({"optimizer": "sgd"}, "optimizer must be one of adam"),
    ({"schedule": "linear"}, "schedule must be one of"),
    ({"validation": 1.5}, r"validation fraction must be in \(0, 1\)"),
    ({"betas": (0.9, 1.2)}, "betas must be two numbers"), ({"early_stopping": 0}, "early_stopping"),
    ({"scaling": "log"}, "scaling must be one of"), ({"loss": "mae"}, "loss must be one of"),
    ({"weight_decay": -1.0}, "weight_decay must be a finite number >= 0"),
    ({"n_threads": 10**6}, "n_threads must be in"),
])
def test_bad_settings_name_the_value_and_range(bad, match):
    with pytest.raises(ValueError, match=match):
        fi.TrainingConfig(**bad)


def test_dict_round_trip_and_unknown_keys():
    cfg = fi.TrainingConfig(epochs=7, optimizer="adamw", schedule="cosine", betas=(0.8, 0.99), early_stopping=3)
    assert fi.TrainingConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.decay == 0.01 and fi.TrainingConfig().decay == 0.0
    with pytest.raises(ValueError, match=r"unknown training settings \['epoch'\]"):
        fi.TrainingConfig.from_dict({"epoch": 3})
    core = cfg.to_core(seed=11)
    assert (core.epochs, core.schedule, core.patience, core.seed) == (7, "cosine", 3, 11)


def test_fit_with_a_config_is_fit_with_its_keywords(data):
    kw = dict(epochs=3, batch_size=16, lr=3e-3, optimizer="adamw", schedule="cosine", validation=0.2,
              early_stopping=2, seed=4, n_threads=1)
    a = fi.InverseMap.dense(units=[16]).fit(data.d, data.theta, progress=False, **kw)
    b = fi.InverseMap.dense(units=[16]).fit(data.d, data.theta, fi.TrainingConfig(**kw), progress=False)
    np.testing.assert_array_equal(a.network.params, b.network.params)
    # keywords override the config's fields
    c = fi.InverseMap.dense(units=[16]).fit(data.d, data.theta, fi.TrainingConfig(**{**kw, "lr": 1.0}), lr=3e-3,
                                            progress=False)
    np.testing.assert_array_equal(a.network.params, c.network.params)
    record = a.parts.training
    assert record["optimizer"] == "adamw" and record["n_train"] == 96 and record["validation"] == 0.2
    with pytest.raises(TypeError, match="config must be a TrainingConfig"):
        fi.InverseMap.dense(units=[16]).fit(data.d, data.theta, {"epochs": 3})


def test_the_experiments_train_with_a_training_config(data, tmp_path):
    tr = experiments.Training()
    assert isinstance(tr, fi.TrainingConfig)
    assert (tr.epochs, tr.lr, tr.batch_size, tr.validation, tr.early_stopping, tr.scaling) == (
        200, 2e-3, 32, 0.1, 40, "minmax")
    small = experiments.Training(epochs=2, members=2, n_threads=1)
    ens = experiments._fit(fi.InverseMap.dense(units=[8]), data.d, data.theta, small, progress=False)
    assert len(ens) == 2 and [m.parts.training["seed"] for m in ens.members] == [0, 1]
    ens.save(tmp_path / "ens")
    back = fi.Ensemble.load(tmp_path / "ens")
    assert back.members[1].parts.training["epochs"] == 2 and back.members[1].parts.training["early_stopping"] == 40
    with pytest.raises(ValueError, match="members"):
        experiments.Training(members=0)
