"""The portable wheel (``scripts/build_wheel.sh``: no ``-march=native``, a core per instruction-set
level) against the native build of this checkout, side by side in one run: each case runs in a
fresh process of either interpreter, the two taking turns (native first in even pairs), and the
paired ratios wheel / native are reported with their median and range. The wheel runs at the
level it picks itself ("auto"), or with ``--levels`` at each level this CPU runs, forced by
``$FHN_INVERSE_ISA``, each paired with the native build in turn.

The CNN's rate is printed beside its bound at this machine's achieved SGEMM rate (_bound.py: a
2-thread SGEMM at n = 2048 through NumPy's OpenBLAS, measured before and after; 824,880 FLOPs per
training sample), and each forced level's beside its level's own bound: the same SGEMM with
OpenBLAS's kernel for that level (Haswell for avx2, SkylakeX for avx512), what a machine of that
level could reach at this one's clock and cores.

Cases: the study's CNN and the dense 8 × 512 map (dropout 0.2), training samples/s at batch 32
on 1,024 random series of 1,000 points (10 and 3 epochs; bench_nn.py's rows), and the SIMD simulator
(``rkf78-simd``), FitzHugh–Nagumo series/s on 20,000 prior draws; all on both cores, each the
best of 3 runs after a warm-up.

    python benchmarks/portable_wheel.py --wheel-python /path/to/venv/bin/python [--levels]
                                        [--pairs 5] [--json out.json]

The wheel's venv: ``python -m venv V && V/bin/pip install fhn_inverse-*.whl``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import fhn_inverse as fi
from _bound import LEVEL_CORETYPE, sgemm_gflops, training_flops

WORKER = r"""
import sys, time
import numpy as np
import fhn_inverse as fi
from fhn_inverse import _core

case = sys.argv[1]
rng = np.random.default_rng(0)


def best(run, repeats=3):
    run()  # warm-up
    return max(run() for _ in range(repeats))


if case == "simd":
    theta = fi.default_prior().sample(20_000, seed=1)

    def run():
        t = time.perf_counter()
        fi.simulate(theta, method="rkf78-simd")
        return len(theta) / (time.perf_counter() - t)
else:
    x = rng.standard_normal((1024, 1000)).astype(np.float32)
    y = rng.random((1024, 2)).astype(np.float32)
    m = fi.InverseMap.cnn() if case == "cnn" else fi.InverseMap.dense(units=[512] * 8, dropout=0.2)
    m.build((1, 1000) if case == "cnn" else (1000,), 2)
    xs = x[:, None, :] if case == "cnn" else x
    epochs = 10 if case == "cnn" else 3

    def run():
        net = m.network
        opt = _core.Adam(net.n_params)
        t = time.perf_counter()
        _core.fit(net, opt, xs, y, config=fi.TrainingConfig(epochs=epochs, batch_size=32, lr=1e-3).to_core(0))
        return epochs * len(xs) / (time.perf_counter() - t)
print(best(run))
"""

CASES = {"cnn": "study CNN, training samples/s", "dense": "dense 8×512, training samples/s",
         "simd": "SIMD simulator, series/s"}


def _env(level: str | None, pythonpath: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FHN_INVERSE_ISA")}
    if level:
        env["FHN_INVERSE_ISA"] = level
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return env


def rate(python: str, case: str, level: str | None = None, pythonpath: str | None = None) -> float:
    """Samples (series) per second of ``case`` in a fresh process of ``python``, at ``level`` (forced)
    and with ``pythonpath`` in front (a copy of the package) where given."""
    out = subprocess.run([python, "-c", WORKER, case], capture_output=True, text=True, check=True, cwd="/",
                         env=_env(level, pythonpath))
    return float(out.stdout.strip().splitlines()[-1])


def build_info(python: str, level: str | None = None) -> dict:
    code = "import json, fhn_inverse as fi; print(json.dumps(fi.build_info()))"
    return json.loads(subprocess.run([python, "-c", code], capture_output=True, text=True, check=True, cwd="/",
                                     env=_env(level)).stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheel-python", required=True, help="the interpreter of a venv with the wheel installed")
    ap.add_argument("--native-python", default=sys.executable, help="the native build's (default: this one)")
    ap.add_argument("--levels", action="store_true", help="the wheel at each level this CPU runs, forced")
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    wheel = build_info(args.wheel_python)
    levels = [lv for lv in wheel["levels_installed"] if lv in wheel["levels_cpu"]] if args.levels else [None]
    info = {"native": build_info(args.native_python), "wheel": wheel}
    gflops = [sgemm_gflops()]
    # each forced level's own bound: the SGEMM with OpenBLAS's kernel for that level
    level_gflops = {lv: [sgemm_gflops(coretype=LEVEL_CORETYPE[lv])] for lv in levels if lv in LEVEL_CORETYPE}
    flops = training_flops(fi.InverseMap.cnn().layers, (1, 1000))
    out = {"load_average_before": os.getloadavg(), "pairs": args.pairs, "build_info": info, "cases": {},
           "cnn_training_flops": flops}
    for case, label in CASES.items():
        for level in levels:
            pairs = []
            for k in range(args.pairs):
                if k % 2 == 0:
                    native, ours = rate(args.native_python, case), rate(args.wheel_python, case, level)
                else:
                    ours, native = rate(args.wheel_python, case, level), rate(args.native_python, case)
                pairs.append((native, ours))
            ratios = [w / n for n, w in pairs]
            row = {"level": level or wheel["level"], "native": float(np.median([n for n, _ in pairs])),
                   "wheel": float(np.median([w for _, w in pairs])), "ratio_median": float(np.median(ratios)),
                   "ratio_min": min(ratios), "ratio_max": max(ratios)}
            out["cases"][case if level is None else f"{case}@{level}"] = row
            print(f"{label:34s} wheel at {row['level']:8s} native {row['native']:10.0f}  wheel {row['wheel']:10.0f}  "
                  f"wheel/native {row['ratio_median']:.3f} ({row['ratio_min']:.3f}-{row['ratio_max']:.3f})", flush=True)
    gflops.append(sgemm_gflops())
    out["sgemm_gflops_2_threads"] = gflops
    bound = min(gflops) * 1e9 / flops
    out["cnn_bound_samples_per_s"] = bound
    print(f"CNN bound at the SGEMM rate ({min(gflops):.0f} GFLOP/s of {', '.join(f'{g:.0f}' for g in gflops)}, "
          f"2 threads, n = 2048; {flops:,} FLOPs per sample): {bound:,.0f} samples/s")
    level_bounds = {}
    for lv, g in level_gflops.items():
        g.append(sgemm_gflops(coretype=LEVEL_CORETYPE[lv]))
        level_bounds[lv] = min(g) * 1e9 / flops
        print(f"  with OpenBLAS's {LEVEL_CORETYPE[lv]} kernel ({lv}): {min(g):.0f} GFLOP/s of "
              f"{', '.join(f'{x:.0f}' for x in g)}, bound {level_bounds[lv]:,.0f} samples/s")
    out["sgemm_gflops_2_threads_by_level"] = {lv: {"coretype": LEVEL_CORETYPE[lv], "gflops": g}
                                              for lv, g in level_gflops.items()}
    for key, row in out["cases"].items():
        if key.startswith("cnn"):
            row["native_of_bound"], row["wheel_of_bound"] = row["native"] / bound, row["wheel"] / bound
            line = (f"  CNN native {row['native_of_bound']:.1%} of the bound, wheel at {row['level']} "
                    f"{row['wheel_of_bound']:.1%}")
            if row["level"] in level_bounds:
                row["wheel_of_level_bound"] = row["wheel"] / level_bounds[row["level"]]
                line += f" ({row['wheel_of_level_bound']:.1%} of its level's bound)"
            print(line)
    out["load_average_after"] = os.getloadavg()
    print(f"load average before {out['load_average_before'][0]:.2f}, after {out['load_average_after'][0]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
