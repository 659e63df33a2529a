"""Each model's simulator per core: the Odeint path, the SIMD lanes and SciPy's ``solve_ivp``
(DOP853 and LSODA, the right-hand side in NumPy), all at rtol = atol = 1e-9 on the model's default
grid, θ from its default prior; series per second on one thread, side by side in one run, with the
ratios and the load average.

    python benchmarks/bench_models.py [--n 2000] [--scipy 20] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


import fhn_inverse as fi

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "python"))
from test_models import MODELS  # noqa: E402 - the independent right-hand sides of the tests


def fhn_rhs(model):
    def rhs(_, x, th0, th1):
        u, v = x
        return [model.gamma * (u - u**3 / 3 + v + model.zeta), (th0 - u - th1 * v) / model.gamma]
    return rhs


def rate(fn, n) -> float:
    start = time.perf_counter()
    fn()
    return n / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--scipy", type=int, default=20)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    from scipy.integrate import solve_ivp

    cases = {"fitzhugh_nagumo": (fi.FitzHughNagumo(), lambda m: fhn_rhs(m)),
             **{k: (m, lambda mm, r=r: r(mm.constants)) for k, (m, r) in MODELS.items()}}
    out = {}
    for name, (model, make_rhs) in cases.items():
        theta = fi.default_prior(model).sample(args.n, seed=0)
        t = fi.models.model_grid(model)
        row = {}
        for method in ("rkf78", "rkf78-simd"):
            row[method] = rate(lambda: fi.simulate(theta, model=model, t=t, n_threads=1, method=method), args.n)
        rhs = make_rhs(model)
        for solver in ("DOP853", "LSODA"):
            row[f"scipy {solver}"] = rate(lambda: [solve_ivp(rhs, (0, t[-1]), list(model.initial), method=solver,
                                                             t_eval=t, rtol=1e-9, atol=1e-9, args=tuple(th))
                                                   for th in theta[: args.scipy]], args.scipy)
        row["simd / odeint"] = row["rkf78-simd"] / row["rkf78"]
        row["odeint / scipy DOP853"] = row["rkf78"] / row["scipy DOP853"]
        out[name] = {k: round(v, 2) for k, v in row.items()}
        print(name, out[name])
    out["load_average"] = os.getloadavg()
    out["command"] = " ".join(sys.argv)
    print("load average", out["load_average"])
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
