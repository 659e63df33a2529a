"""Plots with matplotlib. Each function returns its Figure; saving is the caller's choice."""

from __future__ import annotations

import numpy as np


def _figure(figsize):
    from matplotlib.figure import Figure  # no pyplot: no global state, works without a display

    return Figure(figsize=figsize, layout="constrained")


def prior_samples(train_theta, test_theta, names=("θ0", "θ1")):
    """Training samples (black) against test samples (blue) in the parameter plane."""
    fig = _figure((4.8, 4.2))
    ax = fig.add_subplot()
    ax.scatter(train_theta[:, 0], train_theta[:, 1], s=3, c="black", label=f"train ({len(train_theta)})")
    ax.scatter(test_theta[:, 0], test_theta[:, 1], s=3, c="tab:blue", label=f"test ({len(test_theta)})")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.legend(loc="upper left", markerscale=3)
    ax.set_title("Prior samples")
    return fig


def series(t, u, d=None, title=None, max_series=4):
    """Clean series ``u`` as lines and, if given, observed series ``d`` as dots."""
    u = np.atleast_2d(u)[:max_series]
    fig = _figure((8, 1.6 * len(u) + 0.6))
    axes = fig.subplots(len(u), 1, sharex=True, squeeze=False)[:, 0]
    for i, ax in enumerate(axes):
        ax.plot(t, u[i], color="tab:blue", lw=1.2, label="u (model)")
        if d is not None:
            ax.plot(t, np.atleast_2d(d)[i], ".", color="tab:orange", ms=2, label="d (data)")
        ax.set_ylabel("u")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper right", ncols=2, frameon=False)
    axes[-1].set_xlabel("t")
    if title:
        fig.suptitle(title)
    return fig


def parameter_influence(t, series_by_value, parameter_name):
    """u(t) for several values of one parameter: ``series_by_value`` maps value -> series."""
    fig = _figure((8, 3))
    ax = fig.add_subplot()
    cmap = __import__("matplotlib").colormaps["viridis"]
    values = sorted(series_by_value)
    for j, value in enumerate(values):
        ax.plot(t, series_by_value[value], lw=1, color=cmap(j / max(1, len(values) - 1)),
                label=f"{parameter_name} = {value:g}")
    ax.set_xlabel("t")
    ax.set_ylabel("u")
    ax.legend(loc="upper right", fontsize="small", ncols=2)
    return fig
