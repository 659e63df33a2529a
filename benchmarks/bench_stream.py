"""Training on streams: on-the-fly simulation against the simulator's and the fixed-data training
rates, and training from a Zarr store larger than the memory it is allowed.

``rates``: in each round, side by side in one process, (1) the simulator's rate
(the stream's own blocks drawn without training: ``Dataset.generate`` per block, the study's
noise, the SIMD integrator, all cores), (2) fixed-data training (``fit`` on arrays already in memory, one epoch) and (3)
on-the-fly training (``fit(Simulations(...))``, one epoch of fresh series, the simulator on a
reader thread one block ahead), each in series per second; rounds rotate the order.
Prints the medians with the range over rounds and, per round, on-the-fly / min(simulator,
fixed-data), with the load average.

``store``: writes (or reuses) a Zarr store of N series × 1,000 points in float32, then trains the
study's CNN for one epoch from it (``StoreStream``, blocks of ``window`` chunks) in a fresh
interpreter and reports that process's peak resident memory beside the store's size in memory.

    python benchmarks/bench_stream.py rates [--n 20000] [--block 5000] [--rounds 3] [--map cnn|dense512]
    python benchmarks/bench_stream.py store [--n 1000000] [--path /tmp/stream-bench.zarr] [--window 8] [--fresh N]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import time
from pathlib import Path

import numpy as np

import fhn_inverse as fi
from fhn_inverse.data import streams

MAPS = {"cnn": lambda: fi.InverseMap.cnn(seed=0), "dense512": lambda: fi.InverseMap.dense((512,) * 8, seed=0)}


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def rates(n: int, block: int, rounds: int, kind: str, reuse: int = 2) -> dict:
    noise = fi.AR1Noise.study()
    fixed = fi.Dataset.generate(n, 99, noise=noise, progress=False)
    fit_kw = {"epochs": 1, "batch_size": 32, "progress": False, "validation": None}
    MAPS[kind]().fit(fixed.d[:2000], fixed.theta[:2000], **fit_kw)  # warm up
    out = {"sim": [], "fixed": [], "stream": [], "replay": [], "wait": [], "ratio": [], "ratio_replay": [],
           "load": [_load()]}
    for r in range(rounds):
        order = ["sim", "fixed", "stream", "replay"]
        order = order[r % 4:] + order[: r % 4]
        got = {}
        for what in order:
            t0 = time.perf_counter()
            if what == "sim":
                for _ in streams.Simulations(n, block=block, seed=r, noise=noise).blocks(0):
                    pass
            elif what == "fixed":
                MAPS[kind]().fit(fixed.d, fixed.theta, **fit_kw)
            elif what == "stream":
                m = MAPS[kind]().fit(streams.Simulations(n, block=block, seed=r, noise=noise), **fit_kw)
                got["wait"] = m.history["wait_seconds"][0]
            else:  # each fresh block trained on `reuse` times: n trained samples from n / reuse series
                MAPS[kind]().fit(streams.Simulations(n // reuse, block=block // reuse, seed=r, noise=noise,
                                                     reuse=reuse), **fit_kw)
            got[what] = n / (time.perf_counter() - t0)
        for k in ("sim", "fixed", "stream", "replay", "wait"):
            out[k].append(got[k])
        out["ratio"].append(got["stream"] / min(got["sim"], got["fixed"]))
        out["ratio_replay"].append(got["replay"] / min(got["sim"], got["fixed"]))
        out["load"].append(_load())
    return out


def _span(values, fmt="{:,.0f}") -> str:
    v = np.asarray(values)
    return f"{fmt.format(np.median(v))} ({fmt.format(v.min())}–{fmt.format(v.max())})"


def train_from_store(path: str, window: int, seed: int) -> dict:
    """One epoch of the study's CNN from the store (run in a fresh interpreter by ``store``)."""
    import resource

    src = streams.StoreStream(path, window=window, seed=seed)
    t0 = time.perf_counter()
    m = fi.InverseMap.cnn(seed=0).fit(src, epochs=1, batch_size=32, progress=False)
    return {"seconds": time.perf_counter() - t0, "samples": m.history["samples"],
            "wait": m.history["wait_seconds"][0],
            "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def train_fresh(n: int, block: int, seed: int) -> dict:
    """One epoch of the study's CNN on ``n`` fresh series (run in a fresh interpreter by ``store``)."""
    import resource

    t0 = time.perf_counter()
    m = fi.InverseMap.cnn(seed=0).fit(streams.Simulations(n, block=block, seed=seed), epochs=1, batch_size=32,
                                      progress=False)
    return {"seconds": time.perf_counter() - t0, "samples": m.history["samples"],
            "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    r = sub.add_parser("rates")
    r.add_argument("--n", type=int, default=20000, help="series per measurement (default 20000)")
    r.add_argument("--block", type=int, default=5000, help="series per simulated block (default 5000)")
    r.add_argument("--rounds", type=int, default=3)
    r.add_argument("--map", choices=sorted(MAPS), default="cnn")
    r.add_argument("--reuse", type=int, default=2, help="passes over each fresh block in the replay row (default 2)")
    s = sub.add_parser("store")
    s.add_argument("--n", type=int, default=1_000_000, help="series in the store (default 1,000,000)")
    s.add_argument("--path", default="/tmp/stream-bench.zarr")
    s.add_argument("--window", type=int, default=8, help="chunks of 1000 series per block (default 8)")
    s.add_argument("--keep", action="store_true", help="keep the store (default: remove it at the end)")
    s.add_argument("--fresh", type=int, default=0,
                   help="also train one epoch on this many fresh series and report its peak memory (default: 0)")
    args = parser.parse_args(argv)
    head = (f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.processor() or platform.platform()}; "
            f"fhn_inverse {fi.__version__}.")
    if args.what == "rates":
        o = rates(args.n, args.block, args.rounds, args.map, args.reuse)
        bound = [1 / (1 + min(s_, f) / max(s_, f)) for s_, f in zip(o["sim"], o["fixed"])]
        lines = [head, f"Map: {args.map}, batch 32, one epoch of {args.n:,} series; blocks of {args.block:,}; "
                 f"{args.rounds} rounds; load average (1, 5, 15 min) before and after each round: "
                 f"{'; '.join(o['load'])}.", "",
                 "| | series/s, median (range) |", "|---|---:|",
                 f"| simulator (the stream's blocks, no training: study noise, rkf78-simd, all cores) | "
                 f"{_span(o['sim'])} |",
                 f"| fixed-data training (fit on arrays) | {_span(o['fixed'])} |",
                 f"| on-the-fly training, every series fresh (fit(Simulations)) | {_span(o['stream'])} |",
                 f"| on-the-fly training, each block trained on {args.reuse}× (Simulations(reuse={args.reuse})); "
                 f"samples trained on/s | {_span(o['replay'])} |", "",
                 f"On-the-fly / min(simulator, fixed-data), per round: every series fresh "
                 f"{_span(o['ratio'], '{:.2f}')}, blocks trained on {args.reuse}× "
                 f"{_span(o['ratio_replay'], '{:.2f}')}; "
                 f"time training waited on the simulator (fresh): {_span(o['wait'], '{:.1f}')} s per epoch. "
                 f"Both engines use every core, so fresh series can reach at most "
                 f"1 / (1 + min/max) of the smaller rate: {_span(bound, '{:.2f}')} in these rounds."]
    else:
        from _isolated import isolated

        path = Path(args.path)
        t_gen = None
        try:
            existing = streams.StoreStream(path) if path.exists() else None
        except ValueError:
            existing = None
        if existing is None or len(existing.store) != args.n or existing.store.dtype != "float32":
            shutil.rmtree(path, ignore_errors=True)
            t0 = time.perf_counter()
            from fhn_inverse.cli import main as cli

            cli(["simulate", str(path), "-n", str(args.n), "--chunk", "1000", "--dtype", "float32", "--method",
                 "rkf78-simd", "--quiet"])
            t_gen = time.perf_counter() - t0
        load0 = _load()
        res, peak = isolated(train_from_store, str(path), args.window, 0)
        in_memory = args.n * 1000 * 4 / 2**30
        lines = [head, f"Store: {args.n:,} series × 1,000 points, float32 ({in_memory:.2f} GiB of observed series in "
                 f"memory; {_du(path) / 2**30:.2f} GiB on disk, all arrays, compressed)"
                 + (f"; written in {t_gen:.0f} s" if t_gen else "") + ".",
                 f"One epoch of the study's CNN (batch 32) from the store, blocks of {args.window} chunks of 1,000: "
                 f"{res['seconds']:.0f} s, {res['samples'] / res['seconds']:,.0f} series/s "
                 f"(waiting on the store {res['wait']:.1f} s); peak resident memory of that process {peak:,.0f} MiB; "
                 f"load average {load0} → {_load()}."]
        if not args.keep:
            shutil.rmtree(path, ignore_errors=True)
        if args.fresh:
            res, peak = isolated(train_fresh, args.fresh, 10_000, 0)
            lines.append(f"One epoch of the study's CNN on {args.fresh:,} fresh series (blocks of 10,000, simulated "
                         f"while it trains): {res['seconds']:.0f} s, {res['samples'] / res['seconds']:,.0f} series/s; "
                         f"peak resident memory of that process {peak:,.0f} MiB; load average now {_load()}.")
    text = "\n".join(lines)
    print(text)
    return text


if __name__ == "__main__":
    main()
