"""``aio-certs status`` arguments, help and exit statuses (standard library only; run by :mod:`.run`).

A usage error is UNKNOWN (exit 3) here, with the JSON error object under ``--json``, as a monitoring
plugin reports it: :func:`fail` is shared by the parser and the run.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from tui.commands.shared.options import add_common_arguments
from tui.core.text import one_line

EPILOG = """\
exit status (as a monitoring plugin: OK, WARNING, CRITICAL, UNKNOWN):
  0  healthy
  1  warnings (for example a certificate expiring within the warning threshold)
  2  critical findings (expired certificates, failing rotation or sync)
  3  unknown: the cluster could not be reached or read (no kubeconfig, connection refused, credentials
     rejected, an endpoint that is not a Kubernetes API server), bad usage (a bad flag value, an
     unusable config file), or an unexpected error;
     one line on stderr, and with --json an object with an "error" field on stdout

environment:
  KUBECONFIG            kubeconfig file(s), separated by ':'
  AIO_CERTS_VAULT_URL   Key Vault URL, instead of the one named by the SecretProviderClass
  AIO_CERTS_VAULT_CA    CA bundle to verify the vault's TLS certificate with
  AIO_CERTS_AUTH        how to sign in to the vault (see --auth)
  AIO_CERTS_CONFIG      configuration file (default ~/.config/aio-certs/config.toml); its auth, cloud
                        and expiring_days apply unless a flag says otherwise
"""

EXIT_UNREACHABLE = 3
EXIT_USAGE = 3  # UNKNOWN, as monitoring plugins report a usage error: 2 would read as CRITICAL


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``status`` options."""
    parser.add_argument("--json", action="store_true", help="print the full snapshot as JSON")
    parser.add_argument("--no-vault", action="store_true", help="do not read the Key Vault")
    parser.add_argument(
        "--all",
        action="store_true",
        dest="all_findings",
        help="list every finding (by default the first 10, and how many more there are)",
    )
    parser.add_argument(
        "--vault-values",
        action="store_true",
        help="also fetch every mapped secret's value to compare it with the synced bytes "
        "(one request per secret; by default only the vault's listing is read, and the values of a list "
        "whose synced Secret does not exist, the only record of what it holds)",
    )
    add_common_arguments(parser)
    # Argument errors are UNKNOWN too; tui.cli.Parser calls this instead of exiting 2.
    parser.on_error = _usage_error  # type: ignore[attr-defined]


def _usage_error(message: str, arguments: Sequence[str]) -> int:
    """A bad flag or argument: one line (and the JSON error object under ``--json``), exit 3."""
    return fail(f"{message} (see aio-certs status --help)", EXIT_USAGE, as_json="--json" in arguments)


def fail(message: str, code: int, *, as_json: bool = False) -> int:
    """One line on stderr; with ``--json`` also an object whose ``error`` says why there is no report."""
    line = one_line(message)
    if as_json:
        print(json.dumps({"summary": {"health": "unknown", "exit_code": code}, "error": line}, indent=2))
    print(f"aio-certs status: {line}", file=sys.stderr)
    return code
