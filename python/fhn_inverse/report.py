"""The study's published numbers, and Markdown tables that set a run's results beside them.

``compare(root)`` reads the ``results.json`` of the experiments under ``root`` (as written by
``fhn-inverse reproduce NAME --out root``) and returns Markdown: one table per study table, ours
next to the study's, with the winner of each cell marked.
"""

from __future__ import annotations

import json
from pathlib import Path

#: Sensitivity to training size, CNN, M = 2000: {N: {regime: (Median-APE, R²)}} (spec/paper.md).
STUDY_TRAIN_SIZE = {
    500: {"clean/clean": (0.023, 0.990), "clean/noisy": (0.169, 0.788), "noisy/noisy": (0.098, 0.921)},
    1000: {"clean/clean": (0.014, 0.995), "clean/noisy": (0.174, 0.763), "noisy/noisy": (0.096, 0.938)},
    4000: {"clean/clean": (0.014, 0.997), "clean/noisy": (0.204, 0.710), "noisy/noisy": (0.060, 0.970)},
    8000: {"clean/clean": (0.014, 0.998), "clean/noisy": (0.251, 0.617), "noisy/noisy": (0.053, 0.976)},
}
#: Re-simulated time-series error: {regime: (squared bias, C-MSE)}.
STUDY_RESIMULATION = {"clean/clean": (2.8e-6, 0.061), "clean/noisy": (1.8e-3, 2.001), "noisy/noisy": (1.2e-3, 0.536)}
#: Joint inference R²: {N: {features: (θ0, θ1, σ, ρ)}}.
STUDY_JOINT = {
    1000: {"time": (0.914, 0.812, -0.62, -0.80), "fourier": (0.460, 0.577, 0.524, 0.603),
           "time+fourier": (0.935, 0.856, 0.589, 0.645)},
    8000: {"time": (0.962, 0.933, 0.627, 0.557), "fourier": (0.580, 0.797, 0.669, 0.721),
           "time+fourier": (0.968, 0.942, 0.684, 0.722)},
}

#: Local Gaussians (CNN, N = 8000): {regime: (e_theta, e_C)}, medians of ‖θ̄ − θ̂‖₂/‖θ̄‖₂ and
#: ‖C − Ĉ‖_F/‖C‖_F over the test set.
STUDY_COVARIANCE = {"clean/clean": (0.032, 0.124), "clean/noisy": (0.215, 0.229), "noisy/noisy": (0.093, 0.161)}


def _load(root: Path, name: str):
    path = root / name / "results.json"
    return json.loads(path.read_text()) if path.exists() else None


def _mark(ours: float, theirs: float, higher_is_better: bool) -> str:
    better = ours >= theirs if higher_is_better else ours <= theirs
    return "**" if better else ""


def train_size_table(result: dict, estimate: str = "table") -> str:
    """The training-size table beside the study's: the maps' estimates ("table"), or for
    ensembles the best-fitting ("best_fitting") or fitted ("fitted") ones."""
    if estimate not in ("table", "best_fitting", "fitted"):
        raise ValueError(f"estimate must be 'table', 'best_fitting' or 'fitted', got {estimate!r}")
    table = result["results"][estimate]
    regimes = list(STUDY_TRAIN_SIZE[500])
    lines = ["| N | " + " | ".join(f"{r}: ours | study" for r in regimes) + " |",
             "|---|" + "---|---|" * len(regimes)]
    for n, study in STUDY_TRAIN_SIZE.items():
        if str(n) not in table[regimes[0]]:
            continue
        cells = []
        for r in regimes:
            ours = table[r][str(n)]
            ape, r2 = ours["median_ape_all"], ours["r2_mean"]
            a = _mark(ape, study[r][0], False)
            b = _mark(r2, study[r][1], True)
            cells.append(f"{a}{ape:.3f}{a} ({b}{r2:.3f}{b}) | {study[r][0]:.3f} ({study[r][1]:.3f})")
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def resimulation_table(result: dict) -> str:
    """Per regime and estimate (the map's; for ensembles the best-fitting one and the least-squares
    fit started from the candidates; the true parameters, the floor the noise sets): squared bias and C-MSE as the mean over series, pooled
    over the test set, and the median over series, beside the study's figure (which does not say
    which of these it is). Bold: at most the study's."""
    table = result["results"]["table"]
    lines = ["| regime | estimate | squared bias: mean | pooled | median | study | "
             "C-MSE: mean | pooled | median | study |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    labels = (("", "map"), ("best_fitting", "best-fitting"), ("fitted", "fitted"),
              ("true_parameters", "true parameters"))
    for r, (bias, cmse) in STUDY_RESIMULATION.items():
        for key, label in labels:
            row = table[r].get(key) if key else table[r]
            if row is None:
                continue
            cells = []
            for name, study, fmt in (("squared_bias", bias, "{:.2g}"), ("c_mse", cmse, "{:.4g}")):
                for stat in ("mean", "pooled", "median"):
                    v = row.get(f"{name}_{stat}")
                    m = "" if v is None or key == "true_parameters" else _mark(v, study, False)
                    cells.append("–" if v is None else f"{m}{fmt.format(v)}{m}")
                cells.append(fmt.format(study))
            lines.append(f"| {r} | {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def joint_table(result: dict) -> str:
    table = result["results"]["table"]
    names = ("theta0", "theta1", "sigma", "rho")
    lines = ["| N | features | θ0: ours | study | θ1: ours | study | σ: ours | study | ρ: ours | study |",
             "|---|---|" + "---:|---:|" * 4]
    for n, rows in STUDY_JOINT.items():
        for kind, study in rows.items():
            if str(n) not in table or kind not in table[str(n)]:
                continue
            ours = table[str(n)][kind]["r2"]
            cells = []
            for name, theirs in zip(names, study):
                m = _mark(ours[name], theirs, True)
                cells.append(f"{m}{ours[name]:.3f}{m} | {theirs:.3f}")
            lines.append(f"| {n} | {kind} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def covariance_table(result: dict) -> str:
    """Per regime and estimator: e_theta and e_C beside the study's (bold: ours is at most the
    study's). "network" is the map alone (the study's setting); the others use more (see
    ``experiments.covariance``)."""
    table = result["results"]["table"]
    labels = (("network", "network alone"), ("plug_in", "network θ̂ + Laplace C at θ̂"),
              ("fitted", "ODE fit from θ̂ + Laplace C at the fit"), ("gaussian_nll", "Gaussian-NLL head"))
    lines = ["| regime | estimator | e_θ: ours | study | e_C: ours | study |", "|---|---|---:|---:|---:|---:|"]
    for r, (e_theta, e_c) in STUDY_COVARIANCE.items():
        for key, label in labels:
            row = table.get(r, {}).get(key)
            if row is None:
                continue
            a, b = _mark(row["e_theta"], e_theta, False), _mark(row["e_C"], e_c, False)
            lines.append(f"| {r} | {label} | {a}{row['e_theta']:.3f}{a} | {e_theta:.3f} | "
                         f"{b}{row['e_C']:.3f}{b} | {e_c:.3f} |")
    base = result["results"].get("baselines")
    if base:
        lines.append("")
        lines.append(f"e_C of a constant prediction (the training targets' log-Euclidean mean): "
                     f"{base['constant_log_mean']:.3f}; of C at the prior mean: {base['prior_mean']:.3f}.")
    return "\n".join(lines)


def compare(root) -> str:
    """Markdown comparison of the runs under ``root`` with the study (bold: ours is at least as good)."""
    root = Path(root)
    parts = []
    for name, render in (("train_size", train_size_table), ("resimulation", resimulation_table),
                         ("joint", joint_table), ("covariance", covariance_table)):
        result = _load(root, name)
        if result is not None:
            parts.append(f"### {name}\n\n{render(result)}\n")
            if name == "train_size":
                for key in ("best_fitting", "fitted"):
                    if result["results"].get(key):
                        parts.append(f"### train_size, {key.replace('_', '-')} estimates\n\n"
                                     f"{train_size_table(result, key)}\n")
    return "\n".join(parts)
