"""Training throughput when the machine is busy.

Trains the study's CNN (batch 32) and the 8 × 512 dense map on synthetic data for a fixed
number of steps, in a fresh interpreter per measurement, with the default thread setting
(``n_threads=0``: all cores) and with one thread, in three situations:

- **alone**;
- **beside a busy loop** (one process spinning on one core);
- **beside a second training** of the same map with default threads, in its own process,
  running for the whole measurement (two notebooks on one laptop).

Each situation runs under two settings, side by side in one run:

- **previous**: what the package did before it managed its threads — every core for
  ``n_threads=0`` and libgomp's own wait policy (each waiting thread spins about 3 ms before it
  sleeps): ``FHN_INVERSE_ADAPTIVE_THREADS=0 GOMP_SPINCOUNT=300000``;
- **package default**: ``n_threads=0`` takes the cores other processes leave free
  (``fhn_inverse._core.available_threads``, re-measured at most every 250 ms) and waiting
  threads spin ``fhn_inverse.THREAD_SPIN_COUNT`` times before they sleep.

``--spin`` adds rows with the adaptive team and other spin counts. The number that matters is
default-thread throughput over one-thread throughput in each situation: below 1, the extra
threads make training slower than one thread would.

    python benchmarks/bench_load.py [--seconds 4] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

SETTINGS = {"previous": {"GOMP_SPINCOUNT": "300000", "FHN_INVERSE_ADAPTIVE_THREADS": "0"},
            "package default": {}}
LOADS = ("alone", "busy loop", "second training")
MODELS = ("cnn", "dense8x512")


def _child_env(setting: dict) -> dict:
    drop = ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY", "FHN_INVERSE_ADAPTIVE_THREADS")
    return {**{k: v for k, v in os.environ.items() if k not in drop}, **setting}


def _script(model: str, threads: int, seconds: float, forever: bool) -> str:
    return f"""
import time, numpy as np, fhn_inverse as fi
rng = np.random.default_rng(0)
n, L = 2048, 1000
x = rng.normal(size=(n, L)).astype(np.float32)
y = rng.uniform(size=(n, 2))
m = fi.InverseMap.cnn() if {model!r} == "cnn" else fi.InverseMap.dense(units=[512] * 8, dropout=0.2)
m.fit(x[:64], y[:64], epochs=1, batch_size=32, progress=False, n_threads={threads})  # build and warm up
done, start = 0, time.perf_counter()
while {forever} or time.perf_counter() - start < {seconds}:
    m.fit(x, y, epochs=1, batch_size=32, progress=False, n_threads={threads})
    done += n
print(done / (time.perf_counter() - start))
"""


def throughput(model: str, threads: int, setting: dict, seconds: float, load: str) -> float:
    """Samples/s of one measurement, with ``load`` ("alone", "busy loop", "second training")
    running beside it."""
    background = None
    if load == "busy loop":
        background = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    elif load == "second training":
        background = subprocess.Popen([sys.executable, "-c", _script(model, 0, 0, True)], env=_child_env(setting),
                                      stdout=subprocess.DEVNULL)
    try:
        if background is not None:
            time.sleep(1.5)  # let it start (imports, warm-up)
        out = subprocess.run([sys.executable, "-c", _script(model, threads, seconds, False)], env=_child_env(setting),
                             capture_output=True, text=True, check=True)
        return float(out.stdout.strip().splitlines()[-1])
    finally:
        if background is not None:
            background.kill()
            background.wait()


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="timed seconds per measurement (default 4)")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--json", default=None, help="also write the numbers here")
    parser.add_argument("--spin", nargs="*", default=[], metavar="COUNT",
                        help="also measure these GOMP_SPINCOUNT values (0: sleep at once)")
    parser.add_argument("--loads", nargs="+", default=list(LOADS), choices=LOADS)
    args = parser.parse_args(argv)
    import fhn_inverse as fi

    rows, load_start = [], os.getloadavg()[0]
    print("| map | situation | setting | default threads (samples/s) | one thread | ratio |\n"
          "|---|---|---|---:|---:|---:|")
    for model in args.models:
        settings = {**SETTINGS, **{f"GOMP_SPINCOUNT={v}": {"GOMP_SPINCOUNT": v} for v in args.spin}}
        for load in args.loads:
            for label, setting in settings.items():
                default = throughput(model, 0, setting, args.seconds, load)
                one = throughput(model, 1, setting, args.seconds, load)
                rows.append({"model": model, "load": load, "wait": label, "default_threads": default,
                             "one_thread": one, "ratio": default / one})
                print(f"| {model} | {load} | {label} | {default:,.0f} | {one:,.0f} | {default / one:.2f} |", flush=True)
    meta = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "package_spin_count": fi.THREAD_SPIN_COUNT,
            "load_average_start": load_start, "load_average_end": os.getloadavg()[0], "seconds": args.seconds}
    print(f"\n{os.cpu_count()} cores; load average {load_start:.2f} at the start, {meta['load_average_end']:.2f} at "
          f"the end (the background processes count in it).")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "rows": rows}, f, indent=2)
    return {"meta": meta, "rows": rows}


if __name__ == "__main__":
    main()
