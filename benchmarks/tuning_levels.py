"""The executors' tuning constants (cpp/src/nn/executors/tuning.hpp) swept at each instruction-set
level: for every case, maps built with each candidate value train (or evaluate) in one process,
taking turns in bursts, and each candidate's rate is reported against the default's (paired:
the median and range of the per-round ratios), so a level whose optimum differs shows it.

    python benchmarks/tuning_levels.py [--wheel-python V/bin/python] [--rounds 5] [--burst 0.5]
                                       [--json out.json]

With --wheel-python, each level of the portable wheel that this CPU runs is forced in turn
(``FHN_INVERSE_ISA``); without it, the installed build runs at its own level. Cases (the
constants each one reads at its size):

- cnn32: the study's CNN, batch 32: min_chunk 8, 16, 32 (4, 2 or 1 chunks of the batch);
- dense256: the dense 8 × 512 map (dropout 0.2), batch 256: min_gemm_chunk 64, 128, 256 (4 or
  2 chunks of OpenBLAS products, or the batch split product by product);
- dense32: the same map at batch 32 (split products): element_parts 2, 4, 8 (the sample parts
  of dropout and the activations);
- predict: the same map evaluating 8,192 series: vector_eval_rows 256, 512, 1024.

Training: 1,024 random series of 1,000 points, MSE, Adam; samples/s on both cores. A ratio above
1 is a candidate faster than the default. The load average before and after is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import portable_wheel

WORKER = r"""
import json, sys, time
import numpy as np
import fhn_inverse as fi
from fhn_inverse import _core

case, rounds, burst = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
field, values = {"cnn32": ("min_chunk", [8, 16, 32]), "dense256": ("min_gemm_chunk", [64, 128, 256]),
                 "dense32": ("element_parts", [2, 4, 8]),
                 "predict": ("vector_eval_rows", [256, 512, 1024])}[case]
default = _core._tuning(defaults=True)[field]
rng = np.random.default_rng(0)
cnn = case == "cnn32"
n = 8192 if case == "predict" else 1024
x = rng.standard_normal((n, 1, 1000) if cnn else (n, 1000)).astype(np.float32)
y = rng.random((n, 2)).astype(np.float32)
batch = 256 if case == "dense256" else 32
maps = {}
for v in values:
    _core._set_tuning(**{field: v})
    m = fi.InverseMap.cnn() if cnn else fi.InverseMap.dense(units=[512] * 8, dropout=0.2)
    m.build((1, 1000) if cnn else (1000,), 2)
    maps[v] = (m.network, _core.Adam(m.network.n_params))
_core._set_tuning(**_core._tuning(defaults=True))


def once(v):
    net, opt = maps[v]
    t = time.perf_counter()
    if case == "predict":
        net.predict(x, 0)
    else:
        _core.fit(net, opt, x, y, config=fi.TrainingConfig(epochs=1, batch_size=batch, lr=1e-4).to_core(0))
    return time.perf_counter() - t


def rate(v):
    done, spent = 0, 0.0
    while spent < burst:
        spent += once(v)
        done += n
    return done / spent


for v in values:  # warm-up
    once(v)
rates = {v: [] for v in values}
for r in range(rounds):
    order = values[r % len(values):] + values[:r % len(values)]
    for v in order:
        rates[v].append(rate(v))
print(json.dumps({"field": field, "default": default, "rates": {str(v): rs for v, rs in rates.items()}}))
"""

CASES = ("cnn32", "dense256", "dense32", "predict")


def run_case(python: str, case: str, level: str | None, rounds: int, burst: float) -> dict:
    out = subprocess.run([python, "-c", WORKER, case, str(rounds), str(burst)], capture_output=True, text=True,
                         check=True, cwd="/", env=portable_wheel._env(level))
    return json.loads(out.stdout.strip().splitlines()[-1])


def levels_of(python: str) -> list[str]:
    info = portable_wheel.build_info(python)
    return [lv for lv in info["levels_installed"] if lv in info["levels_cpu"]]


def main() -> None:
    import numpy as np

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheel-python", default=None, help="a venv's interpreter with the portable wheel installed")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--burst", type=float, default=0.5, help="seconds per burst (default: 0.5)")
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    python = args.wheel_python or sys.executable
    levels = levels_of(python) if args.wheel_python else [None]
    out = {"load_average_before": os.getloadavg(), "rounds": args.rounds, "burst_s": args.burst, "levels": {}}
    print("| level | case | constant | value | samples/s (median) | / default, median (range) |")
    print("|---|---|---|---:|---:|---:|")
    for level in levels:
        name = level or "installed build"
        out["levels"][name] = {}
        for case in args.cases:
            res = run_case(python, case, level, args.rounds, args.burst)
            base = res["rates"][str(res["default"])]
            rows = {}
            for v, rs in res["rates"].items():
                ratios = [a / b for a, b in zip(rs, base)]
                rows[v] = {"median": float(np.median(rs)), "ratio_median": float(np.median(ratios)),
                           "ratio_min": min(ratios), "ratio_max": max(ratios), "rates": rs}
                mark = " (default)" if int(v) == res["default"] else ""
                print(f"| {name} | {case} | {res['field']} | {v}{mark} | {rows[v]['median']:,.0f} | "
                      f"{rows[v]['ratio_median']:.3f} ({rows[v]['ratio_min']:.3f}–{rows[v]['ratio_max']:.3f}) |",
                      flush=True)
            out["levels"][name][case] = {"field": res["field"], "default": res["default"], "values": rows}
    out["load_average_after"] = os.getloadavg()
    print(f"\nload average before {out['load_average_before'][0]:.2f}, after {out['load_average_after'][0]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
