"""What training on fresh simulations buys: the study's CNN trained on a fixed data set of the
study's size against fresh simulations every epoch, scored on the fixed test set (noisy/noisy,
the study's noise law), with the wall time of each, simulation included.

Rows: fixed 10,000 series for the study's 200 epochs; fixed 10,000 series for as many epochs as
the first fresh row's wall time allows (equal wall time); fresh simulations, ``--per-epoch``
series every epoch for ``--fresh-epochs`` epochs (10^5 – 10^6 distinct series in all). Same
settings otherwise (Adam 2e-3, batch 32, no validation). Median-APE in both readings
(``fi.metrics.median_ape``: per sample ‖θ̂ − θ‖/‖θ‖, and pooled components) and mean R².

    python benchmarks/stream_accuracy.py [--seeds 0 1] [--per-epoch 100000] [--fresh-epochs 10 20]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import fhn_inverse as fi
from fhn_inverse import metrics


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def score(model, test) -> tuple[float, float, float]:
    pred = model.predict(test.d)
    return (metrics.median_ape(test.theta, pred, reading="sample"),
            metrics.median_ape(test.theta, pred, reading="component"),
            float(np.mean(metrics.r2_score(test.theta, pred))))


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--per-epoch", type=int, default=100_000)
    parser.add_argument("--fresh-epochs", type=int, nargs="+", default=[10, 20])
    parser.add_argument("--fixed", type=int, default=10_000, help="fixed data set size (default: the study's 10,000)")
    args = parser.parse_args(argv)
    noise = fi.AR1Noise.study()
    test = fi.test_set(noise=noise, progress=False)
    cfg = {"batch_size": 32, "lr": 2e-3, "validation": None, "progress": False}
    rows = []
    load0 = _load()
    for seed in args.seeds:
        t0 = time.perf_counter()
        pool = fi.Dataset.generate(args.fixed, 100 + seed, noise=noise, progress=False)
        t_sim = time.perf_counter() - t0
        results = {}
        fresh_wall = None
        for epochs in args.fresh_epochs:
            t0 = time.perf_counter()
            m = fi.InverseMap.cnn(seed=seed).fit(fi.Simulations(args.per_epoch, seed=1000 + seed, noise=noise),
                                                  epochs=epochs, seed=seed, **cfg)
            wall = time.perf_counter() - t0
            fresh_wall = fresh_wall or wall
            results[f"fresh {args.per_epoch:,}/epoch × {epochs} ({args.per_epoch * epochs:,} series)"] = (
                wall, *score(m, test))
        t0 = time.perf_counter()
        m = fi.InverseMap.cnn(seed=seed).fit(pool.d, pool.theta, epochs=200, seed=seed, **cfg)
        study = f"fixed {args.fixed:,} × 200 epochs (the study's)"
        results[study] = (time.perf_counter() - t0 + t_sim, *score(m, test))
        per_epoch = (results[study][0] - t_sim) / 200
        epochs = max(1, int((fresh_wall - t_sim) / per_epoch))
        t0 = time.perf_counter()
        m = fi.InverseMap.cnn(seed=seed).fit(pool.d, pool.theta, epochs=epochs, seed=seed, **cfg)
        results[f"fixed {args.fixed:,} × {epochs} epochs (the first fresh row's wall time)"] = (
            time.perf_counter() - t0 + t_sim, *score(m, test))
        for name, vals in results.items():
            rows.append((seed, name, *vals))
    lines = [f"Fixed test set ({len(test):,} series, study noise law), noisy/noisy; study CNN, batch 32, Adam 2e-3, "
             f"no validation; load average before {load0}, after {_load()}.", "",
             "| seed | training data | wall s (simulation included) | Median-APE per sample | Median-APE pooled | "
             "mean R² |", "|---:|---|---:|---:|---:|---:|"]
    lines += [f"| {s} | {name} | {w:.0f} | {a:.4f} | {b:.4f} | {r:.4f} |" for s, name, w, a, b, r in rows]
    text = "\n".join(lines)
    print(text)
    return text


if __name__ == "__main__":
    main()
