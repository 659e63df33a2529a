"""A model observing several quantities against one model per quantity: Lotka–Volterra observed in
both species, ``observe=["x", "y"]`` (one integration per trajectory records both), side by side
with two models of the same equations observing ``"x"`` and ``"y"`` (two integrations, the way to
observe two species before models took several), in one run.

Printed per integrator (and for the sensitivities): series per second on one thread in ``--pairs``
alternating pairs (two single models, one model of two channels), the median ratio of their times
and its range over pairs, the largest difference between the channels and the single models'
series, and the load average before and after.

    python benchmarks/observed_channels.py [--n 2000] [--pairs 7] [--json out.json]
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "python"))
from test_observed_channels import LV  # noqa: E402 - the model the tests check


def seconds(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="series per timing")
    ap.add_argument("--pairs", type=int, default=7)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    out = {"load_average_before": os.getloadavg(), "n": args.n, "pairs": args.pairs, "rows": {}}
    both = fi.ODEModel(observe=["x", "y"], **LV)
    singles = [fi.ODEModel(observe=name, **LV) for name in ("x", "y")]
    theta = fi.default_prior(both).sample(args.n, seed=1)
    cases = {
        "rkf78": lambda m, th: fi.simulate(th, model=m, n_threads=1),
        "rkf78-simd": lambda m, th: fi.simulate(th, model=m, n_threads=1, method="rkf78-simd"),
        "sensitivities": lambda m, th: fi.sensitivities(th, model=m, n_threads=1),
    }
    for name, run in cases.items():
        th = theta if name != "sensitivities" else theta[: args.n // 4]
        for m in singles:  # warm
            run(m, th[:20])
        run(both, th[:20])
        pairs = []
        for _ in range(args.pairs):
            t_two = sum(seconds(lambda m=m: run(m, th)) for m in singles)
            t_one = seconds(lambda: run(both, th))
            pairs.append((t_two, t_one))
        ratios = [a / b for a, b in pairs]
        joint, two = run(both, th[:200]), [run(m, th[:200]) for m in singles]
        if name == "sensitivities":
            joint, two = joint[1], [t[1] for t in two]
        diff = max(float(np.abs(joint[:, c] - two[c]).max()) for c in range(2))
        row = {"two_models_series_per_s": len(th) / float(np.median([a for a, _ in pairs])),
               "one_model_series_per_s": len(th) / float(np.median([b for _, b in pairs])),
               "speedup_median": float(np.median(ratios)), "speedup_min": min(ratios), "speedup_max": max(ratios),
               "max_diff": diff, "series": len(th)}
        out["rows"][name] = row
        print(f"{name:14s} two models {row['two_models_series_per_s']:8.0f}/s  one model of 2 channels "
              f"{row['one_model_series_per_s']:8.0f}/s  speed-up {row['speedup_median']:.2f} "
              f"({row['speedup_min']:.2f}-{row['speedup_max']:.2f})  max |diff| {diff:.1e}")
    out["load_average_after"] = os.getloadavg()
    print(f"load average before {out['load_average_before'][0]:.2f}, after {out['load_average_after'][0]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
