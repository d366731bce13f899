"""Reading a file a user names, bounded: only regular files, never a wait on a pipe, socket or device.

``open()`` of a FIFO blocks until a writer appears (forever, if none does), a character device such as
``/dev/zero`` never ends, and a path can be swapped for either between a check and the open. So
:func:`read_regular_file` refuses anything that is not a regular file by ``stat`` first, then opens with
``O_NONBLOCK`` (opening a FIFO that way returns at once) and checks the opened file again with
``fstat`` before reading at most ``limit + 1`` bytes. Every refusal is :class:`UnreadableFile` with a
one-line reason that does not repeat the path: the caller names it.

Only the standard library is used: command modules call this without loading the certificate core.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable

_MiB = 1024 * 1024
# O_NOCTTY: a terminal device swapped in must not become our controlling terminal; O_CLOEXEC: the
# descriptor must not leak into a child process.
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


class UnreadableFile(Exception):
    """The file was not read; ``str()`` is why, in one line, without the path (``no such file``)."""


def not_regular_reason(mode: int) -> str | None:
    """Why a file of this ``st_mode`` is refused, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory"
    for test, what in (
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return f"is {what}, not a regular file"
    return "is not a regular file"


def size_text(size: int) -> str:
    """``4 MiB``, ``5.0 MiB`` from one MiB up (whole MiB without a decimal), else ``1234 bytes``."""
    if size >= _MiB:
        return f"{size // _MiB} MiB" if size % _MiB == 0 else f"{size / _MiB:.1f} MiB"
    return f"{size} bytes"


def _too_large(limit: int) -> Callable[[int | None], str]:
    def reason(size: int | None) -> str:
        if size is None:
            return f"too large (over {size_text(limit)})"
        shown = f"{size / _MiB:.1f} MiB" if size >= _MiB else f"{size} bytes"
        return f"too large ({shown}; limit {size_text(limit)})"

    return reason


def os_reason(exc: OSError) -> str:
    """A one-line, lower-case reason for an OS error: ``no such file``, ``permission denied``..."""
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    if exc.errno == errno.ENXIO:
        # What opening a socket (or a device with no driver) says.
        return "is not a regular file (no such device or address)"
    return f"cannot read ({(exc.strerror or type(exc).__name__).lower()})"


def read_regular_file(
    path: str | os.PathLike[str], *, limit: int, too_large: Callable[[int | None], str] | None = None
) -> bytes:
    """The bytes of the regular file at ``path`` (``~`` not expanded), at most ``limit`` of them.

    Raises :class:`UnreadableFile` for a missing or unreadable path, anything that is not a regular
    file (directory, FIFO, socket, device), and a file over ``limit`` bytes: by its size before reading
    when the size is known, else once ``limit + 1`` bytes were read. ``too_large(size)`` words that
    last reason (``size`` None when only the read found it). Never blocks on a FIFO or a device, even
    one swapped in after the ``stat``.
    """
    reason_for_size = too_large or _too_large(limit)
    try:
        info = os.stat(path)
        _check(info, limit, reason_for_size)
        fd = os.open(path, _OPEN_FLAGS)
        try:
            _check(os.fstat(fd), limit, reason_for_size)
            chunks: list[bytes] = []
            remaining = limit + 1
            while remaining > 0:
                chunk = os.read(fd, min(remaining, 1 << 16))
                if not chunk:
                    break
                chunks.append(chunk)
                remaining -= len(chunk)
        finally:
            os.close(fd)
    except OSError as exc:
        raise UnreadableFile(os_reason(exc)) from None
    data = b"".join(chunks)
    if len(data) > limit:
        raise UnreadableFile(reason_for_size(None))
    return data


def _check(info: os.stat_result, limit: int, too_large: Callable[[int | None], str]) -> None:
    reason = not_regular_reason(info.st_mode)
    if reason is not None:
        raise UnreadableFile(reason)
    if info.st_size > limit:
        raise UnreadableFile(too_large(info.st_size))
