"""Run measurements in fresh interpreters.

``isolated`` runs one measurement in a fresh interpreter and returns its result with that
process's peak resident memory, so every benchmark row reports its own peak RSS (not the suite's
running max, nor the memory of modules the suite itself imported). ``Worker`` keeps one fresh
interpreter alive across calls, so that two engines can take turns in short bursts, each in its
own warm process (bench_nn's paired ratios).

The child is this file run as a script: it reads (module, function, args, kwargs) pickled on
stdin, imports the module from the benchmarks folder, and writes (result, peak RSS MiB) pickled
on stdout; with --serve it does so until stdin closes.
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
    module = _module_of(fn)
    payload = pickle.dumps((module, fn.__qualname__, args, kwargs))
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve())], input=payload, capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{module}.{fn.__qualname__} failed:\n{proc.stderr.decode(errors='replace')}")
    return pickle.loads(proc.stdout)


def _module_of(fn) -> str:
    module = fn.__module__
    return Path(sys.modules["__main__"].__file__).stem if module == "__main__" else module


class Worker:
    """A fresh interpreter that keeps its state between calls: ``call(fn, *args)`` runs the
    module-level function fn there and returns its result (module globals persist, so one call
    can set up what later calls time). Use as a context manager; the process ends on exit."""

    def __init__(self):
        self._proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--serve"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def call(self, fn, *args, **kwargs):
        pickle.dump((_module_of(fn), fn.__qualname__, args, kwargs), self._proc.stdin)
        self._proc.stdin.flush()
        try:
            ok, value = pickle.load(self._proc.stdout)
        except EOFError:
            raise RuntimeError(f"the worker running {fn.__qualname__} exited "
                               f"(status {self._proc.wait()})") from None
        if not ok:
            raise RuntimeError(f"{fn.__qualname__} failed in the worker:\n{value}")
        return value

    def close(self) -> None:
        self._proc.stdin.close()
        self._proc.wait()
        self._proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _serve(inp, out) -> None:
    import traceback

    while True:
        try:
            module, name, args, kwargs = pickle.load(inp)
        except EOFError:
            return
        try:
            reply = (True, getattr(importlib.import_module(module), name)(*args, **kwargs))
        except Exception:  # reported to the parent, which raises it
            reply = (False, traceback.format_exc())
        pickle.dump(reply, out)
        out.flush()


if __name__ == "__main__":
    from fhn_inverse.study.speed import peak_rss_mb

    sys.path.insert(0, str(HERE))
    if "--serve" in sys.argv[1:]:
        # replies go to the real stdout; anything the functions print goes to stderr
        out = sys.stdout.buffer
        sys.stdout = sys.stderr
        _serve(sys.stdin.buffer, out)
        raise SystemExit(0)
    module, name, args, kwargs = pickle.load(sys.stdin.buffer)
    result = getattr(importlib.import_module(module), name)(*args, **kwargs)
    pickle.dump((result, peak_rss_mb()), sys.stdout.buffer)
