"""The user's path, end to end through the command line, as a new user walks it: a map trained by
``fhn-inverse train`` (Gaussian-NLL CNN, default settings), then the user's own series — made here
with their own AR(1) noise — saved in seven lab layouts and in the traps a lab falls into, and
``fhn-inverse predict`` (the network, and ``--fit``) on each.

For every layout it records the exit status, the MAE of θ and the coverage of the 90 % bounds
(network and fit; the binomial band of ``--series`` × 2 values beside it); for every trap, that it
ends in a clear error (exit 2) or, where the data allow it (series on a finer grid covering the
map's window, with ``--resample``), in a correct answer. Prints a table and, with ``--json``,
writes the numbers with the load average.

    python benchmarks/user_path.py [--train 8000] [--epochs 60] [--series 100] [--json out.json]
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


def cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fhn_inverse", *map(str, args)], capture_output=True, text=True)


def rows_with_times(path: Path, t, d, sep=",", decimal=".", ids=True, times=True):
    fmt = (lambda v: f"{v:.8g}".replace(".", decimal))  # noqa: E731
    lines = []
    if times:
        lines.append(sep.join((["id"] if ids else []) + [fmt(v) for v in t]))
    for i, row in enumerate(d):
        lines.append(sep.join(([f"cell {i}"] if ids else []) + [fmt(v) for v in row]))
    path.write_text("\n".join(lines) + "\n")


def columns_with_time(path: Path, t, d):
    lines = ["time," + ",".join(f"s{i}" for i in range(len(d)))]
    lines += [f"{t[k]:.8g}," + ",".join(f"{v:.8g}" for v in d[:, k]) for k in range(d.shape[1])]
    path.write_text("\n".join(lines) + "\n")


def read_output(path: Path):
    header = path.read_text().splitlines()[0].split(",")
    values = np.genfromtxt(path, delimiter=",", skip_header=1, dtype=float)[:, 1:]
    return {name: values[:, j] for j, name in enumerate(header[1:])}


def score(out: dict, theta: np.ndarray, pct: str = "90") -> dict:
    est = np.column_stack([out["theta0"], out["theta1"]])
    lo = np.column_stack([out[f"theta0_lo{pct}"], out[f"theta1_lo{pct}"]])
    hi = np.column_stack([out[f"theta0_hi{pct}"], out[f"theta1_hi{pct}"]])
    inside = (lo <= theta) & (theta <= hi)
    return {"mae": np.abs(est - theta).mean(axis=0).round(4).tolist(),
            "coverage": inside.mean(axis=0).round(3).tolist(), "coverage_all": round(float(inside.mean()), 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=8000)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--series", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="user_path_"))
    start = time.perf_counter()
    assert cli("simulate", work / "train.npz", "-n", args.train, "--seed", args.seed, "--quiet").returncode == 0
    model = work / "map.safetensors"
    trained = cli("train", work / "train.npz", model, "--loss", "gaussian_nll", "--epochs", args.epochs, "--quiet")
    assert trained.returncode == 0, trained.stderr
    # the user's own series: their own θ from the study's prior, their own AR(1) noise (sd 0.3, ρ 0.8)
    theta = fi.default_prior().sample(args.series, seed=args.seed + 101)
    t = fi.DEFAULT_GRID
    fine_t = np.arange(2 * len(t)) * 0.1  # Δt 0.1 over the map's window and beyond
    u, u_fine = fi.simulate(theta, t=t), fi.simulate(theta, t=fine_t)
    noise = fi.ar1_noise(np.full(args.series, 0.3 * 0.2), np.full(args.series, 0.8), len(t), seed=args.seed + 7)
    d = u + noise
    d_fine = u_fine + np.repeat(noise, 2, axis=1)
    layouts = {
        "CSV, ID column and time row": ("a.csv", lambda p: rows_with_times(p, t, d), []),
        "CSV, numbers only": ("b.csv", lambda p: rows_with_times(p, t, d, ids=False, times=False), []),
        "TSV, ID cell then times": ("c.tsv", lambda p: rows_with_times(p, t, d, sep="\t"), []),
        "semicolons, decimal commas": ("d.csv", lambda p: rows_with_times(p, t, d, sep=";", decimal=","),
                                       ["--decimal", ","]),
        "whitespace, rows": ("e.txt", lambda p: rows_with_times(p, t, d, sep=" ", ids=False), []),
        "CSV, time column, one column per series": ("f.csv", lambda p: columns_with_time(p, t, d), []),
        ".npy": ("g.npy", lambda p: np.save(p, d), []),
    }
    traps = {
        "Δt 0.1 over 0 … 99.9 (half the window)": ("t1.csv", lambda p: rows_with_times(p, fine_t[:1000],
                                                                                        d_fine[:, :1000]), []),
        "Δt 0.1 over 0 … 99.9, --resample": ("t2.csv", lambda p: rows_with_times(p, fine_t[:1000], d_fine[:, :1000]),
                                            ["--resample"]),
        "times in thousandths (seconds for ms)": ("t3.csv", lambda p: rows_with_times(p, t / 1000, d),
                                                  ["--resample"]),
        "series ×30 (other units)": ("t4.npy", lambda p: np.save(p, 30 * d), []),
    }
    correct = {"Δt 0.1 over 0 … 199.9, --resample": ("r1.csv", lambda p: rows_with_times(p, fine_t, d_fine),
                                                     ["--resample"])}
    results = {"layouts": {}, "traps": {}, "resampled": {}}
    band = 3 * np.sqrt(0.9 * 0.1 / (2 * args.series))
    for group, cases in (("layouts", layouts), ("traps", traps), ("resampled", correct)):
        for name, (file, write, extra) in cases.items():
            path = work / file
            write(path)
            row = {}
            for kind, flags in (("network", []), ("fit", ["--fit"])):
                if group == "traps" and kind == "fit":
                    continue
                out = work / f"{file}.{kind}.csv"
                run = cli("predict", model, path, "--level", "0.9", *extra, *flags, "-o", out)
                row[kind] = {"exit": run.returncode, "stderr": run.stderr.strip()[:300]}
                if run.returncode == 0:
                    result = read_output(out)
                    row[kind].update(score(result, theta))
                    if "ood" in result:
                        row[kind]["ood"] = int(result["ood"].sum())
            results[group][name] = row
            print(f"{group:10s} {name:45s} " + "  ".join(
                f"{k}: exit {v['exit']}" + (f", MAE {v['mae']}, 90 % coverage {v['coverage']}" if "mae" in v else
                                            f" ({v['stderr'][:90]})") for k, v in row.items()))
    results.update({"band_90": [round(float(0.9 - band), 3), round(float(0.9 + band), 3)], "series": args.series,
                    "train": args.train, "epochs": args.epochs, "seconds": round(time.perf_counter() - start, 1),
                    "load_average": os.getloadavg(), "command": " ".join(sys.argv)})
    print(f"binomial band (3 sd) of 90 % coverage over {2 * args.series} values: {results['band_90']}; "
          f"load average {os.getloadavg()}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
