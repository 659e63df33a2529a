"""What sixteen-float vectors give on an AVX-512 machine: the network kernels at AVX-512's width
against the same build with eight-float vectors (``-DFHN_EIGHT_LANES``), side by side in one run.

    python benchmarks/kernel_width.py [--pairs 8] [--cases cnn dense] [--json out.json]

The eight-lane copy is built here on first use (build/eight-lanes: the native build's flags and
sources, with FHN_EIGHT_LANES defined; about a minute on 2 cores), and its extension replaces
the installed one in a copy of the installed package in a temporary folder. Each case runs in a
fresh process of either build, the two taking turns (sixteen first in even pairs); the paired
ratios sixteen / eight are reported with their median and range, and the load average before and
after. Cases are portable_wheel.py's: the study's CNN and the dense 8 × 512 map, training
samples/s at batch 32 (both cores, the best of 3 after a warm-up).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

import fhn_inverse as fi
import portable_wheel

ROOT = Path(__file__).resolve().parents[1]


def build_eight(build: Path) -> Path:
    """The native extension with eight-float kernels (configured and built when missing)."""
    import pybind11

    if not (build / "build.ninja").is_file():
        subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build), "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                        "-DCMAKE_CXX_FLAGS=-DFHN_EIGHT_LANES", f"-Dpybind11_DIR={pybind11.get_cmake_dir()}",
                        f"-DPython_EXECUTABLE={sys.executable}"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["ninja", "-C", str(build), "_core"], check=True, stdout=subprocess.DEVNULL)
    return next(build.glob("_core*.so"))


def rate(case: str, pythonpath: str | None) -> float:
    return portable_wheel.rate(sys.executable, case, pythonpath=pythonpath)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=8)
    ap.add_argument("--cases", nargs="+", default=["cnn", "dense"], choices=["cnn", "dense"])
    ap.add_argument("--build-dir", default=str(ROOT / "build" / "eight-lanes"))
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    info = fi.build_info()
    if info["float_lanes"] != 16:
        raise SystemExit(f"the installed core has {info['float_lanes']}-float kernels (level {info['level']}): "
                         "this comparison needs a native build on an AVX-512 machine")
    ext = build_eight(Path(args.build_dir))
    out = {"load_average_before": os.getloadavg(), "pairs": args.pairs, "cases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        package = Path(fi.__file__).parent
        shutil.copytree(package, Path(tmp) / "fhn_inverse")
        for old in (Path(tmp) / "fhn_inverse").glob("_core*.so"):
            old.unlink()
        shutil.copy(ext, Path(tmp) / "fhn_inverse" / ext.name)
        code = "import fhn_inverse as fi; print(fi.build_info()['float_lanes'])"
        check = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/",
                               env={**os.environ, "PYTHONPATH": tmp}).stdout.strip()
        if check != "8":
            raise SystemExit(f"the eight-lane copy reports {check}-float kernels")
        for case in args.cases:
            pairs = []
            for k in range(args.pairs):
                if k % 2 == 0:
                    sixteen, eight = rate(case, None), rate(case, tmp)
                else:
                    eight, sixteen = rate(case, tmp), rate(case, None)
                pairs.append((sixteen, eight))
                print(f"{case}: 16 lanes {sixteen:,.0f}  8 lanes {eight:,.0f}  ratio {sixteen / eight:.3f}",
                      file=sys.stderr, flush=True)
            ratios = [a / b for a, b in pairs]
            row = {"sixteen": float(np.median([a for a, _ in pairs])), "eight": float(np.median([b for _, b in pairs])),
                   "ratio_median": float(np.median(ratios)), "ratio_min": min(ratios), "ratio_max": max(ratios),
                   "pairs": pairs}
            out["cases"][case] = row
            print(f"{case:6s} 16 lanes {row['sixteen']:10,.0f}  8 lanes {row['eight']:10,.0f}  16/8 "
                  f"{row['ratio_median']:.3f} ({row['ratio_min']:.3f}-{row['ratio_max']:.3f})", flush=True)
    out["load_average_after"] = os.getloadavg()
    print(f"load average before {out['load_average_before'][0]:.2f}, after {out['load_average_after'][0]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
