"""Print a one-screen health summary of the site's certificates, or the full snapshot with --json.

Reads the cluster once (parallel lists, no watches) and the Key Vault behind the OPC UA lists when it
can be found, then prints what a technician would paste into a ticket: the root CA and its rotation,
the issuers, the OPC UA lists by health, and the top findings.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from tui.commands.common import UsageError, add_common_arguments
from tui.core.text import one_line

if TYPE_CHECKING:
    from tui.core.model.snapshot import VaultSnapshot

EPILOG = """\
exit status (as a monitoring plugin: OK, WARNING, CRITICAL, UNKNOWN):
  0  healthy
  1  warnings (for example a certificate expiring within the warning threshold)
  2  critical findings (expired certificates, failing rotation or sync)
  3  unknown: the cluster could not be reached or read (no kubeconfig, connection refused, credentials
     rejected, an endpoint that is not a Kubernetes API server), bad usage, or an unexpected error;
     one line on stderr, and with --json an object with an "error" field on stdout

environment:
  KUBECONFIG            kubeconfig file(s), separated by ':'
  AIO_CERTS_VAULT_URL   Key Vault URL, instead of the one named by the SecretProviderClass
  AIO_CERTS_VAULT_CA    CA bundle to verify the vault's TLS certificate with
  AIO_CERTS_AUTH        how to sign in to the vault (see --auth)
"""

EXIT_UNREACHABLE = 3
EXIT_USAGE = 3  # UNKNOWN, as monitoring plugins report a usage error: 2 would read as CRITICAL


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``status`` options."""
    parser.add_argument("--json", action="store_true", help="print the full snapshot as JSON")
    parser.add_argument("--no-vault", action="store_true", help="do not read the Key Vault")
    parser.add_argument("--vault-values", action="store_true",
                        help="also fetch every mapped secret's value to compare it with the synced bytes "
                             "(one request per secret; by default only the vault's listing is read)")
    add_common_arguments(parser)
    # Argument errors are UNKNOWN too; tui.cli.Parser calls this instead of exiting 2.
    parser.on_error = _usage_error  # type: ignore[attr-defined]


def _usage_error(message: str, arguments: Sequence[str]) -> int:
    """A bad flag or argument: one line (and the JSON error object under ``--json``), exit 3."""
    return _fail(f"{message} (see aio-certs status --help)", EXIT_USAGE, as_json="--json" in arguments)


class _Background:
    """Run ``reader(None)`` in a daemon thread: an exit (say, cluster unreachable) never waits for it."""

    def __init__(self, reader: Callable[[None], VaultSnapshot | None]) -> None:
        self._result: VaultSnapshot | None = None
        self._done = threading.Event()
        self._reader = reader
        threading.Thread(target=self._run, name="status-vault", daemon=True).start()

    def _run(self) -> None:
        try:
            self._result = self._reader(None)
        finally:
            self._done.set()

    def result(self) -> VaultSnapshot | None:
        """Wait for the read (the reader bounds its own time) and return it."""
        self._done.wait()
        return self._result


def _fail(message: str, code: int, *, as_json: bool = False) -> int:
    """One line on stderr; with ``--json`` also an object whose ``error`` says why there is no report."""
    line = one_line(message)
    if as_json:
        print(json.dumps({"summary": {"health": "unknown", "exit_code": code}, "error": line}, indent=2))
    print(f"aio-certs status: {line}", file=sys.stderr)
    return code


def run(args: argparse.Namespace) -> int:
    """Read the site once, print the summary (or JSON) and return the health as exit status."""
    try:
        return _status(args)
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except Exception as exc:  # a bug must still end in one line, never a traceback over a ticket
        return _fail(f"could not determine the status: {type(exc).__name__}: {exc}".splitlines()[0],
                     EXIT_UNREACHABLE, as_json=bool(getattr(args, "json", False)))


def _status(args: argparse.Namespace) -> int:
    from tui.commands.common import connect_cluster, make_vault_reader, model_settings, vault_settings

    as_json = bool(args.json)
    try:
        settings = model_settings(args)
    except UsageError as exc:
        return _fail(str(exc), EXIT_USAGE, as_json=as_json)

    from tui.cluster.config import ClusterConfigError
    from tui.cluster.oneshot import read_once
    from tui.cluster.watch_set import unreachable_reason
    from tui.core.build.assemble import build_state
    from tui.core.clock import SystemClock
    from tui.core.health.report import exit_code, render_status, state_to_json

    clock = SystemClock()
    try:
        connection = connect_cluster(args)
    except ClusterConfigError as exc:
        return _fail(f"cannot reach the cluster: {exc}", EXIT_UNREACHABLE, as_json=as_json)
    vault_reader = None
    early_vault: _Background | None = None
    try:
        if not args.no_vault:
            vault = vault_settings(args)
            vault_reader = make_vault_reader(vault, clock=clock, quick=True, values=args.vault_values,
                                             timeout=args.request_timeout)
            if vault.url and not args.vault_values:
                # The vault is known up front: list it while the cluster is read and the model built.
                early_vault = _Background(vault_reader)
        timeout = float(args.request_timeout)
        raw = read_once(connection.api_client, settings, clock=clock, timeout=(min(5.0, timeout), timeout))
        reason = unreachable_reason(raw)
        if reason is not None:
            return _fail(f"cannot reach the cluster at {connection.server} (context {connection.context}): "
                         f"{reason}", EXIT_UNREACHABLE, as_json=as_json)
        if early_vault is not None:
            state = build_state(raw, settings=settings, now=clock.now(), vault=early_vault.result())
        else:
            state = build_state(raw, settings=settings, now=clock.now())
            # The vault is named by the SPC the state points at (or values need the mapped names).
            snapshot = vault_reader(state) if vault_reader is not None else None
            if snapshot is not None:
                state = build_state(raw, settings=settings, now=clock.now(), vault=snapshot)
    finally:
        connection.close()

    if args.json:
        print(json.dumps(state_to_json(state), indent=2, sort_keys=False, default=str))
    else:
        width = shutil.get_terminal_size((100, 24)).columns
        print(render_status(state, width=max(60, min(width, 140))))
    return int(exit_code(state))
