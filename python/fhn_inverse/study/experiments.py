"""The study's experiments, each a function that writes a run folder and returns its results.

A run folder holds ``results.json`` (configuration, every number, timings), the plots (PNG) and
the trained model files. Every experiment has a full size — the study's settings — and a
``quick`` size that finishes in under a minute for tests and previews.

Regimes (spec/paper.md): ``clean/clean`` trains and tests on noise-free series,
``clean/noisy`` trains on noise-free and tests on noisy series, ``noisy/noisy`` trains and tests
on noisy series. One simulated data set carries both the clean series ``u`` and the noisy ``d``
for the same parameters, so the regimes differ only in the series used.

The experiments live by kind: :mod:`~fhn_inverse.study.runs` (setup, training, the run folder),
:mod:`~fhn_inverse.study.point_estimates` (``train_size``, ``noise``, ``resimulation``, ``joint``)
and :mod:`~fhn_inverse.study.accuracy_covariance_speed` (``accuracy``, ``covariance``, ``speed``);
this module holds the registry :data:`EXPERIMENTS`, :func:`reproduce` and :func:`merge_seeds`, and
every name of theirs that users import from here.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .._util.validation import as_int
from .accuracy_covariance_speed import accuracy, covariance, speed
from .point_estimates import joint, noise, resimulation, train_size
from .runs import (JOINT_NAMES, NOISE_LAWS, REGIMES, TEST_SETS, THETA_NAMES, Run, Setup, Training, machine,
                   test_set_description)
from .runs import _data as _data, _fit as _fit  # noqa: F401  (used by tests through this module)

__all__ = ["REGIMES", "THETA_NAMES", "JOINT_NAMES", "Training", "Setup", "Run", "test_set_description", "machine",
           "TEST_SETS", "NOISE_LAWS", "train_size", "noise", "resimulation", "joint", "accuracy", "covariance",
           "speed", "EXPERIMENTS", "reproduce", "merge_seeds"]

EXPERIMENTS = {"accuracy": accuracy, "noise": noise, "train_size": train_size, "resimulation": resimulation,
               "joint": joint, "covariance": covariance, "speed": speed}


def reproduce(name: str, out, *, quick: bool = False, seed: int = 0, progress: bool = True, seeds: int = 1,
              test_set: str = "fixed", noise_law: str = "study", **overrides) -> dict:
    """Run experiment ``name`` (one of :data:`EXPERIMENTS`) into the folder ``out``.

    Parameters
    ----------
    name : str
        The experiment, one of :data:`EXPERIMENTS`.
    out : str or os.PathLike
        The folder, created if needed.
    quick : bool, default False
        The quick size (:meth:`~fhn_inverse.study.runs.Setup.quick`) instead of the study's.
    seed : int, default 0
        The data seed and the first training seed.
    progress : bool, default True
        Show progress bars.
    seeds : int, default 1
        At least 1. ``seeds`` > 1 trains every map with the training seeds seed, seed + 1, … (the
        data stay those of ``seed``), each run in ``out/seed-<k>``, and writes ``out/results.json``
        whose numbers are one per seed wherever they differ (``report`` shows the median and the
        range, and counts a cell as beaten only where the study's value lies outside the range).
    test_set : {"fixed", "stream"}, default "fixed"
        See :class:`~fhn_inverse.study.runs.Setup`.
    noise_law : {"study", "uniform"}, default "study"
        See :class:`~fhn_inverse.study.runs.Setup`.
    **overrides
        Fields of the setup's :class:`~fhn_inverse.study.runs.Training` to change.

    Returns
    -------
    dict
        What :meth:`~fhn_inverse.study.runs.Run.write` wrote to ``results.json``; with several
        seeds, their merged results (:func:`merge_seeds`) with the training seeds under ``seeds``.

    Raises
    ------
    ValueError
        If ``name`` is not an experiment, ``test_set`` is not one of
        :data:`~fhn_inverse.study.runs.TEST_SETS`, or ``noise_law`` is not one of
        :data:`~fhn_inverse.study.runs.NOISE_LAWS`.
    """
    if name not in EXPERIMENTS:
        raise ValueError(f"experiment must be one of {sorted(EXPERIMENTS)}, got {name!r}")
    seeds = as_int(seeds, "seeds", 1)
    if quick:
        setup = Setup.quick(seed)
    elif name == "joint":
        setup = Setup(train_sizes=(1000, 8000), seed=seed, training=Training(seed=seed))
    else:
        setup = Setup(seed=seed, training=Training(seed=seed))
    if test_set not in TEST_SETS:
        raise ValueError(f"test_set must be one of {TEST_SETS}, got {test_set!r}")
    if noise_law not in NOISE_LAWS:
        raise ValueError(f"noise_law must be one of {NOISE_LAWS}, got {noise_law!r}")
    setup = replace(setup, test_set=test_set, noise_law=noise_law)
    if overrides:
        setup = replace(setup, training=replace(setup.training, **overrides))
    if name == "speed":
        return speed(out, setup, quick=quick, progress=progress)
    if seeds == 1:
        return EXPERIMENTS[name](out, setup, progress=progress)
    run = Run(out, name)
    results = [EXPERIMENTS[name](Path(out) / f"seed-{k}", replace(setup, training=replace(
        setup.training, seed=setup.training.seed + k)), progress=progress)["results"] for k in range(seeds)]
    merged = merge_seeds(results)
    merged["seeds"] = [setup.training.seed + k for k in range(seeds)]
    return run.write(setup, merged)


def merge_seeds(results: list):
    """One structure from the results of several seeds.

    A number that differs between them becomes the list of their values (one per seed); what is
    equal in all stays as it is. Dicts with the same keys are merged key by key.

    Parameters
    ----------
    results : list
        The results, one per seed.

    Returns
    -------
    object
        The merged structure.
    """
    first = results[0]
    if all(isinstance(r, dict) for r in results) and all(r.keys() == first.keys() for r in results):
        return {k: merge_seeds([r[k] for r in results]) for k in first}
    if all(r == first for r in results):
        return first
    return list(results)  # numbers (or anything else) that differ: one per seed
