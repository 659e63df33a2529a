"""One writer at a time: an exclusive, non-blocking lock on a lock file beside what is written.

The lock is ``flock`` on the file ``lock_path``; the kernel releases it when its holder exits,
however it exits (kill -9 included), so a lock is never left behind by a dead writer. A second
writer gets an ``OSError`` (errno ``EBUSY``) naming the target and the holder's process ID at
once, rather than waiting or interleaving its rows with the first writer's.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
from typing import Iterator

__all__ = ["exclusive"]


@contextlib.contextmanager
def exclusive(lock_path: str | os.PathLike, target: str | os.PathLike) -> Iterator[None]:
    """Hold the lock ``lock_path`` for a write of ``target`` while the block runs; ``OSError``
    (EBUSY) naming ``target`` if another process (or another call in this one) holds it."""
    lock_path = Path(lock_path)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock, writes stay atomic
        yield
        return
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as e:
        raise type(e)(e.errno, e.strerror, str(target)) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise OSError(errno.EBUSY, f"another writer (process {holder}) is writing it; "
                                       "try again when it has finished", str(target)) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the lock
