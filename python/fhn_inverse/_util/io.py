"""Atomic file writes: a temporary file in the target's folder, flushed and fsynced, then renamed.

A reader of ``path`` sees the previous complete file or the new complete one, never a part, even
if the writer is killed or the disk fills. Written files get the mode ``0o666 & ~umask`` (as
``open`` would give them, unlike ``mkstemp``'s 0600). Temporaries are named
``.{name}.{pid}.{random}.tmp``; those left by processes that no longer run are removed by the
next write of the same target. A write to a symbolic link replaces the file the link points to
(the temporary beside that file), so the link stays a link.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
from pathlib import Path
from typing import IO, Iterator

from .paths import open_regular

__all__ = ["atomic_open", "atomic_write_bytes", "atomic_write_text", "atomic_savez", "atomic_savefig",
           "remove_stale_temporaries", "fsync_dir", "pid_alive"]


def _umask() -> int:
    """The process's umask: from /proc where it is shown, else read by setting and restoring it."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return True
    return True


def remove_stale_temporaries(folder: str | os.PathLike, target: str, *, prefix: bool = False) -> None:
    """Remove the temporaries ``.{target}.{pid}.{random}.tmp`` in ``folder`` whose writing
    process is gone: of ``target`` itself, or with ``prefix`` of every name starting with it."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        parts = entry.name[:-len(".tmp")].rsplit(".", 2) if entry.name.endswith(".tmp") else []
        if len(parts) != 3 or not parts[1].isdigit():
            continue
        name = parts[0][1:] if parts[0].startswith(".") else None
        if name is None or not (name.startswith(target) if prefix else name == target):
            continue
        if pid_alive(int(parts[1])):
            continue
        with contextlib.suppress(OSError):
            os.unlink(entry.path)


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as e:  # some file systems do not sync directories
        if e.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


_MAX_LINKS = 40  # symbolic links followed to a target, as Linux's MAXSYMLINKS


def _link_target(path: Path) -> Path:
    """The file a write to ``path`` replaces: ``path``, or where it is a symbolic link (or a
    chain of them) the file at its end, which need not exist yet (then the write creates it)."""
    target = path
    for _ in range(_MAX_LINKS):
        if not target.is_symlink():
            return target
        target = target.parent / os.readlink(target)  # a relative link is relative to its folder
    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path))


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb", **kwargs) -> Iterator[IO]:
    """Yield a file object writing a temporary beside ``path``; on a clean exit it is flushed,
    fsynced, given the umask's mode and renamed onto ``path`` (then the folder is fsynced); on an
    exception it is removed and the exception re-raised. ``mode`` is "w" or "wb" (text or
    binary); ``kwargs`` go to ``open`` (encoding, newline). Where ``path`` is a symbolic link, the
    file it points to is replaced (the temporary written beside it) and the link kept."""
    if mode not in ("w", "wb", "wt"):
        raise ValueError(f"atomic_open mode must be 'w', 'wt' or 'wb', got {mode!r}")
    path = Path(path)
    target = _link_target(path)
    folder = target.parent if str(target.parent) else Path(".")
    remove_stale_temporaries(folder, target.name)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        tmp = folder / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, flags, 0o600)
            break
        except FileExistsError:
            continue
        except OSError as e:  # name the target, not the temporary (a missing or read-only folder)
            raise type(e)(e.errno, e.strerror, str(path)) from None
    try:
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError) and e.errno is not None and e.filename is None:
            e.filename = str(path)  # a full disk: "[Errno 28] No space left on device: 'path'"
        raise
    fsync_dir(folder)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as f:
        f.write(data)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_open(path, "w", encoding=encoding) as f:
        f.write(text)


def atomic_savez(path: str | os.PathLike, compressed: bool = True, **arrays) -> None:
    """``np.savez_compressed`` (or ``np.savez``) of ``arrays`` to ``path`` atomically; the name is
    used as given (no ".npz" is appended)."""
    import numpy as np

    save = np.savez_compressed if compressed else np.savez
    with atomic_open(path, "wb") as f:
        save(f, **arrays)


def atomic_savefig(fig, path: str | os.PathLike, **kwargs) -> None:
    """``fig.savefig`` to ``path`` atomically; the format is taken from the suffix unless given."""
    path = Path(path)
    if "format" not in kwargs:
        kwargs["format"] = path.suffix.lstrip(".").lower() or None
    with atomic_open(path, "wb") as f:
        fig.savefig(f, **kwargs)


def file_sha256(path) -> str:
    """SHA-256 of a file's bytes, hex, read in blocks of 1 MiB."""
    digest = hashlib.sha256()
    with open_regular(path) as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
