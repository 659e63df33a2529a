"""Two OpenBLAS builds side by side on the products of the wide dense layers: single-threaded
``sgemm_`` (as the engine calls it, one thread per call) of the 8 × 512 map's shapes, both
libraries loaded in this one process and timed in turns, best of 5 bursts each. For choosing the
OpenBLAS the portable wheel carries: the system's (a source build's) against scipy-openblas32's.

    python benchmarks/blas_builds.py [--a /usr/lib/x86_64-linux-gnu/libopenblas.so.0]
                                     [--b PATH[:PREFIX]] [--calls 400]

``--b`` defaults to the library of the installed PyPI package scipy-openblas32 (its symbols
prefixed ``scipy_``). Prints GFLOP/s per shape and library and the ratio b / a, and the load
average before and after.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import time

import numpy as np

# (transa, transb, m, n, k): the 8 × 512 map's products at batches 16 to 128 per call, forward
# (N, N), input gradient (T, N) and weight gradient (N, T)
SHAPES = [("N", "N", 512, 16, 512), ("T", "N", 512, 16, 512), ("N", "T", 512, 512, 16),
          ("N", "N", 512, 32, 512), ("N", "N", 256, 32, 512), ("N", "N", 512, 128, 512),
          ("T", "N", 512, 512, 32)]


def _library(spec: str):
    """(name, sgemm_) of the library spec "PATH" or "PATH:PREFIX", set to one thread."""
    path, _, prefix = spec.partition(":")
    lib = ctypes.CDLL(path)
    getattr(lib, prefix + "openblas_set_num_threads")(1)
    config = getattr(lib, prefix + "openblas_get_config")
    config.restype = ctypes.c_char_p
    return config().decode(), getattr(lib, prefix + "sgemm_")


def _rate(sgemm, shape, calls: int, rng) -> float:
    ta, tb, m, n, k = shape
    a = rng.random(m * k, dtype=np.float32)
    b = rng.random(n * k, dtype=np.float32)
    c = np.zeros(m * n, np.float32)
    i, f = ctypes.c_int, ctypes.c_float
    args = (ctypes.c_char_p(ta.encode()), ctypes.c_char_p(tb.encode()), ctypes.byref(i(m)), ctypes.byref(i(n)),
            ctypes.byref(i(k)), ctypes.byref(f(1.0)), a.ctypes.data_as(ctypes.c_void_p),
            ctypes.byref(i(k if ta == "T" else m)), b.ctypes.data_as(ctypes.c_void_p),
            ctypes.byref(i(n if tb == "T" else k)), ctypes.byref(f(0.0)), c.ctypes.data_as(ctypes.c_void_p),
            ctypes.byref(i(m)))
    for _ in range(20):
        sgemm(*args)
    t = time.perf_counter()
    for _ in range(calls):
        sgemm(*args)
    return 2.0 * m * n * k * calls / (time.perf_counter() - t) / 1e9


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", default="/usr/lib/x86_64-linux-gnu/libopenblas.so.0", help="PATH[:PREFIX]")
    ap.add_argument("--b", default=None, help="PATH[:PREFIX] (default: scipy-openblas32's)")
    ap.add_argument("--calls", type=int, default=400)
    args = ap.parse_args(argv)
    if args.b is None:
        import scipy_openblas32

        args.b = os.path.join(scipy_openblas32.get_lib_dir(), "libscipy_openblas.so") + ":scipy_"
    print(f"load average before {os.getloadavg()[0]:.2f}")
    libs = [_library(args.a), _library(args.b)]
    for name, _ in libs:
        print("  " + name)
    rng = np.random.default_rng(0)
    for shape in SHAPES:
        best = [0.0, 0.0]
        for _ in range(5):  # bursts in turns: a, b, a, b, ...
            for j, (_, sgemm) in enumerate(libs):
                best[j] = max(best[j], _rate(sgemm, shape, args.calls, rng))
        print(f"sgemm {shape[0]}{shape[1]} m={shape[2]:<4} n={shape[3]:<4} k={shape[4]:<4}  a {best[0]:6.1f} GFLOP/s"
              f"  b {best[1]:6.1f} GFLOP/s  b/a {best[1] / best[0]:.3f}")
    print(f"load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
