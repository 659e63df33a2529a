"""Calibrated coverage of every model's Gaussian head, with calibration and test sets large enough
to read it to a fraction of a point.

The settings, networks and training of ``benchmarks/model_results.py`` (the study's CNN with a
Gaussian-NLL head; FitzHugh–Nagumo with (θ0, θ1, γ) and with (θ0, θ1, γ, ζ) plus the noise's
(σ, ρ); Morris–Lecar; Hodgkin–Huxley), trained on ``--train`` series of data seed 10 + s. Each map
is then calibrated (``calibrate``, the default quantile method) on ``--calibration`` fresh series
of data seed 2000 + s, rather than the 10 % held out of its training set (``--calibration 0``
keeps the default: the quantile calibration ``fit`` made on that 10 %), and scored on one fixed
test set of ``--test`` series of data seed 1000: coverage of the calibrated central intervals
at 50/80/90/95 % per quantity, and of the joint region (``diagnostics.coverage`` with the
calibration). Printed per setting: the mean over seeds and its standard error, and how many cells
lie within 2 points of nominal.

    python benchmarks/coverage_models.py [--seeds 5] [--train 8000] [--calibration 4000] [--test 10000]
        [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings

import numpy as np

import fhn_inverse as fi
from model_results import LEVELS, settings, trained_map


def coverage(net, test, joint: bool) -> dict:
    y = np.column_stack([test.theta, test.noise]) if joint else test.theta
    names = list(test.config["model"].get("free") or fi.models.model_from_dict(test.config["model"]).free)
    names += ["sigma", "rho"] if joint else []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fi.UncalibratedWarning)
        per = [net.interval(test.d, level) for level in LEVELS]
    inside = np.array([np.mean((y >= lo) & (y <= hi), axis=0) for lo, hi in per])
    mean, cov = net.predict(test.d, return_cov=True)
    joint_cov = fi.diagnostics.coverage(y, mean, cov, levels=LEVELS, calibration=net.calibration).joint
    return {**{n: inside[:, j].tolist() for j, n in enumerate(names)}, "joint": [float(v) for v in joint_cov]}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--train", type=int, default=8000)
    parser.add_argument("--calibration", type=int, default=4000,
                        help="fresh calibration series per map; 0: the default split fit holds out (10 %%)")
    parser.add_argument("--test", type=int, default=10000)
    parser.add_argument("--only", help="run only the settings whose name contains this")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    started, load = time.perf_counter(), [os.getloadavg()[0]]
    results = {"levels": list(LEVELS), "train": args.train, "calibration": args.calibration, "test": args.test,
               "settings": {}}
    for name, (model, noise, joint) in settings().items():
        if args.only and args.only not in name:
            continue
        test = fi.Dataset.generate(args.test, seed=1000, model=model, noise=noise, progress=False)
        runs = []
        for s in range(args.seeds):
            train = fi.Dataset.generate(args.train, seed=10 + s, model=model, noise=noise, progress=False)
            net = trained_map(model, train, joint, s)
            if args.calibration:  # else the default: the 10 % of the training set held out by fit
                cal = fi.Dataset.generate(args.calibration, seed=2000 + s, model=model, noise=noise, progress=False)
                net.calibrate(cal.d, np.column_stack([cal.theta, cal.noise]) if joint else cal.theta)
            runs.append(coverage(net, test, joint))
            print(f"{name} seed {s}: " + ", ".join(f"{k} {np.round(100 * np.array(v), 1).tolist()}"
                                                   for k, v in runs[-1].items()), flush=True)
        cells = {k: np.array([r[k] for r in runs]) for k in runs[0]}  # (seeds, levels)
        summary = {k: {"mean": v.mean(axis=0).tolist(), "se": (v.std(axis=0, ddof=1) / np.sqrt(len(v))).tolist()
                       if len(v) > 1 else None} for k, v in cells.items()}
        within = sum(abs(m - lv) <= 0.02 for k in summary for m, lv in zip(summary[k]["mean"], LEVELS))
        total = len(summary) * len(LEVELS)
        results["settings"][name] = {"runs": runs, "summary": summary, "within_2_points": within, "cells": total}
        print(f"{name}: {within} of {total} cells within 2 points of nominal (mean over {args.seeds} seeds)")
        load.append(os.getloadavg()[0])
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["load_average"] = [min(load), max(load)]
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return results


if __name__ == "__main__":
    main()
