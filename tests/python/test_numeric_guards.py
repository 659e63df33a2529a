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
    absurd._net.params = (1e38 * (-1.0) ** np.arange(absurd.n_params)).astype(np.float32)
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
