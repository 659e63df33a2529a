"""Spike statistics of observed series: spike count, rate and mean duration per series.

The counting runs in the native core on all cores.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import _core
from .._util.validation import as_float, as_float_array, as_int, as_threads
from .simulation import DEFAULT_GRID

__all__ = ["SpikeStatistics", "spike_statistics"]


class SpikeStatistics(NamedTuple):
    """What :func:`spike_statistics` returns: ``count``, ``rate`` and ``duration`` per series.

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> stats = fi.spike_statistics(fi.simulate([0.4, 0.4]))
    >>> stats._fields
    ('count', 'rate', 'duration')
    >>> count, rate, duration = stats
    >>> int(count), round(float(rate), 1)  # 22 spikes in 199.8 ms
    (22, 110.1)
    """

    count: np.ndarray     #: (N,) spikes per series
    rate: np.ndarray      #: (N,) spikes per second (time in ms)
    duration: np.ndarray  #: (N,) mean time above the threshold per spike


def spike_statistics(u, t=None, *, threshold: float = 0.5, min_points: int = 3,
                     time_units_per_second: float = 1000.0, n_threads: int = 0) -> SpikeStatistics:
    """Spike count, rate and mean duration of each series in ``u``.

    A spike is an upward crossing of ``threshold`` between two grid points after which u stays
    at or above it for ``min_points`` grid points; a single excursion that never returns is the
    excited steady state, not a spike (duration: the window). Duration: mean time above the
    threshold per spike, crossings interpolated linearly, cut at the window's end.

    Parameters
    ----------
    u : array_like, shape (N, L) or (L,)
        The series.
    t : array_like, shape (L,), optional
        Their grid; default :data:`~fhn_inverse.models.simulation.DEFAULT_GRID`.
    threshold : float, default 0.5
        The level a spike crosses upward.
    min_points : int, default 3
        Grid points u must stay at or above ``threshold`` after a crossing for a spike; at least 1.
    time_units_per_second : float, default 1000.0
        Time units in a second, for the rate (default: time in ms).
    n_threads : int, default 0
        Threads to use (0: all cores).

    Returns
    -------
    SpikeStatistics
        ``count``, ``rate`` and ``duration``, each (N,), or scalars for a series of shape (L,).

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> stats = fi.spike_statistics(fi.simulate([[0.4, 0.4], [-0.2, 1.2]]))
    >>> stats.count.tolist()  # a spiking and a resting series
    [22, 0]
    """
    u = as_float_array(u, "u", (1, 2))
    grid = DEFAULT_GRID if t is None else as_float_array(t, "t", 1)
    u2 = u.reshape(1, -1) if u.ndim == 1 else u
    count, rate, duration = _core.spike_statistics(
        u2, grid, as_float(threshold, "threshold"), as_int(min_points, "min_points", 1),
        as_float(time_units_per_second, "time_units_per_second"), as_threads(n_threads))
    if u.ndim == 1:
        return SpikeStatistics(count[0], rate[0], duration[0])
    return SpikeStatistics(count, rate, duration)
