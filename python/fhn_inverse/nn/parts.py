"""The parts an :class:`~fhn_inverse.nn.InverseMap` is made of, in one record: its architecture,
the native network built from it, the head (what the outputs mean), the label and input scalings
and the record of its last training. The map holds one; training, model files and the PyTorch
export read and fill it, and nothing else holds the parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .architecture import Architecture
from .heads import Head
from .layers import _positive_int
from .scaling import _InputScaling, _Scaling
from .transforms import LabelTransform

__all__ = ["MapParts"]


@dataclass
class MapParts:
    """A map's parts; ``network``, ``head`` and the scalings are None until it is built or trained.

    Attributes
    ----------
    architecture : Architecture
        Hidden stack, output activation and seed.
    network : fhn_inverse._core.Network or None
        The native network.
    head : Head or None
        What the network's outputs mean (its loss, output size, covariance and calibration).
    scaling : label scaling or None
        Fitted on the training labels, inverted by ``predict``.
    input_scaling : input scaling or None
        Per-channel standardisation of the inputs (``input_scaling="channel"``).
    training : dict
        The settings and sizes of the last training, as the model file records them.
    transform : LabelTransform or None
        The coordinate the targets are learned in (:mod:`~fhn_inverse.nn.transforms`); None: the
        targets themselves.
    """

    architecture: Architecture
    network: Any = None
    head: Head | None = None
    scaling: _Scaling | None = None
    input_scaling: _InputScaling | None = None
    training: dict = field(default_factory=dict)
    transform: LabelTransform | None = None

    @property
    def built(self) -> bool:
        return self.network is not None

    def build(self, head_cls: type[Head], input_shape, n_targets: int, dim: int) -> None:
        """Build the network and the head of class ``head_cls`` (:mod:`~fhn_inverse.nn.heads`)
        regressing ``n_targets`` columns for ``dim`` parameters, for per-sample inputs of
        ``input_shape`` (F,) or (C, L)."""
        n_targets = _positive_int(n_targets, "n_targets")
        input_shape = tuple(_positive_int(v, "input_shape") for v in input_shape)
        if len(input_shape) not in (1, 2):
            raise ValueError(f"input_shape must be (F,) or (C, L), got {input_shape}")
        head = head_cls.build(n_targets, dim)
        if not head.bounded_outputs_allowed and self.architecture.output_activation:
            raise ValueError(f"loss {head.loss!r} needs output_activation=None (means and Cholesky entries are "
                             "unbounded)")
        self.network = self.architecture.network(input_shape, head.n_outputs())
        self.head = head

    def outputs(self, raw, want_cov: bool, cov_scale: float, latent: bool = False):
        """Means (N, D) and covariances (N, D, D) or None from the network's raw outputs: in the
        targets' units (a transform's law mapped back, :meth:`LabelTransform.to_theta`), or with
        ``latent`` in the coordinate they are learned in."""
        mean, cov = self.head.outputs(raw, self.scaling, want_cov=want_cov, cov_scale=cov_scale)
        if self.transform is None or latent:
            return mean, cov
        return self.transform.to_theta(mean, cov)
