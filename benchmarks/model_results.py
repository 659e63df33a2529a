"""Accuracy, calibrated coverage and covariance error per model: the study's CNN with a
Gaussian-NLL head on each model's default prior (or free set) and its AR(1) noise.

Settings: FitzHugh–Nagumo with (θ0, θ1, γ) free (the follow-up paper's three parameters) and with
(θ0, θ1, γ, ζ) plus the noise's (σ, ρ) estimated jointly; Morris–Lecar (Hopf set) and
Hodgkin–Huxley with their four parameters and noise of standard deviation 0.2–1 mV. Per setting
and training seed s: ``--train`` noisy series of data seed 10 + s, one fixed test set of
``--test`` noisy series of data seed 1000, the map ``InverseMap.cnn(output_activation=None,
seed=s)`` fitted with ``fit(d, Y, loss="gaussian_nll", t=, trained_on=)`` and otherwise the
defaults (10 % held out for the quantile calibration; inputs standardised per channel for the
conductance models, whose voltages are in mV). Scored on the test set:

- R² and Median-APE per quantity (``metrics.r2_score``, ``metrics.median_ape(per_parameter)``)
  and Median-APE over the model's parameters in both readings ("component": the median of
  |θ̂_j − θ_j|/|θ_j| pooled; "sample": the median of ‖θ̂ − θ‖/‖θ‖), of the network alone;
- coverage of the calibrated central intervals (``interval``) at 50/80/90/95 % per quantity, and of
  the joint region (``diagnostics.coverage`` with the map's calibration);
- on the first ``--laplace`` test series: the Laplace covariance C at the true θ with the series'
  own noise (``laplace_covariance``, the model's default prior term), e_θ = median ‖θ̂ − θ‖/‖θ‖ and
  e_C = median ‖Ĉ − C‖_F/‖C‖_F (Ĉ the network's covariance of the model's parameters), and the
  median of √C_jj / (prior standard deviation of θ_j): near 1, the voltage does not identify θ_j;
- for seed 0 only, on the first ``--fit`` test series: ``map_fit`` from the network's estimate
  (the fitted estimate: network start, then the MAP fit under the series' estimated AR(1) noise),
  its R² and Median-APE beside the network's on the same series.

    python benchmarks/model_results.py [--seeds 5] [--train 8000] [--test 2000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings

import numpy as np

import fhn_inverse as fi
from fhn_inverse import metrics
from fhn_inverse.study.model_tables import model_tables as markdown

LEVELS = (0.5, 0.8, 0.9, 0.95)
MV_NOISE = fi.AR1Noise(sigma=(0.2, 1.0), dt=1.0)  # 0.2–1 mV, ρ on the study's range


def settings() -> dict:
    """{name: (model, noise, joint)}: joint maps also estimate the noise's (σ, ρ)."""
    return {
        "FitzHugh–Nagumo (θ0, θ1, γ)": (fi.FitzHughNagumo(free=("theta0", "theta1", "gamma")), fi.AR1Noise(), False),
        "FitzHugh–Nagumo (θ0, θ1, γ, ζ) + (σ, ρ)": (fi.FitzHughNagumo(free=("theta0", "theta1", "gamma", "zeta")),
                                                    fi.AR1Noise(), True),
        "Morris–Lecar (Hopf)": (fi.models.MorrisLecar(), MV_NOISE, False),
        "Hodgkin–Huxley": (fi.models.HodgkinHuxley(), MV_NOISE, False),
    }


def _prior_sd(prior, n: int = 20_000) -> np.ndarray:
    return prior.sample(n, seed=99).std(axis=0)


def trained_map(model, train, joint: bool, seed: int, transform=None):
    """The study's CNN with a Gaussian-NLL head fitted to ``train`` (θ, and the noise's (σ, ρ) when
    ``joint``) with the defaults (10 % held out for the quantile calibration); inputs standardised
    per channel for the conductance models, whose voltages are in mV."""
    y = np.column_stack([train.theta, train.noise]) if joint else train.theta
    net = fi.InverseMap.cnn(output_activation=None, seed=seed)
    return net.fit(train.d, y, loss="gaussian_nll", t=train.t, trained_on=train, progress=False, transform=transform,
                   **({} if isinstance(model, fi.FitzHughNagumo) else {"input_scaling": "channel"}))


def score(model, net, test, noise, joint: bool, n_laplace: int) -> dict:
    """The test-set numbers of one trained map (see the module's docstring)."""
    names = list(model.free) + (["sigma", "rho"] if joint else [])
    y = np.column_stack([test.theta, test.noise]) if joint else test.theta
    k = test.theta.shape[1]
    mean, cov = net.predict(test.d, return_cov=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fi.UncalibratedWarning)
        per = [net.interval(test.d, level) for level in LEVELS]
    inside = np.array([np.mean((y >= lo) & (y <= hi), axis=0) for lo, hi in per])  # (levels, D)
    # the joint region of the law the calibration was fitted to: in the map's learned coordinate
    z, zmean, zcov = (y, mean, cov) if net.transform is None else (
        net.transform.forward(y), *net.predict(test.d, return_cov=True, latent=True))
    joint_cov = fi.diagnostics.coverage(z, zmean, zcov, levels=LEVELS, calibration=net.calibration).joint
    out = {"names": names, "r2": metrics.r2_score(y, mean).tolist(),
           "median_ape": metrics.median_ape(y, mean, per_parameter=True).tolist(),
           "median_ape_component": metrics.median_ape(y[:, :k], mean[:, :k], reading="component"),
           "median_ape_sample": metrics.median_ape(y[:, :k], mean[:, :k], reading="sample"),
           "coverage": {n: inside[:, j].tolist() for j, n in enumerate(names)},
           "coverage_joint": [float(v) for v in joint_cov]}
    rows = slice(0, n_laplace)
    C, status = fi.laplace_covariance(test.theta[rows], noise=test.noise[rows], dt=noise.dt, model=model, t=test.t,
                                      return_status=True)
    ok = (status == 0) & np.isfinite(C).all(axis=(1, 2))
    theta, est, c_net = test.theta[rows][ok], mean[rows][ok, :k], cov[rows][ok][:, :k, :k]
    out["e_theta"] = float(np.median(np.linalg.norm(est - theta, axis=1) / np.linalg.norm(theta, axis=1)))
    out["e_C"] = float(np.median(np.linalg.norm(c_net - C[ok], axis=(1, 2)) / np.linalg.norm(C[ok], axis=(1, 2))))
    sd_ratio = np.sqrt(np.diagonal(C[ok], axis1=1, axis2=2)) / _prior_sd(fi.default_prior(model))
    out["laplace_sd_over_prior_sd"] = np.median(sd_ratio, axis=0).tolist()
    out["n_laplace"] = int(ok.sum())
    return out


def fitted(model, net, test, noise, n_fit: int) -> dict:
    """The network's estimate and the MAP fit from it, on the first n_fit test series."""
    rows = slice(0, n_fit)
    k = test.theta.shape[1]
    start = net.predict(test.d[rows])[:, :k]
    fit = fi.map_fit(start, test.d[rows], t=test.t, model=model, prior=fi.default_prior(model))
    theta = test.theta[rows]
    return {"n": n_fit,
            "network": {"r2": metrics.r2_score(theta, start).tolist(),
                        "median_ape": metrics.median_ape(theta, start, per_parameter=True).tolist()},
            "fit": {"r2": metrics.r2_score(theta, fit.theta).tolist(),
                    "median_ape": metrics.median_ape(theta, fit.theta, per_parameter=True).tolist()}}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--train", type=int, default=8000)
    parser.add_argument("--test", type=int, default=2000)
    parser.add_argument("--laplace", type=int, default=200, help="test series with a Laplace covariance")
    parser.add_argument("--fit", type=int, default=20, help="test series fitted by map_fit (seed 0)")
    parser.add_argument("--only", help="run only the settings whose name contains this")
    parser.add_argument("--transform", choices=("none", "auto"), default="none",
                        help="the maps' coordinates: none (θ itself, the kept run) or auto (logit of the prior's box)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    started, load = time.perf_counter(), [os.getloadavg()[0]]
    results = {"levels": list(LEVELS), "train": args.train, "test": args.test, "transform": args.transform,
               "settings": {}}
    for name, (model, noise, joint) in settings().items():
        if args.only and args.only not in name:
            continue
        test = fi.Dataset.generate(args.test, seed=1000, model=model, noise=noise, progress=False)
        runs = []
        for s in range(args.seeds):
            train = fi.Dataset.generate(args.train, seed=10 + s, model=model, noise=noise, progress=False)
            t0 = time.perf_counter()
            net = trained_map(model, train, joint, s, transform=None if args.transform == "none" else "auto")
            run = {"seed": s, "train_seconds": round(time.perf_counter() - t0, 1),
                   **score(model, net, test, noise, joint, args.laplace)}
            if s == 0 and args.fit:
                run["fitted"] = fitted(model, net, test, noise, args.fit)
            runs.append(run)
            load.append(os.getloadavg()[0])
            print(f"{name}, seed {s}: R² {np.round(run['r2'], 3).tolist()}, coverage 90 % "
                  f"{[round(100 * run['coverage'][n][2], 1) for n in run['names']]}, e_θ {run['e_theta']:.3f}, "
                  f"e_C {run['e_C']:.3f} ({run['train_seconds']} s)", flush=True)
        results["settings"][name] = {"model": fi.models.model_to_dict(model), "noise": noise.to_dict(),
                                     "joint": joint, "runs": runs}
    results["load_average"] = [round(min(load), 2), round(max(load), 2)]
    results["seconds"] = round(time.perf_counter() - started, 1)
    print(markdown(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return results


if __name__ == "__main__":
    main()
