"""Opening files to read them without waiting on what is not a file.

A named pipe, a terminal or a device given where a model, data set or config belongs would make
``open`` wait for a writer that never comes (``info``, ``predict`` and ``diagnose`` hung). Files
are opened here without blocking and refused unless they are regular files.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO

__all__ = ["open_regular", "read_regular"]

_KINDS = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def open_regular(path: str | os.PathLike) -> BinaryIO:
    """``path`` opened for binary reading; ValueError naming it if it is not a regular file (a
    named pipe, a device), raised at once; OSError where it cannot be opened (IsADirectoryError
    for a folder, as ``open`` gives)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
            raise ValueError(f"{path}: {kind}, not a file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike, limit: int) -> bytes:
    """The bytes of the regular file ``path`` (as :func:`open_regular`); ValueError naming it if it
    holds more than ``limit`` bytes, before they are read."""
    with open_regular(path) as f:
        size = os.fstat(f.fileno()).st_size
        if size > limit:
            raise ValueError(f"{path}: larger than {limit:,} bytes ({size:,} bytes)")
        return f.read(limit + 1)[:limit]
