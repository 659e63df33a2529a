"""The per-model results of docs/models.md, rendered from a kept run of
``benchmarks/model_results.py`` (``docs/runs/model_results.json``): one table per setting
(model and free set), mean [min, max] over the training seeds. ``fhn-inverse report
docs/runs/model_results.json`` prints them, and ``report --refresh docs/models.md`` re-makes the
page's generated block from that file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

__all__ = ["LEVELS", "model_tables", "is_model_results", "load_model_results"]

#: the central levels the coverage columns report
LEVELS = (0.5, 0.8, 0.9, 0.95)


def is_model_results(path) -> bool:
    """Whether ``path`` is a kept run of the per-model results (a JSON file with "settings")."""
    path = Path(path)
    return path.suffix == ".json" and path.is_file()


def load_model_results(path) -> dict:
    """The kept run at ``path``; ValueError naming the file if it is not one."""
    try:
        results = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: not a kept run of the per-model results ({e})") from None
    if not isinstance(results, dict) or not isinstance(results.get("settings"), dict) or not results["settings"]:
        raise ValueError(f"{path}: not a kept run of the per-model results (no \"settings\"; made by "
                         "benchmarks/model_results.py --json)")
    return results


def _cell(values, scale: float = 1.0, digits: int = 3) -> str:
    v = scale * np.asarray(values, dtype=float)
    if v.size == 1 or np.all(v == v[0]):  # one run, or the same on every seed (the fixed test set's)
        return f"{v[0]:.{digits}f}"
    return f"{v.mean():.{digits}f} [{v.min():.{digits}f}, {v.max():.{digits}f}]"


def model_tables(results: dict) -> str:
    """The tables of docs/models.md from a kept run: mean [min, max] over the seeds."""
    lines = []
    for name, block in results["settings"].items():
        runs = block["runs"]
        names = runs[0]["names"]
        lines += [f"\n**{name}** ({len(runs)} seeds)\n",
                  "| quantity | R² | Median-APE (%) | coverage 50 / 80 / 90 / 95 % | Laplace sd / prior sd |",
                  "| --- | --- | --- | --- | --- |"]
        for j, q in enumerate(names):
            cov = " / ".join(_cell([r["coverage"][q][i] for r in runs], 100, 1) for i in range(len(LEVELS)))
            ratio = (_cell([r["laplace_sd_over_prior_sd"][j] for r in runs], 1, 2)
                     if j < len(runs[0]["laplace_sd_over_prior_sd"]) else "–")
            lines.append(f"| {q} | {_cell([r['r2'][j] for r in runs])} | "
                         f"{_cell([r['median_ape'][j] for r in runs], 100, 1)} | {cov} | {ratio} |")
        joint = " / ".join(_cell([r["coverage_joint"][i] for r in runs], 100, 1) for i in range(len(LEVELS)))
        lines += [f"| joint region | | | {joint} | |", "",
                  f"Median-APE over the model's parameters: component reading "
                  f"{_cell([r['median_ape_component'] for r in runs], 100, 1)} %, sample reading "
                  f"{_cell([r['median_ape_sample'] for r in runs], 100, 1)} %; e_θ "
                  f"{_cell([r['e_theta'] for r in runs])}, e_C {_cell([r['e_C'] for r in runs])} "
                  f"(on {runs[0]['n_laplace']} series); training {_cell([r['train_seconds'] for r in runs], 1, 0)} s."]
        if "fitted" in runs[0]:
            f = runs[0]["fitted"]
            lines.append(f"Seed 0, first {f['n']} test series — R² network "
                         f"{np.round(f['network']['r2'], 3).tolist()}, after map_fit "
                         f"{np.round(f['fit']['r2'], 3).tolist()}; Median-APE (%) network "
                         f"{np.round(100 * np.asarray(f['network']['median_ape']), 1).tolist()}, after map_fit "
                         f"{np.round(100 * np.asarray(f['fit']['median_ape']), 1).tolist()}.")
    lines.append(f"\nload average {results['load_average'][0]}–{results['load_average'][1]}, "
                 f"{results['seconds']} s")
    return "\n".join(lines)

