"""Label and input scaling of an inverse map: fitted on the training data, kept in the model
file, inverted by ``predict``."""

from __future__ import annotations

import numpy as np

__all__: list[str] = []

class _Scaling:
    """y_scaled = (y − offset) / scale per column; kind minmax (to [0, 1]), standard or none."""

    def __init__(self, kind: str, offset: np.ndarray, scale: np.ndarray):
        self.kind, self.offset, self.scale = kind, offset, scale

    @classmethod
    def fit(cls, kind: str, y: np.ndarray) -> _Scaling:
        y64 = y.astype(np.float64)
        if kind == "minmax":
            lo, hi = y64.min(axis=0), y64.max(axis=0)
            scale = hi - lo
            offset = lo
        elif kind == "standard":
            offset, scale = y64.mean(axis=0), y64.std(axis=0)
        else:
            offset, scale = np.zeros(y.shape[1]), np.ones(y.shape[1])
        scale = np.where(scale > 0, scale, 1.0)
        return cls(kind, offset, scale)

    def transform(self, y: np.ndarray) -> np.ndarray:
        return ((y.astype(np.float64) - self.offset) / self.scale).astype(np.float32)

    def inverse(self, y: np.ndarray) -> np.ndarray:
        return y.astype(np.float64) * self.scale + self.offset

    def to_json(self) -> dict:
        return {"kind": self.kind, "offset": [float(v) for v in self.offset], "scale": [float(v) for v in self.scale]}

    @classmethod
    def from_json(cls, d) -> _Scaling:
        if not isinstance(d, dict) or d.get("kind") not in ("minmax", "standard", "none"):
            raise ValueError(f"model file: invalid scaling {d!r}")
        offset = np.asarray(d.get("offset"), dtype=np.float64)
        scale = np.asarray(d.get("scale"), dtype=np.float64)
        if (offset.ndim != 1 or offset.shape != scale.shape
                or not (np.isfinite(offset).all() and np.isfinite(scale).all())):
            raise ValueError("model file: scaling offset/scale must be equal-length finite lists")
        return cls(d["kind"], offset, scale)


class _InputScaling:
    """x_scaled = (x − offset[c]) / scale[c] per input channel c (kind "channel": the training
    inputs' mean and standard deviation of each channel). Dense maps have one channel."""

    def __init__(self, offset: np.ndarray, scale: np.ndarray):
        self.offset, self.scale = offset, scale

    @classmethod
    def fit(cls, x: np.ndarray) -> _InputScaling:
        axes = (0, 2) if x.ndim == 3 else (0, 1)
        x64 = x.astype(np.float64)
        offset, scale = x64.mean(axis=axes), x64.std(axis=axes)
        return cls(np.atleast_1d(offset), np.atleast_1d(np.where(scale > 0, scale, 1.0)))

    def transform(self, x: np.ndarray) -> np.ndarray:
        shape = (1, -1, 1) if x.ndim == 3 else (1, -1)
        return ((x.astype(np.float64) - self.offset.reshape(shape)) / self.scale.reshape(shape)).astype(np.float32)

    def to_json(self) -> dict:
        return {"kind": "channel", "offset": [float(v) for v in self.offset], "scale": [float(v) for v in self.scale]}

    @classmethod
    def from_json(cls, d, channels: int) -> _InputScaling:
        if not isinstance(d, dict) or d.get("kind") != "channel":
            raise ValueError(f"model file: invalid input scaling {d!r}")
        offset = np.asarray(d.get("offset"), dtype=np.float64)
        scale = np.asarray(d.get("scale"), dtype=np.float64)
        if (offset.shape != (channels,) or scale.shape != (channels,) or not np.isfinite(offset).all()
                or not np.isfinite(scale).all() or not (scale > 0).all()):
            raise ValueError(f"model file: input scaling needs {channels} finite offsets and positive scales")
        return cls(offset, scale)
