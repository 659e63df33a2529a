"""Run one measurement in a fresh interpreter and return its result with that process's peak
resident memory, so every benchmark row reports its own peak RSS (not the suite's running max,
nor the memory of modules the suite itself imported).

The child is this file run as a script: it reads (module, function, args, kwargs) pickled on
stdin, imports the module from the benchmarks folder, and writes (result, peak RSS MiB) pickled
on stdout.
"""

from __future__ import annotations

import importlib
import pickle
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def isolated(fn, *args, **kwargs):
    """(fn(*args, **kwargs), peak RSS in MiB of the process that ran it); fn must be a
    module-level function of a module in this folder."""
    module = fn.__module__
    if module == "__main__":
        module = Path(sys.modules["__main__"].__file__).stem
    payload = pickle.dumps((module, fn.__qualname__, args, kwargs))
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve())], input=payload, capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{module}.{fn.__qualname__} failed:\n{proc.stderr.decode(errors='replace')}")
    return pickle.loads(proc.stdout)


if __name__ == "__main__":
    from fhn_inverse.speed import peak_rss_mb

    sys.path.insert(0, str(HERE))
    module, name, args, kwargs = pickle.load(sys.stdin.buffer)
    result = getattr(importlib.import_module(module), name)(*args, **kwargs)
    pickle.dump((result, peak_rss_mb()), sys.stdout.buffer)
