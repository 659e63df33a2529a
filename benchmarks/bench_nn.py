"""Training and inference speed of the native engine against PyTorch CPU, same data, one run.

    python benchmarks/bench_nn.py [--repeats 5] [--rounds 2] [--pairs 10] [--burst 0.5]
                                  [--rows 0 1 ...] [--quick]

Rows: the study's CNN at batch 32 and 256, the study's dense map (4 × 32), and the speed study's
8-layer dense maps with dropout 0.2 (spec/paper.md "Training large maps"). Training samples/s:
shuffled mini-batches of 1024 random series of length 1000, MSE, Adam, full epochs; inference
samples/s: predict on 4096 series. Both engines run with every thread count from 1 to the core
count and each one's best is reported (thread count in parentheses; PyTorch runs eagerly); each
figure is the best of --repeats. Each engine measures each row in a fresh process, whose peak
RSS is reported (PyTorch's includes its own import, about 300 MB), --rounds times, the engines
taking turns (ours first in even rounds, PyTorch first in odd ones), and the best round is kept:
a slow phase of a shared machine then rarely falls on one engine only.

The paired ratio measures training side by side in time: each engine in a warm process of its
own at its best thread count, the two take turns in --pairs bursts of whole runs (each burst at
least --burst seconds), and each pair's ratio is taken between bursts made seconds apart. On a
shared VM whose speed drifts by up to 2× between minutes, this is the ratio least distorted by
when each engine happened to run; its median and quartiles are reported. The load average before
and after is printed: compare only runs made while it was quiet.
Prints a Markdown table of samples/s and ratios (ours / PyTorch), and beside each row the bound
its training has at this machine's achieved SGEMM rate (_bound.py: a 2-thread SGEMM at n = 2048,
measured before and after; 3 × 2 multiply-adds per sample) with our rate's share of it.
"""

import argparse
import os
import sys
import time

import numpy as np

import fhn_inverse as fi
from fhn_inverse import InverseMap, _core


L = 1000


def study_cnn():
    return InverseMap.cnn()


def dense(units, layers, dropout=0.0):
    return InverseMap.dense(units=[units] * layers, dropout=dropout)


def torch_module(m):
    return m.to_torch(unscale=False).train()


def ours_train(m, x, y, batch, epochs, threads):
    net = m.network
    opt = _core.Adam(net.n_params)
    t = time.perf_counter()
    _core.fit(net, opt, x, y, config=fi.TrainingConfig(epochs=epochs, batch_size=batch, lr=1e-3,
                                                       n_threads=threads).to_core(0))
    return epochs * len(x) / (time.perf_counter() - t)


def torch_train(module, x, y, batch, epochs, threads):
    import torch

    torch.set_num_threads(threads)
    opt = torch.optim.Adam(module.parameters(), lr=1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    loss_fn = torch.nn.MSELoss()
    t = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(x))
        for i in range(0, len(x), batch):
            idx = perm[i: i + batch]
            opt.zero_grad()
            loss_fn(module(xt[idx]), yt[idx]).backward()
            opt.step()
    return epochs * len(x) / (time.perf_counter() - t)


def ours_infer(m, x, threads):
    t = time.perf_counter()
    m.network.predict(x, threads)
    return len(x) / (time.perf_counter() - t)


def torch_infer(module, x, threads):
    import torch

    torch.set_num_threads(threads)
    module.eval()
    xt = torch.from_numpy(x)
    t = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(x), 1024):
            module(xt[i: i + 1024])
    module.train()
    return len(x) / (time.perf_counter() - t)


def best(f, repeats):
    return max(f() for _ in range(repeats))


ROWS = [
    ("study CNN, batch 32", study_cnn, 32, 2),
    ("study CNN, batch 256", study_cnn, 256, 3),
    ("study dense 4×32, batch 32", lambda: dense(32, 4), 32, 3),
    ("study dense 4×32, batch 256", lambda: dense(32, 4), 256, 5),
    ("dense 8×128, dropout 0.2, batch 32", lambda: dense(128, 8, 0.2), 32, 2),
    ("dense 8×512, dropout 0.2, batch 32", lambda: dense(512, 8, 0.2), 32, 1),
]


def _data(quick):
    rng = np.random.default_rng(0)
    n = 256 if quick else 1024
    x = rng.standard_normal((n, L)).astype(np.float32)
    y = rng.random((n, 2)).astype(np.float32)
    x_infer = rng.standard_normal((1024 if quick else 4096, L)).astype(np.float32)
    return x, y, x_infer


def _engine(row: int, engine: str, quick: bool):
    """(train(threads), infer(threads)) of one row for one engine: each call times one run and
    returns samples/s."""
    name, make, batch, epochs = ROWS[row]
    x, y, x_infer = _data(quick)
    m = make()
    cnn = m.layers[0]["kind"] == "conv1d"
    m.build((1, L) if cnn else (L,), 2)
    xs = x[:, None, :] if cnn else x
    xi = x_infer[:, None, :] if cnn else x_infer
    if engine == "ours":
        return (lambda t: ours_train(m, xs, y, batch, epochs, t)), (lambda t: ours_infer(m, xi, t))
    module = torch_module(m)
    return ((lambda t: torch_train(module, xs, y, batch, epochs, t)),
            (lambda t: torch_infer(module, xi, t)))


def measure(row: int, engine: str, repeats: int, quick: bool) -> dict:
    """Best training and inference samples/s of one row for one engine over thread counts
    1..cores (run in its own process by main)."""
    train_at, infer_at = _engine(row, engine, quick)
    cores = os.cpu_count() or 1
    train = {t: best(lambda: train_at(t), repeats) for t in range(1, cores + 1)}
    infer = {t: best(lambda: infer_at(t), repeats) for t in range(1, cores + 1)}
    tb, ib = max(train, key=train.get), max(infer, key=infer.get)
    return {"train": train[tb], "train_threads": tb, "infer": infer[ib], "infer_threads": ib}


# A paired worker's state: its row's training run at its thread count (prepare, then bursts).
_BURST = {}


def prepare(row: int, engine: str, threads: int, quick: bool) -> None:
    train_at, _ = _engine(row, engine, quick)
    _BURST["run"] = lambda: train_at(threads)
    _BURST["run"]()  # warm-up


def train_burst(seconds: float) -> float:
    """Training samples/s over whole runs of the prepared row, repeated for >= seconds."""
    rates, t0 = [], time.perf_counter()
    while not rates or time.perf_counter() - t0 < seconds:
        rates.append(_BURST["run"]())
    return len(rates) / sum(1.0 / r for r in rates)  # total samples / total time


def paired(row: int, threads: dict, pairs: int, seconds: float, quick: bool) -> np.ndarray:
    """Training samples/s ratios ours / PyTorch of `pairs` back-to-back bursts: both engines
    in warm processes of their own at their best thread counts, taking turns (ours first in even
    pairs), each burst >= `seconds` long. A pair's two bursts are seconds apart, so they share
    the machine's phase, which on a shared VM changes the rates by up to 2× from minute to
    minute."""
    from _isolated import Worker

    with Worker() as ours, Worker() as torch_:
        ours.call(prepare, row, "ours", threads["ours"], quick)
        torch_.call(prepare, row, "torch", threads["torch"], quick)
        ratios = []
        for k in range(pairs):
            if k % 2 == 0:
                o = ours.call(train_burst, seconds)
                t = torch_.call(train_burst, seconds)
            else:
                t = torch_.call(train_burst, seconds)
                o = ours.call(train_burst, seconds)
            ratios.append(o / t)
    return np.array(ratios)


def _better(a, b):
    """The faster of two (measure result, peak RSS) pairs, per column (a may be None)."""
    if a is None:
        return b
    (ra, rss_a), (rb, rss_b) = a, b
    out = {}
    for k in ("train", "infer"):
        src = ra if ra[k] >= rb[k] else rb
        out[k], out[f"{k}_threads"] = src[k], src[f"{k}_threads"]
    return out, max(rss_a, rss_b)


def main(argv=None) -> str:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2,
                    help="fresh-process measurements per engine and row, interleaved; best kept")
    ap.add_argument("--rows", type=int, nargs="*", default=None,
                    help=f"indices of the rows to run (0–{len(ROWS) - 1}; default: all)")
    ap.add_argument("--pairs", type=int, default=10,
                    help="back-to-back training bursts per engine for the paired ratio (default: 10)")
    ap.add_argument("--burst", type=float, default=0.5,
                    help="seconds per burst of the paired ratio (default: 0.5)")
    ap.add_argument("--quick", action="store_true", help="fewer samples (smoke run)")
    args = ap.parse_args(argv)
    bad = [r for r in args.rows or [] if not 0 <= r < len(ROWS)]
    if bad:
        ap.error(f"--rows must be in [0, {len(ROWS) - 1}], got {bad}")
    for name in ("repeats", "rounds", "pairs"):
        if getattr(args, name) < 1:
            ap.error(f"--{name} must be >= 1, got {getattr(args, name)}")
    if not args.burst > 0:
        ap.error(f"--burst must be > 0 seconds, got {args.burst}")
    from _isolated import isolated

    try:
        import torch
    except ImportError:  # pragma: no cover
        raise SystemExit("the benchmark needs PyTorch (pip install 'fhn-inverse[torch]')") from None
    cores = os.cpu_count() or 1
    head = (f"PyTorch {torch.__version__}, {cores} cores, threads tried: 1..{cores}, "
            f"load average before {os.getloadavg()[0]:.2f}")
    from _bound import sgemm_gflops, training_flops

    gflops = [sgemm_gflops()]
    print(head + "\n")
    lines = ["| row | ours train samples/s (threads) | PyTorch train samples/s (threads) | ratio | "
             "paired train ratio, median (quartiles) | "
             "ours inference samples/s (threads) | PyTorch inference samples/s (threads) | ratio | "
             "peak RSS MB, ours / PyTorch |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    print("\n".join(lines), flush=True)
    shares = []  # (row, our training samples/s, training FLOPs per sample)
    for i, (name, *_rest) in enumerate(ROWS):
        if args.rows is not None and i not in args.rows:
            continue
        best_of = {"ours": None, "torch": None}
        for r in range(args.rounds):  # rounds alternate which engine goes first
            for engine in (("ours", "torch") if r % 2 == 0 else ("torch", "ours")):
                got = isolated(measure, i, engine, args.repeats, args.quick)
                print(f"{name}, round {r + 1}, {engine}: train {got[0]['train']:,.0f} samples/s",
                      file=sys.stderr, flush=True)
                best_of[engine] = _better(best_of[engine], got)
        (o, o_rss), (t, t_rss) = best_of["ours"], best_of["torch"]
        r = paired(i, {"ours": o["train_threads"], "torch": t["train_threads"]}, args.pairs,
                   args.burst, args.quick)
        print(f"{name}, paired ratios: " + " ".join(f"{v:.2f}" for v in r), file=sys.stderr, flush=True)
        q1, med, q3 = np.quantile(r, [0.25, 0.5, 0.75])
        lines.append(f"| {name} | {o['train']:,.0f} ({o['train_threads']}) | "
                     f"{t['train']:,.0f} ({t['train_threads']}) | "
                     f"{o['train'] / t['train']:.2f}× | {med:.2f}× ({q1:.2f}–{q3:.2f}) | "
                     f"{o['infer']:,.0f} ({o['infer_threads']}) | "
                     f"{t['infer']:,.0f} ({t['infer_threads']}) | {o['infer'] / t['infer']:.2f}× | "
                     f"{o_rss:,.0f} / {t_rss:,.0f} |")
        print(lines[-1], flush=True)
        shares.append((name, o["train"], training_flops(ROWS[i][1]().layers, (1, L) if "CNN" in name else (L,))))
    gflops.append(sgemm_gflops())
    bound_lines = [f"Bounds at the SGEMM rate ({min(gflops):.0f} GFLOP/s, the lower of {gflops[0]:.0f} before and "
                   f"{gflops[1]:.0f} after; 2 threads, n = 2048):", "",
                   "| row | training FLOPs per sample | bound, samples/s | ours | share of the bound |",
                   "|---|---:|---:|---:|---:|"]
    for name, rate, flops in shares:
        bound = min(gflops) * 1e9 / flops
        bound_lines.append(f"| {name} | {flops:,} | {bound:,.0f} | {rate:,.0f} | {rate / bound:.1%} |")
    print("\n" + "\n".join(bound_lines))
    lines += [""] + bound_lines
    tail = f"load average after {os.getloadavg()[0]:.2f}"
    print("\n" + tail)
    return f"{head}; {tail}.\n\n" + "\n".join(lines)


if __name__ == "__main__":
    main()
