"""``add`` and ``remove`` on one OPC UA list: the body of ``trust`` and of ``issuer``.

``aio-certs trust add FILE... [--secret-name S] [--overwrite]`` uploads each file to Key Vault (hex, as
the official tool) and maps it into the list under its file name; ``aio-certs trust remove NAME...
[--purge]`` takes entries out by file name (the SecretSync targetKey), with ``--purge`` also deleting and
purging their vault secrets. ``issuer`` is the same for the issuer list (CA certificates and CRLs).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from tui.commands.shared.change_flow import run_change
from tui.commands.shared.exits import EXIT_USAGE, Refused
from tui.commands.shared.settings import command_settings, load_user_config
from tui.commands.shared.trail import requested_trail, run_audited
from tui.core.changes.changeset import AddFile, ChangeSet, RemoveEntry
from tui.core.files import UnreadableFile, read_regular_file
from tui.core.text import printable

# Certificates and CRLs are a few kB; Key Vault takes at most 25k characters (about 12 kB of file as hex).
MAX_FILE_BYTES = 1024 * 1024


def run_list_change(args: argparse.Namespace, list_name: str) -> int:
    """Run ``<list_name> add`` or ``<list_name> remove`` as parsed into ``args``; returns the exit status."""
    action = f"{list_name} {args.action}"
    if args.action == "add":
        files: Sequence[str] = args.files
        secret_name, overwrite, target_key = args.secret_name, args.overwrite, args.target_key
        trail = requested_trail(
            action, context=args.context, list_name=list_name, files=files, secrets=[secret_name]
        )

        def build() -> ChangeSet:
            return stage_add(
                list_name, files, secret_name=secret_name, overwrite=overwrite, target_key=target_key
            )
    else:
        names: Sequence[str] = args.names
        purge = args.purge
        trail = requested_trail(action, context=args.context, list_name=list_name, names=names)

        def build() -> ChangeSet:
            return stage_remove(list_name, names, purge=purge)

    return run_audited(
        action,
        trail,
        lambda: run_change(
            command_settings(args, load_user_config()),
            command=action,
            action=action,
            build=build,
            trail=trail,
        ),
    )


def read_file(path_text: str) -> tuple[str, bytes]:
    """``(file name, bytes)`` of one FILE argument; :class:`Refused` (one line naming it) if unreadable.

    Only a regular file is read, and nothing blocks: a FIFO, socket or device is refused at once.
    """
    path = Path(path_text).expanduser()
    try:
        data = read_regular_file(path, limit=MAX_FILE_BYTES, too_large=_too_large)
    except UnreadableFile as exc:
        raise Refused(f"{printable(path_text)}: {exc}") from None
    return path.name, data


def _too_large(size: int | None) -> str:
    return (
        f"{size} bytes is far too large for a certificate or CRL file"
        if size is not None
        else f"over {MAX_FILE_BYTES} bytes, far too large for a certificate or CRL file"
    )


def stage_add(
    list_name: str,
    files: Sequence[str],
    *,
    secret_name: str | None,
    overwrite: bool,
    target_key: str | None = None,
) -> ChangeSet:
    """The change set of ``add``: each file read and staged under its file name (or ``target_key``)."""
    if secret_name is not None and len(files) > 1:
        raise Refused("--secret-name: give one FILE per command when naming its secret", EXIT_USAGE)
    if target_key is not None and len(files) > 1:
        raise Refused("--target-key: give one FILE per command when naming its entry", EXIT_USAGE)
    changes = []
    for path_text in files:
        name, data = read_file(path_text)
        entry = target_key if target_key is not None else name
        changes.append(AddFile(list_name, entry, data, secret_name=secret_name, overwrite=overwrite))
    return ChangeSet.of(changes)


def stage_remove(list_name: str, names: Sequence[str], *, purge: bool) -> ChangeSet:
    """The change set of ``remove``: each entry, by file name, out of the list."""
    return ChangeSet.of(RemoveEntry(list_name, name, purge=purge) for name in names)
