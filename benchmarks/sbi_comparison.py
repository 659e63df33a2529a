"""The study's CNN with a Gaussian head against sbi's neural posterior estimation (NPE).

Both learn p(θ | series) from the same 8,000 noisy training series of the data seed
(``fi.study_data``) and are scored on the same 2,000 noisy test series: coverage per parameter
and joint at 50/80/90/95 % (from 1,000 posterior draws per series for sbi; from the Gaussian, or
its calibrated law, for the CNN), SBC (1,000 draws; does an ECDF leave its 95 % band, and its
largest deviation), R² and Median-APE (both readings) of the posterior mean, and training time.

- ``fhn_inverse`` rows: the Gaussian-NLL CNNs written by ``benchmarks/gaussian_heads.py OUT``
  (member 0 alone; the 5-member ensemble), as trained, and after ``calibrate(...,
  method="quantile")`` on 10,000 further series (stream indices 10,000–19,999).
- ``sbi`` rows: NPE with a masked autoregressive flow (sbi's default density estimator, 5
  transforms) conditioned on an embedding network that is the study's CNN without its output
  layer, in PyTorch (Conv1d 8/16/32, kernel 3, stride 2, average pooling between, SiLU, dense
  32, 32), trained by sbi's default loop (Adam 5e-4, batch 200, 10 % held out, stop after 20
  epochs without improvement). The prior handed to sbi is uniform on the truncated prior's box;
  single-round NPE uses it only to reject draws outside it.

Nothing here is a test. Needs the ``sbi`` extra (``pip install fhn_inverse[sbi]``).

    python benchmarks/sbi_comparison.py OUT [--seed 0] [--threads 2] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

import fhn_inverse as fi
from fhn_inverse import diagnostics as dg
from fhn_inverse.experiments import Training

LEVELS = (0.5, 0.8, 0.9, 0.95)


def embedding(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Unflatten(1, (1, -1)),
        nn.Conv1d(1, 8, 3, stride=2), nn.SiLU(), nn.AvgPool1d(2),
        nn.Conv1d(8, 16, 3, stride=2), nn.SiLU(), nn.AvgPool1d(2),
        nn.Conv1d(16, 32, 3, stride=2), nn.SiLU(), nn.Flatten(),
        nn.LazyLinear(32), nn.SiLU(), nn.Linear(32, 32), nn.SiLU())


def train_sbi(train, seed: int):
    import torch
    from sbi.inference import NPE
    from sbi.neural_nets import posterior_nn
    from sbi.utils import BoxUniform

    torch.manual_seed(seed)
    prior = fi.default_prior()
    box = BoxUniform(torch.as_tensor(prior.lower, dtype=torch.float32), torch.as_tensor(prior.upper, dtype=torch.float32))
    net = embedding(torch)
    net(torch.zeros(2, train.d.shape[1]))  # materialise the lazy layer
    inference = NPE(prior=box, density_estimator=posterior_nn(model="maf", embedding_net=net), show_progress_bars=False)
    theta = torch.as_tensor(train.theta, dtype=torch.float32)
    x = torch.as_tensor(train.d, dtype=torch.float32)
    start = time.perf_counter()
    estimator = inference.append_simulations(theta, x).train()
    seconds = time.perf_counter() - start
    epochs = inference.summary.get("epochs_trained")
    return inference.build_posterior(estimator), seconds, epochs[-1] if isinstance(epochs, list) else epochs


def sbi_draws(posterior, x, n: int, seed: int) -> np.ndarray:
    import torch

    torch.manual_seed(seed)
    out = []
    for lo in range(0, len(x), 250):
        xb = torch.as_tensor(x[lo:lo + 250], dtype=torch.float32)
        s = posterior.sample_batched((n,), x=xb, show_progress_bars=False)  # (n, B, D)
        out.append(np.transpose(s.numpy(), (1, 0, 2)).astype(np.float64))
    return np.concatenate(out)


def scores(theta, mean, *, coverage, sbc, seconds) -> dict:
    emp = np.column_stack([coverage.per_parameter, coverage.joint])
    return {
        "coverage": {f"{round(100 * a)}%": (100 * emp[k]).round(1).tolist() for k, a in enumerate(LEVELS)},
        "max_miss_points": float(np.max(np.abs(emp - np.asarray(LEVELS)[:, None])) * 100),
        "sbc_outside": [bool(v) for v in sbc.outside], "sbc_max_deviation": [float(v) for v in sbc.max_deviation],
        "r2": fi.metrics.r2_score(theta, mean).tolist(),
        "median_ape_component": float(fi.metrics.median_ape(theta, mean)),
        "median_ape_sample": float(np.median(np.linalg.norm(mean - theta, axis=1) / np.linalg.norm(theta, axis=1))),
        "train_s": seconds,
    }


def row(label, r) -> str:
    cells = [" / ".join(f"{v:.1f}" for v in r["coverage"][f"{round(100 * a)}%"]) for a in LEVELS]
    sbc = "inside" if not any(r["sbc_outside"]) else "outside: " + ", ".join(
        n for n, o in zip(("θ0", "θ1"), r["sbc_outside"]) if o)
    sbc += " (" + ", ".join(f"{v:.3f}" for v in r["sbc_max_deviation"]) + ")"
    train = "—" if r["train_s"] is None else f"{r['train_s']:.0f}"
    return (f"| {label} | " + " | ".join(cells) + f" | {r['max_miss_points']:.1f} | {sbc} | "
            f"{r['r2'][0]:.3f}, {r['r2'][1]:.3f} | {r['median_ape_component']:.3f} / {r['median_ape_sample']:.3f} | "
            f"{train} |")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("heads", type=Path, help="folder written by benchmarks/gaussian_heads.py")
    parser.add_argument("--seed", type=int, default=0, help="data seed (default 0, the experiments')")
    parser.add_argument("--threads", type=int, default=2, help="PyTorch and fhn_inverse threads (default 2)")
    parser.add_argument("--samples", type=int, default=1000, help="posterior draws per test series")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    load_start = os.getloadavg()[0]
    pool, test = fi.study_data(args.seed, noise=fi.AR1Noise(), progress=False)
    cal = fi.Dataset.generate(10_000, args.seed, noise=fi.AR1Noise(), start=10_000, progress=False)
    results = {}

    def ours(label, model, seconds):
        mean, cov = model.predict(test.d, return_cov=True, n_threads=args.threads)
        draws = model.sample(test.d, args.samples, seed=0, n_threads=args.threads)
        cal_ = getattr(model, "calibration", None)
        cv = (dg.coverage(test.theta, samples=draws, levels=LEVELS) if isinstance(model, fi.Ensemble) and cal_ is None
              else dg.coverage(test.theta, mean, cov, levels=LEVELS, calibration=cal_))
        results[label] = scores(test.theta, mean, coverage=cv, sbc=dg.sbc(test.theta, draws), seconds=seconds)

    # member 0 trained again here, so that its training time is measured beside sbi's
    tr = Training(n_threads=args.threads)
    start = time.perf_counter()
    single = fi.InverseMap.cnn(seed=0, output_activation=None).fit(
        pool.d, pool.theta, loss="gaussian_nll", epochs=tr.epochs, batch_size=tr.batch_size, lr=tr.lr,
        optimizer=tr.optimizer, weight_decay=tr.weight_decay, schedule=tr.schedule, validation=tr.validation,
        early_stopping=tr.patience, seed=0, input_scaling=tr.input_scaling, n_threads=args.threads,
        progress=False, scaling="standard")
    single_s = time.perf_counter() - start
    same = np.array_equal(single.predict(test.d[:50]), fi.InverseMap.load(args.heads / "member-0.safetensors").predict(test.d[:50]))
    if not same:
        raise SystemExit("member 0 trained here differs from the one in the heads folder")
    ensemble = fi.Ensemble.load(args.heads / "ensemble")
    ours("fhn_inverse CNN, Gaussian head", single, single_s)
    single.calibrate(cal.d, cal.theta, method="quantile", n_threads=args.threads)
    ours("the same, quantile-calibrated", single, single_s)
    ours("fhn_inverse, ensemble of 5 Gaussian heads (mixture)", ensemble, None)
    ensemble.calibrate(cal.d, cal.theta, n_threads=args.threads)
    ours("the same, quantile-calibrated", ensemble, None)

    posterior, seconds, epochs = train_sbi(pool, args.seed)
    draws = sbi_draws(posterior, test.d, args.samples, args.seed)
    mean = draws.mean(axis=1)
    results[f"sbi {__import__('sbi').__version__} NPE (MAF + CNN embedding)"] = {
        **scores(test.theta, mean, coverage=dg.coverage(test.theta, samples=draws, levels=LEVELS),
                 sbc=dg.sbc(test.theta, draws), seconds=seconds), "epochs": epochs}

    lines = ["| estimator | coverage θ0 / θ1 / joint (%) at 50 % | 80 % | 90 % | 95 % | largest miss (points) | "
             "SBC (95 % band; largest deviation θ0, θ1) | R² θ0, θ1 | Median-APE component / sample | training s |",
             "|---|---|---|---|---|---:|---|---|---|---:|"]
    lines += [row(k, v) for k, v in results.items()]
    meta = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "threads": args.threads,
            "load_average_start": load_start, "load_average_end": os.getloadavg()[0],
            "train": len(pool), "test": len(test), "calibration": len(cal), "seed": args.seed}
    lines += ["", f"{len(test):,} noisy test series, {len(pool):,} noisy training series (seed {args.seed}); "
              f"calibration on {len(cal):,} further series; {args.threads} threads; load average "
              f"{meta['load_average_start']:.2f} at the start, {meta['load_average_end']:.2f} at the end."]
    text = "\n".join(lines)
    print(text)
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
