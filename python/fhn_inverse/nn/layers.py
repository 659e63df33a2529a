"""Layer specifications of an inverse map: the kinds the native network builds (the core's list,
``_core.layer_kinds()``: the built-in kinds, then those registered in C++ with
``nn::register_layer``), their fields, and the check that turns a user's layer (a kind name, or a
dict) into the engine's spec."""

from __future__ import annotations

import numbers
from typing import Any

from .. import _core
from .._util.validation import as_int

__all__ = ["ACTIVATIONS", "LAYER_KINDS", "LAYER_FIELDS"]

ACTIVATIONS = ("relu", "swish", "silu", "gelu", "tanh", "sigmoid")
#: kind -> the spec fields it reads, as the core lists them
LAYER_FIELDS = {kind: tuple(fields) for kind, fields in _core.layer_kinds()}
LAYER_KINDS = tuple(LAYER_FIELDS)
_BUILT_IN = ("dense", "conv1d", "avgpool1d", "maxpool1d", "flatten", "dropout") + ACTIVATIONS


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
    allowed = set(LAYER_FIELDS[kind])
    extra = set(layer) - allowed - {"kind"}
    if extra:
        raise ValueError(f"layer {kind!r} does not take {sorted(extra)}; accepted: {sorted(allowed)}")
    out: dict[str, Any] = {"kind": "swish" if kind == "silu" else kind}
    if kind not in _BUILT_IN:
        return _registered_layer(kind, layer, out)
    if kind == "dense":
        out["units"] = _positive_int(layer.get("units"), "units")
    elif kind == "conv1d":
        out["filters"] = _positive_int(layer.get("filters"), "filters")
        out["kernel"] = _positive_int(layer.get("kernel"), "kernel")
        out["stride"] = _positive_int(layer.get("stride", 1), "stride")
        padding = layer.get("padding", "valid")
        out["padding"] = _padding(padding)
    elif kind in ("avgpool1d", "maxpool1d"):
        out["pool"] = _positive_int(layer.get("pool"), "pool")
        out["stride"] = _positive_int(layer.get("stride", out["pool"]), "stride")
    elif kind == "dropout":
        out["rate"] = _rate(layer.get("rate"), "dropout rate")
    return out


def _padding(padding) -> str:
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    return padding


def _rate(rate, what: str) -> float:
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0.0 <= rate < 1.0:
        raise ValueError(f"{what} must be in [0, 1), got {rate!r}")
    return float(rate)


def _registered_layer(kind: str, layer: dict, out: dict) -> dict:
    """A kind registered in C++: each of its fields checked as the built-in kinds check theirs; units,
    filters, kernel, pool and rate are required, stride (default: the layer's own) and padding
    (default "valid") optional."""
    for field in LAYER_FIELDS[kind]:
        value = layer.get(field)
        if value is None and field not in ("stride", "padding"):
            raise ValueError(f"layer {kind!r} needs {field!r}; it takes {', '.join(LAYER_FIELDS[kind])}")
        if field == "padding":
            out[field] = _padding(layer.get(field, "valid"))
        elif field == "rate":
            out[field] = _rate(value, f"layer {kind!r}: rate")
        elif field != "stride" or value is not None:
            out[field] = _positive_int(value, f"layer {kind!r}: {field}")
    return out
