"""Coverage of a Gaussian-NLL CNN trained with default settings, before and after self-calibration.

The study's CNN with a Gaussian-NLL head (``InverseMap.cnn(output_activation=None)``) is trained
with ``fit(d, θ, loss="gaussian_nll")`` and nothing else on ``--train`` noisy series (the study's
AR(1) noise law) of data seed 10 + s, for s in 0 … ``--seeds`` − 1, twice:

- "before": ``calibration_split=None`` — the previous default: the head's own Gaussian, all the
  series trained on;
- "after": the defaults — the last 10 % of the series held out and a quantile calibration fitted
  on them after training (``TrainingConfig.calibration_split``).

Both are scored on ``--test`` fresh noisy series of data seed 1000 + s (other seeds than any
training set): the fraction of true θ_j inside the map's central interval at 50, 80, 90 and 95 %
(``interval``) per parameter, and of θ inside the joint region (``diagnostics.coverage`` with the
map's calibration). Prints a table per seed and the mean and range over seeds, with the binomial
standard error of a test set of that size and the load average.

    python benchmarks/calibrated_default.py [--seeds 3] [--train 8000] [--test 4000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings

import numpy as np

import fhn_inverse as fi

LEVELS = (0.5, 0.8, 0.9, 0.95)


def coverage_of(model, test) -> dict:
    """{"theta0": [...], "theta1": [...], "joint": [...]} coverage at LEVELS on the test set."""
    with warnings.catch_warnings():  # "before" is uncalibrated on purpose
        warnings.simplefilter("ignore", fi.UncalibratedWarning)
        per = [model.interval(test.d, level) for level in LEVELS]
    inside = [np.mean((test.theta >= lo) & (test.theta <= hi), axis=0) for lo, hi in per]
    mean, cov = model.predict(test.d, return_cov=True)
    joint = fi.diagnostics.coverage(test.theta, mean, cov, levels=LEVELS, calibration=model.calibration).joint
    return {"theta0": [float(c[0]) for c in inside], "theta1": [float(c[1]) for c in inside],
            "joint": [float(j) for j in joint]}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--train", type=int, default=8000)
    parser.add_argument("--test", type=int, default=4000)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    load = [os.getloadavg()[0]]
    results = {"levels": list(LEVELS), "train": args.train, "test": args.test, "seeds": []}
    started = time.perf_counter()
    for s in range(args.seeds):
        train = fi.Dataset.generate(args.train, seed=10 + s, noise=fi.AR1Noise(), progress=False)
        test = fi.Dataset.generate(args.test, seed=1000 + s, noise=fi.AR1Noise(), progress=False)
        row = {"seed": s}
        for name, extra in (("before", {"calibration_split": None}), ("after", {})):
            model = fi.InverseMap.cnn(output_activation=None, seed=s)
            t0 = time.perf_counter()
            model.fit(train.d, train.theta, loss="gaussian_nll", progress=False, **extra)
            row[name] = {**coverage_of(model, test), "seconds": round(time.perf_counter() - t0, 1),
                         "n_calibration": model.parts.training.get("n_calibration", 0)}
            load.append(os.getloadavg()[0])
        results["seeds"].append(row)
        print(f"seed {s}:")
        for name in ("before", "after"):
            cells = "  ".join(f"{k} " + " ".join(f"{100 * v:5.1f}" for v in row[name][k])
                              for k in ("theta0", "theta1", "joint"))
            print(f"  {name:<6} {cells}   ({row[name]['seconds']} s)")
    se = [100 * np.sqrt(a * (1 - a) / args.test) for a in LEVELS]
    print(f"\ncoverage in % at {', '.join(f'{100 * a:g}' for a in LEVELS)} (nominal), mean [min, max] over "
          f"{args.seeds} seeds; binomial s.e. of one test set: {', '.join(f'{v:.1f}' for v in se)}")
    summary = {}
    for name in ("before", "after"):
        for k in ("theta0", "theta1", "joint"):
            v = 100 * np.array([row[name][k] for row in results["seeds"]])
            summary[f"{name} {k}"] = {"mean": v.mean(axis=0).round(2).tolist(), "min": v.min(axis=0).round(2).tolist(),
                                      "max": v.max(axis=0).round(2).tolist()}
            cells = "  ".join(f"{m:5.1f} [{lo:.1f}, {hi:.1f}]" for m, lo, hi in zip(v.mean(0), v.min(0), v.max(0)))
            print(f"  {name:<6} {k:<7} {cells}")
    results["summary"] = summary
    results["load_average"] = [round(min(load), 2), round(max(load), 2)]
    results["seconds"] = round(time.perf_counter() - started, 1)
    print(f"\nload average {results['load_average'][0]}–{results['load_average'][1]}, {results['seconds']} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return results


if __name__ == "__main__":
    main()
