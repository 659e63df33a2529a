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

from .._util.locks import exclusive
from .._util.validation import as_int, as_seed
from . import InverseMap
from .training import TrainingConfig
from .ensemble_mixture import MixtureMethods
from .ensemble_files import MANIFEST, MAX_MEMBERS, _legacy_members, _read_manifest, verified_members, write_members

__all__ = ["MANIFEST", "MAX_MEMBERS", "Ensemble"]


class Ensemble(MixtureMethods):
    """K inverse maps (``InverseMap``) whose mean prediction is the estimate.

    Parameters
    ----------
    members : sequence of InverseMap
        The maps, at least one.

    Attributes
    ----------
    members : list of InverseMap
        The maps.
    calibration : QuantileCalibration or None
        Calibrated quantiles of the mixture's standardised errors (set by :meth:`calibrate`), or
        None.

    Raises
    ------
    ValueError
        If ``members`` is empty.
    TypeError
        If a member is not an ``InverseMap``.

    Examples
    --------
    >>> import numpy as np
    >>> import fhn_inverse as fi
    >>> x = np.random.default_rng(0).standard_normal((200, 16)).astype(np.float32)
    >>> ens = fi.Ensemble.like(fi.InverseMap.dense((8,)), 3).fit(x, x[:, :2] ** 2, epochs=2, progress=False)
    >>> ens, ens.predict(x[:4]).shape     # the mean of 3 maps trained from seeds 0, 1, 2
    (Ensemble(3 members, 462 parameters), (4, 2))
    """

    def __init__(self, members: Sequence[InverseMap]):
        members = members if isinstance(members, list) else list(members)  # a list is kept (clone checks it)
        if not members:
            raise ValueError("an ensemble needs at least one member, got none")
        for m in members:
            if not isinstance(m, InverseMap):
                raise TypeError(f"ensemble members must be InverseMap, got {type(m).__name__}")
        self.members = members
        # calibrated quantiles of the mixture's standardised errors (calibrate), or None
        self.calibration = None

    # -- scikit-learn's estimator protocol (clone, cross_val_score)
    def get_params(self, deep: bool = True) -> dict:
        """The constructor's argument, the members.

        This is scikit-learn's protocol: ``clone`` copies each member untrained.

        Parameters
        ----------
        deep : bool, default True
            Part of the protocol; the result does not depend on it.

        Returns
        -------
        dict
            ``{"members": members}``.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> ens = fi.Ensemble.like(fi.InverseMap.dense((8,)), 2)
        >>> ens.get_params()["members"] is ens.members
        True
        """
        return {"members": self.members}

    def set_params(self, **params) -> Ensemble:
        """Set the constructor's argument ``members`` (scikit-learn's protocol); the calibration is
        dropped. Returns self; ValueError for another name.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> ens = fi.Ensemble.like(fi.InverseMap.dense((8,)), 2)
        >>> len(ens.set_params(members=[fi.InverseMap.dense((4,))])), ens.members[0].layers[0]
        (1, {'kind': 'dense', 'units': 4})
        """
        if set(params) - {"members"}:
            raise ValueError(f"unknown parameters {sorted(set(params) - {'members'})}; Ensemble takes members")
        self.__init__(params.get("members", self.members))
        return self

    def score(self, X, y) -> float:
        """R² of the mean prediction for X against y, the mean over the parameters.

        Parameters
        ----------
        X : array_like
            Inputs, as for :meth:`predict`.
        y : array_like, shape (N, D) or (N,)
            The true parameters.

        Returns
        -------
        float
            The mean R².

        Examples
        --------
        >>> import numpy as np
        >>> import fhn_inverse as fi
        >>> from fhn_inverse.metrics import r2_score
        >>> x = np.random.default_rng(0).standard_normal((200, 16)).astype(np.float32)
        >>> y = x[:, :2] ** 2
        >>> ens = fi.Ensemble.like(fi.InverseMap.dense((8,)), 2).fit(x, y, epochs=2, progress=False)
        >>> bool(np.isclose(ens.score(x, y), r2_score(y, ens.predict(x)).mean()))
        True
        """
        from ..metrics import r2_score

        return float(np.mean(r2_score(y, self.predict(X))))

    def __sklearn_tags__(self):
        from . import _sklearn_regressor_tags

        return _sklearn_regressor_tags()

    @classmethod
    def like(cls, model: InverseMap, members: int) -> Ensemble:
        """``members`` untrained copies of ``model``'s architecture with seeds model.seed, model.seed + 1, …

        Parameters
        ----------
        model : InverseMap
            The map whose architecture (layers and output activation) and seed are copied.
        members : int
            Number of copies, 1 to :data:`~fhn_inverse.nn.ensemble_files.MAX_MEMBERS`.

        Returns
        -------
        Ensemble
            The untrained ensemble.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> ens = fi.Ensemble.like(fi.InverseMap.dense((8,), seed=10), 3)
        >>> ens, [m.seed for m in ens.members]
        (Ensemble(3 members, not all built), [10, 11, 12])
        """
        k = as_int(members, "members", 1)
        if k > MAX_MEMBERS:
            raise ValueError(f"members must be in [1, {MAX_MEMBERS}], got {k}")
        return cls([InverseMap(model.layers, output_activation=model.output_activation, seed=model.seed + i)
                    for i in range(k)])

    def __len__(self) -> int:
        return len(self.members)

    def fit(self, X, Y=None, config=None, *, seed: int | None = None, progress: bool = True,
            **fit_kwargs: Any) -> Ensemble:
        """Train every member with ``InverseMap.fit`` (same arguments; X may be a stream,
        :class:`~fhn_inverse.data.streams.Simulations` or :class:`~fhn_inverse.data.streams.StoreStream`,
        with no Y: every member then trains on the same series, in its own order).

        Training discards the ensemble's calibration, which was fitted to the previous members.

        Parameters
        ----------
        X : array_like
            Training inputs, as for ``InverseMap.fit``.
        Y : array_like, optional
            Training labels, as for ``InverseMap.fit``; None with a stream.
        config : TrainingConfig, optional
            Training settings, as for ``InverseMap.fit``.
        seed : int, optional
            Member i trains with seed ``seed + i`` (default: the config's seed + i, or else the
            member's own seed).
        progress : bool, default True
            Passed to ``InverseMap.fit``.
        **fit_kwargs
            Passed to ``InverseMap.fit``.

        Returns
        -------
        Ensemble
            self.

        Examples
        --------
        >>> import numpy as np
        >>> import fhn_inverse as fi
        >>> x = np.random.default_rng(0).standard_normal((300, 16)).astype(np.float32)
        >>> ens = fi.Ensemble.like(fi.InverseMap.dense((8,), output_activation=None), 2)
        >>> ens = ens.fit(x, x[:, :2] ** 2, loss="gaussian_nll", scaling="standard", epochs=2, progress=False)
        >>> ens.calibration     # the mixture calibrated on the last 10 % of the series, held out of training
        QuantileCalibration(D=2, 30 knots, fitted on 30 series)
        >>> [m.calibration for m in ens.members], [m.history["samples"] for m in ens.members]
        ([None, None], [540, 540])
        """
        if seed is None and config is not None and config.seed is not None:
            seed = config.seed
        base = None if seed is None else as_seed(seed)
        X, Y, held = self.hold_out_calibration(X, Y, config, fit_kwargs)
        for i, m in enumerate(self.members):
            m.fit(X, Y, config, seed=m.seed if base is None else base + i, progress=progress, **fit_kwargs)
        self.calibration = None  # fitted to the previous members
        if held is not None:
            self.calibrate(*held, n_threads=fit_kwargs.get("n_threads", 0))
        return self

    def hold_out_calibration(self, X, Y, config, settings: dict):
        """(X, Y, held): for members with a Gaussian-NLL head trained on arrays, the series without
        the last ``calibration_split`` (``settings``' or ``config``'s, 10 % by default) and the
        held-out (X_cal, Y_cal) the mixture calibrates itself on after training, with
        ``settings["calibration_split"]`` set to None so that the members do not; else X, Y as
        given and None. See :func:`~fhn_inverse.nn.trainer.hold_out_calibration`.

        Examples
        --------
        >>> import numpy as np
        >>> import fhn_inverse as fi
        >>> x = np.zeros((300, 16), dtype=np.float32)
        >>> y = np.zeros((300, 2))
        >>> ens = fi.Ensemble.like(fi.InverseMap.dense((8,), output_activation=None), 2)
        >>> settings = {"loss": "gaussian_nll"}
        >>> x_fit, y_fit, (x_cal, y_cal) = ens.hold_out_calibration(x, y, None, settings)
        >>> x_fit.shape, x_cal.shape, settings
        ((270, 16), (30, 16), {'loss': 'gaussian_nll', 'calibration_split': None})
        >>> ens.hold_out_calibration(x, y, None, {"loss": "mse"})[2] is None     # point members: nothing held out
        True
        """
        from ..data.streams import is_stream
        from .heads import head_for
        from .trainer import hold_out_calibration

        if is_stream(X) or settings.get("cov") is not None or not isinstance(config, (TrainingConfig, type(None))):
            return X, Y, None  # members train as they are (a config of another type is their error to raise)
        head = self.members[0].parts.head if self.members[0].built else None
        loss = settings.get("loss", config.loss if config is not None else "mse")
        if not (type(head) if head is not None else head_for(loss, False, settings.get("head"))).calibratable:
            return X, Y, None
        split = settings.pop("calibration_split", TrainingConfig.calibration_split if config is None else
                             config.calibration_split)
        settings["calibration_split"] = None
        return hold_out_calibration(X, Y, split)

    def predict_members(self, X, *, n_threads: int = 0, t=None, resample: bool = False) -> np.ndarray:
        """Every member's predictions.

        Parameters
        ----------
        X : array_like
            Inputs, as for ``InverseMap.predict``.
        n_threads : int, default 0
            Threads to use (0: all cores).
        t : array_like, optional
            See ``InverseMap.predict``.
        resample : bool, default False
            See ``InverseMap.predict``.

        Returns
        -------
        ndarray, shape (K, N, D)
            Member k's predictions in row k.

        Examples
        --------
        >>> import numpy as np
        >>> import fhn_inverse as fi
        >>> ens = fi.Ensemble([fi.InverseMap.dense((8,), seed=k).build((16,), 2) for k in range(3)])
        >>> x = np.zeros((4, 16), dtype=np.float32)
        >>> ens.predict_members(x).shape
        (3, 4, 2)
        >>> bool(np.allclose(ens.predict_members(x).mean(axis=0), ens.predict(x)))
        True
        """
        return np.stack([m.predict(X, n_threads=n_threads, t=t, resample=resample) for m in self.members])

    @property
    def head(self) -> str:
        """The members' head ("point", "gaussian_nll" or "local_gaussian"; see ``InverseMap.head``)."""
        heads = {m.head for m in self.members if m.built}
        if len(heads) > 1:
            raise ValueError(f"the members have different heads: {sorted(heads)}")
        return heads.pop() if heads else "point"

    @property
    def has_cov(self) -> bool:
        return self.head != "point"

    @property
    def transform(self):
        """The members' coordinate of the targets (a ``LabelTransform``; trained together, they share
        it), or None. The mixture, its calibration, intervals and draws are then in that coordinate,
        mapped back as a map's are. ValueError if the members learn in different coordinates."""
        records = {None if m.transform is None else repr(m.transform.to_json()) for m in self.members}
        if len(records) > 1:
            raise ValueError("the members learn their targets in different coordinates (transforms)")
        return self.members[0].transform

    # what the members record of their data (trained together, they record the same)
    inputs = property(lambda self: self.members[0].inputs, doc="The first member's ``inputs`` (see InverseMap).")
    units = property(lambda self: self.members[0].units, doc="The first member's ``units`` (see InverseMap).")
    trained_on = property(lambda self: self.members[0].trained_on,
                          doc="The first member's ``trained_on`` (see InverseMap).")
    prior = property(lambda self: self.members[0].prior, doc="The first member's ``prior`` (see InverseMap).")
    noise = property(lambda self: self.members[0].noise, doc="The first member's ``noise`` (see InverseMap).")

    def describe(self) -> dict:
        """The first member's ``describe()``, with the number of members and the ensemble's calibration.

        Returns
        -------
        dict
            The first member's ``describe()`` with ``"members"`` (their number) and
            ``"calibration"`` (``"quantile"``, or None without one).

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> info = fi.Ensemble([fi.InverseMap.dense((8,)).build((16,), 2)] * 2).describe()
        >>> info["members"], info["calibration"], info["head"], info["parameters"]
        (2, None, 'point', 154)
        """
        return {**self.members[0].describe(), "members": len(self.members),
                "calibration": None if self.calibration is None else "quantile"}

    def predict(self, X, *, return_cov: bool = False, n_threads: int = 0, t=None, resample: bool = False,
                latent: bool = False):
        """The mean of the members' predictions (with ``latent``, of their laws in the coordinate
        they learn in, ``transform``).

        Parameters
        ----------
        X : array_like, shape (N, L), (N, C, L) or (L,)
            Inputs, as for ``InverseMap.predict``, or a single series.
        return_cov : bool, default False
            Also return a covariance (members with a covariance): for Gaussian-NLL heads the
            covariance of the equally weighted mixture of the members' Gaussians,
            mean(Σ_k + μ_k μ_kᵀ) − μ μᵀ (their own uncertainty plus their disagreement); for
            local-Gaussian heads, whose covariance estimates a target C, the log-Euclidean mean
            expm(mean_k logm Ĉ_k).
        n_threads : int, default 0
            Threads to use (0: all cores).
        t : array_like, optional
            See ``InverseMap.predict``.
        resample : bool, default False
            See ``InverseMap.predict``.

        Returns
        -------
        mean : ndarray, shape (N, D)
            The mean prediction; (D,) for a single series (L,).
        cov : ndarray, shape (N, D, D)
            Only with ``return_cov=True``: the covariance; (D, D) for a single series.

        Raises
        ------
        ValueError
            With ``return_cov=True``, if the members predict point estimates only.

        Examples
        --------
        >>> import numpy as np
        >>> import fhn_inverse as fi
        >>> x = np.random.default_rng(0).standard_normal((300, 16)).astype(np.float32)
        >>> ens = fi.Ensemble.like(fi.InverseMap.dense((8,), output_activation=None), 2)
        >>> ens = ens.fit(x, x[:, :2] ** 2, loss="gaussian_nll", scaling="standard", epochs=2, progress=False)
        >>> mean, cov = ens.predict(x[:4], return_cov=True)     # the mixture's mean and covariance
        >>> mean.shape, cov.shape, ens.predict(x[0]).shape
        ((4, 2), (4, 2, 2), (2,))
        """
        if np.ndim(X) == 1:
            out = self.predict(np.asarray(X)[None], return_cov=return_cov, n_threads=n_threads, t=t, resample=resample,
                               latent=latent)
            return (out[0][0], out[1][0]) if return_cov else out[0]
        if not return_cov and not latent:
            return self.predict_members(X, n_threads=n_threads, t=t, resample=resample).mean(axis=0)
        means, covs = self._members_gaussians(X, n_threads, t=t, resample=resample, latent=latent)
        if not return_cov:
            return means.mean(axis=0)
        mean = means.mean(axis=0)
        if self.head == "local_gaussian":
            from ..uncertainty.local_gaussian import from_log_coordinates, log_coordinates

            ell = np.mean([log_coordinates(c) for c in covs], axis=0)
            return mean, from_log_coordinates(ell, mean.shape[1])
        second = np.mean(covs + np.einsum("kni,knj->knij", means, means), axis=0)
        cov = second - np.einsum("ni,nj->nij", mean, mean)
        return mean, 0.5 * (cov + np.transpose(cov, (0, 2, 1)))

    def _members_gaussians(self, X, n_threads, t=None, resample=False, latent=False):
        if not self.has_cov:
            raise ValueError("the members predict point estimates only; predict_std gives their spread, "
                             "which is not a calibrated uncertainty")
        pairs = [m.predict(X, return_cov=True, n_threads=n_threads, t=t, resample=resample, latent=latent)
                 for m in self.members]
        return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])

    def to_torch(self, *, return_cov: bool = False):
        """The ensemble as one ``torch.nn.Module`` in evaluation mode (needs the optional ``torch``
        extra): the mean of the members' predictions, and with ``return_cov`` (Gaussian-NLL members)
        the mixture's covariance, as ``predict(X, return_cov=True)`` gives them (the members' own
        ``cov_scale`` included; the ensemble's quantile calibration, not Gaussian, is not part of it).

        Examples
        --------
        >>> import torch     # doctest: +SKIP
        >>> import fhn_inverse as fi
        >>> ens = fi.Ensemble([fi.InverseMap.dense((8,), seed=k).build((16,), 2) for k in range(2)])
        >>> ens.to_torch()(torch.zeros(4, 16)).shape     # doctest: +SKIP
        torch.Size([4, 2])
        """
        from .torch_export import to_torch_mixture

        return to_torch_mixture(self.members, return_cov=return_cov)

    def predict_std(self, X, *, n_threads: int = 0, t=None, resample: bool = False) -> np.ndarray:
        """The members' standard deviation per prediction (0 for one member).

        This is the spread of K point estimates, not a calibrated uncertainty: on the study's
        noisy test set ±1.96 of it covers far fewer than 95 % of the true parameters. Maps with a
        covariance (``has_cov``) give calibrated-style intervals through ``predict(...,
        return_cov=True)``, ``sample`` and ``interval``.

        Parameters
        ----------
        X : array_like
            Inputs, as for :meth:`predict`.
        n_threads : int, default 0
            Threads to use (0: all cores).

        Returns
        -------
        ndarray, shape (N, D)
            The standard deviation over the members.

        Examples
        --------
        >>> import numpy as np
        >>> import fhn_inverse as fi
        >>> x = np.random.default_rng(0).standard_normal((200, 16)).astype(np.float32)
        >>> ens = fi.Ensemble.like(fi.InverseMap.dense((8,)), 3).fit(x, x[:, :2] ** 2, epochs=2, progress=False)
        >>> ens.predict_std(x[:4]).shape
        (4, 2)
        >>> float(fi.Ensemble(ens.members[:1]).predict_std(x[:4]).max())     # one member: no spread
        0.0
        """
        return self.predict_members(X, n_threads=n_threads, t=t, resample=resample).std(axis=0)

    @property
    def n_params(self) -> int:
        return sum(m.n_params for m in self.members)

    @property
    def history(self) -> dict:
        """The first member's training history (the members' are in ``members[i].history``)."""
        return self.members[0].history

    history_ = property(lambda self: self.members[0].history_, doc="``history`` under scikit-learn's name.")

    def save(self, folder) -> Path:
        """Write the members to ``folder`` and then, last and atomically, the manifest.

        The manifest ``ensemble.json`` names the members with their SHA-256 (and holds the
        calibration, if any); files of the previous generation are removed only after it is
        written. A process killed at any moment leaves the folder holding the complete previous
        ensemble or the complete new one. One writer at a time: while one process saves to
        ``folder``, another's save raises OSError (EBUSY) naming the folder at once.

        Member i is ``member_{i}.safetensors``, or ``member_{i}.{generation}.safetensors`` when
        the previous generation uses that name.

        Parameters
        ----------
        folder : str or os.PathLike
            The folder, created if needed.

        Returns
        -------
        Path
            The folder.

        Examples
        --------
        >>> import os, tempfile
        >>> import fhn_inverse as fi
        >>> ens = fi.Ensemble([fi.InverseMap.dense((8,), seed=k).build((16,), 2) for k in range(2)])
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     sorted(os.listdir(ens.save(os.path.join(tmp, "ensemble"))))
        ['ensemble.json', 'member_0.safetensors', 'member_1.safetensors']
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        with exclusive(folder.absolute().parent / f".{folder.absolute().name}.lock", folder):
            write_members(folder, self.members, self.calibration)
        return folder

    @classmethod
    def load(cls, folder) -> Ensemble:
        """The ensemble written by :meth:`save`.

        Exactly the members its manifest names, each verified against its SHA-256. A folder
        without a manifest (written before there was one) holds member_0.safetensors …
        member_{K-1}.safetensors.

        Parameters
        ----------
        folder : str or os.PathLike
            The folder.

        Returns
        -------
        Ensemble
            The ensemble, with its calibration if the manifest holds one.

        Raises
        ------
        ValueError
            Naming the file, for a missing, incomplete or corrupted ensemble.

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np
        >>> import fhn_inverse as fi
        >>> ens = fi.Ensemble([fi.InverseMap.dense((8,), seed=k).build((16,), 2) for k in range(2)])
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     back = fi.Ensemble.load(ens.save(os.path.join(tmp, "ensemble")))
        >>> x = np.zeros((4, 16), dtype=np.float32)
        >>> back, bool(np.array_equal(back.predict(x), ens.predict(x)))
        (Ensemble(2 members, 308 parameters), True)
        """
        folder = Path(folder)
        manifest_path = folder / MANIFEST
        if manifest_path.exists():
            entries, calibration = _read_manifest(manifest_path, calibration=True)
            members = [InverseMap.load(path) for path in verified_members(folder, entries, manifest_path)]
            ensemble = cls(members)
            if calibration is not None:
                if calibration.dim != ensemble.members[0].parts.head.dim or ensemble.head != "gaussian_nll":
                    raise ValueError(f"{manifest_path}: the calibration does not fit the members "
                                     f"({calibration.dim} parameters, head {ensemble.head!r})")
                ensemble.calibration = calibration
            return ensemble
        files = _legacy_members(folder)
        if not files:
            raise ValueError(f"{folder}: no {MANIFEST} and no member_*.safetensors files")
        return cls([InverseMap.load(f) for f in files])

    def __repr__(self) -> str:
        if not all(m.built for m in self.members):
            return f"Ensemble({len(self.members)} members, not all built)"
        return f"Ensemble({len(self.members)} members, {self.n_params:,} parameters)"
