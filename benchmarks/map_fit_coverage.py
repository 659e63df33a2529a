"""Coverage of ``fi.map_fit``'s intervals on simulated data, before and after the calibration
(``fhn_inverse.fitting.map_fit.INTERVAL_SCALE``), and the accuracy of its estimates.

Data: θ from the study's prior (``fi.default_prior()``), series simulated on the study's grid with
AR(1) noise (``fi.AR1Noise()``: σ uniform in [0.038, 0.096], ρ in [0.66, 0.92]), ``--n`` test
series (seed ``--seed``). Starts: a small CNN (the study's architecture, ``--train`` noisy
series of seed ``--seed`` + 1000, 40 epochs, lr 2e-3, batch 32; seconds) or, with
``--start perturbed``, the truth plus N(0, 0.05²) per parameter, clipped to the box. The noise is
estimated from the residuals (``--noise estimated``, map_fit's default) or passed as the true
per-series (σ, ρ) (``--noise known``).

For each parameter it prints the coverage of the central intervals θ̂ ∓ z·c·sd at 50/80/90/95 %
with c = 1 (the Laplace standard deviations as they are: "before") and c = INTERVAL_SCALE
("after"), the 95 % binomial band of each level, the same split by whether the true series
spikes, the mean absolute error of the starts and of the estimates, and the flags. With
``--fit-scale`` it also prints the factor per parameter that makes the 90 % intervals cover
90 % on these series, the candidate value of INTERVAL_SCALE (fit it on one seed, check it on
another: on seeds 1 and 2 it was 1 within its sampling error, so the module applies none).
Nothing here is a test (tests/python/test_map_fit.py holds a small version).

    python benchmarks/map_fit_coverage.py [--n 1000] [--seed 2] [--train 2000]
        [--start network|perturbed] [--noise estimated|known] [--fit-scale] [--threads 0]
"""

from __future__ import annotations

import argparse
import sys
import time
from statistics import NormalDist

import numpy as np

import fhn_inverse as fi
from fhn_inverse.fitting.map_fit import FLAGS, INTERVAL_SCALE, map_fit

LEVELS = (0.5, 0.8, 0.9, 0.95)


def _starts(test, args) -> np.ndarray:
    prior = fi.default_prior()
    if args.start == "perturbed":
        rng = np.random.default_rng(args.seed)
        return np.clip(test.theta + rng.normal(0.0, 0.05, test.theta.shape), prior.lower, prior.upper)
    train = fi.Dataset.generate(args.train, seed=args.seed + 1000, noise=fi.AR1Noise(), progress=False,
                                n_threads=args.threads)
    net = fi.InverseMap.cnn(seed=args.seed)
    net.fit(train.d, train.theta, epochs=40, lr=2e-3, batch_size=32, progress=False, n_threads=args.threads)
    return net.predict(test.d, n_threads=args.threads)


def _coverage_rows(z, scale, rows, label) -> list[str]:
    """Markdown rows: coverage (%) per parameter at each level, for |θ̂ − θ|/sd = z (M, P)."""
    out = []
    variants = [("before (c = 1)", np.ones(z.shape[1]))]
    if np.any(scale != 1):  # after = before where no factor is applied
        variants.append((f"after (c = {np.round(scale, 3).tolist()})", scale))
    for name, c in variants:
        cells = []
        for level in LEVELS:
            q = NormalDist().inv_cdf(0.5 + level / 2)
            cover = np.mean(z[rows] <= q * c, axis=0)
            cells.append(" / ".join(f"{100 * v:.1f}" for v in cover))
        out.append(f"| {label} | {name} | {rows.sum()} | " + " | ".join(cells) + " |")
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="test series (default 1000)")
    parser.add_argument("--seed", type=int, default=2, help="seed of the test series (default 2)")
    parser.add_argument("--train", type=int, default=2000, help="training series of the CNN (default 2000)")
    parser.add_argument("--start", choices=("network", "perturbed"), default="network")
    parser.add_argument("--noise", choices=("estimated", "known"), default="estimated")
    parser.add_argument("--fit-scale", action="store_true", help="print the factors that make 90 %% cover 90 %%")
    parser.add_argument("--threads", type=int, default=0, help="threads (default 0: all cores)")
    args = parser.parse_args(argv)
    print("command: python benchmarks/map_fit_coverage.py " + " ".join(sys.argv[1:] if argv is None else argv))

    test = fi.Dataset.generate(args.n, seed=args.seed, noise=fi.AR1Noise(), progress=False, n_threads=args.threads)
    began = time.perf_counter()
    start = _starts(test, args)
    start_s = time.perf_counter() - began
    began = time.perf_counter()
    fit = map_fit(start, test.d, noise=test.noise if args.noise == "known" else None, n_threads=args.threads)
    fit_s = time.perf_counter() - began

    z = np.abs(fit.theta - test.theta) / fit.sd  # NaN where there is no covariance (the interval: the box)
    z = np.where(np.isnan(z), 0.0, z)
    spikes = fi.spike_statistics(test.u, test.t).count > 0
    scale = np.asarray(INTERVAL_SCALE)
    if args.fit_scale:
        scale = np.quantile(z, 0.9, axis=0) / NormalDist().inv_cdf(0.95)
    band = " | ".join(f"{100 * (lv - 1.96 * np.sqrt(lv * (1 - lv) / args.n)):.1f}–"
                      f"{100 * (lv + 1.96 * np.sqrt(lv * (1 - lv) / args.n)):.1f}" for lv in LEVELS)
    lines = [f"{args.n} series, starts: {args.start} ({start_s:.1f} s), noise: {args.noise}; map_fit {fit_s:.1f} s",
             "",
             "| series | intervals | n | 50 % | 80 % | 90 % | 95 % |",
             "|---|---|---:|---:|---:|---:|---:|",
             f"| binomial band (95 %), n = {args.n} | | | {band} |"]
    every = np.ones(args.n, dtype=bool)
    for rows, label in ((every, "all"), (spikes, "spiking"), (~spikes, "no spike")):
        if rows.any():
            lines += _coverage_rows(z, scale, rows, label)
    err_start, err_fit = np.abs(start - test.theta), np.abs(fit.theta - test.theta)
    lines += ["", "coverage cells: parameter 0 / parameter 1 (%)",
              f"MAE start {np.round(err_start.mean(0), 4).tolist()}, map_fit {np.round(err_fit.mean(0), 4).tolist()}",
              f"noise estimate (sd, rho): MAE {np.round(np.abs(fit.study_noise - test.noise).mean(0), 4).tolist()} "
              f"(study units; true sd = sigma/dt)",
              "flags: " + ", ".join(f"{k} {int(np.sum(fit.flag & v > 0))}" for k, v in FLAGS.items())]
    if args.fit_scale:
        lines.append(f"INTERVAL_SCALE fitted here (90 % covers 90 %): {np.round(scale, 3).tolist()}")
    print("\n".join(lines))
    return {"z": z, "scale": scale, "spikes": spikes}


if __name__ == "__main__":
    main()
