"""Forward sensitivities and Laplace covariances: fhn_inverse against SciPy.

SciPy integrates the same 6-dimensional augmented system (state and ∂(u, v)/∂(θ0, θ1)) with
solve_ivp (DOP853, the same tolerances) on one core, then forms C = (JᵀΓ⁻¹J + Γpr⁻¹)⁻¹ with the
dense AR(1) precision inv(toeplitz), as a SciPy prototype would; fhn_inverse runs
``fi.sensitivities`` and ``fi.laplace_covariance`` on one thread and on all cores, for the same
prior draws. Prints a Markdown table of samples per second, the ratios, the largest differences
to SciPy's J and C, the load average before and after, and the time for 10,000 covariances.
Nothing here is a test.

    python benchmarks/bench_laplace.py [--n-scipy 20] [--n-ours 10000] [--tol 1e-10]
"""

from __future__ import annotations

import argparse
import os
import platform

import numpy as np
import scipy
from scipy.integrate import solve_ivp
from scipy.linalg import toeplitz

import fhn_inverse as fi
from bench_simulate import timed  # best of `repeat` runs: (seconds, result)

GAMMA, ZETA = 3.0, -0.4


def _augmented(t, y, th0, th1):
    u, v, s0, r0, s1, r1 = y
    return [GAMMA * (u - u**3 / 3 + v + ZETA), -(u - th0 + th1 * v) / GAMMA,
            GAMMA * ((1 - u**2) * s0 + r0), -(s0 - 1 + th1 * r0) / GAMMA,
            GAMMA * ((1 - u**2) * s1 + r1), -(s1 + th1 * r1 + v) / GAMMA]


def scipy_laplace(theta: np.ndarray, tol: float, noise, prior) -> tuple[np.ndarray, np.ndarray]:
    grid = np.asarray(fi.DEFAULT_GRID)
    sigma, rho = noise
    s = sigma / 0.2
    precision = np.linalg.inv(toeplitz(s**2 * rho ** np.arange(grid.size)))
    prior_precision = np.linalg.inv(prior.covariance)
    J_all, C_all = [], []
    for a, b in theta:
        sol = solve_ivp(_augmented, (grid[0], grid[-1]), np.zeros(6), method="DOP853", t_eval=grid,
                        args=(a, b), rtol=tol, atol=tol)
        J = sol.y[[2, 4]].T
        J_all.append(J)
        C_all.append(np.linalg.inv(J.T @ precision @ J + prior_precision))
    return np.array(J_all), np.array(C_all)


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-scipy", type=int, default=20, help="samples for SciPy (default 20)")
    parser.add_argument("--n-ours", type=int, default=10000, help="samples for fhn_inverse (default 10000)")
    parser.add_argument("--tol", type=float, default=1e-10, help="rtol = atol for every solver (default 1e-10)")
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    load_before = os.getloadavg()
    prior, noise = fi.default_prior(), fi.REFERENCE_NOISE
    theta = prior.sample(args.n_ours, seed=0)
    small = theta[: args.n_scipy]
    kw = dict(rtol=args.tol, atol=args.tol)

    fi.laplace_covariance(theta[:50], **kw)  # warm up (threads)
    t_scipy, (J_ref, C_ref) = timed(lambda: scipy_laplace(small, args.tol, noise, prior))
    rates, times = {}, {}
    for threads in (1, 0):
        n = args.n_ours if threads == 0 else max(args.n_ours // 5, 1)
        t_s, (_, J) = timed(lambda: fi.sensitivities(theta[:n], n_threads=threads, **kw), repeat=2)
        t_c, C = timed(lambda: fi.laplace_covariance(theta[:n], noise=noise, n_threads=threads, **kw), repeat=2)
        rates[threads] = (n / t_s, n / t_c)
        times[threads] = t_c
    J_err = np.abs(J[: args.n_scipy] - J_ref).max() / np.abs(J_ref).max()
    C_err = max(np.linalg.norm(C[i] - C_ref[i]) / np.linalg.norm(C_ref[i]) for i in range(args.n_scipy))
    scipy_rate = args.n_scipy / t_scipy
    load_after = os.getloadavg()

    out = [f"Machine: {platform.machine()}, {cores} cores, {platform.processor() or platform.platform()}; "
           f"Python {platform.python_version()}, NumPy {np.__version__}, SciPy {scipy.__version__}, "
           f"fhn_inverse {fi.__version__}; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after",
           f"Tolerances rtol = atol = {args.tol:g}; grid of 1000 points; noise (σ, ρ) = {noise}; "
           f"SciPy on {args.n_scipy} samples, fhn_inverse on {args.n_ours:,} "
           f"(one thread: {max(args.n_ours // 5, 1):,}).",
           "",
           "| engine | samples/s, 1 core | samples/s, all cores | ratio to SciPy per core |",
           "|---|---:|---:|---:|",
           f"| SciPy solve_ivp DOP853 + dense inv(toeplitz) (J and C) | {scipy_rate:,.1f} | | 1 |",
           f"| fhn_inverse `sensitivities` (u, J) | {rates[1][0]:,.0f} | {rates[0][0]:,.0f} | "
           f"{rates[1][0] / scipy_rate:,.0f}× |",
           f"| fhn_inverse `laplace_covariance` (C) | {rates[1][1]:,.0f} | {rates[0][1]:,.0f} | "
           f"{rates[1][1] / scipy_rate:,.0f}× |",
           "",
           f"Largest difference to SciPy: J {J_err:.1e} (relative to max |J|), C {C_err:.1e} (relative Frobenius).",
           f"{args.n_ours:,} covariances on all {cores} cores: {times[0]:.2f} s."]
    text = "\n".join(out)
    print(text)
    return text


if __name__ == "__main__":
    main()
