"""An inverse map made of parts: a head defined in one new file (``toy_head.py``) and registered
once trains end to end, saves and loads; the built-in heads are what the registry says; maps
assembled from parts behave as the maps they came from."""

import numpy as np
import pytest

import fhn_inverse as fi
import toy_head  # noqa: F401  (registers the "log_point" head)
from fhn_inverse.nn.heads import HEADS, GaussianNLLHead, Head, LocalGaussianHead, PointHead, register_head


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((240, 48)).astype(np.float32)
    y = np.exp(np.stack([x[:, :8].mean(axis=1), x[:, 8:16].mean(axis=1)], axis=1))  # positive labels
    return x, y


def test_the_registry_lists_the_heads():
    assert {"point": PointHead, "gaussian_nll": GaussianNLLHead, "local_gaussian": LocalGaussianHead}.items() <= \
        HEADS.items()
    assert HEADS["log_point"] is toy_head.LogPointHead
    with pytest.raises(TypeError, match="subclass of Head"):
        register_head(dict)
    bad = type("BadLoss", (Head,), {"name": "bad", "loss": "hinge"})
    with pytest.raises(ValueError, match="loss must be one of"):
        register_head(bad)


def test_a_toy_head_in_one_file_trains_end_to_end(data, tmp_path):
    x, y = data
    toy = fi.InverseMap.dense([16, 16], seed=1).fit(x, y, head="log_point", epochs=20, progress=False)
    plain = fi.InverseMap.dense([16, 16], seed=1).fit(x, np.log(y), epochs=20, progress=False)
    assert toy.head == "log_point" and not toy.has_cov
    # the head only changes the targets and the outputs: the same network weights, bit for bit
    np.testing.assert_array_equal(toy.network.params, plain.network.params)
    np.testing.assert_array_equal(toy.predict(x), np.exp(plain.predict(x)))
    assert toy.score(x, y) > 0.3  # it learnt something
    path = tmp_path / "toy.safetensors"
    toy.save(path)
    back = fi.InverseMap.load(path)
    assert back.head == "log_point" and back.describe()["head"] == "log_point"
    np.testing.assert_array_equal(back.predict(x), toy.predict(x))
    with pytest.raises(ValueError, match="positive labels"):
        fi.InverseMap.dense([4]).fit(x, -y, head="log_point", epochs=1, progress=False)
    with pytest.raises(ValueError, match="cannot be calibrated|Gaussian-NLL head"):
        toy.calibrate(x, y, method="quantile")


def test_unknown_head_is_named(data):
    x, y = data
    with pytest.raises(ValueError, match=r"head must be one of \[.*'gaussian_nll'.*\], got 'nope'"):
        fi.InverseMap.dense([4]).fit(x, y, head="nope", epochs=1, progress=False)
    with pytest.raises(ValueError, match="trained with loss 'gaussian_nll', got 'mse'"):
        fi.InverseMap.dense([4], output_activation=None).fit(x, y, head="gaussian_nll", loss="mse", epochs=1,
                                                              progress=False)


def test_a_map_from_its_parts_is_the_map(data):
    x, y = data
    m = fi.InverseMap.dense([8], seed=2, output_activation=None).fit(x, y, loss="gaussian_nll", epochs=3,
                                                                     progress=False)
    again = fi.InverseMap.from_parts(m.parts, history=m.history)
    for a, b in zip(m.predict(x, return_cov=True), again.predict(x, return_cov=True)):
        np.testing.assert_array_equal(a, b)
    assert isinstance(m.parts.head, GaussianNLLHead) and m.parts.head.n_outputs() == 2 + 3
    with pytest.raises(ValueError, match="calibration for a map with a 'point' head"):
        fi.InverseMap.from_parts(fi.InverseMap.dense([4]).fit(x, y, epochs=1, progress=False).parts, cov_scale=2.0)


def test_layer_kinds_come_from_the_core():
    from fhn_inverse import _core
    from fhn_inverse.nn import layers

    core = dict(_core.layer_kinds())
    assert layers.LAYER_KINDS == tuple(core) and layers.LAYER_KINDS[:6] == (
        "dense", "conv1d", "avgpool1d", "maxpool1d", "flatten", "dropout")
    assert {k: list(v) for k, v in layers.LAYER_FIELDS.items()} == core
    assert core["conv1d"] == ["filters", "kernel", "stride", "padding"] and core["swish"] == []


def test_a_layer_registered_in_the_core_is_checked_by_its_fields(monkeypatch):
    """A kind the core lists but Python has no code for (as nn::register_layer adds): its fields are
    checked by name, required ones named in the error, the optional ones filled."""
    from fhn_inverse.nn import layers

    monkeypatch.setattr(layers, "LAYER_FIELDS", {**layers.LAYER_FIELDS, "gated": ("units", "stride", "padding",
                                                                                   "rate")})
    monkeypatch.setattr(layers, "LAYER_KINDS", tuple(layers.LAYER_FIELDS))
    assert layers._normalise_layer({"kind": "gated", "units": 8, "rate": 0.25}) == {
        "kind": "gated", "units": 8, "padding": "valid", "rate": 0.25}
    assert layers._normalise_layer({"kind": "gated", "units": 8, "rate": 0, "stride": 2, "padding": "same"})[
        "stride"] == 2
    with pytest.raises(ValueError, match="layer 'gated' needs 'units'; it takes units, stride, padding, rate"):
        layers._normalise_layer({"kind": "gated", "rate": 0.1})
    with pytest.raises(ValueError, match="'gated': rate must be in"):
        layers._normalise_layer({"kind": "gated", "units": 3, "rate": 1.5})
    with pytest.raises(ValueError, match="'gated': units must be >= 1"):
        layers._normalise_layer({"kind": "gated", "units": 0, "rate": 0.5})
    with pytest.raises(ValueError, match="does not take"):
        layers._normalise_layer({"kind": "gated", "units": 3, "rate": 0.1, "pool": 2})
    with pytest.raises(ValueError, match="layer kind must be one of .*gated"):
        layers._normalise_layer({"kind": "gate"})
