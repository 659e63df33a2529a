"""Seed ensembles of inverse maps: K maps of one architecture, trained from different seeds
(initial weights, sample order, dropout masks), predicting the mean of their predictions.

Averaging K maps never raises the squared error of the mean prediction above the members'
average squared error (by convexity), and in practice lowers the variance that a single map's
seed leaves in small-data results; the members' spread is a rough per-sample uncertainty.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ._validation import as_int, as_seed
from .nn import InverseMap


class Ensemble:
    """K inverse maps (``InverseMap``) whose mean prediction is the estimate."""

    def __init__(self, members: Sequence[InverseMap]):
        members = list(members)
        if not members:
            raise ValueError("an ensemble needs at least one member, got none")
        for m in members:
            if not isinstance(m, InverseMap):
                raise TypeError(f"ensemble members must be InverseMap, got {type(m).__name__}")
        self.members = members

    @classmethod
    def like(cls, model: InverseMap, members: int) -> Ensemble:
        """``members`` untrained copies of ``model``'s architecture with seeds model.seed,
        model.seed + 1, …"""
        k = as_int(members, "members", 1)
        return cls([InverseMap(model.layers, output_activation=model.output_activation, seed=model.seed + i)
                    for i in range(k)])

    def __len__(self) -> int:
        return len(self.members)

    def fit(self, X, Y, *, seed: int | None = None, progress: bool = True, **fit_kwargs: Any) -> Ensemble:
        """Train every member with ``InverseMap.fit`` (same arguments), member i with training
        seed ``seed + i`` (default: its own seed)."""
        base = None if seed is None else as_seed(seed)
        for i, m in enumerate(self.members):
            m.fit(X, Y, seed=m.seed if base is None else base + i, progress=progress, **fit_kwargs)
        return self

    def predict_members(self, X, *, n_threads: int = 0) -> np.ndarray:
        """Every member's predictions, shape (K, N, D)."""
        return np.stack([m.predict(X, n_threads=n_threads) for m in self.members])

    def predict(self, X, *, n_threads: int = 0) -> np.ndarray:
        """The mean of the members' predictions (N, D)."""
        return self.predict_members(X, n_threads=n_threads).mean(axis=0)

    def predict_std(self, X, *, n_threads: int = 0) -> np.ndarray:
        """The members' standard deviation per prediction (N, D) (0 for one member)."""
        return self.predict_members(X, n_threads=n_threads).std(axis=0)

    @property
    def n_params(self) -> int:
        return sum(m.n_params for m in self.members)

    @property
    def history(self) -> dict:
        """The first member's training history (the members' are in ``members[i].history``)."""
        return self.members[0].history

    def save(self, folder) -> Path:
        """Write member i to ``folder/member_{i}.safetensors`` (the folder is created)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("member_*.safetensors"):
            old.unlink()
        for i, m in enumerate(self.members):
            m.save(folder / f"member_{i}.safetensors")
        return folder

    @classmethod
    def load(cls, folder) -> Ensemble:
        """The ensemble written by :meth:`save`."""
        folder = Path(folder)
        files = sorted(folder.glob("member_*.safetensors"), key=lambda p: int(p.stem.split("_")[1]))
        if not files:
            raise ValueError(f"{folder}: no member_*.safetensors files")
        return cls([InverseMap.load(f) for f in files])

    def __repr__(self) -> str:
        return f"Ensemble({len(self.members)} members, {self.n_params:,} parameters)"
