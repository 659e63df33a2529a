"""How γ, ζ and the initial state were established: spike-count agreement with the reference.

Simulates the authors' 5,000 reference parameter vectors (../shared/reference) under candidate
constants and compares our spike counts with the counts implied by the reference spike rates
(rate × 199.8 / 1000; NaN means no spike). Prints a Markdown table; nothing here is a test
(tests/python/test_simulation.py asserts the chosen defaults).

    python benchmarks/calibrate_constants.py [--reference ../shared/reference]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import fhn_inverse as fi

CANDIDATES = [
    # (label, gamma, zeta, initial state, burn-in time)
    ("defaults: γ = 3, ζ = −0.4, (u0, v0) = (0, 0)", 3.0, -0.4, (0.0, 0.0), 0.0),
    ("ζ = 0", 3.0, 0.0, (0.0, 0.0), 0.0),
    ("ζ = +0.4", 3.0, 0.4, (0.0, 0.0), 0.0),
    ("(u0, v0) = (−1, 1)", 3.0, -0.4, (-1.0, 1.0), 0.0),
    ("(u0, v0) = (−1, 0)", 3.0, -0.4, (-1.0, 0.0), 0.0),
    ("(u0, v0) = (0, 0.1)", 3.0, -0.4, (0.0, 0.1), 0.0),
    ("(u0, v0) = (0.1, 0)", 3.0, -0.4, (0.1, 0.0), 0.0),
    ("(u0, v0) = (−2, 0)", 3.0, -0.4, (-2.0, 0.0), 0.0),
    ("γ = 2", 2.0, -0.4, (0.0, 0.0), 0.0),
    ("γ = 4", 4.0, -0.4, (0.0, 0.0), 0.0),
    ("burn-in of 50 time units", 3.0, -0.4, (0.0, 0.0), 50.0),
]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[1].parent / "shared" / "reference"
    parser.add_argument("--reference", type=Path, default=default, help=f"reference folder (default {default})")
    args = parser.parse_args(argv)
    theta = np.load(args.reference / "fhn_T200_samplePrior_theta_first5000.npy").astype(np.float64)
    rate = np.load(args.reference / "fhn_T200_samplePrior_spikeRate_first5000.npy")
    grid = np.load(args.reference / "fhn_T200_samplePrior_time.npy").astype(np.float64)
    window = grid[-1] - grid[0]
    expected = np.where(np.isnan(rate), 0, np.rint(rate * window / 1000)).astype(int)
    print("| constants | counts equal | within ±1 |")
    print("|---|---:|---:|")
    for label, gamma, zeta, initial, burn_in in CANDIDATES:
        model = fi.FitzHughNagumo(gamma=gamma, zeta=zeta, initial=initial)
        u, status = fi.simulate(theta, model=model, t=grid + burn_in, return_status=True)
        count = fi.spike_statistics(u[status == 0], grid).count
        ref = expected[status == 0]
        print(f"| {label} | {np.mean(count == ref):.1%} | {np.mean(np.abs(count - ref) <= 1):.1%} |")


if __name__ == "__main__":
    main()
