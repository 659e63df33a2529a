"""Scaling over Dask workers on this machine: generating a data set into a Zarr store, and
training an ensemble's members as tasks (on arrays, and on fresh simulations made where each
member trains), with 1 and 2 worker processes (one thread each) beside one process on all
cores. The clusters are started before the clock (their start-up is reported on its own line);
each measurement is the best of ``--repeat``.

    python benchmarks/bench_scale.py [--n 40000] [--chunk 2000] [--members 4] [--train 4000] [--fresh 20000]
                                     [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import fhn_inverse as fi
from fhn_inverse import distributed
from fhn_inverse.data import store


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40_000, help="series to generate (default 40000)")
    parser.add_argument("--chunk", type=int, default=2_000, help="series per task and store chunk (default 2000)")
    parser.add_argument("--members", type=int, default=4, help="ensemble members (default 4)")
    parser.add_argument("--train", type=int, default=4_000, help="training series per member (default 4000)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--fresh", type=int, default=20_000, help="fresh series per member (default 20000)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    from dask.distributed import Client, LocalCluster

    noise = fi.AR1Noise.study()
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    kw = {"noise": noise, "method": "rkf78-simd"}
    load0 = _load()
    rows = []
    try:
        def local_gen():
            data = fi.Dataset.generate(args.n, 0, progress=False, **kw)
            store.save_zarr(data, work / "one.zarr", chunk=args.chunk, dtype="float32")

        t = best(local_gen, args.repeat)
        rows.append(("generate → Zarr", "one process, all cores", t, args.n / t))
        data = fi.Dataset.generate(args.train, 1, progress=False, **kw)
        cfg = {"epochs": args.epochs, "batch_size": 32, "validation": None, "progress": False}

        def local_fit():
            fi.Ensemble.like(fi.InverseMap.cnn(seed=0), args.members).fit(data.d, data.theta, **cfg)

        t = best(local_fit, args.repeat)
        rows.append((f"ensemble of {args.members} CNNs", "one process, all cores", t,
                     args.members * args.train * args.epochs / t))
        fresh = fi.Simulations(args.fresh, block=min(args.fresh, 10_000), seed=2, noise=noise)

        def local_fresh():
            fi.Ensemble.like(fi.InverseMap.cnn(seed=0), args.members).fit(fresh, epochs=1, batch_size=32,
                                                                           progress=False)

        t = best(local_fresh, args.repeat)
        rows.append((f"ensemble of {args.members} CNNs on fresh simulations", "one process, all cores", t,
                     args.members * args.fresh / t))
        startup = {}
        for workers in (1, 2):
            t0 = time.perf_counter()
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                              dashboard_address=":0") as cluster, Client(cluster) as client:
                startup[workers] = time.perf_counter() - t0
                client.run(lambda: __import__("fhn_inverse"))
                t = best(lambda: distributed.generate(args.n, 0, work / f"w{workers}.zarr", chunk=args.chunk,
                                                      client=client, dtype="float32", **kw), args.repeat)
                rows.append(("generate → Zarr", f"Dask, {workers} worker{'s' * (workers > 1)}", t, args.n / t))
                fit_kw = {k: v for k, v in cfg.items() if k != "progress"}
                t = best(lambda: distributed.fit_ensemble(fi.Ensemble.like(fi.InverseMap.cnn(seed=0), args.members),
                                                          data.d, data.theta, client=client, **fit_kw), args.repeat)
                rows.append((f"ensemble of {args.members} CNNs", f"Dask, {workers} worker{'s' * (workers > 1)}", t,
                             args.members * args.train * args.epochs / t))
                t = best(lambda: distributed.fit_ensemble(fi.Ensemble.like(fi.InverseMap.cnn(seed=0), args.members),
                                                          fresh, None, epochs=1, batch_size=32, client=client),
                         args.repeat)
                rows.append((f"ensemble of {args.members} CNNs on fresh simulations",
                             f"Dask, {workers} worker{'s' * (workers > 1)}", t, args.members * args.fresh / t))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = [f"Machine: {platform.machine()}, {os.cpu_count()} cores; fhn_inverse {fi.__version__}; load average "
             f"before {load0}, after {_load()}.",
             f"Generation: {args.n:,} series (study noise, rkf78-simd), chunks of {args.chunk:,}, float32 store. "
             f"Ensemble: {args.members} study CNNs, {args.train:,} series, {args.epochs} epochs, batch 32; on fresh "
             f"simulations: one epoch of {args.fresh:,} series per member, simulated where the member trains. "
             f"Best of {args.repeat}. Cluster start-up: "
             + ", ".join(f"{w} worker{'s' * (w > 1)} {s:.1f} s" for w, s in startup.items()) + ".", "",
             "| job | how | seconds | series/s (training: samples/s) |", "|---|---|---:|---:|"]
    lines += [f"| {job} | {how} | {t:.1f} | {rate:,.0f} |" for job, how, t, rate in rows]
    text = "\n".join(lines)
    print(text)
    return text


if __name__ == "__main__":
    main()
