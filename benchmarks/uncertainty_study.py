"""Coverage of Gaussian-NLL maps on the study's noisy test set, before and after calibration.

Loads trained maps with a Gaussian-NLL head (for instance the ones ``fhn-inverse reproduce
covariance`` writes to ``RUN/covariance/models/cnn_gaussian-nll_train-noisy_N8000.safetensors``:
the study's CNN trained on the 8,000 noisy series of seed 0), predicts the 2,000 noisy test
series of the same seed (``fi.study_data``), and reports per-parameter and joint coverage at 50,
80, 90 and 95 %, the SBC verdict (1,000 draws per series), R² and Median-APE. Then fits the
covariance scale (``InverseMap.calibrate``, by maximum likelihood and by matching joint coverage)
on a calibration split of 10,000
further series (stream indices 10,000–19,999, disjoint from the pool and the test set) and
reports the same again, and the same after a quantile calibration
(``calibrate(..., method="quantile")``) on that split. Prints a Markdown table; nothing here is
a test.

    python benchmarks/uncertainty_study.py MODEL [MODEL ...] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

import fhn_inverse as fi
from fhn_inverse.uncertainty import diagnostics as dg

LEVELS = (0.5, 0.8, 0.9, 0.95)


def row(label, model, x, theta):
    mean, cov = model.predict(x, return_cov=True)
    cv = dg.coverage(theta, mean, cov, levels=LEVELS, calibration=model.calibration)
    sbc = dg.sbc(theta, model.sample(x, 1000, seed=0))
    cells = [" / ".join(f"{100 * v:.1f}" for v in (*cv.per_parameter[i], cv.joint[i])) for i in range(len(LEVELS))]
    worst = np.max(np.abs(np.column_stack([cv.per_parameter, cv.joint]) - np.asarray(LEVELS)[:, None])) * 100
    r2 = fi.metrics.r2_score(theta, mean)
    sbc_cell = "inside the band" if not np.any(sbc.outside) else "outside: " + ", ".join(
        n for n, o in zip(("θ0", "θ1"), sbc.outside) if o)
    return (f"| {label} | " + " | ".join(cells) + f" | {worst:.1f} | {sbc_cell} | {r2[0]:.3f}, {r2[1]:.3f} | "
            f"{fi.metrics.median_ape(theta, mean):.3f} |")


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path, help="model files with a Gaussian-NLL head")
    parser.add_argument("--seed", type=int, default=0, help="data seed (default 0, the experiments')")
    parser.add_argument("--plain-ensemble", type=int, default=0, metavar="K",
                        help="also train K plain (MSE) CNNs as the study does and score mean ± z·predict_std")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    pool, test = fi.study_data(args.seed, noise=fi.AR1Noise(), progress=False)
    cal = fi.Dataset.generate(10_000, args.seed, noise=fi.AR1Noise(), start=10_000, progress=False)
    lines = ["| map | coverage θ0 / θ1 / joint (%) at 50 % | 80 % | 90 % | 95 % | largest miss (points) | SBC "
             "(95 % band) | R² θ0, θ1 | Median-APE |", "|---|---|---|---|---|---:|---|---|---:|"]
    for path in args.models:
        model = fi.InverseMap.load(path)
        lines.append(row(f"`{path.parent.parent.parent.name}/…/{path.name}`", model, test.d, test.theta))
        for method in ("nll", "coverage"):
            model = fi.InverseMap.load(path)
            scale = model.calibrate(cal.d, cal.theta, method=method)
            lines.append(row(f"the same, calibrated ({method}: cov × {scale:.3f})", model, test.d, test.theta))
        model = fi.InverseMap.load(path)
        model.calibrate(cal.d, cal.theta, method="quantile")
        lines.append(row("the same, quantile-calibrated", model, test.d, test.theta))
    if args.plain_ensemble:
        # the study's CNN and protocol A (sigmoid output, min–max labels, MSE), seeds seed … seed + K − 1
        ens = fi.Ensemble.like(fi.InverseMap.cnn(seed=args.seed), args.plain_ensemble).fit(
            pool.d, pool.theta, epochs=200, batch_size=32, lr=2e-3, validation=0.1, early_stopping=40,
            seed=args.seed, progress=False)
        mean, sd = ens.predict(test.d), ens.predict_std(test.d)
        cov = np.einsum("ni,ij->nij", sd**2, np.eye(2))
        cv = dg.coverage(test.theta, mean, cov, levels=LEVELS)
        cells = [" / ".join(f"{100 * v:.1f}" for v in (*cv.per_parameter[i], cv.joint[i])) for i in range(len(LEVELS))]
        worst = np.max(np.abs(np.column_stack([cv.per_parameter, cv.joint]) - np.asarray(LEVELS)[:, None])) * 100
        r2 = fi.metrics.r2_score(test.theta, mean)
        lines.append(f"| {args.plain_ensemble} plain CNNs (protocol A), mean ± z·`predict_std` (joint: diagonal) | "
                     + " | ".join(cells) + f" | {worst:.1f} | — | {r2[0]:.3f}, {r2[1]:.3f} | "
                     f"{fi.metrics.median_ape(test.theta, mean):.3f} |")
    lines += ["", f"{len(test):,} noisy test series (seed {args.seed}); calibration on {len(cal):,} further "
              f"series; {time.perf_counter() - start:.0f} s, load average {os.getloadavg()[0]:.2f}."]
    text = "\n".join(lines)
    print(text)
    return text


if __name__ == "__main__":
    main()
