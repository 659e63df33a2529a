"""Train one of the speed study's 8-layer maps for a while, for a profiler to look at.

    perf record -F 2000 -o perf.data python benchmarks/profile_wide.py --width 512 --samples 40960
    perf report -i perf.data --no-children --sort dso,symbol

Batch 256, MSE, Adam, both cores, a pool of 1,000 random series cycled as epochs (as
`fhn-inverse reproduce speed`); prints samples/s and training GFLOP/s.
"""

import argparse
import time

import numpy as np

from fhn_inverse import _core, speed


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--samples", type=int, default=40_960)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1000, speed.INPUT_LENGTH), dtype=np.float32)
    y = rng.random((1000, 2), dtype=np.float32)
    m = speed.study_map(args.width).build((speed.INPUT_LENGTH,), 2)
    opt = _core.Adam(m.network.n_params)
    epochs = max(1, args.samples // len(x))
    t = time.perf_counter()
    _core.fit(m.network, opt, x, y, epochs=epochs, batch_size=256, lr=1e-3, n_threads=args.threads)
    rate = epochs * len(x) / (time.perf_counter() - t)
    print(f"width {args.width}: {rate:,.0f} samples/s, {6 * speed.train_macs(args.width) * rate / 1e9:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
