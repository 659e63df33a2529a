"""Gaussian-NLL maps learned in the parameters' own coordinates against maps learned in logit
coordinates of the prior's box (``fit(..., transform="support")``), side by side.

For each model (FitzHugh–Nagumo with the study's prior and noise; Morris–Lecar with its default
prior and noise at 2 % of its series' range), and each seed s in 0 … ``--seeds`` − 1, two maps
with the same network, data and settings (dense 64 × 64 on Fourier features, standardised per
channel for Morris–Lecar's millivolts, 40 epochs, the defaults' 10 % calibration split,
quantile-calibrated) are trained on ``--train`` series of data
seed 10 + s, one without and one with the transform. Both are scored on ``--test`` fresh series of
seed 1000 + s from the prior ("prior"), and on the same parameters with noise three times as
strong ("rough": series unlike the training data, where a map's output drifts). Printed per
setting, mean over seeds (range):

- R² of the point estimate per parameter;
- coverage of the 50/80/90/95 % central intervals per parameter and of the joint region;
- the fraction of point estimates outside the prior's box, and of 200 draws per series;
- the mean width of the 90 % intervals relative to the box's width.

The map without the transform has its intervals clipped to the box (the package's default for maps
that record their prior), so its bounds never leave it; its estimates and draws can.

    python benchmarks/transforms.py [--seeds 3] [--train 8000] [--test 2000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings

import numpy as np

import fhn_inverse as fi

LEVELS = (0.5, 0.8, 0.9, 0.95)


def settings(name: str):
    if name == "fitzhugh_nagumo":
        return fi.FitzHughNagumo(), fi.AR1Noise()
    model = fi.models.MorrisLecar()
    u = fi.simulate(fi.default_prior(model).sample(500, seed=99), model=model)
    span = float(np.median(np.ptp(u, axis=1)))
    return model, fi.AR1Noise(sigma=0.02 * span * 0.2, rho=0.8)  # σ/Δt: 2 % of the median range


def score(m, d, theta, box) -> dict:
    lower, upper = box
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fi.UncalibratedWarning)
        mean = m.predict(d)
        cover = [[float(v) for v in np.mean((m.interval(d, a)[0] <= theta) & (theta <= m.interval(d, a)[1]),
                                            axis=0)] for a in LEVELS]
        joint = fi.diagnostics.coverage(theta if m.transform is None else m.transform.forward(theta),
                                        *m.predict(d, return_cov=True, latent=m.transform is not None),
                                        levels=LEVELS, calibration=m.calibration).joint
        draws = m.sample(d, 200, seed=1)
        lo, hi = m.interval(d, 0.9)
    return {"r2": [float(v) for v in fi.metrics.r2_score(theta, mean)], "coverage": cover,
            "joint": [float(v) for v in joint],
            "means_outside": float(np.mean((mean < lower) | (mean > upper))),
            "draws_outside": float(np.mean((draws < lower) | (draws > upper))),
            "width90": float(np.mean((hi - lo) / (upper - lower)))}


def run(name: str, seed: int, n_train: int, n_test: int) -> dict:
    model, noise = settings(name)
    prior = fi.default_prior(model)
    train = fi.Dataset.generate(n_train, 10 + seed, model=model, noise=noise, progress=False)
    test = fi.Dataset.generate(n_test, 1000 + seed, model=model, noise=noise, progress=False)
    rough = test.u + 3 * (test.d - test.u)
    box = (np.asarray(prior.lower), np.asarray(prior.upper))
    out = {}
    for label, transform in (("plain", None), ("logit", "support")):
        m = fi.InverseMap.dense((64, 64), output_activation=None, seed=seed)
        start = time.perf_counter()
        m.fit(train.d, train.theta, features="fourier", t=train.t, targets=list(model.free), loss="gaussian_nll",
              scaling="standard", epochs=40, progress=False, trained_on=train, transform=transform,
              input_scaling=None if name == "fitzhugh_nagumo" else "channel")  # mV: standardised, as the CLI does
        out[label] = {"seconds": time.perf_counter() - start, "prior": score(m, test.d, test.theta, box),
                      "rough": score(m, rough, test.theta, box)}
    return out


def summarise(runs: list[dict]) -> dict:
    def stat(values):
        a = np.asarray(values, dtype=float)
        return {"mean": a.mean(axis=0).tolist(), "min": a.min(axis=0).tolist(), "max": a.max(axis=0).tolist()}

    out = {}
    for label in ("plain", "logit"):
        for where in ("prior", "rough"):
            rows = [r[label][where] for r in runs]
            out[f"{label} {where}"] = {k: stat([row[k] for row in rows]) for k in rows[0]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--train", type=int, default=8000)
    parser.add_argument("--test", type=int, default=2000)
    parser.add_argument("--models", default="fitzhugh_nagumo,morris_lecar")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    load = [os.getloadavg()[0]]
    start = time.perf_counter()
    result = {"train": args.train, "test": args.test, "levels": LEVELS, "models": {}}
    for name in args.models.split(","):
        runs = [run(name, s, args.train, args.test) for s in range(args.seeds)]
        result["models"][name] = {"seeds": runs, "summary": summarise(runs)}
        print(f"\n{name} ({args.seeds} seeds, {args.train} training and {args.test} test series)")
        for key, s in result["models"][name]["summary"].items():
            cov = " ".join(f"{100 * np.mean(c):.1f}" for c in s["coverage"]["mean"])
            joint = " ".join(f"{100 * c:.1f}" for c in s["joint"]["mean"])
            print(f"  {key:12s} R2 {' '.join(f'{v:.3f}' for v in s['r2']['mean'])}  coverage (mean over params) "
                  f"{cov}  joint {joint}  means outside {100 * s['means_outside']['mean']:.2f} %  draws outside "
                  f"{100 * s['draws_outside']['mean']:.2f} %  90 % width {s['width90']['mean']:.3f}")
    load.append(os.getloadavg()[0])
    result["load_average"], result["seconds"] = load, round(time.perf_counter() - start, 1)
    print(f"\nload average {load[0]:.2f} before, {load[1]:.2f} after; {result['seconds']} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
