"""Per-sample status of the simulator: a stiff but bounded solution runs out of its step budget
(status 2, "step_budget"); only a solution that leaves the bounded region is "diverged" (1)."""

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse.models.simulation import STATUS


def test_stiff_bounded_solution_is_step_budget_not_divergence():
    # θ1 = 10^6: v decays at a rate of 3·10^5 (bounded), explicit steps must stay below 1e-5
    theta = np.array([[0.4, 1e6], [0.0, -60.0], [0.4, 0.4]])  # stiff, growing like e^{20 t}, ok
    u, status = fi.simulate(theta, t=np.arange(100) * 0.2, max_steps=20_000, return_status=True)
    assert [STATUS[int(s)] for s in status] == ["step_budget", "diverged", "ok"]
    assert np.isnan(u[:2]).all() and np.isfinite(u[2]).all()
    with pytest.raises(fi.SimulationError, match=r"0 \(step_budget\), 1 \(diverged\)"):
        fi.simulate(theta, t=np.arange(100) * 0.2, max_steps=20_000)


def test_stiff_solution_with_enough_steps_is_bounded():
    u = fi.simulate([0.4, 1e6], t=[0.0, 0.2, 0.4], rtol=1e-6, atol=1e-6)
    assert np.all(np.abs(u) < 10)
