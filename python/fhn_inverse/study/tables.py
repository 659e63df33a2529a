"""The study's published numbers, the verdict of a cell of ours against them, and one Markdown
table per experiment that sets a run's results beside them.

:mod:`~fhn_inverse.study.report` gathers these tables into a page; its docstring states the rules.
"""

from __future__ import annotations

import numpy as np

from .runs import JOINT_NAMES, THETA_NAMES

__all__ = ["VERDICTS", "STUDY_TRAIN_SIZE", "STUDY_RESIMULATION", "STUDY_JOINT", "STUDY_COVARIANCE", "verdict", "both",
           "train_size_table", "resimulation_table", "joint_table", "covariance_table", "noise_table",
           "accuracy_table", "fit_start_table"]

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
    names = JOINT_NAMES
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
                         f"| – | {_fmt(row['r2'][THETA_NAMES[0]])} | {_fmt(row['r2'][THETA_NAMES[1]])} | "
                         f"{_fmt(row['r2_mean'])} | – |")
            continue
        ape, r2 = study[r]
        lines.append(f"| {r} | {_ape_cell(row, ape, tally, f'noise {r}: Median-APE')} | {ape:.3f} | "
                     f"{_fmt(row['r2'][THETA_NAMES[0]])} | {_fmt(row['r2'][THETA_NAMES[1]])} | "
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
        lines.append(f"| {family} | {params} | {n_text} | {_fmt(test['r2'][THETA_NAMES[0]])} | "
                     f"{_fmt(test['r2'][THETA_NAMES[1]])} | {_fmt(test['median_ape_all'])} / "
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
