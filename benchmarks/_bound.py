"""The speed a network's training could reach at this machine's achieved SGEMM rate: the bound
benchmarks print beside a measured rate.

- ``sgemm_gflops``: the achieved single-precision GEMM rate, C = A B with n = 2048 (2n³ FLOPs) on
  ``threads`` threads through NumPy's OpenBLAS, in a fresh process (the thread count is fixed at
  OpenBLAS's start), the best of ``repeats`` after a warm-up; OpenBLAS's kernel for one
  instruction-set level where asked (``LEVEL_CORETYPE``);
- ``training_flops``: the FLOPs of one training sample, 3 × the forward pass's 2 · multiply-adds
  of the convolutions and dense layers (forward, input gradient and weight gradient each one
  product of that size; activations, pooling and the optimizer are not counted). The study's CNN
  on 1,000 points: 824,880;
- bound = sgemm_gflops · 1e9 / training_flops samples/s.
"""

from __future__ import annotations

import os
import subprocess
import sys

_SGEMM = r"""
import sys, time
import numpy as np
n, repeats = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
a = rng.standard_normal((n, n), dtype=np.float32)
b = rng.standard_normal((n, n), dtype=np.float32)
a @ b
best = 0.0
for _ in range(repeats):
    t = time.perf_counter()
    a @ b
    best = max(best, 2 * n**3 / (time.perf_counter() - t) / 1e9)
print(best)
"""


# OpenBLAS's kernel for each instruction-set level's bound (OPENBLAS_CORETYPE): what an SGEMM at
# that level reaches on this machine, e.g. an AVX2 machine's bound measured on an AVX-512 one.
LEVEL_CORETYPE = {"avx2": "Haswell", "avx512": "SkylakeX"}


def sgemm_gflops(threads: int = 2, n: int = 2048, repeats: int = 5, coretype: str | None = None) -> float:
    """The achieved SGEMM rate; ``coretype`` forces OpenBLAS's kernel (``OPENBLAS_CORETYPE``: e.g.
    Haswell, AVX2 + FMA) instead of the one it picks for this CPU."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads)}
    env.pop("OPENBLAS_CORETYPE", None)
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    out = subprocess.run([sys.executable, "-c", _SGEMM, str(n), str(repeats)], capture_output=True, text=True,
                         check=True, env=env)
    return float(out.stdout.strip().splitlines()[-1])


def training_flops(layers: list, input_shape: tuple) -> int:
    """3 · 2 · multiply-adds of one sample's forward pass through ``layers`` (InverseMap.layers,
    normalised dicts) and the output layer, for ``input_shape`` (C, L) or (F,); the outputs
    (2) are added as the last dense layer."""
    shape = tuple(input_shape)
    macs = 0
    for layer in list(layers) + [{"kind": "dense", "units": 2}]:
        kind = layer["kind"] if isinstance(layer, dict) else layer
        if kind == "conv1d":
            c, length = shape
            k, s = layer["kernel"], layer.get("stride", 1)
            same = layer.get("padding", "valid") == "same"
            lout = (length + s - 1) // s if same else (length - k) // s + 1  # as Conv1D
            macs += layer["filters"] * c * k * lout
            shape = (layer["filters"], lout)
        elif kind in ("avgpool1d", "maxpool1d"):
            c, length = shape
            p = layer["pool"]
            shape = (c, (length - p) // layer.get("stride", p) + 1)
        elif kind == "flatten":
            shape = (shape[0] * shape[1],)
        elif kind == "dense":
            macs += shape[0] * layer["units"]
            shape = (layer["units"],)
    return 3 * 2 * macs
