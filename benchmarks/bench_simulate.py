"""Batch ODE simulation: fhn_inverse (Boost.Odeint, and the same scheme in SIMD lanes) against
SciPy (solve_ivp RK45 and LSODA, odeint) and diffrax (JAX, vmap), when it is installed.

All solvers integrate the same FitzHugh–Nagumo right-hand side at the same tolerances
(rtol = atol = 1e-9 by default), observed on the same grid (t_k = 0.2 k, k = 0..999), for the same
prior draws. SciPy runs on one core, and on all cores through a process pool (one chunk of
samples per worker); fhn_inverse on one thread and on all cores; diffrax as JAX runs it (vmap over
the samples, compiled before timing, one process). Every solver's error is its maximum |Δu|
against SciPy's DOP853 at rtol = atol = 1e-12 on the first samples. The two fhn_inverse methods
are timed in alternation, ``--pairs`` times, and their ratio is given per pair (median and range).
``--sweep`` adds the SIMD simulator's rate and error at looser and tighter tolerances. Prints
Markdown tables; nothing here is a test.

    python benchmarks/bench_simulate.py [--n-scipy 100] [--n-ours 10000] [--tol 1e-9] [--pairs 5] [--sweep]
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


def reference(theta: np.ndarray) -> np.ndarray:
    """SciPy DOP853 at rtol = atol = 1e-12: the reference every solver's error is measured against."""
    grid = np.asarray(fi.DEFAULT_GRID)
    return np.stack([solve_ivp(_rhs, (grid[0], grid[-1]), [0.0, 0.0], method="DOP853", t_eval=grid, args=tuple(th),
                               rtol=1e-12, atol=1e-12).y[0] for th in theta])


def run_diffrax(theta: np.ndarray, tol: float, solver: str):
    """(series/s, u) of diffrax with ``solver`` (Dopri8 or Tsit5) under jax.vmap, compiled first;
    None when diffrax is not installed."""
    try:
        import diffrax
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    grid = jnp.asarray(fi.DEFAULT_GRID)
    t_end = float(fi.DEFAULT_GRID[-1])

    def field(t, x, th):
        u, v = x[0], x[1]
        return jnp.stack([GAMMA * (u - u**3 / 3 + v + ZETA), -(u - th[0] + th[1] * v) / GAMMA])

    def one(th):
        sol = diffrax.diffeqsolve(diffrax.ODETerm(field), getattr(diffrax, solver)(), t0=0.0, t1=t_end,
                                  dt0=1e-2, y0=jnp.zeros(2), args=th, saveat=diffrax.SaveAt(ts=grid),
                                  stepsize_controller=diffrax.PIDController(rtol=tol, atol=tol), max_steps=200_000)
        return sol.ys[:, 0]

    batch = jax.jit(jax.vmap(one))
    th = jnp.asarray(theta)
    batch(th).block_until_ready()  # compile
    t, u = timed(lambda a: batch(a).block_until_ready(), th)
    return len(theta) / t, np.asarray(u)


def paired(theta: np.ndarray, tol: float, threads: int, pairs: int):
    """Series/s of both fhn_inverse methods, timed in alternation: (rates rkf78, rates simd)."""
    rates = {"rkf78": [], "rkf78-simd": []}
    for p in range(pairs):
        for method in (("rkf78", "rkf78-simd") if p % 2 == 0 else ("rkf78-simd", "rkf78")):
            t, _ = timed(lambda th: fi.simulate(th, rtol=tol, atol=tol, n_threads=threads, method=method), theta)
            rates[method].append(len(theta) / t)
    return np.asarray(rates["rkf78"]), np.asarray(rates["rkf78-simd"])


def _span(v, fmt="{:,.0f}") -> str:
    return f"{fmt.format(np.median(v))} ({fmt.format(np.min(v))}–{fmt.format(np.max(v))})"


def sweep(theta: np.ndarray, ref: np.ndarray, tols=(1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10)) -> list[str]:
    """The SIMD simulator's rate (all cores) and error against DOP853 at each tolerance."""
    rows = ["| rtol = atol | series/s, all cores | max abs error vs DOP853 1e-12 |", "|---:|---:|---:|"]
    for tol in tols:
        t, u = timed(lambda th: fi.simulate(th, rtol=tol, atol=tol, method="rkf78-simd"), theta, repeat=2)
        err = np.abs(fi.simulate(theta[: len(ref)], rtol=tol, atol=tol, method="rkf78-simd") - ref).max()
        rows.append(f"| {tol:g} | {len(theta) / t:,.0f} | {err:.1e} |")
    return rows


def scipy_parallel(method, theta, tol, workers):
    chunks = np.array_split(theta, workers)
    with ProcessPoolExecutor(workers) as pool:
        return np.concatenate(list(pool.map(run_scipy, [method] * workers, chunks, [tol] * workers)))


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-scipy", type=int, default=100, help="samples per SciPy solver (default 100)")
    parser.add_argument("--n-ours", type=int, default=10000, help="samples for fhn_inverse (default 10000)")
    parser.add_argument("--n-diffrax", type=int, default=1000, help="samples for diffrax (default 1000)")
    parser.add_argument("--tol", type=float, default=1e-9, help="rtol = atol for every solver (default 1e-9)")
    parser.add_argument("--pairs", type=int, default=5, help="alternating timings of the two methods (default 5)")
    parser.add_argument("--sweep", action="store_true", help="also the SIMD simulator at other tolerances")
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    load0 = " ".join(f"{v:.2f}" for v in os.getloadavg())
    theta = fi.default_prior().sample(args.n_ours, seed=0)
    small = theta[: args.n_scipy]
    ref = reference(theta[: min(args.n_scipy, 40)])
    n_ref = len(ref)

    for method in ("rkf78", "rkf78-simd"):
        fi.simulate(theta[:100], rtol=args.tol, atol=args.tol, method=method)  # warm up (threads)
    one = paired(theta, args.tol, 1, args.pairs)
    every = paired(theta, args.tol, 0, args.pairs)
    errs = {m: np.abs(fi.simulate(theta[:n_ref], rtol=args.tol, atol=args.tol, method=m) - ref).max()
            for m in ("rkf78", "rkf78-simd")}
    base1, base_all = np.median(one[0]), np.median(every[0])

    rows = []
    for method in ("RK45", "LSODA", "odeint"):
        t1, out = timed(run_scipy, method, small, args.tol)
        tp, _ = timed(scipy_parallel, method, small, args.tol, cores)
        rows.append((f"SciPy {'solve_ivp ' + method if method != 'odeint' else 'odeint (LSODA)'}",
                     args.n_scipy / t1, args.n_scipy / tp, np.abs(out[:n_ref] - ref).max()))
    for solver in ("Dopri8", "Tsit5"):
        got = run_diffrax(theta[: args.n_diffrax], args.tol, solver)
        if got is not None:
            rows.append((f"diffrax {solver} (JAX, vmap, one process)", None, got[0],
                         np.abs(got[1][:n_ref] - ref).max()))

    out = [f"Machine: {platform.machine()}, {cores} cores, {platform.processor() or platform.platform()}; "
           f"Python {platform.python_version()}, NumPy {np.__version__}, SciPy {scipy.__version__}, "
           f"fhn_inverse {fi.__version__}, SIMD lanes per run {fi._core.SimulatorOptions.lanes}",
           f"Tolerances rtol = atol = {args.tol:g}; grid of 1000 points on [0, 199.8]; load average before "
           f"{load0}, after {' '.join(f'{v:.2f}' for v in os.getloadavg())}.", "",
           "| solver | sims/s, 1 core | sims/s, all cores | rkf78-simd ratio, 1 core | ratio, all cores | "
           "max abs error vs DOP853 1e-12 |",
           "|---|---:|---:|---:|---:|---:|",
           f"| fhn_inverse rkf78-simd (the same scheme in SIMD lanes) | {_span(one[1])} | {_span(every[1])} | 1 | 1 | "
           f"{errs['rkf78-simd']:.1e} |",
           f"| fhn_inverse rkf78 (Runge–Kutta–Fehlberg 7(8), Boost.Odeint) | {_span(one[0])} | {_span(every[0])} | "
           f"{_span(one[1] / one[0], '{:.2f}')}× paired | {_span(every[1] / every[0], '{:.2f}')}× paired | "
           f"{errs['rkf78']:.1e} |"]
    simd1, simd_all = np.median(one[1]), np.median(every[1])
    for name, s1, sp, err in rows:
        c1 = "–" if s1 is None else f"{s1:,.1f}"
        r1 = "–" if s1 is None else f"{simd1 / s1:,.0f}×"
        out.append(f"| {name} | {c1} | {sp:,.1f} | {r1} | {simd_all / sp:,.0f}× | {err:.1e} |")
    out += ["", f"Medians (range) over {args.pairs} alternating timings of the two fhn_inverse methods on "
            f"{args.n_ours:,} series; rkf78 at {base1:,.0f} and {base_all:,.0f} series/s is the previous "
            "build's simulator (the same code, bitwise: tests/python/test_engine_pins.py). Errors over the first "
            f"{n_ref} series."]
    if args.sweep:
        out += ["", "The SIMD simulator at other tolerances (same series):", ""] + sweep(theta, ref)
    text = "\n".join(out)
    print(text)
    return text


if __name__ == "__main__":
    main()
