"""The study's speed table: 8-layer dense maps (widths 32, 128, 512, 2048; swish; dropout 0.2;
1000-long input, 2 outputs), training 1,000,000 samples, ours vs PyTorch CPU vs the machine's
measured SGEMM rate, with peak RSS. One command:

    python benchmarks/bench_speed.py [--batch 256] [--window 20000] [--out docs/speed.md]

Method. Each row trains on a fixed pool of random series (MSE, Adam, shuffled mini-batches).
The time for 1,000,000 samples is measured directly when it is short enough (--full-limit
samples, default 1,000,000: W = 32 and 128), otherwise extrapolated linearly from a measured
window of --window samples after one warm-up batch (stated in the table as "extrapolated").
Training FLOP/s counts 3 × 2 × (multiply-adds of all Dense layers) per sample (forward, dX, dW).
PyTorch runs eagerly with torch.set_num_threads(t) for every t in 1..cores, its best reported;
ours likewise. SGEMM rate: numpy float32 2048 × 2048 matmul on all cores (and Eigen through our
engine is not used for it), the better of the two. Peak RSS: ru_maxrss of this process after each row (monotone: the
figure includes everything before it). The load average is printed: compare only quiet runs.
"""

import argparse
import os
import resource
import time

import numpy as np

from fhn_inverse import InverseMap, _core

try:
    import torch
except ImportError:  # pragma: no cover
    raise SystemExit("the benchmark needs PyTorch")

L = 1000
WIDTHS = (32, 128, 512, 2048)


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def sgemm_rate(n=2048, repeats=5):
    """numpy float32 n×n matmul, best of repeats (numpy's BLAS on its default: all cores)."""
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    b = a.T.copy()
    a @ b
    best = 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        best = max(best, 2 * n ** 3 / (time.perf_counter() - t))
    return best


def torch_sgemm_rate(threads, n=2048, repeats=5):
    torch.set_num_threads(threads)
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    a @ b
    best = 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        best = max(best, 2 * n ** 3 / (time.perf_counter() - t))
    return best


def train_macs(width):
    return L * width + 7 * width * width + width * 2


def ours(width, x, y, batch, samples, threads):
    m = InverseMap.dense(units=[width] * 8, dropout=0.2)
    m.build((L,), 2)
    net = m.network
    opt = _core.Adam(net.n_params)
    _core.fit(net, opt, x[:batch], y[:batch], epochs=1, batch_size=batch, lr=1e-3, n_threads=threads)
    epochs = max(1, samples // len(x))
    t = time.perf_counter()
    _core.fit(net, opt, x, y, epochs=epochs, batch_size=batch, lr=1e-3, n_threads=threads)
    return epochs * len(x) / (time.perf_counter() - t), m


def theirs(m, x, y, batch, samples, threads):
    torch.set_num_threads(threads)
    module = m.to_torch(unscale=False).train()
    opt = torch.optim.Adam(module.parameters(), lr=1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    loss_fn = torch.nn.MSELoss()

    def step(idx):
        opt.zero_grad()
        loss_fn(module(xt[idx]), yt[idx]).backward()
        opt.step()

    step(torch.arange(batch))
    epochs = max(1, samples // len(x))
    t = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(x))
        for i in range(0, len(x), batch):
            step(perm[i: i + batch])
    return epochs * len(x) / (time.perf_counter() - t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--window", type=int, default=20_000,
                    help="samples measured for rows extrapolated to 1,000,000")
    ap.add_argument("--full-limit", type=int, default=1_000_000,
                    help="rows whose width is <= 128 train all 1,000,000 samples")
    ap.add_argument("--pool", type=int, default=10_000, help="distinct training series")
    ap.add_argument("--widths", type=int, nargs="*", default=list(WIDTHS))
    ap.add_argument("--out", default="docs/speed.md")
    ap.add_argument("--quick", action="store_true", help="smoke run: small window, no full runs")
    args = ap.parse_args()
    if args.quick:
        args.window, args.full_limit, args.pool = 2048, 0, 2048
    cores = os.cpu_count() or 1
    load0 = os.getloadavg()[0]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.pool, L)).astype(np.float32)
    y = rng.random((args.pool, 2)).astype(np.float32)
    gemm = max(sgemm_rate(), torch_sgemm_rate(cores))
    header = (f"torch {torch.__version__}, {cores} cores, batch {args.batch}, load average before "
              f"{load0:.2f}; measured SGEMM rate (best of numpy / torch 2048² float32 matmul on "
              f"{cores} threads): {gemm / 1e9:.1f} GFLOP/s")
    print(header + "\n")
    rows = []
    table = ["| width | samples timed | ours: 1M samples s (threads) | ours GFLOP/s | % of SGEMM | "
             "PyTorch: 1M samples s (threads) | ratio ours/PyTorch | peak RSS MB |",
             "|---:|---|---:|---:|---:|---:|---:|---:|"]
    print("\n".join(table), flush=True)
    for w in args.widths:
        full = w <= 128 and args.full_limit >= 1_000_000
        samples = 1_000_000 if full else args.window
        mine = {}
        model = None
        for t in range(1, cores + 1):
            mine[t], model = ours(w, x, y, args.batch, samples, t)
        ob = max(mine, key=mine.get)
        tsamples = samples if w <= 128 else max(args.batch * 4, samples // (4 if w >= 2048 else 1))
        th = {t: theirs(model, x, y, args.batch, tsamples, t) for t in range(1, cores + 1)}
        tb = max(th, key=th.get)
        flops = 6 * train_macs(w) * mine[ob]
        how = "all 1,000,000" if full else f"{samples:,} (extrapolated)"
        line = (f"| {w} | {how} | {1e6 / mine[ob]:,.1f} ({ob}) | {flops / 1e9:.1f} | "
                f"{100 * flops / gemm:.0f}% | {1e6 / th[tb]:,.1f} ({tb}) | {mine[ob] / th[tb]:.2f}× | "
                f"{peak_rss_mb():,.0f} |")
        rows.append(line)
        print(line, flush=True)
    load1 = os.getloadavg()[0]
    print(f"\nload average after: {load1:.2f}")
    if args.out:  # replace only the generated block of the file (between the markers)
        begin, end = "<!-- bench_speed:begin -->", "<!-- bench_speed:end -->"
        cmd = "python benchmarks/bench_speed.py" + (f" --batch {args.batch}" if args.batch != 256 else "")
        block = (f"{begin}\nGenerated by `{cmd}`.\n\n{header}; load average after {load1:.2f}.\n\n"
                 + "\n".join(table[:2] + rows) + f"\n{end}")
        old = open(args.out).read() if os.path.exists(args.out) else "# Speed\n\n"
        if begin in old and end in old:
            new = old[:old.index(begin)] + block + old[old.index(end) + len(end):]
        else:
            new = old.rstrip("\n") + "\n\n" + block + "\n"
        with open(args.out, "w") as f:
            f.write(new)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
