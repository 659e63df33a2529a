"""Ctrl-C at safe points: a block during which a KeyboardInterrupt is held back and raised after it."""

from __future__ import annotations

import contextlib
import signal
import threading

__all__ = ["interrupts_held"]


@contextlib.contextmanager
def interrupts_held():
    """Ctrl-C held back for the block, then raised: for a progress bar's updates between native
    steps. tqdm takes a multiprocessing lock and then a thread lock; a KeyboardInterrupt raised
    between the two (Python raises it at whatever line runs when the signal comes) leaves the first
    held, and tqdm's monitor thread, or the next bar, then waits for it forever. Outside the main
    thread (where signals are not handled) the block runs as it is.

    Examples
    --------
    >>> import os, signal
    >>> from fhn_inverse._util.signals import interrupts_held
    >>> steps = []
    >>> try:
    ...     with interrupts_held():
    ...         os.kill(os.getpid(), signal.SIGINT)
    ...         steps.append("the block ran to its end")
    ... except KeyboardInterrupt:
    ...     steps.append("then Ctrl-C")
    >>> steps
    ['the block ran to its end', 'then Ctrl-C']
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        if callable(previous):  # (Python's own handler raises KeyboardInterrupt)
            previous(signal.SIGINT, None)
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt
