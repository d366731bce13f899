"""Ask before writing: ``question [y/N]`` on stderr, or refuse at once when nobody can answer."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from tui.commands.shared.exits import Refused
from tui.core.text import one_line


def confirm(
    question: str,
    *,
    yes: bool,
    warnings: Sequence[str] = (),
    stdin: TextIO | None = None,
    stderr: TextIO | None = None,
    isatty: Callable[[], bool] | None = None,
) -> None:
    """Print ``warnings``, then ask ``question [y/N]`` on stderr unless ``yes``; raise :class:`Refused`
    on anything but yes.

    Without a terminal on stdin there is nobody to answer: refuse at once (before the warnings, so the
    refusal is the only line) instead of hanging.
    """
    source = stdin or sys.stdin
    out = stderr or sys.stderr
    if not yes:
        interactive = isatty() if isatty is not None else _is_tty(source)
        if not interactive:
            raise Refused(
                "not confirmed: stdin is not a terminal; pass --yes to apply without a prompt "
                "(nothing was changed)"
            )
    for warning in warnings:
        out.write(f"warning: {one_line(warning)}\n")
    if yes:
        out.flush()
        return
    # The question quotes names from the kubeconfig and the journal (a context called
    # "aio\x1b]0;pwned\x07" would retitle the terminal): escaped here whatever the caller did.
    out.write(f"{one_line(question)} [y/N] ")
    out.flush()
    answer = source.readline()
    if answer.strip().lower() not in ("y", "yes"):
        raise Refused("not confirmed; nothing was changed")


def _is_tty(stream: TextIO) -> bool:
    try:
        return os.isatty(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False
