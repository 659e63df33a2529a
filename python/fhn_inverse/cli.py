"""The ``fhn-inverse`` command line."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def _demo(args) -> int:
    import fhn_inverse as fi
    from fhn_inverse import plotting

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    noise = fi.AR1Noise()
    start = time.perf_counter()
    pool, test = fi.study_data(args.seed, noise=noise, train_size=args.train_size, test_size=args.test_size,
                               n_threads=args.threads, progress=not args.quiet)
    elapsed = time.perf_counter() - start
    pool.save(out / "train.npz")
    test.save(out / "test.npz")
    stats = fi.spike_statistics(pool.u, pool.t)
    summary = {
        "train_size": len(pool), "test_size": len(test), "seed": args.seed,
        "simulation_seconds": round(elapsed, 3),
        "theta_mean": pool.theta.mean(0).round(4).tolist(), "theta_std": pool.theta.std(0).round(4).tolist(),
        "noise_sigma_mean": round(float(pool.noise[:, 0].mean()), 4),
        "noise_rho_mean": round(float(pool.noise[:, 1].mean()), 4),
        "spike_count_mean": round(float(stats.count.mean()), 3),
        "spiking_fraction": round(float((stats.count > 0).mean()), 4),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    plotting.prior_samples(pool.theta, test.theta).savefig(out / "prior_samples.png", dpi=120)
    plotting.series(pool.t, pool.u[:4], pool.d[:4], title="Training series: model u and noisy data d").savefig(
        out / "series.png", dpi=120)
    print(f"simulated {len(pool) + len(test)} series in {elapsed:.2f} s "
          f"({(len(pool) + len(test)) / elapsed:,.0f} series/s)")
    for key, value in summary.items():
        print(f"  {key:20s} {value}")
    print(f"wrote {out}/train.npz, test.npz, summary.json, prior_samples.png, series.png")
    return 0


def _simulate(args) -> int:
    import fhn_inverse as fi

    noise = None if args.noise == "none" else fi.AR1Noise()
    data = fi.Dataset.generate(args.n, args.seed, noise=noise, start=args.start, n_threads=args.threads,
                               progress=not args.quiet)
    path = data.save(args.output)
    print(f"wrote {len(data)} series to {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fhn-inverse", description=__import__("fhn_inverse").__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__import__('fhn_inverse').__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="simulate the study's default data set and write plots")
    demo.add_argument("--out", default="runs/demo", help="output folder (default: runs/demo)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    demo.add_argument("--train-size", type=int, default=8000, help="training pool size (default: 8000)")
    demo.add_argument("--test-size", type=int, default=2000, help="test set size (default: 2000)")
    demo.add_argument("--threads", type=int, default=0, help="threads, 0 = all cores (default: 0)")
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(func=_demo)

    sim = sub.add_parser("simulate", help="simulate a data set and save it as .npz")
    sim.add_argument("output", help="output file (.npz)")
    sim.add_argument("-n", type=int, default=10000, help="number of samples (default: 10000)")
    sim.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    sim.add_argument("--start", type=int, default=0, help="first stream index (default: 0)")
    sim.add_argument("--noise", choices=("ar1", "none"), default="ar1", help="measurement noise (default: ar1)")
    sim.add_argument("--threads", type=int, default=0, help="threads, 0 = all cores (default: 0)")
    sim.add_argument("--quiet", action="store_true", help="no progress bars")
    sim.set_defaults(func=_simulate)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError) as err:
        parser.error(str(err))
    return 2


if __name__ == "__main__":
    sys.exit(main())
