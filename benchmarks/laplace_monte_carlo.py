"""Monte Carlo check of the Laplace covariances: for parameter points spiking and not, the spread
of MAP estimates over repeated AR(1) noise against the sandwich C·(JᵀΓ⁻¹J)·C.

For each θ̄, ``--draws`` noisy series d = u(θ̄) + η (stationary AR(1), (σ, ρ) = the reference
noise) are fitted by ``fi.refine`` with ``noise=`` (generalised least squares through the
whitening) and ``prior=`` (the default prior, its truncation ignored as in the covariance, so the
fit's box is widened beyond it): MAP estimates. Their sample covariance is compared
with the sandwich C·(JᵀΓ⁻¹J)·C from ``fi.laplace_covariance`` (which equals C only where the
prior is negligible). A 200-draw covariance has a relative Frobenius error of about 2·√(2/200)
= 0.2. Prints a Markdown table; nothing here is a test (tests/python/test_laplace.py and
test_refine_gls.py hold smaller versions).

    python benchmarks/laplace_monte_carlo.py [--draws 200] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import fhn_inverse as fi

POINTS = {"(0.6, 0.25)": (0.6, 0.25), "(0.9, 0.1)": (0.9, 0.1), "(0.3, 0.5)": (0.3, 0.5),
          "(-0.2, 1.0)": (-0.2, 1.0), "(1.0, 0.4)": (1.0, 0.4), "(0.8, 1.0)": (0.8, 1.0)}


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=200, help="noise realisations per point (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    args = parser.parse_args(argv)
    noise, prior = fi.REFERENCE_NOISE, fi.default_prior()
    start = time.perf_counter()
    rows = ["| θ̄ | spikes | √λ_max of the sandwich | of the MAP spread | relative Frobenius error | "
            "MAP bias / √λ_max |",
            "|---|---:|---:|---:|---:|---:|"]
    for i, (label, point) in enumerate(POINTS.items()):
        theta = np.asarray(point, dtype=float)
        u = fi.simulate(theta)
        spikes = int(fi.spike_statistics(u[None]).count[0])
        eta, _ = fi.AR1Noise(sigma=noise[0], rho=noise[1]).sample(args.draws, u.size, seed=args.seed,
                                                                  start=i * args.draws)
        # a box far beyond the prior's: the Laplace approximation ignores the prior's truncation,
        # so the estimates must not be clipped to it either
        fit = fi.refine(np.repeat(theta[None], args.draws, axis=0), u + eta, iterations=50, noise=noise, prior=prior,
                        lower=(-2.0, -2.0), upper=(3.0, 3.0))
        C, info = fi.laplace_covariance(theta, noise=noise, prior=prior, return_information=True)
        sandwich = C @ info @ C
        spread = np.cov(fit.theta.T)
        err = np.linalg.norm(spread - sandwich) / np.linalg.norm(sandwich)
        lam = np.sqrt(np.linalg.eigvalsh(sandwich)[-1])
        bias = np.linalg.norm(fit.theta.mean(axis=0) - theta) / lam
        rows.append(f"| {label} | {spikes} | {lam:.3g} | {np.sqrt(np.linalg.eigvalsh(spread)[-1]):.3g} | "
                    f"{err:.3f} | {bias:.3f} |")
    rows.append("")
    rows.append(f"{args.draws} draws per point, noise (σ, ρ) = {noise}, default prior; "
                f"{time.perf_counter() - start:.1f} s, load average {os.getloadavg()[0]:.2f}.")
    text = "\n".join(rows)
    print(text)
    return text


if __name__ == "__main__":
    main()
