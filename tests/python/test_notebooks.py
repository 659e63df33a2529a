"""Every notebook runs top to bottom at quick size (FHN_QUICK=1)."""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))

# The figures each notebook shows (PNG outputs); a notebook not listed must show at least DEFAULT_IMAGES.
MIN_IMAGES = {
    "01_forward_model.ipynb": 4,              # the two parameter sweeps, the prior samples, the noisy series
    "02_accuracy_and_architecture.ipynb": 2,  # predicted vs true: best dense, best CNN
    "03_training_size.ipynb": 8,              # Median-APE and R² vs N, the study's curves, 3 regimes, loss, prior
    "04_noise.ipynb": 4,                      # noisy vs clean series, predicted vs true per regime
    "05_resimulation.ipynb": 3,               # re-simulated series per regime
    "06_joint_noise_inference.ipynb": 2,      # (σ, ρ) samples, predicted vs true (θ0, θ1, σ, ρ)
    "07_local_gaussians.ipynb": 5,            # sensitivities, covariance over the prior, 3 ellipse panels
    "08_calibration.ipynb": 12,               # coverage, SBC, predictive check for 3 regimes; calibrated coverage
    "09_morris_lecar.ipynb": 3,               # prior draws, predicted vs true, identifiability
    "10_hodgkin_huxley.ipynb": 3,             # the same for Hodgkin–Huxley
    "11_fitzhugh_nagumo_free_sets.ipynb": 3,  # the same for FitzHugh–Nagumo with γ free
    "12_gallery_epidemic.ipynb": 4,           # prior draws, predicted vs true, coverage, predictive check
    "13_gallery_predator_prey.ipynb": 4,      # the same for Lotka–Volterra, both species
    "14_gallery_neuron.ipynb": 4,             # the same for Hindmarsh–Rose
}
DEFAULT_IMAGES = 4


def test_every_notebook_has_an_image_count():
    assert {p.name for p in NOTEBOOKS} == set(MIN_IMAGES)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, monkeypatch, tmp_path):
    monkeypatch.setenv("FHN_QUICK", "1")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert len(images) >= MIN_IMAGES.get(path.name, DEFAULT_IMAGES)
