"""Training and inference speed of the native engine against PyTorch CPU, same data, one run.

    python benchmarks/bench_nn.py [--repeats 3] [--threads 0] [--quick]

Rows: the study's CNN at batch 32 and 256, the study's dense map (4 × 32), and the speed study's
8-layer dense maps with dropout 0.2 (spec/paper.md "Training large maps"). Training samples/s:
shuffled mini-batches of 1024 random series of length 1000, MSE, Adam, full epochs; inference
samples/s: predict on 4096 series. Both engines run with every thread count from 1 to the core
count and each one's best is reported (thread count in parentheses; PyTorch runs eagerly); each
figure is the best of --repeats. The load average before and after is printed: on a shared
machine, compare only runs made while it was quiet.
Prints a Markdown table of samples/s and ratios (ours / PyTorch).
"""

import argparse
import os
import time

import numpy as np

from fhn_inverse import InverseMap, _core

try:
    import torch
except ImportError:  # pragma: no cover
    raise SystemExit("the benchmark needs PyTorch (pip install 'fhn-inverse[torch]')")

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
    _core.fit(net, opt, x, y, epochs=epochs, batch_size=batch, lr=1e-3, n_threads=threads)
    return epochs * len(x) / (time.perf_counter() - t)


def torch_train(module, x, y, batch, epochs, threads):
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="fewer samples (smoke run)")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    rng = np.random.default_rng(0)
    n = 256 if args.quick else 1024
    x = rng.standard_normal((n, L)).astype(np.float32)
    y = rng.random((n, 2)).astype(np.float32)
    x_infer = rng.standard_normal((1024 if args.quick else 4096, L)).astype(np.float32)
    rows = [
        ("study CNN, batch 32", study_cnn, 32, 2),
        ("study CNN, batch 256", study_cnn, 256, 3),
        ("study dense 4×32, batch 32", lambda: dense(32, 4), 32, 3),
        ("study dense 4×32, batch 256", lambda: dense(32, 4), 256, 5),
        ("dense 8×128, dropout 0.2, batch 32", lambda: dense(128, 8, 0.2), 32, 2),
        ("dense 8×512, dropout 0.2, batch 32", lambda: dense(512, 8, 0.2), 32, 1),
    ]
    print(f"torch {torch.__version__}, {cores} cores, threads tried: 1..{cores}, "
          f"load average {os.getloadavg()[0]:.2f}\n")
    print("| row | ours train samples/s (threads) | PyTorch train samples/s (threads) | ratio | "
          "ours inference samples/s (threads) | PyTorch inference samples/s (threads) | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, make, batch, epochs in rows:
        m = make()
        cnn = m.layers[0]["kind"] == "conv1d"
        m.build((1, L) if cnn else (L,), 2)
        xs = x[:, None, :] if cnn else x
        xi = x_infer[:, None, :] if cnn else x_infer
        module = torch_module(m)
        mine = {t: best(lambda: ours_train(m, xs, y, batch, epochs, t), args.repeats)
                for t in range(1, cores + 1)}
        ob = max(mine, key=mine.get)
        ours = mine[ob]
        theirs = {t: best(lambda: torch_train(module, xs, y, batch, epochs, t), args.repeats)
                  for t in range(1, cores + 1)}
        tb = max(theirs, key=theirs.get)
        mine_i = {t: best(lambda: ours_infer(m, xi, t), args.repeats) for t in range(1, cores + 1)}
        oib = max(mine_i, key=mine_i.get)
        oi = mine_i[oib]
        ti = {t: best(lambda: torch_infer(module, xi, t), args.repeats) for t in range(1, cores + 1)}
        tib = max(ti, key=ti.get)
        print(f"| {name} | {ours:,.0f} ({ob}) | {theirs[tb]:,.0f} ({tb}) | {ours / theirs[tb]:.2f}× | "
              f"{oi:,.0f} ({oib}) | {ti[tib]:,.0f} ({tib}) | {oi / ti[tib]:.2f}× |", flush=True)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
