"""Train one map for a while, for a profiler to look at: the study's CNN, or one of the speed
study's 8-layer dense maps; or evaluate one (--infer).

    perf record -F 2000 -o perf.data python benchmarks/profile_step.py dense --width 512 --samples 40960
    perf record -F 4000 -o perf.data python benchmarks/profile_step.py cnn --batch 32 --samples 40960
    perf record -F 2000 -o perf.data python benchmarks/profile_step.py dense --width 512 --infer --samples 245760
    perf report -i perf.data --no-children --sort dso,symbol

A pool of 1,000 random series cycled as epochs, MSE, Adam, both cores by default; prints
samples/s (and, for the dense maps, training GFLOP/s).
"""

import argparse
import time

import numpy as np

import fhn_inverse as fi
from fhn_inverse import InverseMap, _core
from fhn_inverse.study import speed


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("map", choices=("dense", "cnn"))
    ap.add_argument("--width", type=int, default=512, help="dense: units per layer (default: 512)")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--samples", type=int, default=40_960)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--infer", action="store_true",
                    help="evaluate instead of training: predict --samples series in calls of 4,096")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    L = speed.INPUT_LENGTH
    if args.map == "cnn":
        x = rng.standard_normal((1000, 1, L), dtype=np.float32)
        m = InverseMap.cnn().build((1, L), 2)
    else:
        x = rng.standard_normal((1000, L), dtype=np.float32)
        m = speed.study_map(args.width).build((L,), 2)
    if args.infer:
        xi = np.concatenate([x] * 5)[:4096]
        calls = max(1, args.samples // len(xi))
        t = time.perf_counter()
        for _ in range(calls):
            m.network.predict(xi, args.threads)
        rate = calls * len(xi) / (time.perf_counter() - t)
        extra = f", {2 * speed.train_macs(args.width) * rate / 1e9:.1f} GFLOP/s" if args.map == "dense" else ""
        print(f"{args.map} inference: {rate:,.0f} samples/s{extra}")
        return
    y = rng.random((1000, 2), dtype=np.float32)
    opt = _core.Adam(m.network.n_params)
    epochs = max(1, args.samples // len(x))
    t = time.perf_counter()
    _core.fit(m.network, opt, x, y, config=fi.TrainingConfig(epochs=epochs, batch_size=args.batch, lr=1e-3,
                                                              n_threads=args.threads).to_core(0))
    rate = epochs * len(x) / (time.perf_counter() - t)
    extra = f", {6 * speed.train_macs(args.width) * rate / 1e9:.1f} GFLOP/s" if args.map == "dense" else ""
    print(f"{args.map}: {rate:,.0f} samples/s{extra}")


if __name__ == "__main__":
    main()
