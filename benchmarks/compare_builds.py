"""Training and evaluation throughput of this build against another build of the package, side by
side in one run (paired: the two builds alternate, so drifts of the machine's speed hit both).

The other build is an installed copy of the package in a folder, made for instance from an older
commit with

    git worktree add /tmp/oldsrc COMMIT
    pip install --no-build-isolation --no-deps --target /tmp/oldpkg /tmp/oldsrc

Each measurement runs in a fresh interpreter that imports one build: the study's CNN and the
8 × 512 dense map (dropout 0.2), or the maps that ``--maps`` names (``dense_4x32``: the study's
dense map), train on synthetic data with the default thread setting for ``--seconds``, and the
trained map evaluates 20,000 series. Prints samples/s per build and the
ratios this / other (median and range over ``--pairs`` pairs), with the load average.

    python benchmarks/compare_builds.py --baseline /tmp/oldpkg [--seconds 3] [--pairs 5] [--threads N]
        [--maps cnn dense_8x512 dense_4x32]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys

import numpy as np

WORKER = r"""
import json, sys, time
baseline = sys.argv[1]
if baseline:
    sys.meta_path[:] = [f for f in sys.meta_path if "Redirecting" not in type(f).__name__]
    sys.path.insert(0, baseline)
import numpy as np
import fhn_inverse as fi
model, seconds, threads = sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(0)
x = rng.standard_normal((2048, 1000)).astype(np.float32)
y = rng.uniform(size=(2048, 2))
make = {"cnn": lambda: fi.InverseMap.cnn(),
        "dense_8x512": lambda: fi.InverseMap.dense(units=[512] * 8, dropout=0.2),
        "dense_4x32": lambda: fi.InverseMap.dense(units=[32] * 4)}[model]
m = make().fit(x[:64], y[:64], epochs=1, progress=False, n_threads=threads)  # warm-up
done, start = 0, time.perf_counter()
while time.perf_counter() - start < seconds:
    m.fit(x, y, epochs=1, progress=False, n_threads=threads)
    done += len(x)
train = done / (time.perf_counter() - start)
xe = rng.standard_normal((20000, 1000)).astype(np.float32)
m.predict(xe[:256], n_threads=threads)
start = time.perf_counter()
m.predict(xe, n_threads=threads)
predict = len(xe) / (time.perf_counter() - start)
print(json.dumps({"build": fi.__file__, "train": train, "predict": predict}))
"""


MAPS = ("cnn", "dense_8x512", "dense_4x32")


def measure(baseline: str, model: str, seconds: float, threads: int = 0) -> dict:
    out = subprocess.run([sys.executable, "-c", WORKER, baseline, model, str(seconds), str(threads)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="folder holding the other build's fhn_inverse package")
    parser.add_argument("--seconds", type=float, default=3.0, help="timed training seconds per measurement")
    parser.add_argument("--pairs", type=int, default=5, help="pairs of measurements per map (default 5)")
    parser.add_argument("--threads", type=int, default=0,
                        help="threads for training and evaluation (default 0: the package's default)")
    parser.add_argument("--maps", nargs="+", choices=MAPS, default=list(MAPS[:2]),
                        help="maps to compare (default: cnn dense_8x512; dense_4x32 is the study's dense map)")
    parser.add_argument("--json", default=None, help="also write the numbers here")
    args = parser.parse_args(argv)
    if not os.path.isdir(os.path.join(args.baseline, "fhn_inverse")):
        parser.error(f"--baseline {args.baseline} holds no fhn_inverse package")
    load = [os.getloadavg()[0]]
    rows = {}
    for model in args.maps:
        pairs = []
        for k in range(args.pairs):
            order = ("this", "other") if k % 2 == 0 else ("other", "this")
            got = {who: measure(args.baseline if who == "other" else "", model, args.seconds, args.threads)
                   for who in order}
            pairs.append(got)
        ratio = {key: [p["this"][key] / p["other"][key] for p in pairs] for key in ("train", "predict")}
        rows[model] = {"pairs": pairs, "ratio": ratio}
        for key in ("train", "predict"):
            this = np.median([p["this"][key] for p in pairs])
            other = np.median([p["other"][key] for p in pairs])
            r = ratio[key]
            print(f"{model:12s} {key:8s} this {this:12,.0f}/s  other {other:12,.0f}/s  ratio median "
                  f"{np.median(r):.3f} [{min(r):.3f}–{max(r):.3f}]")
    load.append(os.getloadavg()[0])
    print(f"load average {load[0]:.2f} before, {load[1]:.2f} after; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores")
    out = {"rows": rows, "load_average": load, "seconds": args.seconds, "threads": args.threads,
           "baseline": args.baseline}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    return out


if __name__ == "__main__":
    main()
