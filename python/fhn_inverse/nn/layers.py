"""Layer specifications of an inverse map: the kinds the native network builds, their fields,
and the check that turns a user's layer (a kind name, or a dict) into the engine's spec."""

from __future__ import annotations

import numbers
from typing import Any

from .._util.validation import as_int

__all__ = ["ACTIVATIONS", "LAYER_KINDS"]

ACTIVATIONS = ("relu", "swish", "silu", "gelu", "tanh", "sigmoid")
LAYER_KINDS = ("dense", "conv1d", "avgpool1d", "maxpool1d", "flatten", "dropout") + ACTIVATIONS
_FIELDS = {
    "dense": {"units"},
    "conv1d": {"filters", "kernel", "stride", "padding"},
    "avgpool1d": {"pool", "stride"},
    "maxpool1d": {"pool", "stride"},
    "dropout": {"rate"},
}


def _check_activation(name, what: str) -> str:
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"{what} must be one of {', '.join(ACTIVATIONS)}; got {name!r}")
    return "swish" if name == "silu" else name


def _positive_int(value, name: str) -> int:
    return as_int(value, name, 1)


def _normalise_layer(layer) -> dict:
    """A layer is a kind string ("flatten", "swish", ...) or a dict with "kind" and its fields."""
    if isinstance(layer, str):
        layer = {"kind": layer}
    if not isinstance(layer, dict) or "kind" not in layer:
        raise ValueError(f"a layer must be a kind name or a dict with a 'kind', got {layer!r}")
    kind = layer["kind"]
    if kind not in LAYER_KINDS:
        raise ValueError(f"layer kind must be one of {', '.join(LAYER_KINDS)}; got {kind!r}")
    allowed = _FIELDS.get(kind, set())
    extra = set(layer) - allowed - {"kind"}
    if extra:
        raise ValueError(f"layer {kind!r} does not take {sorted(extra)}; accepted: {sorted(allowed)}")
    out: dict[str, Any] = {"kind": "swish" if kind == "silu" else kind}
    if kind == "dense":
        out["units"] = _positive_int(layer.get("units"), "units")
    elif kind == "conv1d":
        out["filters"] = _positive_int(layer.get("filters"), "filters")
        out["kernel"] = _positive_int(layer.get("kernel"), "kernel")
        out["stride"] = _positive_int(layer.get("stride", 1), "stride")
        padding = layer.get("padding", "valid")
        if padding not in ("valid", "same"):
            raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
        out["padding"] = padding
    elif kind in ("avgpool1d", "maxpool1d"):
        out["pool"] = _positive_int(layer.get("pool"), "pool")
        out["stride"] = _positive_int(layer.get("stride", out["pool"]), "stride")
    elif kind == "dropout":
        rate = layer.get("rate")
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0.0 <= rate < 1.0:
            raise ValueError(f"dropout rate must be in [0, 1), got {rate!r}")
        out["rate"] = float(rate)
    return out
