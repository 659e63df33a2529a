"""An inverse map's architecture: its hidden stack of layer specs, the output activation and the
seed, and how they become the native network for an input shape and an output size (the output
layer and, for dense stacks on (C, L) inputs, a leading flatten are added here). The study's two
families, dense and convolutional, are built by :func:`dense_layers` and :func:`cnn_layers`."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .. import _core
from .._util.validation import as_seed
from .checks import _as_float32
from .layers import _check_activation, _normalise_layer, _positive_int

__all__ = ["Architecture", "dense_layers", "cnn_layers", "prepare_input", "summary"]

_CONV_FIRST = ("conv1d", "avgpool1d", "maxpool1d")


def dense_layers(units: Sequence[int], activation: str, dropout: float) -> list:
    """The study's dense stack: one dense layer per entry of ``units``, each followed by
    ``activation`` (and a dropout layer where ``dropout`` > 0); see :meth:`InverseMap.dense`."""
    act = _check_activation(activation, "activation")
    units = [_positive_int(u, "units") for u in units]
    if not units:
        raise ValueError("units must name at least one layer, got []")
    layers: list = []
    for u in units:
        layers += [{"kind": "dense", "units": u}, act]
        if dropout:
            layers.append({"kind": "dropout", "rate": dropout})
    return layers


def cnn_layers(filters: Sequence[int], kernel: int, stride: int, pool: int, dense: Sequence[int], activation: str,
               padding: str, pooling: str) -> list:
    """The study's convolutional stack: Conv1D layers with pooling between them (not after the
    last), Flatten, then dense layers; see :meth:`InverseMap.cnn`."""
    act = _check_activation(activation, "activation")
    if pooling not in ("avg", "max"):
        raise ValueError(f"pooling must be 'avg' or 'max', got {pooling!r}")
    filters = list(filters)
    if not filters:
        raise ValueError("filters must name at least one convolution, got []")
    layers: list = []
    for i, f in enumerate(filters):
        layers += [{"kind": "conv1d", "filters": f, "kernel": kernel, "stride": stride, "padding": padding}, act]
        if i + 1 < len(filters) and pool and pool > 1:
            layers.append({"kind": f"{pooling}pool1d", "pool": pool})
    layers.append("flatten")
    for u in dense:
        layers += [{"kind": "dense", "units": u}, act]
    return layers


class Architecture:
    """The hidden stack, the output activation and the seed of a map (see :class:`InverseMap`).

    Raises
    ------
    ValueError
        If ``layers`` is not a list of layers, or a layer or ``output_activation`` is invalid.
    """

    def __init__(self, layers: Sequence, output_activation: str | None = "sigmoid", seed: int = 0):
        if isinstance(layers, (str, dict)) or not isinstance(layers, Sequence):
            raise ValueError(f"layers must be a list of layers, got {layers!r}")
        self.layers = [_normalise_layer(layer) for layer in layers]
        self.layers_given = layers  # as given: scikit-learn's clone checks get_params returns it
        self.output_activation = None if output_activation is None else _check_activation(
            output_activation, "output_activation")
        self.seed = as_seed(seed)

    def input_shape_of(self, x: np.ndarray) -> tuple[int, ...]:
        """The per-sample input shape the network takes for inputs ``x`` (N, F) or (N, C, L): a
        convolutional stack reads (N, L) as one channel."""
        first = self.layers[0]["kind"] if self.layers else "dense"
        if x.ndim == 3:
            return (x.shape[1], x.shape[2])
        return (1, x.shape[1]) if first in _CONV_FIRST else (x.shape[1],)

    def full_layers(self, input_shape, n_outputs: int) -> list[dict]:
        """The network's whole layer list: the hidden stack, the output layer of ``n_outputs``
        units and its activation, and a leading flatten for dense stacks on (C, L) inputs."""
        layers = list(self.layers)
        if len(input_shape) == 2 and (not layers or layers[0]["kind"] == "dense"):
            layers.insert(0, {"kind": "flatten"})
        layers.append({"kind": "dense", "units": n_outputs})
        if self.output_activation:
            layers.append({"kind": self.output_activation})
        return layers

    def network(self, input_shape, n_outputs: int, *max_batch: int):
        """A new native network (``_core.Network``) for ``input_shape`` and ``n_outputs``,
        initialised from the seed (Glorot-uniform)."""
        return _core.Network(tuple(input_shape), self.full_layers(input_shape, n_outputs), self.seed, *max_batch)


def summary(net) -> str:
    """The layer table of a native network: kind, output shape, parameters, and the total."""
    rows = [("Input", str(tuple(net.input_shape)), "")]
    rows += [(name, str(tuple(shape)), f"{p:,}") for name, shape, p in net.summary()]
    w0 = max(len(r[0]) for r in rows + [("layer", "", "")]) + 2
    w1 = max(len(r[1]) for r in rows + [("", "output shape", "")]) + 2
    lines = [f"{'layer':<{w0}}{'output shape':<{w1}}params"]
    lines += [f"{a:<{w0}}{b:<{w1}}{c}" for a, b, c in rows]
    lines.append(f"total parameters: {net.n_params:,}")
    return "\n".join(lines)


def prepare_input(net, X, name: str = "X") -> np.ndarray:
    """X as the input of the native network ``net``: float32, (N, C, L) or (N, F), checked
    against its input shape (ValueError naming ``name`` otherwise); not yet input-scaled."""
    x = _as_float32(X, name, (2, 3))
    want = net.input_shape
    if len(want) == 2 and x.ndim == 2:
        x = x.reshape(x.shape[0], 1, x.shape[1])
    if len(want) == 2 and x.shape[1:] != want:
        raise ValueError(f"{name} must have shape (N, {want[0]}, {want[1]})"
                         f"{' or (N, ' + str(want[1]) + ')' if want[0] == 1 else ''}, got {np.shape(X)}")
    if len(want) == 1 and (x.ndim != 2 or x.shape[1:] != want):
        raise ValueError(f"{name} must have shape (N, {want[0]}), got {np.shape(X)}")
    return x
