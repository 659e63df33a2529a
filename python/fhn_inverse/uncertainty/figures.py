"""The diagnostics' figures: coverage, SBC, z-score against contraction, recovery and the posterior
predictive check, each a function of a result returning a matplotlib Figure.
"""

from __future__ import annotations

import numpy as np

from .._util.validation import as_int
from .coverage import Coverage
from .predictive import PosteriorPredictive
from .recovery import ZContraction
from .sbc import SBC
from .stats import _names, _theta

__all__ = ["coverage_figure", "sbc_figure", "z_contraction_figure", "recovery_figure", "ppc_figure"]


def _fig(figsize):
    from .._util.figures import new_figure

    return new_figure(figsize)


def coverage_figure(result: Coverage, names=None, title=None):
    """Empirical against nominal coverage, one line per parameter and the joint region.

    The diagonal and the band ±1.96 binomial standard errors of a calibrated estimator are drawn
    with them.

    Parameters
    ----------
    result : Coverage
        The coverage.
    names : sequence of str, optional
        The parameters' names; default θ0, θ1, ….
    title : str, optional
        The title; default "Coverage (method)".

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from fhn_inverse import diagnostics
    >>> rng = np.random.default_rng(0)
    >>> mean = rng.normal(size=(100, 2))
    >>> theta = mean + rng.normal(size=(100, 2))
    >>> result = diagnostics.coverage(theta, mean, np.broadcast_to(np.eye(2), (100, 2, 2)))
    >>> fig = diagnostics.coverage_figure(result, names=["a", "b"])
    >>> len(fig.axes), fig.axes[0].get_xlabel()
    (1, 'nominal coverage')
    >>> plt.close(fig)
    """
    names = _names(names, result.per_parameter.shape[1])
    fig = _fig((4.6, 4.2))
    ax = fig.add_subplot()
    grid = np.linspace(0.0, 1.0, 201)
    half = 1.96 * np.sqrt(grid * (1 - grid) / result.n)
    ax.fill_between(grid, grid - half, grid + half, color="0.85", label=f"±1.96 se (N = {result.n:,})")
    ax.plot([0, 1], [0, 1], color="0.4", lw=1)
    for j, name in enumerate(names):
        ax.plot(result.levels, result.per_parameter[:, j], "o-", ms=3, label=name)
    ax.plot(result.levels, result.joint, "s--", ms=3, color="black", label="joint")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("nominal coverage")
    ax.set_ylabel("empirical coverage")
    ax.set_aspect("equal")
    ax.legend(loc="upper left", fontsize="small")
    ax.set_title(title or f"Coverage ({result.method})")
    return fig


def sbc_figure(result: SBC, names=None, title=None):
    """ECDF of the normalised SBC ranks minus the uniform CDF, one panel per parameter.

    The simultaneous band of level 1 − alpha is drawn with it.

    Parameters
    ----------
    result : SBC
        The SBC result.
    names : sequence of str, optional
        The parameters' names; default θ0, θ1, ….
    title : str, optional
        The title; default "SBC" with N and S.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from fhn_inverse import diagnostics
    >>> rng = np.random.default_rng(0)
    >>> result = diagnostics.sbc(rng.normal(size=(50, 2)), rng.normal(size=(50, 20, 2)), n_sim=100)
    >>> fig = diagnostics.sbc_figure(result, names=["a", "b"])
    >>> len(fig.axes)  # one panel per parameter
    2
    >>> plt.close(fig)
    """
    names = _names(names, result.ranks.shape[1])
    d = len(names)
    fig = _fig((3.4 * d, 3.0))
    axes = fig.subplots(1, d, squeeze=False, sharey=True)[0]
    z = np.concatenate([[0.0], result.z, [1.0]])
    lo = np.concatenate([[0.0], result.lower, [0.0]])
    hi = np.concatenate([[0.0], result.upper, [0.0]])
    for j, ax in enumerate(axes):
        ax.fill_between(z, lo, hi, color="0.85", label=f"{100 * (1 - result.alpha):g} % band")
        ax.axhline(0.0, color="0.4", lw=1)
        diff = np.concatenate([[0.0], result.ecdf_diff[:, j], [0.0]])
        ax.plot(z, diff, color="tab:red" if result.outside[j] else "tab:blue", lw=1.4)
        ax.set_xlabel("normalised rank")
        ax.set_title(f"{names[j]}: max |Δ| = {result.max_deviation[j]:.3f}", fontsize="small")
    axes[0].set_ylabel("ECDF − uniform")
    axes[0].legend(loc="lower left", fontsize="small")
    fig.suptitle(title or f"SBC, N = {len(result.ranks):,}, S = {result.n_samples:,}")
    return fig


def z_contraction_figure(result: ZContraction, names=None, title=None):
    """Posterior z-score against posterior contraction, one scatter per parameter.

    Parameters
    ----------
    result : ZContraction
        The z-scores and contractions.
    names : sequence of str, optional
        The parameters' names; default θ0, θ1, ….
    title : str, optional
        The title; none by default.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from fhn_inverse import diagnostics
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=(50, 2))
    >>> result = diagnostics.z_contraction(theta, theta + 0.5 * rng.normal(size=(50, 2)),
    ...                                    np.broadcast_to(0.25 * np.eye(2), (50, 2, 2)))
    >>> fig = diagnostics.z_contraction_figure(result, names=["a", "b"])
    >>> len(fig.axes), fig.axes[0].get_ylabel()
    (2, 'posterior z-score')
    >>> plt.close(fig)
    """
    names = _names(names, result.z.shape[1])
    d = len(names)
    fig = _fig((3.4 * d, 3.2))
    axes = fig.subplots(1, d, squeeze=False, sharey=True)[0]
    for j, ax in enumerate(axes):
        ax.axhspan(-2, 2, color="0.9")
        ax.scatter(result.contraction[:, j], result.z[:, j], s=3, alpha=0.5, color="tab:blue")
        ax.axhline(0.0, color="0.4", lw=1)
        ax.set_xlim(min(0.0, float(np.min(result.contraction[:, j]))), 1.0)
        ax.set_xlabel("posterior contraction")
        ax.set_title(names[j], fontsize="small")
    axes[0].set_ylabel("posterior z-score")
    if title:
        fig.suptitle(title)
    return fig


def recovery_figure(theta, estimate, lower=None, upper=None, names=None, title=None, max_points: int = 400):
    """Estimate against truth with its intervals, one panel per parameter, and the identity line.

    Parameters
    ----------
    theta : array_like, shape (N, D)
        The true parameters.
    estimate : array_like, shape (N, D)
        The estimates.
    lower, upper : array_like, shape (N, D), optional
        The intervals' ends; no error bars without them.
    names : sequence of str, optional
        The parameters' names; default θ0, θ1, ….
    title : str, optional
        The title; none by default.
    max_points : int, default 400
        Only the first ``max_points`` series are drawn; at least 1.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from fhn_inverse import diagnostics
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=(30, 2))
    >>> estimate = theta + 0.1 * rng.normal(size=(30, 2))
    >>> fig = diagnostics.recovery_figure(theta, estimate, estimate - 0.2, estimate + 0.2, names=["a", "b"])
    >>> len(fig.axes), fig.axes[1].get_xlabel()
    (2, 'true b')
    >>> plt.close(fig)
    """
    theta, estimate = _theta(theta), _theta(estimate)
    names = _names(names, theta.shape[1])
    k = min(len(theta), as_int(max_points, "max_points", 1))
    fig = _fig((3.4 * len(names), 3.4))
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for j, ax in enumerate(axes):
        x, y = theta[:k, j], estimate[:k, j]
        yerr = None if lower is None else np.vstack([y - _theta(lower)[:k, j], _theta(upper)[:k, j] - y])
        ax.errorbar(x, y, yerr=yerr, fmt=".", ms=3, lw=0.6, alpha=0.5, color="tab:blue", ecolor="tab:blue")
        lo, hi = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
        ax.plot([lo, hi], [lo, hi], color="0.4", lw=1)
        ax.set_xlabel(f"true {names[j]}")
        ax.set_ylabel(f"estimated {names[j]}")
    if title:
        fig.suptitle(title)
    return fig


def ppc_figure(result: PosteriorPredictive, title=None):
    """The band of re-simulated series (and their median) against each observed series.

    Parameters
    ----------
    result : PosteriorPredictive
        The posterior predictive check.
    title : str, optional
        The title; default "Posterior predictive check".

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> import fhn_inverse as fi
    >>> theta = np.array([[0.4, 0.4], [0.7, 0.1]])
    >>> samples = theta[:, None, :] + 0.01 * np.random.default_rng(0).normal(size=(2, 20, 2))
    >>> ppc = fi.diagnostics.posterior_predictive(samples, fi.simulate(theta))
    >>> fig = fi.diagnostics.ppc_figure(ppc)
    >>> len(fig.axes)  # one panel per series
    2
    >>> plt.close(fig)
    """
    n = len(result.observed)
    k = result.observed.shape[1] if result.observed.ndim == 3 else 1  # observed quantities: one column each
    fig = _fig((8 if k == 1 else 4.5 * k, 1.7 * n + 0.6))
    axes = fig.subplots(n, k, sharex=True, squeeze=False)
    lo, hi = (100 * b for b in result.band)
    for i in range(n):
        for c in range(k):
            ax, pick = axes[i, c], (i,) if k == 1 else (i, c)
            ax.fill_between(result.t, result.lower[pick], result.upper[pick], color="tab:blue", alpha=0.25,
                            label=f"re-simulated {lo:g}–{hi:g} %")
            ax.plot(result.t, result.median[pick], color="tab:blue", lw=1, label="median")
            ax.plot(result.t, result.observed[pick], ".", color="tab:orange", ms=2, label="observed")
            ax.set_ylabel("u" if k == 1 else f"channel {c}")
        axes[i, 0].set_title(f"{100 * result.inside[i]:.0f} % of points inside ({result.n_draws[i]} draws)",
                             fontsize="small", loc="left")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncols=3, frameon=False)
    for ax in axes[-1]:
        ax.set_xlabel("t")
    fig.suptitle(title or "Posterior predictive check")
    return fig
