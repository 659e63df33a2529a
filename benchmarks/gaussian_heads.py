"""Train an ensemble of Gaussian-NLL CNNs on the study's 8,000 noisy training series.

The members are the study's CNN with a Gaussian negative log-likelihood head, each trained
exactly as ``fhn-inverse reproduce covariance`` trains its Gaussian-NLL map (protocol A: Adam,
lr 2e-3, batch 32, 200 epochs, 10 % held out, restore-best with patience 40, standardised
targets) on the 8,000 noisy series of the data seed, with training seeds 0, 1, …, K − 1; member
0 is the experiment's map itself. Writes ``OUT/member-<i>.safetensors`` as each finishes (a
member already on disk is kept, so an interrupted run resumes) and the ensemble ``OUT/ensemble``.
Then ``benchmarks/uncertainty_study.py`` scores them.

    python benchmarks/gaussian_heads.py OUT [--members 5] [--seed 0] [--threads 0]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import fhn_inverse as fi
from fhn_inverse.experiments import Training


def main(argv=None) -> fi.Ensemble:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="output folder")
    parser.add_argument("--members", type=int, default=5, help="ensemble size (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="data seed (default 0, the experiments')")
    parser.add_argument("--threads", type=int, default=0, help="threads (default 0: all cores)")
    args = parser.parse_args(argv)
    tr = Training(n_threads=args.threads)
    pool, _ = fi.study_data(args.seed, noise=fi.AR1Noise(), n_threads=args.threads, progress=False)
    members = []
    for i in range(args.members):
        path = args.out / f"member-{i}.safetensors"
        if path.exists():
            members.append(fi.InverseMap.load(path))
            continue
        start = time.perf_counter()
        m = fi.InverseMap.cnn(seed=i, output_activation=None).fit(
            pool.d, pool.theta, loss="gaussian_nll", epochs=tr.epochs, batch_size=tr.batch_size, lr=tr.lr,
            optimizer=tr.optimizer, weight_decay=tr.weight_decay, schedule=tr.schedule, validation=tr.validation,
            early_stopping=tr.patience, seed=i, input_scaling=tr.input_scaling, n_threads=args.threads,
            progress=False, scaling="standard")
        args.out.mkdir(parents=True, exist_ok=True)
        m.save(path)
        members.append(m)
        print(f"member {i}: {time.perf_counter() - start:.0f} s, load average {os.getloadavg()[0]:.2f}", flush=True)
    ensemble = fi.Ensemble(members)
    ensemble.save(args.out / "ensemble")
    return ensemble


if __name__ == "__main__":
    main()
