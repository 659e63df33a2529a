"""The portable wheel (``scripts/build_wheel.sh``: no ``-march=native``) against the native build
of this checkout, side by side in one run: each case runs in a fresh process of either
interpreter, the two taking turns (native first in even pairs), and the paired ratios
wheel / native are reported with their median and range.

Cases: the study's CNN and the dense 8 × 512 map (dropout 0.2), training samples/s at batch 32
on 1,024 random series of 1,000 points (10 and 3 epochs; bench_nn.py's rows), and the SIMD simulator
(``rkf78-simd``), FitzHugh–Nagumo series/s on 20,000 prior draws; all on both cores, each the
best of 3 runs after a warm-up.

    python benchmarks/portable_wheel.py --wheel-python /path/to/venv/bin/python [--pairs 5] [--json out.json]

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
print(fi.build_info().get("isa", ""), file=sys.stderr)
"""

CASES = {"cnn": "study CNN, training samples/s", "dense": "dense 8×512, training samples/s",
         "simd": "SIMD simulator, series/s"}


def rate(python: str, case: str) -> float:
    out = subprocess.run([python, "-c", WORKER, case], capture_output=True, text=True, check=True, cwd="/",
                         env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheel-python", required=True, help="the interpreter of a venv with the wheel installed")
    ap.add_argument("--native-python", default=sys.executable, help="the native build's (default: this one)")
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    info = {}
    for name, py in (("native", args.native_python), ("wheel", args.wheel_python)):
        info[name] = json.loads(subprocess.run(
            [py, "-c", "import json, fhn_inverse as fi; print(json.dumps(fi.build_info()))"], capture_output=True,
            text=True, check=True, cwd="/").stdout)
    out = {"load_average_before": os.getloadavg(), "pairs": args.pairs, "build_info": info, "cases": {}}
    for case, label in CASES.items():
        pairs = []
        for k in range(args.pairs):
            if k % 2 == 0:
                native, wheel = rate(args.native_python, case), rate(args.wheel_python, case)
            else:
                wheel, native = rate(args.wheel_python, case), rate(args.native_python, case)
            pairs.append((native, wheel))
        ratios = [w / n for n, w in pairs]
        row = {"native": float(np.median([n for n, _ in pairs])), "wheel": float(np.median([w for _, w in pairs])),
               "ratio_median": float(np.median(ratios)), "ratio_min": min(ratios), "ratio_max": max(ratios)}
        out["cases"][case] = row
        print(f"{label:34s} native {row['native']:10.0f}  wheel {row['wheel']:10.0f}  wheel/native "
              f"{row['ratio_median']:.3f} ({row['ratio_min']:.3f}-{row['ratio_max']:.3f})", flush=True)
    out["load_average_after"] = os.getloadavg()
    print(f"load average before {out['load_average_before'][0]:.2f}, after {out['load_average_after'][0]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
