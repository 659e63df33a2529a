"""Parameter transforms: each target learned in a coordinate without bounds, z = g(θ), so that
estimates, interval bounds and draws, all mapped back by g⁻¹, stay inside the parameter's support.

Per target, one of

- ``"identity"``: z = θ (support: the real line);
- ``"log"``: z = log(θ − a), support (a, ∞) (a = 0 unless given: a positive parameter);
- ``"logit"``: z = log((θ − a) / (b − θ)), support (a, b).

The network learns z (the label scaling applies to z) and a Gaussian head predicts N(μ_z, Σ_z),
calibrated in z. Mapped back, g being increasing in each coordinate:

- the point estimate g⁻¹(μ_z) is the median of the implied law of θ;
- intervals are g⁻¹ of the z-intervals: central intervals of θ with the coverage of those in z;
- draws are g⁻¹ of draws in z;
- ``predict(..., return_cov=True)`` gives the delta-method covariance J Σ_z J with J = diag(dθ/dz)
  at μ_z, a local summary; intervals, draws, calibration and the diagnostics use the law in z.

``fit(..., transform="support")`` takes each target's support from the prior (and the noise's
ranges) the map is trained on (``trained_on``): logit on a bounded interval, log on a half-line,
identity otherwise. ``"auto"`` does that for Gaussian-NLL heads trained on data that record their
prior, and learns every other map in the targets themselves (a point map's sigmoid output already
stays within its training labels' range). The default, None, learns the targets themselves.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["TRANSFORMS", "LabelTransform", "check_transform_spec"]

TRANSFORMS = ("identity", "log", "logit")
_SPEC = ('a transform is None, "auto", "support", or per target (a dict by name, or a list by column) one of '
         '"identity", "log", "logit", ("log", a), ("logit", a, b)')


def _entry(spec, where: str) -> tuple:
    """One target's spec as (kind, a, b): ("identity", -inf, inf), ("log", a, inf), ("logit", a, b);
    "logit" without bounds is ("logit", None, None) until the support fills them."""
    if isinstance(spec, str):
        spec = (spec,)
    if not isinstance(spec, (tuple, list)) or not spec or spec[0] not in TRANSFORMS:
        raise ValueError(f"{where}: {spec!r} is not a transform; {_SPEC}")
    kind, bounds = spec[0], list(spec[1:])
    if len(bounds) > {"identity": 0, "log": 1, "logit": 2}[kind] or (kind == "logit" and len(bounds) == 1):
        takes = {"identity": "no bounds", "log": "one bound, a", "logit": "two bounds, a and b"}[kind]
        raise ValueError(f"{where}: {spec!r} takes {takes}")
    for v in bounds:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(v):
            raise ValueError(f"{where}: bounds must be finite numbers, got {spec!r}")
    if kind == "identity":
        return ("identity", -np.inf, np.inf)
    if kind == "log":
        return ("log", float(bounds[0]) if bounds else 0.0, np.inf)
    if not bounds:
        return ("logit", None, None)
    a, b = map(float, bounds)
    if not a < b:
        raise ValueError(f"{where}: logit needs a < b, got {spec!r}")
    return ("logit", a, b)


def check_transform_spec(spec):
    """``spec`` as a training setting (checked; ValueError naming what is wrong): None, "support", a
    dict {name: entry} or a list of entries."""
    if spec is None or spec in ("support", "auto"):
        return spec
    if isinstance(spec, dict):
        for name, entry in spec.items():
            if not isinstance(name, str):
                raise ValueError(f"transform: names must be strings, got {name!r}")
            _entry(entry, f"transform of {name!r}")
        return {name: (entry if isinstance(entry, str) else list(entry)) for name, entry in spec.items()}
    if isinstance(spec, (list, tuple)) and not isinstance(spec, str):
        for j, entry in enumerate(spec):
            _entry(entry, f"transform of column {j}")
        return [entry if isinstance(entry, str) else list(entry) for entry in spec]
    raise ValueError(f"transform: {spec!r} is not a transform; {_SPEC}")


class LabelTransform:
    """Per-column g: identity, log(θ − a) or logit((θ − a) / (b − θ)).

    Parameters
    ----------
    kinds : sequence of str
        One of :data:`TRANSFORMS` per column.
    lower, upper : array_like
        a and b per column (−inf/inf where unused).
    names : sequence of str, optional
        The columns' names, for messages.

    Examples
    --------
    >>> import numpy as np
    >>> from fhn_inverse.nn.transforms import LabelTransform
    >>> LabelTransform(["logit", "log", "identity"], [0.0, 0.0, -np.inf], [1.0, np.inf, np.inf], names=["a", "b", "c"])
    LabelTransform(a: logit on (0, 1); b: log on (0, inf); c: identity)
    """

    def __init__(self, kinds, lower, upper, names=None):
        self.kinds = tuple(kinds)
        self.lower, self.upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
        d = len(self.kinds)
        self.names = tuple(names) if names is not None else tuple(f"column {j}" for j in range(d))
        if self.lower.shape != (d,) or self.upper.shape != (d,) or len(self.names) != d:
            raise ValueError(f"a transform of {d} columns needs {d} lower and upper bounds and names")
        for j, kind in enumerate(self.kinds):
            a, b = self.lower[j], self.upper[j]
            ok = {"identity": a == -np.inf and b == np.inf, "log": np.isfinite(a) and b == np.inf,
                  "logit": np.isfinite(a) and np.isfinite(b) and a < b}.get(kind, False)
            if not ok:
                raise ValueError(f"transform of {self.names[j]}: {kind!r} on ({a}, {b}) is not one of "
                                 "identity on (-inf, inf), log on (a, inf), logit on (a, b) with a < b")
        self._log = np.array([k == "log" for k in self.kinds])
        self._logit = np.array([k == "logit" for k in self.kinds])

    @classmethod
    def from_spec(cls, spec, d: int, names=None, support=None) -> LabelTransform | None:
        """The transform a training setting asks for, for ``d`` columns named ``names`` (or None),
        where ``support`` is (lower, upper) of the training data's prior and noise (or None); None
        when every column is the identity."""
        spec = check_transform_spec(spec)
        if spec is None:
            return None
        names = list(names) if names is not None else None
        if spec == "support":
            if support is None:
                raise ValueError('transform="support" needs the prior the map is trained on: pass trained_on= (a '
                                 'Dataset or its config), or name each target\'s transform')
            lower, upper = (np.asarray(v, dtype=float) for v in support)
            entries = [("logit", a, b) if np.isfinite(a) and np.isfinite(b) and a < b else
                       ("log", a, np.inf) if np.isfinite(a) and b == np.inf else ("identity", -np.inf, np.inf)
                       for a, b in zip(lower, upper)]
        else:
            if isinstance(spec, dict):
                unknown = sorted(set(spec) - set(names or ()))
                if unknown:
                    raise ValueError(f"transform names {unknown}; the targets are "
                                     f"{', '.join(names) if names else 'unnamed (pass targets=)'}")
                spec = [spec.get(name, "identity") for name in names]
            if len(spec) != d:
                raise ValueError(f"transform has {len(spec)} entries for {d} targets")
            entries = [_entry(s, f"transform of {names[j] if names else f'column {j}'}") for j, s in enumerate(spec)]
            for j, (kind, a, _) in enumerate(entries):
                if kind == "logit" and a is None:
                    if support is None or not (np.isfinite(support[0][j]) and np.isfinite(support[1][j])):
                        raise ValueError(f"transform of {names[j] if names else f'column {j}'}: logit needs "
                                         "bounds, (\"logit\", a, b), or a prior with a bounded support")
                    entries[j] = ("logit", float(support[0][j]), float(support[1][j]))
        if all(kind == "identity" for kind, _, _ in entries):
            return None
        return cls([e[0] for e in entries], [e[1] for e in entries], [e[2] for e in entries], names)

    def forward(self, y: np.ndarray, what: str = "Y") -> np.ndarray:
        """z = g(y) for y (N, D); ValueError naming the column and the first row outside the support.

        Examples
        --------
        >>> import numpy as np
        >>> from fhn_inverse.nn.transforms import LabelTransform
        >>> g = LabelTransform(["logit", "log"], [0.0, 0.0], [1.0, np.inf], names=["a", "b"])
        >>> g.forward([[0.5, 1.0]])     # logit(0.5) = 0, log(1) = 0
        array([[0., 0.]])
        >>> g.forward([[1.5, 1.0]])
        Traceback (most recent call last):
        ValueError: Y: a = 1.5 (row 0) is outside the support of its transform, logit on (0, 1)
        """
        y = np.asarray(y, dtype=np.float64)
        inside = np.where(self._log | self._logit, y > self.lower, True) & np.where(self._logit, y < self.upper,
                                                                                     True)
        if not inside.all():
            row, j = (int(v) for v in np.argwhere(~inside)[0])
            raise ValueError(f"{what}: {self.names[j]} = {y[row, j]:g} (row {row}) is outside the support of its "
                             f"transform, {self.kinds[j]} on ({self.lower[j]:g}, {self.upper[j]:g})")
        z = y.copy()
        with np.errstate(divide="ignore"):
            z[:, self._log] = np.log(y[:, self._log] - self.lower[self._log])
            a, b = self.lower[self._logit], self.upper[self._logit]
            z[:, self._logit] = np.log(y[:, self._logit] - a) - np.log(b - y[:, self._logit])
        return z

    def inverse(self, z: np.ndarray) -> np.ndarray:
        """θ = g⁻¹(z), any shape (..., D).

        Examples
        --------
        >>> import numpy as np
        >>> from fhn_inverse.nn.transforms import LabelTransform
        >>> g = LabelTransform(["logit", "log"], [0.0, 0.0], [1.0, np.inf])
        >>> g.inverse([[0.0, 0.0]]).tolist(), g.inverse(np.zeros((4, 3, 2))).shape
        ([[0.5, 1.0]], (4, 3, 2))
        >>> y = np.array([[0.2, 3.0], [0.9, 0.1]])
        >>> bool(np.allclose(g.inverse(g.forward(y)), y))
        True
        """
        z = np.asarray(z, dtype=np.float64)
        y = z.copy()
        with np.errstate(over="ignore"):
            y[..., self._log] = self.lower[self._log] + np.exp(z[..., self._log])
        a, b = self.lower[self._logit], self.upper[self._logit]
        y[..., self._logit] = a + (b - a) * (0.5 + 0.5 * np.tanh(0.5 * z[..., self._logit]))
        return y

    def jacobian(self, z: np.ndarray) -> np.ndarray:
        """dθ/dz per column at z (..., D).

        Examples
        --------
        >>> import numpy as np
        >>> from fhn_inverse.nn.transforms import LabelTransform
        >>> g = LabelTransform(["logit", "log"], [0.0, 0.0], [1.0, np.inf])
        >>> g.jacobian([[0.0, 0.0]]).tolist()     # (b − a)·s(1 − s) with s = 1/2, and exp(0)
        [[0.25, 1.0]]
        """
        z = np.asarray(z, dtype=np.float64)
        jac = np.ones_like(z)
        with np.errstate(over="ignore"):
            jac[..., self._log] = np.exp(z[..., self._log])
        s = 0.5 + 0.5 * np.tanh(0.5 * z[..., self._logit])
        jac[..., self._logit] = (self.upper[self._logit] - self.lower[self._logit]) * s * (1.0 - s)
        return jac

    def to_theta(self, mean: np.ndarray, cov: np.ndarray | None):
        """(g⁻¹(μ_z), J Σ_z J) from the law in z (the delta method; cov None stays None).

        Examples
        --------
        >>> import numpy as np
        >>> from fhn_inverse.nn.transforms import LabelTransform
        >>> g = LabelTransform(["logit", "log"], [0.0, 0.0], [1.0, np.inf])
        >>> mean, cov = g.to_theta(np.zeros((1, 2)), np.eye(2)[None])
        >>> mean.tolist(), cov[0].tolist()
        ([[0.5, 1.0]], [[0.0625, 0.0], [0.0, 1.0]])
        >>> g.to_theta(np.zeros((1, 2)), None)[1] is None
        True
        """
        if cov is None:
            return self.inverse(mean), None
        jac = self.jacobian(mean)
        return self.inverse(mean), cov * jac[:, :, None] * jac[:, None, :]

    def to_json(self) -> dict:
        return {"kinds": list(self.kinds), "lower": [float(v) for v in self.lower],
                "upper": [float(v) for v in self.upper], "names": list(self.names)}

    @classmethod
    def from_json(cls, d, n_targets: int) -> LabelTransform:
        """The transform a model file records (ValueError, naming the entry, if it is not one)."""
        if not isinstance(d, dict) or not all(isinstance(d.get(k), list) for k in ("kinds", "lower", "upper", "names")):
            raise ValueError(f"model file: invalid transform {str(d)[:120]!r}")
        if len(d["kinds"]) != n_targets or not all(isinstance(n, str) for n in d["names"]):
            raise ValueError(f"model file: the transform must have {n_targets} entries with names")
        try:
            return cls(d["kinds"], [float(v) for v in d["lower"]], [float(v) for v in d["upper"]], d["names"])
        except (TypeError, ValueError) as err:
            raise ValueError(f"model file: invalid transform: {err}") from None

    def __repr__(self) -> str:
        parts = [f"{n}: {k}" + ("" if k == "identity" else f" on ({a:g}, {b:g})")
                 for n, k, a, b in zip(self.names, self.kinds, self.lower, self.upper)]
        return f"LabelTransform({'; '.join(parts)})"
