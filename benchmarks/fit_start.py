"""What the network contributes to the fitted estimate: ``fi.fit_series`` started from the
network's estimate against the same fit started from the prior mean (no network), and the
network alone.

Data: the study's CNN trained (protocol A: Adam, lr 2e-3, batch 32, up to 200 epochs, 10 %
validation, patience 40) on ``--train`` clean and noisy series; tested on the fixed test set
(``fi.test_set``, its first ``--n`` series), with the noise law ``--noise-law``. Regimes as in
the study: train/test = clean/clean, clean/noisy, noisy/noisy. The fit from the prior mean
depends on the test series only, so it runs once on the clean and once on the noisy test
series. Both fits use ``fit_series``'s defaults (the same restarts on the same grids), on the
same threads, one after the other.

For each estimate it prints Median-APE in both readings (per sample ‖θ̂ − θ‖₂/‖θ‖₂ and pooled
over components), R² per parameter, the mean squared misfit of its simulated series against the
test series, the series that took a global restart, and the wall time; the load average is
recorded before and after. Nothing here is a test.

    python benchmarks/fit_start.py [--n 2000] [--train 8000] [--seed 0] [--noise-law study]
                                   [--out runs/strict]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

import fhn_inverse as fi
from fhn_inverse import metrics
from fhn_inverse.study.experiments import machine
from fhn_inverse.study.report import fit_start_table


def _scores(theta, est, d, t, n_threads) -> dict:
    u, status = fi.simulate(est, t=t, n_threads=n_threads, return_status=True)
    ok = status == 0
    return {
        "median_ape_sample": float(metrics.median_ape(theta, est, reading="sample")),
        "median_ape_component": float(metrics.median_ape(theta, est, reading="component")),
        "r2": [float(v) for v in metrics.r2_score(theta, est)],
        "misfit_mean": float(np.mean((u[ok] - d[ok]) ** 2)),
        "simulation_failures": int((~ok).sum()),
    }


def _fit(start, d, t, n_threads) -> dict:
    began = time.perf_counter()
    fit = fi.fit_series(start[None], d, t=t, n_threads=n_threads)
    return {"theta": fit.theta, "seconds": time.perf_counter() - began, "restarted": int(fit.restarted.sum())}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="test series (default 2000)")
    parser.add_argument("--train", type=int, default=8000, help="training series per map (default 8000)")
    parser.add_argument("--epochs", type=int, default=200, help="maximum epochs (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and the maps (default 0)")
    parser.add_argument("--noise-law", choices=("study", "uniform"), default="study",
                        help="the noise's (σ, ρ) law (default: the study's, AR1Noise.study())")
    parser.add_argument("--threads", type=int, default=0, help="threads (default 0: all available)")
    parser.add_argument("--out", default=None,
                        help="a run folder: the results go to OUT/fit_start/results.json, where "
                             "'fhn-inverse report OUT' finds them")
    args = parser.parse_args(argv)
    if not 1 <= args.n <= fi.TEST_SIZE:
        parser.error(f"--n must be in [1, {fi.TEST_SIZE}], got {args.n}")
    load_before = os.getloadavg()[0]
    noise = fi.AR1Noise.study() if args.noise_law == "study" else fi.AR1Noise()
    pool = fi.Dataset.generate(args.train, args.seed, noise=noise, n_threads=args.threads, progress=False)
    test = fi.test_set(args.seed, noise=noise, size=args.n, n_threads=args.threads, progress=False)
    prior_mean = np.asarray(fi.default_prior().mean)
    maps = {}
    for kind in ("clean", "noisy"):
        x = pool.u if kind == "clean" else pool.d
        maps[kind] = fi.InverseMap.cnn(seed=args.seed).fit(
            x, pool.theta, epochs=args.epochs, batch_size=32, lr=2e-3, validation=0.1, early_stopping=40,
            seed=args.seed, n_threads=args.threads, progress=False)
    from_prior = {}
    results = {}
    for regime in ("clean/clean", "clean/noisy", "noisy/noisy"):
        train_kind, test_kind = regime.split("/")
        d = test.u if test_kind == "clean" else test.d
        net = maps[train_kind].predict(d)
        rows = {"network alone": {**_scores(test.theta, net, d, test.t, args.threads), "seconds": None,
                                  "restarted": None}}
        fit = _fit(net, d, test.t, args.threads)
        rows["fit from the network"] = {**_scores(test.theta, fit["theta"], d, test.t, args.threads),
                                        "seconds": fit["seconds"], "restarted": fit["restarted"]}
        if test_kind not in from_prior:
            from_prior[test_kind] = _fit(np.broadcast_to(prior_mean, net.shape), d, test.t, args.threads)
        fit = from_prior[test_kind]
        rows["fit from the prior mean"] = {**_scores(test.theta, fit["theta"], d, test.t, args.threads),
                                           "seconds": fit["seconds"], "restarted": fit["restarted"]}
        results[regime] = rows
    out = {"experiment": "fit_start", "command": "python benchmarks/fit_start.py " + " ".join(argv or sys.argv[1:]),
           "machine": machine(), "load_average": [load_before, os.getloadavg()[0]],
           "results": {"n": args.n, "train": args.train, "seed": args.seed, "noise_law": args.noise_law,
                       "prior_mean": prior_mean.tolist(), "table": results}}
    print(fit_start_table(out))
    if args.out:
        from fhn_inverse._util.io import atomic_write_text

        folder = Path(args.out) / "fit_start"
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(folder / "results.json", json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
