"""The study's CNN with a Gaussian head against sbi's neural posterior estimation (NPE).

Both learn p(θ | series) from the same 8,000 noisy training series of the data seed
(``fi.study_data``) and are scored on the same 2,000 noisy test series: coverage per parameter
and joint at 50/80/90/95 % (from 1,000 posterior draws per series for sbi; from the Gaussian, or
its calibrated law, for the CNN), SBC (1,000 draws; does an ECDF leave its 95 % band, and its
largest deviation), R² and Median-APE (both readings) of the posterior mean, and training time.

- ``fhn_inverse`` rows: the study's CNN with a Gaussian-NLL head, trained exactly as
  ``fhn-inverse reproduce covariance`` trains its Gaussian-NLL map (protocol A: Adam, lr 2e-3,
  batch 32, 200 epochs, 10 % held out, restore-best with patience 40, standardised targets),
  with training seeds 0–4: seed 0 alone (the experiment's map), and the ensemble of the five
  (their mixture); each as trained and after ``calibrate(..., method="quantile")`` on 10,000
  further series (stream indices 10,000–19,999). The calibrated ones are also scored on a
  second test set of 2,000 series (stream indices 20,000–21,999) to show how much coverage
  moves with the test draw alone.
- ``sbi`` rows: NPE with a masked autoregressive flow (sbi's default density estimator, 5
  transforms) conditioned on an embedding network that is the study's CNN without its output
  layer, in PyTorch (Conv1d 8/16/32, kernel 3, stride 2, average pooling between, SiLU, dense
  32, 32), trained by sbi's default loop (Adam 5e-4, batch 200, 10 % held out, stop after 20
  epochs without improvement). The prior handed to sbi is uniform on the truncated prior's box;
  single-round NPE uses it only to reject draws outside it.

Nothing here is a test. Needs the ``sbi`` extra (``pip install fhn_inverse[sbi]``). ``--save
DIR`` writes the five maps and the calibrated ensemble (``fhn-inverse diagnose DIR/ensemble
DATA`` reads it).

    python benchmarks/sbi_comparison.py [--seed 0] [--threads 2] [--json results.json] [--save DIR]
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
from fhn_inverse.uncertainty import diagnostics as dg
from fhn_inverse.study.experiments import Training

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
    box = BoxUniform(torch.as_tensor(prior.lower, dtype=torch.float32),
                     torch.as_tensor(prior.upper, dtype=torch.float32))
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
        "median_ape_sample": float(fi.metrics.median_ape(theta, mean, reading="sample")),
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
    parser.add_argument("--seed", type=int, default=0, help="data seed (default 0, the experiments')")
    parser.add_argument("--threads", type=int, default=2, help="PyTorch and fhn_inverse threads (default 2)")
    parser.add_argument("--samples", type=int, default=1000, help="posterior draws per test series")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    parser.add_argument("--save", type=Path, default=None, help="write the maps and the calibrated ensemble here")
    parser.add_argument("--figures", type=Path, default=None,
                        help="write coverage and SBC figures (PNG) of the rows on the study's test set here")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    load_start = os.getloadavg()[0]
    pool, test = fi.study_data(args.seed, noise=fi.AR1Noise(), progress=False)
    cal = fi.Dataset.generate(10_000, args.seed, noise=fi.AR1Noise(), start=10_000, progress=False)
    results = {}

    def figures(slug, title, cv, sbc):
        if args.figures is None:
            return
        from fhn_inverse._util.io import atomic_savefig

        args.figures.mkdir(parents=True, exist_ok=True)
        atomic_savefig(dg.coverage_figure(cv, ("θ0", "θ1"), title), args.figures / f"{slug}_coverage.png", dpi=90)
        atomic_savefig(dg.sbc_figure(sbc, ("θ0", "θ1"), title), args.figures / f"{slug}_sbc.png", dpi=90)

    second = fi.Dataset.generate(2000, args.seed, noise=fi.AR1Noise(), start=20_000, progress=False)

    def ours(label, model, seconds, data=test, slug=None):
        mean, cov = model.predict(data.d, return_cov=True, n_threads=args.threads)
        draws = model.sample(data.d, args.samples, seed=0, n_threads=args.threads)
        cal_ = getattr(model, "calibration", None)

        def cover(levels):
            if isinstance(model, fi.Ensemble) and cal_ is None:
                return dg.coverage(data.theta, samples=draws, levels=levels)
            return dg.coverage(data.theta, mean, cov, levels=levels, calibration=cal_)

        sbc = dg.sbc(data.theta, draws)
        results[label] = scores(data.theta, mean, coverage=cover(LEVELS), sbc=sbc, seconds=seconds)
        if slug:
            figures(slug, label, cover(dg.LEVELS), sbc)

    tr = Training(n_threads=args.threads)
    members, seconds = [], []
    for seed in range(5):
        start = time.perf_counter()
        members.append(fi.InverseMap.cnn(seed=seed, output_activation=None).fit(
            pool.d, pool.theta, tr, loss="gaussian_nll", seed=seed, progress=False, scaling="standard"))
        seconds.append(time.perf_counter() - start)
    single, ensemble = members[0], fi.Ensemble(members)
    ours("CNN, Gaussian head", single, seconds[0], slug="cnn")
    ours("ensemble of 5 Gaussian heads (mixture)", ensemble, sum(seconds), slug="ensemble")
    single.calibrate(cal.d, cal.theta, method="quantile", n_threads=args.threads)
    ensemble.calibrate(cal.d, cal.theta, n_threads=args.threads)
    ours("CNN, Gaussian head, quantile-calibrated", single, seconds[0], slug="cnn_calibrated")
    ours("ensemble of 5, quantile-calibrated", ensemble, sum(seconds), slug="ensemble_calibrated")
    ours("CNN, quantile-calibrated, second test set", single, seconds[0], second)
    ours("ensemble of 5, quantile-calibrated, second test set", ensemble, sum(seconds), second)
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        for i, m in enumerate(members):
            m.calibration = None
            m.save(args.save / f"cnn_gaussian-nll_seed{i}.safetensors")
        ensemble.save(args.save / "ensemble")

    posterior, seconds, epochs = train_sbi(pool, args.seed)
    draws = sbi_draws(posterior, test.d, args.samples, args.seed)
    mean = draws.mean(axis=1)
    label = f"sbi {__import__('sbi').__version__} NPE (MAF + CNN embedding)"
    sbc = dg.sbc(test.theta, draws)
    results[label] = {**scores(test.theta, mean, coverage=dg.coverage(test.theta, samples=draws, levels=LEVELS),
                               sbc=sbc, seconds=seconds), "epochs": epochs}
    figures("sbi_npe", label, dg.coverage(test.theta, samples=draws, levels=dg.LEVELS), sbc)

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
