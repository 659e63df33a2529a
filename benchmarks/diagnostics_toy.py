"""The diagnostics on a model whose posterior is known exactly (the reference of
tests/python/test_diagnostics.py): θ ~ N(0, I₂), y = Aθ + ε, ε ~ N(0, 0.5² I₆), so
θ | y ~ N(Σ Aᵀ y / 0.25, Σ), Σ = (AᵀA / 0.25 + I)⁻¹, on 2,000 test draws. Prints the coverage at
50/80/90/95 % and the SBC deviations of the exact posterior, of an over-confident one (covariance
/ 4) and of an under-confident one (× 4), and the covariance scale fitted on a separate
calibration split of 2,000 draws with its effect on the test coverage, and the same for the
quantile calibration (``QuantileCalibration``) fitted on that split. Numbers for
docs/uncertainty.md; runs in about a second.

    python benchmarks/diagnostics_toy.py
"""

from __future__ import annotations

import numpy as np

from fhn_inverse.uncertainty import diagnostics as dg
from fhn_inverse.uncertainty.calibration import QuantileCalibration


def linear_gaussian(n, seed):  # θ ~ N(0, I₂), y = Aθ + ε, ε ~ N(0, 0.5² I₆): exact posterior
    a = np.random.default_rng(123).normal(size=(6, 2))
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=(n, 2))
    y = theta @ a.T + 0.5 * rng.normal(size=(n, 6))
    post = np.linalg.inv(a.T @ a / 0.25 + np.eye(2))
    return theta, y @ a @ post.T / 0.25, np.broadcast_to(post, (n, 2, 2)).copy()


def cells(c: dg.Coverage) -> str:
    """'level: θ0 θ1 joint' in per cent for each level."""
    return "  ".join(f"{100 * a:g}%: {100 * c.per_parameter[k, 0]:.1f} {100 * c.per_parameter[k, 1]:.1f} "
                     f"{100 * c.joint[k]:.1f}" for k, a in enumerate(c.levels))


theta, mean, cov = linear_gaussian(2000, seed=1)
print("posterior  level: θ0 θ1 joint (%) | SBC max|ΔECDF| θ0 θ1, outside band")
for name, f in (("exact", 1.0), ("cov / 4", 0.25), ("cov × 4", 4.0)):
    c = dg.coverage(theta, mean, f * cov, levels=dg.REPORT_LEVELS)
    s = dg.sbc(theta, dg.sample_gaussian(mean, f * cov, 200, seed=3))
    print(f"{name:8s} {cells(c)} | {s.max_deviation[0]:.3f} {s.max_deviation[1]:.3f} {s.outside.tolist()}")
print("binomial se (points):", np.round(100 * c.se, 2).tolist(),
      " SBC band half-width up to", round(float(s.upper.max()), 3))
th_cal, m_cal, c_cal = linear_gaussian(2000, seed=9)
for method in ("nll", "coverage"):
    k = dg.fit_cov_scale(m_cal, c_cal / 4, th_cal, method=method)
    c = dg.coverage(theta, mean, k * cov / 4, levels=dg.REPORT_LEVELS)
    print(f"fit_cov_scale(method={method!r}) on cov / 4: {k:.3f}; test coverage after scaling: {cells(c)}")
cal = QuantileCalibration.fit(th_cal, m_cal, c_cal / 4)
c = dg.coverage(theta, mean, cov / 4, levels=dg.REPORT_LEVELS, calibration=cal)
s = dg.sbc(theta, cal.sample(mean, cov / 4, 200, seed=3))
print(f"QuantileCalibration on cov / 4: test coverage {cells(c)} | {s.max_deviation[0]:.3f} "
      f"{s.max_deviation[1]:.3f} {s.outside.tolist()}")
