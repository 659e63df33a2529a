"""Fingerprints of the engine's arithmetic: SHA-256 of the trained weights and predictions of the
study's CNN, the 4 × 32 and the 8 × 512 dense maps (with dropout) for fixed seeds, and of simulated
series, at one and two threads, batch 32 and 256 (the chunked and the whole-batch paths of wide
maps).

    python tests/python/engine_pins.py            # print this machine's fingerprints as JSON
    python tests/python/engine_pins.py --write    # record them in tests/data/engine_pins.json

``test_engine_pins.py`` compares the current build against the record for this machine's
signature (CPU vector extensions, BLAS backend): a change of the engine that alters a single bit of
a trained weight or a prediction fails there. The signature names the core loaded too (native or
portable build, its instruction-set level and kernel width): a portable install, one forced to a
lower level, or an eight-lane build has other arithmetic and is skipped unless recorded.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

import fhn_inverse as fi
from fhn_inverse import _core

RECORD = Path(__file__).resolve().parents[1] / "data" / "engine_pins.json"


def signature() -> str:
    flags = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    simd = "+".join(f for f in ("avx2", "fma", "avx512f") if f in flags) or "baseline"
    info = fi.build_info()  # the core loaded: its level and kernel width, not only the CPU's
    build = "native" if info["native"] else "portable"
    return f"{simd} | {_core.blas_backend()} | {build} core {info['level']}, {info['float_lanes']} float lanes"


def _sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a, dtype=np.float32).tobytes()).hexdigest()[:16]


def _data(n: int, length: int, seed: int):
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, length)
    x = (np.sin(2 * np.pi * rng.uniform(1, 5, (n, 1)) * t + rng.uniform(0, 6, (n, 1)))
         + 0.1 * rng.standard_normal((n, length)))
    y = rng.uniform(0, 1, (n, 2))
    return x.astype(np.float32), y


CASES = {
    "cnn": (lambda: fi.InverseMap.cnn(seed=3), 1000, 32, 320),
    "dense_4x32": (lambda: fi.InverseMap.dense(units=[32] * 4, seed=3), 1000, 32, 320),
    "dense_8x512_b32": (lambda: fi.InverseMap.dense(units=[512] * 8, dropout=0.2, seed=3), 1000, 32, 320),
    "dense_8x512_b256": (lambda: fi.InverseMap.dense(units=[512] * 8, dropout=0.2, seed=3), 1000, 256, 768),
}


def fingerprints() -> dict:
    out = {}
    theta = fi.default_prior().sample(64, seed=9)  # the simulator's output, at 1 and 2 threads
    for threads in (1, 2):
        u = fi.simulate(theta, n_threads=threads)
        out[f"simulate threads={threads}"] = {"series": hashlib.sha256(u.tobytes()).hexdigest()[:16]}
    for name, (make, length, batch, n) in CASES.items():
        x, y = _data(n, length, 1)
        x_eval, _ = _data(1500, length, 2)
        for threads in (1, 2):
            m = make().fit(x, y, epochs=2, batch_size=batch, lr=1e-3, progress=False, n_threads=threads, seed=5)
            out[f"{name} threads={threads}"] = {"weights": _sha(m.network.params),
                                                "predictions": _sha(m.predict(x_eval, n_threads=threads))}
    return out


if __name__ == "__main__":
    prints = fingerprints()
    if "--write" in sys.argv:
        record = json.loads(RECORD.read_text()) if RECORD.exists() else {}
        record[signature()] = prints
        RECORD.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    print(json.dumps({signature(): prints}, indent=1))
