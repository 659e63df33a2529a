"""Plots with matplotlib. Each function returns its Figure; saving is the caller's choice."""

from __future__ import annotations

import numpy as np

from .._util.figures import new_figure

__all__ = ["TIME_LABEL", "param_label", "regime_label", "prior_samples", "series", "parameter_influence",
           "predicted_vs_true", "loss_curves", "sensitivity", "resimulated_series", "speed_table",
           "covariance_ellipses", "sensitivities", "covariance_map"]


#: The time axis: the model's own units (the study's grid t_k = 0.2 k; the reference data's
#: spike rates read them as milliseconds).
TIME_LABEL = "t (model time units)"


def param_label(name: str) -> str:
    """A parameter's label in figures and tables: the model's name, with a Greek θ for
    ``theta<k>`` (the study's writing, θ0, θ1)."""
    return "θ" + name[len("theta"):] if name.startswith("theta") and name[len("theta"):].isdigit() else name


def regime_label(regime: str) -> str:
    """A regime "train/test" spelled out: "clean/noisy" -> "train clean, test noisy".

    Other labels are returned unchanged.

    Parameters
    ----------
    regime : str
        The regime's label.

    Returns
    -------
    str
        The label spelled out.
    """
    parts = regime.split("/")
    if len(parts) == 2 and all(p in ("clean", "noisy") for p in parts):
        return f"train {parts[0]}, test {parts[1]}"
    return regime


def _legend_outside(fig, ax, **kw):
    """The axes' legend beside it, outside the data (constrained layout makes room)."""
    fig.legend(*ax.get_legend_handles_labels(), loc="outside right upper", fontsize="small", frameon=False, **kw)


_figure = new_figure


def prior_samples(train_theta, test_theta, names=("θ0", "θ1")):
    """Training samples (black) against test samples (blue) in the parameter plane.

    Parameters
    ----------
    train_theta : ndarray, shape (N, 2)
        The training samples.
    test_theta : ndarray, shape (M, 2)
        The test samples.
    names : (str, str), default ("θ0", "θ1")
        The parameters' names, for the axes.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    fig = _figure((4.8, 4.2))
    ax = fig.add_subplot()
    ax.scatter(train_theta[:, 0], train_theta[:, 1], s=3, c="black", label=f"train ({len(train_theta)})")
    ax.scatter(test_theta[:, 0], test_theta[:, 1], s=3, c="tab:blue", label=f"test ({len(test_theta)})")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2, markerscale=3, frameon=False)
    fig.suptitle("Prior samples")
    return fig


def series(t, u, d=None, title=None, max_series=4):
    """Clean series ``u`` as lines and, if given, observed series ``d`` as dots.

    Parameters
    ----------
    t : array_like, shape (L,)
        The grid.
    u : array_like, shape (N, L) or (L,)
        The clean series.
    d : array_like, shape (N, L) or (L,), optional
        The observed series.
    title : str, optional
        The figure's title.
    max_series : int, default 4
        The first ``max_series`` series are plotted, one panel each.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    u = np.atleast_2d(u)[:max_series]
    fig = _figure((8, 1.6 * len(u) + 0.6))
    axes = fig.subplots(len(u), 1, sharex=True, squeeze=False)[:, 0]
    for i, ax in enumerate(axes):
        ax.plot(t, u[i], color="tab:blue", lw=1.2, label="u (model)")
        if d is not None:
            ax.plot(t, np.atleast_2d(d)[i], ".", color="tab:orange", ms=2, label="d (data)")
        ax.set_ylabel("u")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper right", ncols=2, frameon=False)
    axes[-1].set_xlabel(TIME_LABEL)
    if title:
        fig.suptitle(title)
    return fig


def parameter_influence(t, series_by_value, parameter_name):
    """u(t) for several values of one parameter.

    Parameters
    ----------
    t : array_like, shape (L,)
        The grid.
    series_by_value : dict
        Maps value -> series.
    parameter_name : str
        The parameter's name, for the legend.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    fig = _figure((8, 3))
    ax = fig.add_subplot()
    cmap = __import__("matplotlib").colormaps["viridis"]
    values = sorted(series_by_value)
    for j, value in enumerate(values):
        ax.plot(t, series_by_value[value], lw=1, color=cmap(j / max(1, len(values) - 1)),
                label=f"{parameter_name} = {value:g}")
    ax.set_xlabel(TIME_LABEL)
    ax.set_ylabel("u")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside right upper", fontsize="small", frameon=False)
    return fig


def predicted_vs_true(y_true, y_pred, names, title=None):
    """Predicted against true value, one panel per parameter, with the identity line.

    Parameters
    ----------
    y_true : array_like, shape (N, P)
        The true values.
    y_pred : array_like, shape (N, P)
        The predicted values.
    names : sequence of str
        The parameters' names, for the axes.
    title : str, optional
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    y_true, y_pred = np.atleast_2d(y_true), np.atleast_2d(y_pred)
    n = y_true.shape[1]
    fig = _figure((3.2 * n, 3.2))
    axes = fig.subplots(1, n, squeeze=False)[0]
    for j, ax in enumerate(axes):
        lo, hi = min(y_true[:, j].min(), y_pred[:, j].min()), max(y_true[:, j].max(), y_pred[:, j].max())
        ax.plot([lo, hi], [lo, hi], color="0.5", lw=1)
        ax.scatter(y_true[:, j], y_pred[:, j], s=3, alpha=0.5, color="tab:blue")
        ax.set_xlabel(f"true {names[j]}")
        ax.set_ylabel(f"predicted {names[j]}")
        ax.set_aspect("equal", adjustable="datalim")
    if title:
        fig.suptitle(title)
    return fig


def loss_curves(histories, title=None):
    """Training (solid) and validation (dashed) loss per epoch.

    Parameters
    ----------
    histories : dict
        Maps label -> history: a dict with the per-epoch ``"loss"`` and, optionally,
        ``"val_loss"``.
    title : str, optional
        The title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    fig = _figure((8, 3.6))
    ax = fig.add_subplot()
    for j, (label, h) in enumerate(histories.items()):
        color = f"C{j % 10}"
        ax.semilogy(np.arange(1, len(h["loss"]) + 1), h["loss"], color=color, label=label)
        val = np.asarray(h.get("val_loss", []), dtype=float)
        if val.size and np.isfinite(val).any():
            ax.semilogy(np.arange(1, val.size + 1), val, "--", color=color, label=f"{label}: validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (scaled labels)")
    _legend_outside(fig, ax)
    if title:
        ax.set_title(title)
    return fig


def sensitivity(sizes, values_by_regime, ylabel, title=None, logy=False):
    """A metric against the training-set size, one line per regime.

    Parameters
    ----------
    sizes : sequence of int
        The training-set sizes.
    values_by_regime : dict
        Maps regime label (spelled out by :func:`regime_label`) -> the metric, one value per size.
    ylabel : str
        The metric's label.
    title : str, optional
        The title.
    logy : bool, default False
        Log-scaled metric axis.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    fig = _figure((6.8, 3.6))
    ax = fig.add_subplot()
    for label, values in values_by_regime.items():
        ax.plot(sizes, values, "o-", label=regime_label(label))
    ax.set_xscale("log")
    ax.set_xticks(list(sizes), [f"{n:,}" for n in sizes])
    ax.xaxis.set_minor_locator(__import__("matplotlib").ticker.NullLocator())
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("training samples N")
    ax.set_ylabel(ylabel)
    _legend_outside(fig, ax)
    if title:
        ax.set_title(title)
    return fig


def resimulated_series(t, d, u_hat, labels, title=None):
    """Re-simulated series (model output, blue line) against test data (orange dots).

    Parameters
    ----------
    t : array_like, shape (L,)
        The grid.
    d : array_like, shape (N, L) or (L,)
        The test data.
    u_hat : array_like, shape (N, L) or (L,)
        The re-simulated series.
    labels : sequence of str
        One title per series' panel.
    title : str, optional
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    d, u_hat = np.atleast_2d(d), np.atleast_2d(u_hat)
    fig = _figure((8, 1.6 * len(d) + 0.6))
    axes = fig.subplots(len(d), 1, sharex=True, squeeze=False)[:, 0]
    for i, ax in enumerate(axes):
        ax.plot(t, d[i], ".", color="tab:orange", ms=2, label="data")
        ax.plot(t, u_hat[i], color="tab:blue", lw=1.2, label="model output")
        ax.set_ylabel("u")
        ax.set_title(labels[i], fontsize="small", loc="left")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper right", ncols=2, frameon=False)
    axes[-1].set_xlabel(TIME_LABEL)
    if title:
        fig.suptitle(title)
    return fig


def speed_table(rows):
    """Training time for 1,000,000 samples per width (log scale).

    Ours beside the study's CPU reference (total) and the Cerebras CS-2 (training only).

    Parameters
    ----------
    rows : list of dict
        As in speed.speed(): one per width, with ``"width"``, ``"train_s_1M"`` and, where known,
        ``"study_cpu_total_s"`` and ``"study_cs2_train_s"``.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    fig = _figure((7.4, 3.6))
    ax = fig.add_subplot()
    widths = [r["width"] for r in rows]
    pos = np.arange(len(rows))
    bars = [("this machine", [r["train_s_1M"] for r in rows]),
            ("study CPU (total)", [r.get("study_cpu_total_s", np.nan) for r in rows]),
            ("Cerebras CS-2 (train only)", [r.get("study_cs2_train_s", np.nan) for r in rows])]
    for k, (label, values) in enumerate(bars):
        ax.bar(pos + (k - 1) * 0.27, values, width=0.27, label=label)
    ax.set_yscale("log")
    ax.set_xticks(pos, [str(w) for w in widths])
    ax.set_xlabel("units per layer (8 layers, dropout 0.2)")
    ax.set_ylabel("seconds for 1,000,000 samples")
    _legend_outside(fig, ax)
    return fig


def covariance_ellipses(theta, C, theta_hat, C_hat, title=None, level=0.95):
    """Target local Gaussians N(θ̄, C) (black) against predicted N(θ̂, Ĉ) (orange) for a few series.

    ``level`` ellipses, one panel per series (each on its own scale).

    Parameters
    ----------
    theta : ndarray, shape (K, 2)
        The target means θ̄.
    C : ndarray, shape (K, 2, 2)
        The target covariances.
    theta_hat : ndarray, shape (K, 2)
        The predicted means θ̂.
    C_hat : ndarray, shape (K, 2, 2)
        The predicted covariances Ĉ.
    title : str, optional
        The figure's title.
    level : float, default 0.95
        The ellipses' level.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    k = len(theta)
    cols = min(k, 3)
    rows = -(-k // cols)
    fig = _figure((3.2 * cols, 3.0 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel())
    radius = np.sqrt(-2 * np.log(1 - level))  # χ²₂ quantile, square-rooted
    angle = np.linspace(0, 2 * np.pi, 200)
    circle = np.stack([np.cos(angle), np.sin(angle)])
    for i, ax in enumerate(axes):
        if i >= k:
            ax.set_visible(False)
            continue
        for mu, S, color, label in ((theta[i], C[i], "black", "target"), (theta_hat[i], C_hat[i], "tab:orange",
                                                                           "predicted")):
            pts = mu[:, None] + radius * np.linalg.cholesky(S) @ circle
            ax.plot(pts[0], pts[1], color=color, lw=1.3, label=label)
            ax.plot(*mu, "+", color=color)
        ax.set_xlabel("θ0")
        ax.set_ylabel("θ1")
        ax.ticklabel_format(useOffset=False)
        ax.locator_params(nbins=4)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper right", ncols=2, frameon=False)
    if title:
        fig.suptitle(f"{title} ({level:.0%} ellipses)")
    return fig


def sensitivities(t, u, J, names=("θ0", "θ1"), title=None):
    """A series u(t) and its forward sensitivities ∂u/∂θ_i (one panel each).

    Parameters
    ----------
    t : array_like, shape (L,)
        The grid.
    u : array_like, shape (L,)
        The series.
    J : ndarray, shape (L, P)
        The sensitivities, ``J[:, i]`` = ∂u/∂θ_i.
    names : sequence of str, default ("θ0", "θ1")
        The parameters' names, for the axes.
    title : str, optional
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    fig = _figure((8, 1.7 * (1 + J.shape[1]) + 0.4))
    axes = fig.subplots(1 + J.shape[1], 1, sharex=True)
    axes[0].plot(t, u, color="tab:blue", lw=1.1)
    axes[0].set_ylabel("u")
    for i, ax in enumerate(axes[1:]):
        ax.plot(t, J[:, i], color="tab:red", lw=1.0)
        ax.set_ylabel(f"∂u/∂{names[i]}")
    axes[-1].set_xlabel(TIME_LABEL)
    if title:
        fig.suptitle(title)
    return fig


def covariance_map(theta, C, title=None):
    """log10 of the largest eigenvalue of the covariance C at each θ over the parameter plane.

    Parameters
    ----------
    theta : ndarray, shape (N, 2)
        The parameters.
    C : ndarray, shape (N, 2, 2)
        The covariance at each θ.
    title : str, optional
        The title; default "Laplace covariance over the prior".

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    fig = _figure((5.2, 4.2))
    ax = fig.add_subplot()
    lam = np.log10(np.linalg.eigvalsh(C)[:, -1])
    sc = ax.scatter(theta[:, 0], theta[:, 1], c=lam, s=6, cmap="viridis")
    fig.colorbar(sc, ax=ax, label="log10 largest eigenvalue of C")
    ax.set_xlabel("θ0")
    ax.set_ylabel("θ1")
    ax.set_title(title or "Laplace covariance over the prior")
    return fig
