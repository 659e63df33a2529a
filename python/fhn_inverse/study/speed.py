"""The study's speed table on this machine: 8-layer dense maps trained on 1,000,000 samples.

The study (spec/paper.md, "Training large maps") trained dense maps of 8 hidden layers of 32,
128, 512 and 2048 units (dropout 0.2) for 1,000 epochs of 1,000 samples on a CPU and on a
Cerebras CS-2. :func:`speed` trains the same maps here (swish, 1000-long input, 2 outputs, MSE,
Adam, shuffled mini-batches) and reports the time for 1,000,000 samples beside the study's.

The training set is 1,000 random series, cycled as epochs (the study's 1,000 epochs of 1,000
samples). Narrow maps train all 1,000,000 samples; wide ones are timed on a window of samples
after a warm-up batch and extrapolated linearly (a training step costs the same at every step: no
allocation, fixed shapes), which the results state per row. Training FLOP/s counts
3 × 2 × (multiply-adds of the Dense layers) per sample (forward, dX and dW products); the
machine's matrix-multiply rate is NumPy's float32 2048 × 2048 product on all cores, measured
after the rows (NumPy's BLAS threads keep spinning for a while after a product and would slow
the first row).
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import replace

import numpy as np
from tqdm.auto import tqdm

from .. import _core
from .._util.validation import as_int
from ..nn import InverseMap
from ..nn.training import TrainingConfig

__all__ = ["INPUT_LENGTH", "WIDTHS", "SAMPLES", "STUDY", "study_map", "train_macs", "peak_rss_mb", "sgemm_rate",
           "training_rate", "speed", "machine", "table"]

INPUT_LENGTH = 1000
WIDTHS = (32, 128, 512, 2048)
SAMPLES = 1_000_000
# spec/paper.md, "Training large maps": parameters, CPU reference total s, Cerebras CS-2 total s
# and train-only s per width.
STUDY = {
    32: {"n_params": 39_490, "cpu_total_s": 21.0, "cs2_total_s": 178.6, "cs2_train_s": 4.9},
    128: {"n_params": 243_970, "cpu_total_s": 47.9, "cs2_total_s": 177.6, "cs2_train_s": 4.6},
    512: {"n_params": 2_352_130, "cpu_total_s": 221.6, "cs2_total_s": 191.1, "cs2_train_s": 5.7},
    2048: {"n_params": 31_428_610, "cpu_total_s": 2576.2, "cs2_total_s": 810.4, "cs2_train_s": 8.9},
}


def study_map(width: int, *, seed: int = 0) -> InverseMap:
    """The speed study's map: 8 hidden layers of ``width`` units, swish, dropout 0.2.

    Parameters
    ----------
    width : int
        Units per layer, at least 1.
    seed : int, default 0
        The map's seed.

    Returns
    -------
    InverseMap
        The map, not yet built.
    """
    return InverseMap.dense(units=[as_int(width, "width", 1)] * 8, dropout=0.2, seed=seed)


def train_macs(width: int) -> int:
    """Multiply-adds of one sample's forward pass through the Dense layers.

    Parameters
    ----------
    width : int
        Units per layer.

    Returns
    -------
    int
        INPUT_LENGTH·width + 7·width² + 2·width.
    """
    return INPUT_LENGTH * width + 7 * width * width + 2 * width


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB.

    VmHWM on Linux: ru_maxrss there also counts the parent's memory at fork time. Where VmHWM cannot
    be read, ru_maxrss is used.

    Returns
    -------
    float
        The peak, in MiB.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def sgemm_rate(n: int = 2048, repeats: int = 5, matmul=np.matmul) -> float:
    """The machine's float32 matrix-multiply rate in FLOP/s.

    ``matmul`` (NumPy's BLAS on its default of all cores) of two ``n × n`` arrays, best of
    ``repeats``, after one untimed product.

    Parameters
    ----------
    n : int, default 2048
        The arrays' size.
    repeats : int, default 5
        Timed products.
    matmul : callable, default numpy.matmul
        The product.

    Returns
    -------
    float
        2n³ over the shortest time, in FLOP/s.
    """
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    b = a.T.copy()
    matmul(a, b)
    best = 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        matmul(a, b)
        best = max(best, 2.0 * n ** 3 / (time.perf_counter() - t))
    return best


def training_rate(model: InverseMap, x: np.ndarray, y: np.ndarray, *, samples: int, batch_size: int = 256,
                  n_threads: int = 0, seed: int = 0) -> float:
    """Training samples/s of ``model`` on ``samples`` samples drawn as epochs over (x, y).

    Timed after one warm-up batch; Adam, MSE, shuffled mini-batches. The map is trained: its
    parameters change.

    Parameters
    ----------
    model : InverseMap
        A built map.
    x : ndarray
        The inputs, passed to the native trainer as they are.
    y : ndarray
        The labels, passed to the native trainer as they are.
    samples : int
        Samples to train: max(1, samples // len(x)) epochs over (x, y).
    batch_size : int, default 256
        Samples per step.
    n_threads : int, default 0
        Threads to use (0: those available).
    seed : int, default 0
        The seed of the shuffled batches.

    Returns
    -------
    float
        Training samples per second.
    """
    net = model.network
    opt = _core.Adam(net.n_params)
    cfg = TrainingConfig(epochs=1, batch_size=batch_size, lr=1e-3, seed=seed, n_threads=n_threads)
    _core.fit(net, opt, x[:batch_size], y[:batch_size], config=cfg.to_core(seed))
    epochs = max(1, samples // len(x))
    t = time.perf_counter()
    _core.fit(net, opt, x, y, config=replace(cfg, epochs=epochs).to_core(seed))
    return epochs * len(x) / (time.perf_counter() - t)


def speed(out=None, *, widths=WIDTHS, window: int = 20_000, full_max_width: int = 128, batch_size: int = 256,
          pool: int = 1000, n_threads: int = 0, seed: int = 0, progress: bool = True) -> dict:
    """Time the speed study's maps.

    Rows of ``widths`` up to ``full_max_width`` train all 1,000,000 samples, wider ones ``window``
    samples (extrapolated). ``pool`` distinct random series are cycled as epochs. Writes
    ``results.json`` and a bar chart into ``out`` if given.

    Parameters
    ----------
    out : str or os.PathLike, optional
        The run folder for ``results.json`` and the bar chart.
    widths : sequence of int, default WIDTHS
        Units per layer, one row each: at least one width, each at least 1.
    window : int, default 20_000
        Samples timed for the wider maps, at least 1.
    full_max_width : int, default 128
        The widest map that trains all 1,000,000 samples.
    batch_size : int, default 256
        Samples per step, at least 1.
    pool : int, default 1000
        Distinct random series, at least ``batch_size``.
    n_threads : int, default 0
        Threads to use (0: those available).
    seed : int, default 0
        The seed of the maps and of the random series.
    progress : bool, default True
        Show a progress bar.

    Returns
    -------
    dict
        With ``out``, what :meth:`fhn_inverse.study.runs.Run.write` wrote to ``results.json``;
        without, ``{"experiment": "speed", "results": results}``. The results hold ``machine``,
        ``sgemm_gflops``, ``batch_size``, ``n_threads``, ``window`` and ``rows`` (one per width).

    Raises
    ------
    ValueError
        If ``widths`` is empty, or a width, ``window``, ``batch_size`` or ``pool`` is below its
        minimum.
    """
    widths = tuple(as_int(w, "width", 1) for w in widths)
    if not widths:
        raise ValueError("widths must name at least one width, got none")
    window = as_int(window, "window", 1)
    batch_size = as_int(batch_size, "batch_size", 1)
    pool = as_int(pool, "pool", batch_size)
    run = None
    if out is not None:
        from .runs import Run

        run = Run(out, "speed")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((pool, INPUT_LENGTH), dtype=np.float32)
    y = rng.random((pool, 2), dtype=np.float32)
    rows = []
    for w in tqdm(widths, desc="speed", disable=not progress):
        full = w <= full_max_width
        samples = SAMPLES if full else window
        model = study_map(w, seed=seed).build((INPUT_LENGTH,), 2)
        rate = training_rate(model, x, y, samples=samples, batch_size=batch_size, n_threads=n_threads, seed=seed)
        row = {"width": w, "n_params": model.n_params, "samples_timed": samples if full else
               max(1, samples // pool) * pool, "extrapolated": not full, "samples_per_s": rate,
               "train_s_1M": SAMPLES / rate, "gflops": 6.0 * train_macs(w) * rate / 1e9,
               "peak_rss_mb": peak_rss_mb()}
        if w in STUDY:
            row.update({f"study_{k}": v for k, v in STUDY[w].items()})
            row["vs_study_cpu"] = STUDY[w]["cpu_total_s"] / row["train_s_1M"]
            row["vs_cs2_train"] = STUDY[w]["cs2_train_s"] / row["train_s_1M"]
        rows.append(row)
        del model
    gemm = sgemm_rate()
    for row in rows:
        row["fraction_of_sgemm"] = row["gflops"] * 1e9 / gemm
    results = {"machine": machine(), "sgemm_gflops": gemm / 1e9, "batch_size": batch_size,
               "n_threads": n_threads, "window": window, "rows": rows}
    if run is not None:
        from . import plotting

        run.figure(plotting.speed_table(rows), "speed")
        return run.write({"widths": list(widths), "window": window, "batch_size": batch_size, "pool": pool,
                          "n_threads": n_threads, "seed": seed}, results)
    return {"experiment": "speed", "results": results}


def machine() -> dict:
    """What the timings ran on.

    Returns
    -------
    dict
        ``cpu``, ``cores``, ``platform``, ``python``, ``numpy`` and ``blas`` (the core's BLAS
        backend).
    """
    import platform

    return {"cpu": _cpu_model(), "cores": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "numpy": np.__version__, "blas": _core.blas_backend()}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def table(results: dict) -> str:
    """The speed table in Markdown: ours beside the study's CPU and Cerebras CS-2 times.

    Parameters
    ----------
    results : dict
        The results of :func:`speed` (its ``"results"``).

    Returns
    -------
    str
        The table, one row per width.
    """
    lines = ["| units per layer | parameters | samples timed | ours: train s for 1M samples | GFLOP/s | % of SGEMM "
             "| study CPU total s | Cerebras CS-2 train-only s | ours vs CS-2 |",
             "|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in results["rows"]:
        timed = f"{r['samples_timed']:,}" + (" (extrapolated)" if r["extrapolated"] else "")
        study = (f"{r['study_cpu_total_s']:,.1f} | {r['study_cs2_train_s']:.1f} | {r['vs_cs2_train']:.2f}×"
                 if "study_cpu_total_s" in r else "– | – | –")
        lines.append(f"| {r['width']} | {r['n_params']:,} | {timed} | {r['train_s_1M']:,.1f} | {r['gflops']:.1f} | "
                     f"{100 * r['fraction_of_sgemm']:.0f}% | {study} |")
    return "\n".join(lines)
