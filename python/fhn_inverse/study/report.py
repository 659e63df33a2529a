"""Markdown reports that set a run's results beside the study's published numbers.

``compare(root)`` reads the ``results.json`` of the experiments under ``root`` (as written by
``fhn-inverse reproduce NAME --out root``) and returns Markdown: one table per study table, ours
next to the study's, each cell marked by :func:`~fhn_inverse.study.tables.verdict`, and a count
of the cells at the top.

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

from .model_tables import is_model_results, load_model_results, model_tables
from .tables import (STUDY_COVARIANCE, STUDY_JOINT, STUDY_RESIMULATION, STUDY_TRAIN_SIZE, VERDICTS, accuracy_table,
                     both, covariance_table, fit_start_table, joint_table, noise_table, resimulation_table,
                     train_size_table, verdict)

__all__ = ["VERDICTS", "STUDY_TRAIN_SIZE", "STUDY_RESIMULATION", "STUDY_JOINT", "STUDY_COVARIANCE", "verdict", "both",
           "train_size_table", "resimulation_table", "joint_table", "covariance_table", "noise_table",
           "accuracy_table", "fit_start_table", "TABLES", "cells", "compare", "differences", "refresh"]


def _load(root: Path, name: str):
    path = root / name / "results.json"
    return json.loads(path.read_text()) if path.exists() else None


#: The table of each experiment (:mod:`~fhn_inverse.study.tables`), in the report's order.
#: The tables ``report`` renders from a run folder, by experiment name.
TABLES = (("train_size", train_size_table), ("noise", noise_table), ("resimulation", resimulation_table),
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
    for name, render in TABLES:
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
    if is_model_results(root) and not rest:  # a kept run of benchmarks/model_results.py
        return model_tables(load_model_results(root)).strip("\n")
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
