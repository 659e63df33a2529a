"""What every experiment shares: the regimes, the training and setup, the run folder, the data.

:class:`Setup` holds an experiment's sizes and data, :class:`Training` how its maps are trained, and
:class:`Run` the folder it writes (``results.json``, plots, model files); the experiments themselves
are in :mod:`~fhn_inverse.study.point_estimates` and :mod:`~fhn_inverse.study.accuracy_covariance_speed`.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path

import numpy as np

from .._util.io import atomic_savefig, atomic_write_text
from .._util.validation import as_int
from ..data.dataset import TEST_SIZE, TEST_START, TRAIN_SIZES, Dataset, study_data
from ..models.noise import AR1Noise
from ..models.simulation import FitzHughNagumo
from ..nn import InverseMap
from ..nn.ensemble import Ensemble
from ..nn.training import TrainingConfig, override

__all__ = ["REGIMES", "THETA_NAMES", "JOINT_NAMES", "Training", "Setup", "Run", "test_set_description", "machine",
           "TEST_SETS", "NOISE_LAWS"]


REGIMES = ("clean/clean", "clean/noisy", "noisy/noisy")
THETA_NAMES = tuple(FitzHughNagumo.param_names)  # the study's model's parameters
JOINT_NAMES = THETA_NAMES + AR1Noise.param_names  # and its AR(1) noise's


@dataclass
class Training(TrainingConfig):
    """How every map of an experiment is trained: a TrainingConfig with the study's settings.

    A :class:`~fhn_inverse.nn.training.TrainingConfig` (its fields, schema and checks) whose
    defaults are the study's where they differ from its own (each declared with
    :func:`~fhn_inverse.nn.training.override`) — Adam, lr 2e-3, batch 32, 200 epochs, min–max label
    scaling with a sigmoid output, MSE, 10 % of the training set held out for early stopping with
    patience 40, restoring the best epoch, training seed 0, no calibration split (the study
    calibrates nothing) — and one field more, ``members``.

    Parameters
    ----------
    members : int, default 1
        At least 1. With ``members`` > 1 every map is a seed ensemble of that many maps (seeds seed,
        seed + 1, …) whose mean prediction is scored.
    """

    epochs: int = override("epochs", 200)
    lr: float = override("lr", 2e-3)
    validation: float | None = override("validation", 0.1)
    early_stopping: int | None = override("early_stopping", 40)
    seed: int = override("seed", 0)
    input_scaling: str = override("input_scaling", "none")
    calibration_split: float | None = override("calibration_split", None)
    members: int = 1

    def __post_init__(self):
        super().__post_init__()
        self.members = as_int(self.members, "members", 1)


@dataclass
class Setup:
    """Sizes and data of an experiment.

    Parameters
    ----------
    train_sizes : tuple of int, default TRAIN_SIZES
        The training-set sizes N; the data's training pool has the largest.
    test_size : int, default TEST_SIZE
        The number of test series.
    seed : int, default 0
        The data seed.
    training : Training, default ``Training()``
        How every map of the experiment is trained.
    fit : dict, default {}
        Keyword arguments of ``fit_series`` where an experiment fits the ODE to the test series
        (resimulation, covariance); empty: its defaults.
    test_set : {"fixed", "stream"}, default "fixed"
        "fixed": ``fi.test_set``, the same 2,000 series for every experiment, disjoint from every
        pool; "stream": the test series follow the training pool in the data stream (so the test set
        depends on the pool's size).
    noise_law : {"study", "uniform"}, default "study"
        How the noise's (σ, ρ) are drawn per series: "study" (``AR1Noise.study()``, the law of the
        authors' own arrays), or "uniform" over the study's ranges.
    """

    train_sizes: tuple = TRAIN_SIZES
    test_size: int = TEST_SIZE
    seed: int = 0
    training: Training = field(default_factory=Training)
    #: keyword arguments of ``fit_series`` where an experiment fits the ODE to the test series
    #: (resimulation, covariance); empty: its defaults
    fit: dict = field(default_factory=dict)
    #: "fixed": ``fi.test_set``, the same 2,000 series for every experiment, disjoint from every
    #: pool; "stream": the test series follow the training pool in the data stream (so the test
    #: set depends on the pool's size)
    test_set: str = "fixed"
    #: how the noise's (σ, ρ) are drawn per series: "study" (``AR1Noise.study()``, the law of the
    #: authors' own arrays), or "uniform" over the study's ranges
    noise_law: str = "study"

    @classmethod
    def quick(cls, seed: int = 0) -> "Setup":
        """The quick size, for tests and previews.

        Parameters
        ----------
        seed : int, default 0
            The data seed and the training seed.

        Returns
        -------
        Setup
            Training sizes 250 and 500, 300 test series, 12 epochs of batches of 32 without validation
            or early stopping, and ``fit_series`` with 10 iterations, 1 round and a grid of 16.
        """
        return cls(train_sizes=(250, 500), test_size=300, seed=seed,
                   training=Training(epochs=12, batch_size=32, validation=None, early_stopping=None, seed=seed),
                   fit={"iterations": 10, "rounds": 1, "grid": 16})


class Run:
    """A run folder: results written atomically, figures and model files beside them.

    Parameters
    ----------
    root : str or os.PathLike
        The folder, created (with its subfolder ``models``) if needed.
    name : str
        The experiment's name, recorded in ``results.json``.
    """

    def __init__(self, root, name: str):
        self.path = Path(root)
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / "models").mkdir(exist_ok=True)
        self.name = name
        self.started = time.perf_counter()
        self.load_start = _load_average()

    def figure(self, fig, name: str) -> Path:
        """Save a figure as ``<name>.png`` in the run folder, atomically.

        Parameters
        ----------
        fig : matplotlib.figure.Figure
            The figure.
        name : str
            The file's name without its suffix.

        Returns
        -------
        Path
            The file.
        """
        path = self.path / f"{name}.png"
        atomic_savefig(fig, path, dpi=110)
        return path

    def model(self, model: InverseMap | Ensemble, name: str) -> Path:
        """Save a map or ensemble under ``models`` in the run folder.

        Parameters
        ----------
        model : InverseMap or Ensemble
            A map, saved as ``models/<name>.safetensors``, or an ensemble, saved as the folder
            ``models/<name>``.
        name : str
            The file's or folder's name.

        Returns
        -------
        Path
            The file or folder.
        """
        if isinstance(model, Ensemble):  # a folder of member files
            return model.save(self.path / "models" / name)
        path = self.path / "models" / f"{name}.safetensors"
        model.save(path)
        return path

    def write(self, setup: Setup | dict, results: dict) -> dict:
        """Write ``results.json`` atomically and return what it holds.

        Parameters
        ----------
        setup : Setup or dict
            The configuration, recorded under ``setup``.
        results : dict
            Every number, recorded under ``results``.

        Returns
        -------
        dict
            ``experiment``, ``setup``, ``results``, ``elapsed_s`` (seconds since the :class:`Run` was
            made), ``machine`` (:func:`machine`), ``load_average`` (at the start and the end), and for a
            :class:`Setup` also ``test_set`` (:func:`test_set_description`).
        """
        config = asdict(setup) if is_dataclass(setup) else setup
        payload = {"experiment": self.name, "setup": _jsonable(config), "results": _jsonable(results),
                   "elapsed_s": round(time.perf_counter() - self.started, 2), "machine": machine(),
                   "load_average": {"start": self.load_start, "end": _load_average()}}
        if isinstance(setup, Setup):
            payload["test_set"] = test_set_description(setup)
        atomic_write_text(self.path / "results.json", json.dumps(payload, indent=2) + "\n")
        return payload


def test_set_description(setup: Setup) -> dict:
    """Which series an experiment of ``setup`` tests on: data seed, first stream index, size.

    Parameters
    ----------
    setup : Setup
        The experiment's setup.

    Returns
    -------
    dict
        ``kind`` (``setup.test_set``), ``seed`` (the data seed), ``start`` (the first stream index),
        ``size`` and ``noise_law``.
    """
    start = TEST_START if setup.test_set == "fixed" else max(setup.train_sizes)
    return {"kind": setup.test_set, "seed": setup.seed, "start": start, "size": setup.test_size,
            "noise_law": setup.noise_law}


def _load_average() -> float | None:
    """The 1-minute load average (None where the platform has none)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def machine() -> dict:
    """What a run's numbers depend on: platform, CPU model and cores, Python, the package's version.

    Returns
    -------
    dict
        ``platform``, ``cpu``, ``cores``, ``python`` and ``fhn_inverse``.
    """
    from .._version import __version__

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {"platform": platform.platform(), "cpu": cpu, "cores": os.cpu_count(),
            "python": platform.python_version(), "fhn_inverse": __version__}


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


TEST_SETS = ("stream", "fixed")
NOISE_LAWS = ("uniform", "study")


def _noise(setup: Setup) -> AR1Noise:
    if setup.noise_law not in NOISE_LAWS:
        raise ValueError(f"noise_law must be one of {NOISE_LAWS}, got {setup.noise_law!r}")
    return AR1Noise.study() if setup.noise_law == "study" else AR1Noise()


def _data(setup: Setup, progress: bool) -> tuple[Dataset, Dataset]:
    if setup.test_set not in TEST_SETS:
        raise ValueError(f"test_set must be one of {TEST_SETS}, got {setup.test_set!r}")
    return study_data(setup.seed, noise=_noise(setup), train_size=max(setup.train_sizes), test_size=setup.test_size,
                      fixed_test=setup.test_set == "fixed",
                      n_threads=setup.training.n_threads, progress=progress)


def _series(data: Dataset, clean: bool) -> np.ndarray:
    return data.u if clean else data.d


def _fit(model: InverseMap, x, y, training: Training, progress: bool, trained_on=None) -> InverseMap | Ensemble:
    if as_int(training.members, "members", 1) > 1:
        model = Ensemble.like(model, training.members)
    return model.fit(x, y, training, trained_on=trained_on, progress=progress)
