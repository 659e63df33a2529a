"""Batch ODE simulation: fhn_inverse against SciPy (solve_ivp RK45 and LSODA, odeint).

All solvers integrate the same FitzHugh–Nagumo right-hand side at the same tolerances
(rtol = atol = 1e-9 by default), observed on the same grid (t_k = 0.2 k, k = 0..999), for the same
prior draws. SciPy runs on one core, and on all cores through a process pool (one chunk of
samples per worker); fhn_inverse on one thread and on all cores. Prints a Markdown table of
simulations per second and ratios (fhn_inverse / other); nothing here is a test.

    python benchmarks/bench_simulate.py [--n-scipy 100] [--n-ours 10000] [--tol 1e-9]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import scipy
from scipy.integrate import odeint, solve_ivp

import fhn_inverse as fi

GAMMA, ZETA = 3.0, -0.4


def _rhs(t, x, th0, th1):
    u, v = x
    return [GAMMA * (u - u**3 / 3 + v + ZETA), -(u - th0 + th1 * v) / GAMMA]


def _rhs_odeint(x, t, th0, th1):
    return _rhs(t, x, th0, th1)


def run_scipy(method: str, theta: np.ndarray, tol: float) -> np.ndarray:
    grid = np.asarray(fi.DEFAULT_GRID)
    out = np.empty((len(theta), grid.size))
    for i, (a, b) in enumerate(theta):
        if method == "odeint":
            out[i] = odeint(_rhs_odeint, [0.0, 0.0], grid, args=(a, b), rtol=tol, atol=tol, mxstep=100000)[:, 0]
        else:
            sol = solve_ivp(_rhs, (grid[0], grid[-1]), [0.0, 0.0], method=method, t_eval=grid,
                            args=(a, b), rtol=tol, atol=tol)
            out[i] = sol.y[0]
    return out


def timed(fn, *args, repeat: int = 1):
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def scipy_parallel(method, theta, tol, workers):
    chunks = np.array_split(theta, workers)
    with ProcessPoolExecutor(workers) as pool:
        return np.concatenate(list(pool.map(run_scipy, [method] * workers, chunks, [tol] * workers)))


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-scipy", type=int, default=100, help="samples per SciPy solver (default 100)")
    parser.add_argument("--n-ours", type=int, default=10000, help="samples for fhn_inverse (default 10000)")
    parser.add_argument("--tol", type=float, default=1e-9, help="rtol = atol for every solver (default 1e-9)")
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    theta = fi.default_prior().sample(args.n_ours, seed=0)
    small = theta[: args.n_scipy]

    fi.simulate(theta[:100], rtol=args.tol, atol=args.tol)  # warm up (plans, threads)
    ours = {}
    for threads in (1, 0):
        t, u = timed(lambda th: fi.simulate(th, rtol=args.tol, atol=args.tol, n_threads=threads), theta, repeat=3)
        ours[threads] = args.n_ours / t
    t10k = args.n_ours / ours[0]

    rows = []
    for method in ("RK45", "LSODA", "odeint"):
        t1, ref = timed(run_scipy, method, small, args.tol)
        tp, _ = timed(scipy_parallel, method, small, args.tol, cores)
        err = np.abs(ref - u[: args.n_scipy]).max()
        rows.append((method, args.n_scipy / t1, args.n_scipy / tp, err))

    out = [f"Machine: {platform.machine()}, {cores} cores, {platform.processor() or platform.platform()}; "
           f"Python {platform.python_version()}, NumPy {np.__version__}, SciPy {scipy.__version__}, "
           f"fhn_inverse {fi.__version__}",
           f"Tolerances rtol = atol = {args.tol:g}; grid of 1000 points on [0, 199.8].", "",
           "| solver | sims/s, 1 core | sims/s, all cores | fhn_inverse ratio, 1 core | ratio, all cores | "
           "max abs diff to ours |",
           "|---|---:|---:|---:|---:|---:|",
           f"| fhn_inverse (Runge–Kutta–Fehlberg 7(8), Boost.Odeint) | {ours[1]:,.0f} | {ours[0]:,.0f} | 1 | 1 | 0 |"]
    for method, s1, sp, err in rows:
        name = {"RK45": "SciPy solve_ivp RK45", "LSODA": "SciPy solve_ivp LSODA",
                "odeint": "SciPy odeint (LSODA)"}[method]
        out.append(f"| {name} | {s1:,.1f} | {sp:,.1f} | {ours[1] / s1:,.0f}× | {ours[0] / sp:,.0f}× | {err:.1e} |")
    out += ["", f"{args.n_ours:,} simulations on all {cores} cores: {t10k:.2f} s."]
    text = "\n".join(out)
    print(text)
    return text

if __name__ == "__main__":
    main()
