"""The public API as a plain record: every name of ``fhn_inverse.__all__`` and, for each, what
a user can call on it (a class's public attributes, a function's parameters, a module's
``__all__``), and the same for the public subpackages. ``test_public_api.py`` checks that
everything in the pinned record (``data/public_api.json``) is still there.

Run ``python tests/python/public_api.py > tests/python/data/public_api.json`` to re-pin after a
deliberate addition (removals must be deliberate too: they break users' code)."""

import inspect
import json
import types

#: Subpackages and modules whose ``__all__`` users import from by dotted path.
PUBLIC_MODULES = ["fhn_inverse", "fhn_inverse.nn", "fhn_inverse.metrics", "fhn_inverse.diagnostics",
                  "fhn_inverse.streams"]


def _parameters(obj):
    try:
        return [p.name for p in inspect.signature(obj).parameters.values()]
    except (TypeError, ValueError):
        return None


def describe(obj):
    """What a user reaches through ``obj``: a class's public members (methods with their
    parameters), a function's parameters, a module's ``__all__``, or a constant's type."""
    if isinstance(obj, types.ModuleType):
        return {"kind": "module", "names": sorted(getattr(obj, "__all__", []))}
    if inspect.isclass(obj):
        members = {}
        for name, value in inspect.getmembers(obj):
            if name.startswith("_") and name != "__init__":
                continue
            if callable(value) and not inspect.isclass(value):
                members[name] = _parameters(value)
            else:
                members[name] = None
        return {"kind": "class", "members": members}
    if callable(obj):
        return {"kind": "function", "parameters": _parameters(obj)}
    return {"kind": "value", "type": type(obj).__name__}


def record():
    import importlib

    out = {}
    for modname in PUBLIC_MODULES:
        module = importlib.import_module(modname) if modname == "fhn_inverse" else None
        if module is None:
            import fhn_inverse

            module = fhn_inverse
            for part in modname.split(".")[1:]:
                module = getattr(module, part)
        out[modname] = {name: describe(getattr(module, name)) for name in sorted(module.__all__)}
    return out


if __name__ == "__main__":
    print(json.dumps(record(), indent=1, sort_keys=True))
