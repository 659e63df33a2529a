"""The study's published numbers, and Markdown tables that set a run's results beside them.

``compare(root)`` reads the ``results.json`` of the experiments under ``root`` (as written by
``fhn-inverse reproduce NAME --out root``) and returns Markdown: one table per study table, ours
next to the study's, each cell marked by :func:`verdict`, and a count of the cells at the top.

The rules (a referee's): a cell of ours is a value, or one value per seed. It **beats** the
study's (bold) only where the study's value lies outside the range of ours, on the worse side;
where the range holds the study's value it is a *tie* (italic); otherwise it falls short
(plain). A Median-APE cell is shown in both readings of :func:`fhn_inverse.metrics.median_ape`
(pooled per component / per sample) and beats the study only where it beats it in both; a run
without the per-sample reading cannot beat it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

__all__ = ["VERDICTS", "STUDY_TRAIN_SIZE", "STUDY_RESIMULATION", "STUDY_JOINT", "STUDY_COVARIANCE", "verdict", "both",
           "train_size_table", "resimulation_table", "joint_table", "covariance_table", "noise_table",
           "accuracy_table", "fit_start_table", "cells", "compare", "differences", "refresh"]

VERDICTS = ("win", "tie", "loss")

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


def _values(ours) -> np.ndarray:
    """A cell's values: one number, or one per seed."""
    values = np.atleast_1d(np.asarray(ours, dtype=np.float64))
    if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError(f"a cell must be a finite number or a list of them (one per seed), got {ours!r}")
    return values


def verdict(ours, theirs: float, higher_is_better: bool) -> str:
    """The verdict of a cell of ours against the study's value.

    "win" where the study's value ``theirs`` lies outside the range of ``ours`` on the worse side,
    "loss" where it lies outside on the better side, "tie" where the range holds it (equal values
    included).

    Parameters
    ----------
    ours : float or sequence of float
        A number, or one per seed; finite.
    theirs : float
        The study's value.
    higher_is_better : bool
        Whether a higher value is better.

    Returns
    -------
    str
        "win", "tie" or "loss".

    Raises
    ------
    ValueError
        If ``ours`` is neither a finite number nor a list of them.
    """
    values = _values(ours)
    lo, hi = float(values.min()), float(values.max())
    if lo <= theirs <= hi:
        return "tie"
    better = lo > theirs if higher_is_better else hi < theirs
    return "win" if better else "loss"


def both(*verdicts: str) -> str:
    """The verdict of a cell judged under several readings.

    A win only where every reading wins, a loss where any loses, else a tie.

    Parameters
    ----------
    *verdicts : str
        The readings' verdicts, each "win", "tie" or "loss".

    Returns
    -------
    str
        "win", "tie" or "loss".
    """
    if all(v == "win" for v in verdicts):
        return "win"
    return "loss" if "loss" in verdicts else "tie"


def _fmt(ours, fmt: str = "{:.3f}") -> str:
    values = _values(ours)
    if values.size == 1:
        return fmt.format(values[0])
    return f"{fmt.format(float(np.median(values)))} [{fmt.format(values.min())}–{fmt.format(values.max())}]"


def _cell(text: str, v: str, tally: list | None = None, label: str = "") -> str:
    """``text`` marked by its verdict ``v``; (label, text, v) appended to ``tally`` if given."""
    if tally is not None:
        tally.append((label, text, v))
    return f"**{text}**" if v == "win" else (f"*{text}*" if v == "tie" else text)


def _mark(ours, theirs: float, higher_is_better: bool, tally: list | None = None, fmt: str = "{:.3f}",
          label: str = "") -> str:
    """``ours`` formatted and marked by its verdict against ``theirs``."""
    return _cell(_fmt(ours, fmt), verdict(ours, theirs, higher_is_better), tally, label)


def _ape_cell(row: dict, theirs: float, tally: list | None = None, label: str = "") -> str:
    """Median-APE in both readings, "component / sample", judged by :func:`both`."""
    comp, sample = row["median_ape_all"], row.get("median_ape_sample")
    if sample is None:
        v = "loss" if verdict(comp, theirs, False) == "loss" else "tie"  # the second reading is unknown
        return _cell(f"{_fmt(comp)} / –", v, tally, label)
    return _cell(f"{_fmt(comp)} / {_fmt(sample)}", both(verdict(comp, theirs, False), verdict(sample, theirs, False)),
                 tally, label)


def train_size_table(result: dict, estimate: str = "table", tally: list | None = None) -> str:
    """The training-size table beside the study's, in Markdown.

    Cells: Median-APE (component / sample reading) and, in parentheses, R² (mean over θ0, θ1).

    Parameters
    ----------
    result : dict
        The contents of the ``results.json`` of a ``train_size`` run.
    estimate : {"table", "best_fitting", "fitted"}, default "table"
        The maps' estimates ("table"), or for ensembles the best-fitting ("best_fitting") or fitted
        ("fitted") ones.
    tally : list, optional
        A list to which (where, our value as shown, verdict) of every counted cell is appended.

    Returns
    -------
    str
        The table.

    Raises
    ------
    ValueError
        If ``estimate`` is not one of these.
    """
    if estimate not in ("table", "best_fitting", "fitted"):
        raise ValueError(f"estimate must be 'table', 'best_fitting' or 'fitted', got {estimate!r}")
    table = result["results"][estimate]
    regimes = list(STUDY_TRAIN_SIZE[500])
    lines = ["Cells: Median-APE, pooled per component / per sample (R², mean over θ0 and θ1); regimes train/test.",
             "",
             "| N | " + " | ".join(f"{r}: ours | study" for r in regimes) + " |",
             "|---|" + "---|---|" * len(regimes)]
    for n, study in STUDY_TRAIN_SIZE.items():
        if str(n) not in table[regimes[0]]:
            continue
        cells = []
        for r in regimes:
            ours = table[r][str(n)]
            where = f"train_size N = {n}, {r}"
            cells.append(f"{_ape_cell(ours, study[r][0], tally, where + ': Median-APE')} "
                         f"({_mark(ours['r2_mean'], study[r][1], True, tally, label=where + ': R²')}) "
                         f"| {study[r][0]:.3f} ({study[r][1]:.3f})")
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def resimulation_table(result: dict, tally: list | None = None) -> str:
    """The re-simulation errors beside the study's figure, in Markdown.

    Per regime and estimate (the map's; for ensembles the best-fitting one and the least-squares fit
    started from the candidates; the true parameters, the floor the noise sets): squared bias and
    C-MSE as the mean over series, pooled over the test set, and the median over series, beside the
    study's figure (which does not say which of these it is). Bold: at most the study's.

    Parameters
    ----------
    result : dict
        The contents of the ``results.json`` of a ``resimulation`` run.
    tally : list, optional
        A list to which (where, our value as shown, verdict) of every counted cell is appended.
        Only the map's own estimates are counted.

    Returns
    -------
    str
        The table.
    """
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
                    if v is None:
                        cells.append("–")
                    elif key == "true_parameters":  # the floor the noise sets, not a contender
                        cells.append(_fmt(v, fmt))
                    else:  # counted: the map's own estimates (the others use more than the map)
                        cells.append(_mark(v, study, False, tally if not key else None, fmt,
                                           f"resimulation {r}: {name.replace('_', ' ')} ({stat})"))
                cells.append(fmt.format(study))
            lines.append(f"| {r} | {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def joint_table(result: dict, tally: list | None = None) -> str:
    """The joint-inference table beside the study's, in Markdown.

    Cells: R² of θ0, θ1, σ and ρ per training size and features, ours beside the study's.

    Parameters
    ----------
    result : dict
        The contents of the ``results.json`` of a ``joint`` run.
    tally : list, optional
        A list to which (where, our value as shown, verdict) of every counted cell is appended.

    Returns
    -------
    str
        The table.
    """
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
                cells.append(f"{_mark(ours[name], theirs, True, tally, label=f'joint N = {n}, {kind}: R² {name}')} "
                             f"| {theirs:.3f}")
            lines.append(f"| {n} | {kind} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def covariance_table(result: dict, tally: list | None = None) -> str:
    """Per regime and estimator: e_theta and e_C beside the study's, in Markdown.

    Bold: ours is at most the study's. "network" is the map alone (the study's setting); the others
    use more (see ``experiments.covariance``). Where the run has them, a line below gives the
    baselines' e_C.

    Parameters
    ----------
    result : dict
        The contents of the ``results.json`` of a ``covariance`` run.
    tally : list, optional
        A list to which (where, our value as shown, verdict) of every counted cell is appended.
        Only the "network" rows are counted.

    Returns
    -------
    str
        The table.
    """
    table = result["results"]["table"]
    labels = (("network", "network alone"), ("plug_in", "network θ̂ + Laplace C at θ̂"),
              ("fitted", "ODE fit from θ̂ + Laplace C at the fit"), ("gaussian_nll", "Gaussian-NLL head"))
    lines = ["| regime | estimator | e_θ: ours | study | e_C: ours | study |", "|---|---|---:|---:|---:|---:|"]
    for r, (e_theta, e_c) in STUDY_COVARIANCE.items():
        for key, label in labels:
            row = table.get(r, {}).get(key)
            if row is None:
                continue
            counted = tally if key == "network" else None  # the study's setting; the others use more
            lines.append(f"| {r} | {label} | "
                         f"{_mark(row['e_theta'], e_theta, False, counted, label=f'covariance {r}: e_θ')}"
                         f" | {e_theta:.3f} | {_mark(row['e_C'], e_c, False, counted, label=f'covariance {r}: e_C')} | "
                         f"{e_c:.3f} |")
    base = result["results"].get("baselines")
    if base:
        lines.append("")
        lines.append(f"e_C of a constant prediction (the training targets' log-Euclidean mean): "
                     f"{base['constant_log_mean']:.3f}; of C at the prior mean: {base['prior_mean']:.3f}.")
    return "\n".join(lines)


def noise_table(result: dict, tally: list | None = None) -> str:
    """The three noise regimes at the experiment's N beside the study's training-size row for that N.

    That row is the study's noise table. Cells: Median-APE (component / sample) and R² per
    parameter; the study gives R² as the mean over θ0 and θ1. Where the study has no row for N,
    nothing is marked and a line says so.

    Parameters
    ----------
    result : dict
        The contents of the ``results.json`` of a ``noise`` run.
    tally : list, optional
        A list to which (where, our value as shown, verdict) of every counted cell is appended.

    Returns
    -------
    str
        The table.
    """
    results = result["results"]
    n, table = int(results["n"]), results["table"]
    study = STUDY_TRAIN_SIZE.get(n)
    lines = ["| regime | Median-APE: ours | study | R² θ0 | R² θ1 | R² mean: ours | study |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r, row in table.items():
        if study is None:
            lines.append(f"| {r} | {_fmt(row['median_ape_all'])} / {_fmt(row.get('median_ape_sample', float('nan')))} "
                         f"| – | {_fmt(row['r2']['theta0'])} | {_fmt(row['r2']['theta1'])} | "
                         f"{_fmt(row['r2_mean'])} | – |")
            continue
        ape, r2 = study[r]
        lines.append(f"| {r} | {_ape_cell(row, ape, tally, f'noise {r}: Median-APE')} | {ape:.3f} | "
                     f"{_fmt(row['r2']['theta0'])} | {_fmt(row['r2']['theta1'])} | "
                     f"{_mark(row['r2_mean'], r2, True, tally, label=f'noise {r}: R² mean')} | {r2:.3f} |")
    if study is None:
        lines += ["", f"The study has no row for N = {n}."]
    return "\n".join(lines)


def accuracy_table(result: dict, tally: list | None = None) -> str:
    """The architecture search (noisy/noisy): the best map of each family on the test series.

    The study reports the ranking (a CNN above the best dense map), not these numbers: nothing is
    marked.

    Parameters
    ----------
    result : dict
        The contents of the ``results.json`` of an ``accuracy`` run.
    tally : list, optional
        Unused: nothing is counted.

    Returns
    -------
    str
        The table, in Markdown.
    """
    best = result["results"]["best"]
    lines = ["| family | hyperparameters | parameters | test R² θ0 | test R² θ1 | Median-APE (component / sample) |",
             "|---|---|---:|---:|---:|---:|"]
    for family, row in best.items():
        test = row["test"]
        sample = test.get("median_ape_sample")
        n_params = row["n_params"]  # with several seeds the search may pick another map per seed
        params = (str(row["params"]) if not isinstance(n_params, list)
                  else "per seed: " + "; ".join(str({k: v[i] for k, v in row["params"].items()})
                                                for i in range(len(n_params))))
        n_text = f"{n_params:,}" if not isinstance(n_params, list) else ", ".join(f"{p:,}" for p in n_params)
        lines.append(f"| {family} | {params} | {n_text} | {_fmt(test['r2']['theta0'])} | "
                     f"{_fmt(test['r2']['theta1'])} | {_fmt(test['median_ape_all'])} / "
                     f"{'–' if sample is None else _fmt(sample)} |")
    return "\n".join(lines)


def fit_start_table(result: dict, tally: list | None = None) -> str:
    """The results of ``benchmarks/fit_start.py``, in Markdown.

    The least-squares fit of the ODE started from the network's estimate beside the same fit
    started from the prior mean (no network), and the network alone. Not the study's table: nothing
    is marked.

    Parameters
    ----------
    result : dict
        The contents of the ``results.json`` of ``benchmarks/fit_start.py``.
    tally : list, optional
        Unused: nothing is counted.

    Returns
    -------
    str
        The table, and a line per regime comparing the two fits.
    """
    res = result["results"]
    lines = [f"{res['n']:,} series of the fixed test set, maps trained on {res['train']:,} series (seed "
             f"{res['seed']}, noise law {res['noise_law']!r}). Misfit: the mean squared difference of the "
             "estimate's simulated series from the test series.", "",
             "| regime | estimate | Median-APE (component / sample) | R² θ0 | R² θ1 | misfit | restarted | seconds |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    small = lambda v: f"{v:.4f}" if v >= 1e-3 else f"{v:.1e}"  # noqa: E731
    for regime, rows in res["table"].items():
        for name, r in rows.items():
            secs = "–" if r["seconds"] is None else f"{r['seconds']:.1f}"
            restarted = "–" if r["restarted"] is None else f"{r['restarted']:,}"
            lines.append(f"| {regime} | {name} | {small(r['median_ape_component'])} / {small(r['median_ape_sample'])} "
                         f"| {r['r2'][0]:.4f} | {r['r2'][1]:.4f} | {r['misfit_mean']:.4g} | {restarted} | {secs} |")
    lines.append("")
    for regime, rows in res["table"].items():
        net, prior = rows.get("fit from the network"), rows.get("fit from the prior mean")
        if not (net and prior and net["seconds"] and prior["seconds"]):
            continue
        d_ape = prior["median_ape_sample"] - net["median_ape_sample"]
        ape = (f"{abs(d_ape):.1e} {'lower' if d_ape > 0 else 'higher'}" if d_ape else "the same")
        lines.append(f"- {regime}: started from the network the fit takes {prior['seconds'] / net['seconds']:.1f}× "
                     f"less time than from the prior mean and restarts {net['restarted']:,} series instead of "
                     f"{prior['restarted']:,}; its per-sample Median-APE is {ape}.")
    return "\n".join(lines)


_TABLES = (("train_size", train_size_table), ("noise", noise_table), ("resimulation", resimulation_table),
           ("joint", joint_table), ("accuracy", accuracy_table), ("covariance", covariance_table),
           ("fit_start", fit_start_table))


def _run_line(result: dict) -> str:
    """How a run was made, from its results.json: wall time, load average, seeds, noise law,
    test set, machine and version (what a run records; older runs record less)."""
    bits = []
    if "elapsed_s" in result:
        bits.append(f"{result['elapsed_s']:,.0f} s")
    load = result.get("load_average")
    if isinstance(load, dict) and "start" in load:
        load = [load["start"], load.get("end", load["start"])]
    if isinstance(load, list) and len(load) == 2:
        bits.append(f"load average {load[0]:.2f}–{load[1]:.2f}")
    seeds = result.get("results", {}).get("seeds")
    if isinstance(seeds, list):
        bits.append(f"training seeds {seeds[0]}–{seeds[-1]}" if len(seeds) > 1 else f"training seed {seeds[0]}")
    setup = result.get("setup", {})
    if "noise_law" in setup:
        bits.append(f"noise law {setup['noise_law']!r}")
    test = result.get("test_set")
    if isinstance(test, dict) and "kind" in test:
        bits.append(f"{test['kind']} test set of {test.get('size', '?'):,} series" if isinstance(test.get("size"), int)
                    else f"{test['kind']} test set")
    machine = result.get("machine")
    if isinstance(machine, dict):
        bits.append(f"{machine.get('cpu', '?')} ({machine.get('cores', '?')} cores), fhn_inverse "
                    f"{machine.get('fhn_inverse', '?')}")
    return ("Run: " + "; ".join(bits) + ".\n\n") if bits else ""


def _render(root: Path, tally: list) -> list[str]:
    parts = []
    for name, render in _TABLES:
        result = _load(root, name)
        if result is not None:
            parts.append(f"#### {name}\n\n{_run_line(result)}{render(result, tally=tally)}\n")
            if name == "train_size":
                for key in ("best_fitting", "fitted"):
                    if result["results"].get(key):
                        parts.append(f"#### train_size, {key.replace('_', '-')} estimates\n\n"
                                     f"{train_size_table(result, key)}\n")
    return parts


def _summary(tally: list) -> str:
    counts = {v: [c[2] for c in tally].count(v) for v in VERDICTS}
    return (f"Cells of the study's tables: {counts['win']} beaten (bold), {counts['tie']} tied (italic: the "
            f"study's value within our range, or one reading short), {counts['loss']} not beaten, of "
            f"{len(tally)} (the maps' own estimates).\n")


def cells(root) -> list[tuple[str, str, str]]:
    """Every counted cell of the runs under ``root``.

    Parameters
    ----------
    root : str or os.PathLike
        The folder of the runs (``root/NAME/results.json``).

    Returns
    -------
    list of (str, str, str)
        (where, our value as shown, verdict) per cell.
    """
    tally: list = []
    _render(Path(root), tally)
    return tally


def compare(root) -> str:
    """Markdown comparison of the runs under ``root`` with the study.

    The cells are marked by the rules of this module, and at the top is the count of the study's
    cells beaten, tied and not beaten (the covariance table's network-alone rows only; other
    estimators use more).

    Parameters
    ----------
    root : str or os.PathLike
        The folder of the runs (``root/NAME/results.json``).

    Returns
    -------
    str
        The Markdown; empty where no experiment's ``results.json`` is under ``root``.
    """
    tally: list = []
    parts = _render(Path(root), tally)
    if not parts:
        return ""
    return "\n".join([_summary(tally), *parts] if tally else parts)


def differences(root, other, names: tuple[str, str] = ("A", "B")) -> str:
    """Markdown: the cells whose verdict differs between the runs under ``root`` and under ``other``.

    The two folders hold, say, the runs of the two noise laws. Each differing cell is shown with both
    values, and the counts of both are given. Cells present in only one of them are left out.

    Parameters
    ----------
    root, other : str or os.PathLike
        The two folders of runs.
    names : (str, str), default ("A", "B")
        Their names in the text.

    Returns
    -------
    str
        The counts of both and a table of the differing cells, or a line saying that none differs.
    """
    a, b = cells(root), cells(other)
    by_label = {label: (text, v) for label, text, v in b}
    mark = {"win": "beaten", "tie": "tied", "loss": "not beaten"}
    rows = [f"| {label} | {text} ({mark[v]}) | {by_label[label][0]} ({mark[by_label[label][1]]}) |"
            for label, text, v in a if label in by_label and by_label[label][1] != v]
    head = [f"{names[0]}: {_summary(a).strip()}", "", f"{names[1]}: {_summary(b).strip()}", ""]
    if not rows:
        return "\n".join(head + ["No cell's verdict differs between them."])
    return "\n".join(head + [f"| cell | {names[0]} | {names[1]} |", "|---|---|---|", *rows])


# ------------------------------------------------------------------ generated sections of a page
#: A generated block of a Markdown page: the command that makes it, its output, the end mark.
_BLOCK_START = "<!-- generated by: "
_BLOCK_END = "<!-- end of generated block -->"


def _block_output(command: str, base: Path) -> str:
    """The output of a block's command: ``fhn-inverse report ROOT`` or ``fhn-inverse report ROOT
    --against OTHER [--names A B]`` (paths relative to ``base``, the project's root)."""
    import shlex

    words = shlex.split(command)
    if words[:2] != ["fhn-inverse", "report"] or len(words) < 3:
        raise ValueError(f"a generated block's command must be 'fhn-inverse report ROOT [...]', got {command!r}")
    root, rest = base / words[2], words[3:]
    if not rest:
        text = compare(root)
        if not text:
            raise ValueError(f"{command!r}: no results.json of an experiment under {root}")
        return text.rstrip("\n")
    if rest[0] == "--against" and len(rest) in (2, 5) and (len(rest) == 2 or rest[2] == "--names"):
        names = tuple(rest[3:5]) if len(rest) == 5 else ("A", "B")
        return differences(root, base / rest[1], names).rstrip("\n")
    raise ValueError(f"unsupported options in {command!r}")


def refresh(page, base=None, *, check: bool = False) -> list[str]:
    """Re-make every generated block of the Markdown file ``page``.

    The lines between ``<!-- generated by: COMMAND -->`` and ``<!-- end of generated block -->``
    become COMMAND's output. The page is rewritten, atomically, only where an output changed.

    Parameters
    ----------
    page : str or os.PathLike
        The Markdown file.
    base : str or os.PathLike, optional
        The folder the commands' paths are relative to; default the folder above the page's.
    check : bool, default False
        Leave the page as it is.

    Returns
    -------
    list of str
        The commands whose output changed.

    Raises
    ------
    ValueError
        If a block has no end mark, its command is not ``fhn-inverse report ROOT`` or
        ``fhn-inverse report ROOT --against OTHER [--names A B]``, or ``ROOT`` holds no experiment's
        ``results.json``.
    """
    page = Path(page)
    base = Path(base) if base is not None else page.resolve().parent.parent
    lines = page.read_text().split("\n")
    out, changed, i = [], [], 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        i += 1
        if not line.startswith(_BLOCK_START):
            continue
        command = line[len(_BLOCK_START):].removesuffix("-->").strip()
        try:
            end = lines.index(_BLOCK_END, i)
        except ValueError:
            raise ValueError(f"{page}: the generated block of {command!r} has no end mark") from None
        new = _block_output(command, base).split("\n")
        if lines[i:end] != new:
            changed.append(command)
        out += new + [_BLOCK_END]
        i = end + 1
    if changed and not check:
        from .._util.io import atomic_write_text

        atomic_write_text(page, "\n".join(out))
    return changed
