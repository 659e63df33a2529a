"""Heads of an inverse map: what the network's outputs mean. A head owns the loss the core trains
it with, its output size, the targets it regresses, how raw outputs become means and covariances,
and whether it can be calibrated. ``HEADS`` lists them by name; a new head is one class (in a file
of its own if you like) and one :func:`register_head`, and every map, file and ensemble takes it.
"""

from __future__ import annotations

import numpy as np

from .checks import _as_cov_scale, _log_euclidean, _with_log_coordinates
from .layers import _positive_int
from .training import LOSSES

__all__ = ["Head", "PointHead", "GaussianNLLHead", "LocalGaussianHead", "HEADS", "register_head", "head_named",
           "head_for", "head_from_record"]

#: The core's losses a head may train with (nn/losses.hpp, and any registered there).
CORE_LOSSES = LOSSES


class Head:
    """What a map's outputs mean; this base is the point head's behaviour.

    Parameters
    ----------
    n_targets : int
        The columns the network regresses after label scaling (for most heads, the parameters D).

    Subclasses set ``name`` (recorded in model files and :attr:`InverseMap.head`), ``loss`` (one of
    the core's losses), ``has_cov`` and ``calibratable``, and override what differs:
    :meth:`n_outputs`, :meth:`training_targets`, :meth:`outputs`, :meth:`record`, :meth:`from_record`.
    """

    name = "point"
    loss = "mse"
    has_cov = False
    calibratable = False
    takes_cov_targets = False
    #: whether the network's outputs may pass through an output activation (unbounded heads: no)
    bounded_outputs_allowed = True

    def __init__(self, n_targets: int):
        self.n_targets = _positive_int(n_targets, "n_targets")

    @classmethod
    def build(cls, n_targets: int, dim: int) -> Head:
        """The head of a map that regresses ``n_targets`` columns for ``dim`` parameters."""
        return cls(n_targets)

    @property
    def dim(self) -> int:
        """D, the parameters the map predicts."""
        return self.n_targets

    def n_outputs(self) -> int:
        """The network's output size."""
        return self.n_targets

    @classmethod
    def training_targets(cls, y: np.ndarray, cov, name: str = "cov") -> np.ndarray:
        """The regression targets (N, n_targets) the network learns from labels ``y`` (N, D) and,
        for heads that take them, covariance targets ``cov``; float32."""
        if cov is not None:
            raise ValueError(f"cov= targets need a local-Gaussian head, not {cls.name!r}")
        return y

    def outputs(self, raw: np.ndarray, scaling, *, want_cov: bool, cov_scale: float = 1.0):
        """Means (N, D) in the labels' units, and covariances (N, D, D) or None, from the network's
        raw outputs (N, n_outputs) and the label scaling (None: no scaling)."""
        out = raw[:, : self.n_targets]
        out = scaling.inverse(out) if scaling is not None else out.astype(np.float64)
        return out, None

    def record(self) -> dict:
        """The entries of a model file's architecture record that describe the head."""
        return {"n_targets": self.n_targets, "loss": self.loss, "head": self.name}

    @classmethod
    def from_record(cls, arch: dict) -> Head:
        """The head of a model file's architecture record (validated; ValueError otherwise)."""
        return cls(arch["n_targets"])

    #: calibration methods of :meth:`calibrate` (none: the head cannot be calibrated)
    CALIBRATION_METHODS: tuple[str, ...] = ()

    def check_calibration_method(self, method: str) -> str:
        """``method`` if this head can be calibrated by it; ValueError naming the methods otherwise."""
        if method not in self.CALIBRATION_METHODS:
            raise ValueError(f"method must be {', '.join(map(repr, self.CALIBRATION_METHODS[:-1]))} or "
                             f"{self.CALIBRATION_METHODS[-1]!r}, got {method!r}")
        return method

    def calibrate(self, y, mean, cov, method: str, cov_scale: float):
        """(cov_scale, calibration) fitted to a calibration split: labels ``y`` (N, D) and the
        map's predicted means and covariances there (with the current ``cov_scale``)."""
        raise ValueError(f"a {self.name!r} head cannot be calibrated")

    def warn_if_uncalibrated(self, what: str, calibration, cov_scale: float) -> None:
        """An :class:`~fhn_inverse.uncertainty.calibration.UncalibratedWarning` where ``what`` (a
        map's intervals or draws) comes from a head that can be calibrated and was not."""
        if self.calibratable and calibration is None and _as_cov_scale(cov_scale) == 1.0:
            from ..uncertainty.calibration import warn_uncalibrated

            warn_uncalibrated(what, stacklevel=4)

    def check_calibration(self, cov_scale: float, calibration) -> None:
        """ValueError unless this head can carry the given calibration."""
        if (_as_cov_scale(cov_scale) != 1.0 or calibration is not None) and not self.calibratable:
            raise ValueError(f"a calibration for a map with a {self.name!r} head")
        if calibration is not None and calibration.dim != self.dim:
            raise ValueError(f"the calibration is for {calibration.dim} parameters, the map has {self.dim}")


HEADS: dict[str, type[Head]] = {}


def register_head(cls: type[Head]) -> type[Head]:
    """Add a head class to :data:`HEADS` under its ``name`` (usable as a decorator)."""
    if not (isinstance(cls, type) and issubclass(cls, Head)):
        raise TypeError(f"a head must be a subclass of Head, got {cls!r}")
    if cls.loss not in CORE_LOSSES:
        raise ValueError(f"head {cls.name!r}: loss must be one of {CORE_LOSSES}, got {cls.loss!r}")
    HEADS[cls.name] = cls
    return cls


def head_named(name: str) -> type[Head]:
    """The registered head class called ``name``; ValueError listing the heads otherwise."""
    try:
        return HEADS[name]
    except (KeyError, TypeError):
        raise ValueError(f"head must be one of {sorted(HEADS)}, got {name!r}") from None


def head_for(loss: str, cov_targets: bool, name: str | None = None) -> type[Head]:
    """The head a training asks for: ``name`` if given, else the local-Gaussian head for
    covariance targets, else the head trained by ``loss`` ("mse": point, "gaussian_nll")."""
    if name is not None:
        head = head_named(name)
    elif cov_targets:
        head = LocalGaussianHead
    elif loss in ("mse", "gaussian_nll"):
        head = PointHead if loss == "mse" else GaussianNLLHead
    else:
        raise ValueError(f"loss must be 'mse' or 'gaussian_nll', got {loss!r}")
    if head.loss != loss:
        raise ValueError(f"a {head.name!r} head is trained with loss {head.loss!r}, got {loss!r}")
    if cov_targets and not head.takes_cov_targets:
        raise ValueError("cov= targets need a map built for them (this one was trained without)")
    if head.takes_cov_targets and not cov_targets:
        raise ValueError("this map has a local-Gaussian head: pass cov= targets")
    return head


def head_from_record(arch: dict) -> Head:
    """The head of a model file's architecture record: its ``head`` entry where present, else
    what its ``loss`` and ``cov_dim`` imply (files written before heads were named)."""
    loss = arch.get("loss", "mse")
    if loss not in CORE_LOSSES:
        raise ValueError(f"loss {loss!r}")
    implied = "gaussian_nll" if loss == "gaussian_nll" else "local_gaussian" if "cov_dim" in arch else "point"
    name = arch.get("head", implied)
    head = HEADS.get(name) if isinstance(name, str) else None
    if head is None or head.loss != loss or (name in ("point", "gaussian_nll", "local_gaussian") and name != implied):
        raise ValueError(f"head {name!r} does not match loss {loss!r} and cov_dim")
    return head.from_record(arch)


@register_head
class PointHead(Head):
    """Point estimates of the parameters, trained by mean squared error."""


@register_head
class GaussianNLLHead(Head):
    """Means and the Cholesky factor of the map's own error covariance, trained by Gaussian
    negative log-likelihood (outputs: D means, then the D(D+1)/2 Cholesky entries row by row with
    the log of the diagonal; nn/losses.hpp). Calibrated by ``cov_scale`` or a quantile calibration."""

    name = "gaussian_nll"
    loss = "gaussian_nll"
    has_cov = True
    calibratable = True
    bounded_outputs_allowed = False

    CALIBRATION_METHODS = ("nll", "coverage", "quantile")

    def n_outputs(self) -> int:
        d = self.n_targets
        return d + d * (d + 1) // 2

    def calibrate(self, y, mean, cov, method: str, cov_scale: float):
        """"quantile": a :class:`~fhn_inverse.uncertainty.calibration.QuantileCalibration` of the
        predicted Gaussians, the scale kept; "nll", "coverage": the scale times the fitted factor
        (:func:`~fhn_inverse.uncertainty.coverage.fit_cov_scale`), no quantile calibration."""
        from ..uncertainty.calibration import QuantileCalibration
        from ..uncertainty.coverage import fit_cov_scale

        self.check_calibration_method(method)
        if method == "quantile":
            return cov_scale, QuantileCalibration.fit(y, mean, cov)
        return _as_cov_scale(cov_scale * fit_cov_scale(mean, cov, y, method=method)), None

    def outputs(self, raw, scaling, *, want_cov: bool, cov_scale: float = 1.0):
        mean, _ = super().outputs(raw, scaling, want_cov=False)
        if not want_cov:
            return mean, None
        return mean, self.covariance(raw[:, self.n_targets:].astype(np.float64), scaling) * _as_cov_scale(cov_scale)

    def covariance(self, chol: np.ndarray, scaling) -> np.ndarray:
        """Σ = S L Lᵀ S from the Cholesky entries (N, D(D+1)/2), S the label scaling's diagonal."""
        d = self.n_targets
        L = np.zeros((len(chol), d, d))
        rows, cols = np.tril_indices(d)
        with np.errstate(over="ignore"):
            L[:, rows, cols] = chol
            idx = np.arange(d)
            L[:, idx, idx] = np.exp(L[:, idx, idx])
            cov = L @ np.transpose(L, (0, 2, 1))
        if scaling is not None:
            cov = cov * np.outer(scaling.scale, scaling.scale)
        return cov


@register_head
class LocalGaussianHead(Head):
    """Means and covariance estimates regressed on targets (the study's last network): the network
    regresses (θ, vech(logm C)) by mean squared error; the covariance is the matrix exponential of
    the predicted log-Euclidean coordinates. It estimates a target, not a posterior: no calibration."""

    name = "local_gaussian"
    has_cov = True
    takes_cov_targets = True

    def __init__(self, n_targets: int, cov_dim: int):
        super().__init__(n_targets)
        self.cov_dim = _positive_int(cov_dim, "cov_dim")
        if self.cov_dim + self.cov_dim * (self.cov_dim + 1) // 2 != self.n_targets:
            raise ValueError(f"cov_dim {self.cov_dim} needs {self.cov_dim + self.cov_dim * (self.cov_dim + 1) // 2} "
                             f"targets, the file has {self.n_targets}")

    @classmethod
    def build(cls, n_targets: int, dim: int) -> Head:
        return cls(n_targets, dim)

    @property
    def dim(self) -> int:
        return self.cov_dim

    @classmethod
    def training_targets(cls, y, cov, name: str = "cov"):
        if cov is None:
            raise ValueError("this map has a local-Gaussian head: pass cov= targets")
        return _with_log_coordinates(y, cov, name)

    def outputs(self, raw, scaling, *, want_cov: bool, cov_scale: float = 1.0):
        out, _ = super().outputs(raw, scaling, want_cov=False)
        out, ell = out[:, : self.cov_dim], out[:, self.cov_dim:]
        ok = np.isfinite(ell).all(axis=1)
        with np.errstate(over="ignore", invalid="ignore"):
            cov = _log_euclidean().from_log_coordinates(np.where(ok[:, None], ell, 0.0), self.cov_dim)
        cov[~ok] = np.nan
        return out, cov

    def record(self) -> dict:
        return {**super().record(), "cov_dim": self.cov_dim}

    @classmethod
    def from_record(cls, arch: dict) -> Head:
        return cls(arch["n_targets"], arch["cov_dim"])
