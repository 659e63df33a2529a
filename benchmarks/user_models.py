"""User models (``fi.ODEModel``) against the built-in models they restate: FitzHugh–Nagumo and
Morris–Lecar written as equations, side by side with their C++ headers in one run.

Printed per model:

- the first use's compile time, in a fresh cache folder (the compiler's wall time, and the whole
  ``ODEModel(...)`` call), and the cached reuse time in a fresh process (the ``ODEModel(...)`` call
  after ``import fhn_inverse``, which loads the compiled module);
- the largest difference of the series from the built-in model's on ``--draws`` prior draws, both
  integrators, absolute and relative to the series' range;
- series per second on one thread, both integrators, in ``--pairs`` alternating pairs
  (built-in, user), with the median ratio user / built-in and its range over pairs;
- the NumPy backend (``backend="numpy"``, no compiler) on ``--numpy-n`` series against the
  compiled Odeint path on the same series, one thread, and the largest difference;
- the load average before and after.

    python benchmarks/user_models.py [--n 1000] [--pairs 7] [--draws 200] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import fhn_inverse as fi
from fhn_inverse.models import compile as native

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "python"))
from test_ode_model import FHN_EQUATIONS, ML_EQUATIONS  # noqa: E402 - the equations the tests check

CASES = {"FitzHughNagumo": (FHN_EQUATIONS, fi.FitzHughNagumo), "MorrisLecar": (ML_EQUATIONS, fi.models.MorrisLecar)}


def reuse_seconds(spec_name: str, cache: str) -> float:
    """``ODEModel(...)`` in a fresh process whose cache holds the model."""
    tests = str(Path(__file__).resolve().parents[1] / "tests" / "python")
    script = (f"import sys, time; sys.path.insert(0, {tests!r})\n"
              "import fhn_inverse as fi\n"
              f"from test_ode_model import {spec_name}\n"
              f"start = time.perf_counter(); fi.ODEModel(**{spec_name}); print(time.perf_counter() - start)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         env={**os.environ, "FHN_INVERSE_CACHE": cache})
    return float(out.stdout.strip().splitlines()[-1])


def series_rate(model, theta, method) -> float:
    start = time.perf_counter()
    fi.simulate(theta, model=model, method=method, n_threads=1)
    return theta.shape[0] / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="series per timing")
    ap.add_argument("--pairs", type=int, default=7)
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--numpy-n", type=int, default=500, help="series for the NumPy backend's timing")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    out = {"load_average_before": os.getloadavg(), "n": args.n, "pairs": args.pairs, "draws": args.draws,
           "numpy_n": args.numpy_n,
           "compiler": native.build_record()["cxx"] + " " + native.build_record()["cxx_version"], "models": {}}
    with tempfile.TemporaryDirectory() as cache:
        os.environ["FHN_INVERSE_CACHE"] = cache
        for name, (spec, builtin_cls) in CASES.items():
            start = time.perf_counter()
            user = fi.ODEModel(**spec)
            first = time.perf_counter() - start
            row = {"first_use_s": first, "compile_s": native.COMPILE_SECONDS[f"_ode_{user.key}"],
                   "cached_reuse_s": reuse_seconds("FHN_EQUATIONS" if name == "FitzHughNagumo" else "ML_EQUATIONS",
                                                   cache)}
            builtin = builtin_cls()
            theta = fi.default_prior(builtin).sample(args.draws, seed=1)
            for method in ("rkf78", "rkf78-simd"):
                ref = fi.simulate(theta, model=builtin, method=method)
                diff = float(np.abs(fi.simulate(theta, model=user, method=method) - ref).max())
                row[f"max_diff_{method}"] = diff
                row[f"max_diff_rel_range_{method}"] = diff / float(np.ptp(ref))
            theta = fi.default_prior(builtin).sample(args.n, seed=2)
            for method in ("rkf78", "rkf78-simd"):
                series_rate(user, theta[:50], method), series_rate(builtin, theta[:50], method)  # warm
                pairs = [(series_rate(builtin, theta, method), series_rate(user, theta, method))
                         for _ in range(args.pairs)]
                ratios = [u / b for b, u in pairs]
                row[method] = {"builtin_series_per_s": float(np.median([b for b, _ in pairs])),
                               "user_series_per_s": float(np.median([u for _, u in pairs])),
                               "ratio_median": float(np.median(ratios)), "ratio_min": min(ratios),
                               "ratio_max": max(ratios)}
            slow = fi.ODEModel(**spec, backend="numpy")
            theta_np = theta[:args.numpy_n]
            start = time.perf_counter()
            u_np = fi.simulate(theta_np, model=slow)
            numpy_rate = len(theta_np) / (time.perf_counter() - start)
            compiled_rate = series_rate(user, theta_np, "rkf78")
            row["numpy"] = {"series_per_s": numpy_rate, "compiled_series_per_s": compiled_rate,
                            "slowdown": compiled_rate / numpy_rate,
                            "max_diff": float(np.abs(u_np - fi.simulate(theta_np, model=user)).max())}
            out["models"][name] = row
            print(f"{name}: first use {first:.1f} s (compiler {row['compile_s']:.1f} s), cached reuse in a fresh "
                  f"process {1000 * row['cached_reuse_s']:.1f} ms")
            for method in ("rkf78", "rkf78-simd"):
                r = row[method]
                print(f"  {method:10s} built-in {r['builtin_series_per_s']:8.0f}/s"
                      f"  user {r['user_series_per_s']:8.0f}/s"
                      f"  ratio {r['ratio_median']:.3f} ({r['ratio_min']:.3f}-{r['ratio_max']:.3f})"
                      f"  max |diff| {row[f'max_diff_{method}']:.2e}"
                      f" ({row[f'max_diff_rel_range_{method}']:.1e} of range)")
            r = row["numpy"]
            print(f"  numpy backend {r['series_per_s']:8.1f}/s against compiled {r['compiled_series_per_s']:8.0f}/s: "
                  f"{r['slowdown']:.0f}x slower, max |diff| {r['max_diff']:.1e}")
    out["load_average_after"] = os.getloadavg()
    load = out["load_average_before"][0], out["load_average_after"][0]
    print(f"load average before {load[0]:.2f}, after {load[1]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
