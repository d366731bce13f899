"""Command-line options the commands share, and the argparse types that check their values.

Options follow kubectl and the official ``az iot ops`` wording: ``--kubeconfig``, ``--context``,
``-n/--namespace`` (the AIO namespace), ``--issuer KIND/NAME``, ``--trust-bundle CONFIGMAP/KEY``,
``--vault-url``, ``--auth``, ``--cloud``, ``--expiring-days WARN/CRIT``, ``--read-only``; the change
commands add ``--dry-run``, ``--yes``, ``--json`` and ``--wait-timeout``. Bad values of ``--cloud``,
``--auth``, ``--vault-url``, ``--request-timeout`` and ``--wait-timeout`` are refused while parsing, in
one line naming the flag, so that no command runs (or writes) with a value it would reject later.

Standard library only (with the equally light :mod:`tui.config` and :mod:`tui.core.text`): every
command's ``arguments`` module uses this to build ``--help``, which must start fast on small edge hosts.
What the flags turn into is :mod:`tui.commands.shared.settings`.
"""

from __future__ import annotations

import argparse
import math
import re

from tui.config import AUTH_MODES, CLOUDS
from tui.core.endpoints import vault_url_problem
from tui.core.text import printable

VAULT_URL_ENV = "AIO_CERTS_VAULT_URL"
VAULT_CA_ENV = "AIO_CERTS_VAULT_CA"
AUTH_ENV = "AIO_CERTS_AUTH"
NAMESPACE_ENV = "AIO_CERTS_NAMESPACE"
ARM_ENDPOINT_ENV = "AIO_CERTS_ARM_ENDPOINT"
ARM_CA_ENV = "AIO_CERTS_ARM_CA"
SUBSCRIPTION_ENV = "AZURE_SUBSCRIPTION_ID"
RESOURCE_GROUP_ENV = "AZURE_RESOURCE_GROUP"
DEFAULT_REQUEST_TIMEOUT = 10.0
DEFAULT_WAIT_TIMEOUT = 60.0
MAX_SECONDS = 86400.0
"""The longest ``--request-timeout`` or ``--wait-timeout`` taken: one day. Beyond that nobody is waiting,
and the socket and clock calls fail on values past the platform's time_t ("timestamp out of range")."""

ENV_HELP = """\
environment:
  KUBECONFIG            kubeconfig file(s), separated by ':'
  AIO_CERTS_VAULT_URL   Key Vault URL, instead of the one named by the SecretProviderClass
  AIO_CERTS_VAULT_CA    CA bundle to verify the vault's TLS certificate with
  AIO_CERTS_AUTH        how to sign in to the vault and ARM (see --auth)
  AIO_CERTS_ARM_ENDPOINT  Azure Resource Manager URL, instead of the one of --cloud
  AIO_CERTS_ARM_CA      CA bundle to verify ARM's TLS certificate with
  AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP
                        where the list resources are when the cluster does not say (see --subscription)
  AIO_CERTS_CONFIG      configuration file (default ~/.config/aio-certs/config.toml)
  AIO_CERTS_STATE_DIR   where the apply journal and audit log live (default ~/.local/state/aio-certs);
                        owner-only, refused when another user could write to it
"""


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """``--kubeconfig`` and ``--context``, as kubectl spells them."""
    group = parser.add_argument_group("cluster connection")
    group.add_argument(
        "--kubeconfig",
        metavar="PATH",
        help="kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)",
    )
    group.add_argument("--context", metavar="NAME", help="kubeconfig context to use (default: current)")
    group.add_argument(
        "--request-timeout",
        metavar="SECONDS",
        type=positive_seconds,
        default=DEFAULT_REQUEST_TIMEOUT,
        help="give up on a request to the API server or the Key Vault after this long, "
        "retries included (default: 10)",
    )


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Namespaces, bring-your-own issuer and trust bundle, expiry thresholds."""
    group = parser.add_argument_group("site")
    group.add_argument(
        "-n",
        "--namespace",
        metavar="NS",
        default=None,
        help="AIO namespace (default: $AIO_CERTS_NAMESPACE, else azure-iot-operations)",
    )
    group.add_argument(
        "--cert-manager-namespace",
        metavar="NS",
        default=None,
        help="cert-manager's cluster resource namespace (default: cert-manager)",
    )
    group.add_argument(
        "--issuer",
        metavar="KIND/NAME",
        help="issuer of a bring-your-own-issuer site when the broker listener does not name it",
    )
    group.add_argument(
        "--trust-bundle",
        metavar="CONFIGMAP/KEY",
        help="trust bundle of a bring-your-own-issuer site when the dataflow endpoint does not name it",
    )
    group.add_argument(
        "--expiring-days",
        metavar="WARN/CRIT",
        default=None,
        help="days before expiry that count as a warning / as critical (default: 30/7)",
    )


def add_vault_arguments(parser: argparse.ArgumentParser) -> None:
    """Key Vault location and sign-in."""
    group = parser.add_argument_group("key vault")
    group.add_argument(
        "--vault-url",
        metavar="URL",
        type=vault_url,
        help=f"Key Vault URL, https:// (default: ${VAULT_URL_ENV}, else from the SecretProviderClass)",
    )
    group.add_argument(
        "--auth",
        metavar="MODE",
        type=auth_mode,
        help=f"how to sign in to the vault: {', '.join(AUTH_MODES)} (default: ${AUTH_ENV} or default)",
    )
    group.add_argument(
        "--cloud",
        metavar="NAME",
        type=cloud_name,
        help="AzureCloud, AzureChinaCloud or AzureUSGovernment (default: the SPC's, else AzureCloud)",
    )


def add_arm_arguments(parser: argparse.ArgumentParser) -> None:
    """Where the ARM resources behind the OPC UA lists are, when the cluster does not say."""
    group = parser.add_argument_group("azure resource manager")
    group.add_argument(
        "--subscription",
        metavar="ID",
        type=subscription_id,
        help="subscription of the list resources (default: the objects' management.azure.com/resourceId, "
        f"else the azure-arc/azure-clusterconfig ConfigMap, else ${SUBSCRIPTION_ENV})",
    )
    group.add_argument(
        "--resource-group",
        metavar="NAME",
        type=resource_group_name,
        help="resource group of the list resources "
        f"(default: as for --subscription, else ${RESOURCE_GROUP_ENV})",
    )


def add_local_only_argument(parser: argparse.ArgumentParser) -> None:
    """``--local-only``: write the cluster copies of ARM-owned list objects instead of refusing."""
    parser.add_argument(
        "--local-only",
        action="store_true",
        help="when Azure Resource Manager owns the list and cannot be written (no credential, 401/403, "
        "unreachable), write the objects on the cluster only; ARM keeps its own copy, so the next "
        "change made with the portal or az iot ops will undo this (recorded in the audit log)",
    )


def add_read_only_argument(parser: argparse.ArgumentParser) -> None:
    """``--read-only``: refuse every write, whatever else is asked."""
    parser.add_argument("--read-only", action="store_true", help="never write to the cluster or the vault")


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """All of the shared options of the commands that read a site."""
    add_connection_arguments(parser)
    add_model_arguments(parser)
    add_vault_arguments(parser)
    add_arm_arguments(parser)
    add_read_only_argument(parser)


def add_change_arguments(parser: argparse.ArgumentParser, *, wait_help: str | None = None) -> None:
    """``--dry-run``, ``--yes``, ``--json``, ``--wait-timeout`` and every shared cluster/vault option."""
    group = parser.add_argument_group("change")
    group.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan (what would be written where) and write nothing",
    )
    group.add_argument(
        "-y",
        "--yes",
        action="store_true",
        help="do not ask for confirmation (needed when stdin is not a terminal)",
    )
    group.add_argument("--json", action="store_true", help="print the plan and the result as JSON")
    group.add_argument(
        "--wait-timeout",
        metavar="SECONDS",
        type=non_negative_seconds,
        default=DEFAULT_WAIT_TIMEOUT,
        help=wait_help
        or "how long to wait for the SecretSync and the synced Secret to show "
        "the change (default: 60; 0 does not wait)",
    )
    add_common_arguments(parser)


def _seconds(text: str) -> float:
    """A finite number of seconds, else ArgumentTypeError (argparse names the flag)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number of seconds, got '{printable(text)}'")
    if value > MAX_SECONDS:
        raise argparse.ArgumentTypeError(
            f"must be at most {MAX_SECONDS:.0f} seconds (one day), got '{printable(text)}'"
        )
    return value


def positive_seconds(text: str) -> float:
    """``argparse`` type of ``--request-timeout``: above 0 and at most a day (``nan``, ``inf``, ``-1``,
    ``1e10`` refused)."""
    value = _seconds(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got '{printable(text)}'")
    return value


def non_negative_seconds(text: str) -> float:
    """``argparse`` type of ``--wait-timeout``: not negative (0 means do not wait), at most a day."""
    value = _seconds(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got '{printable(text)}'")
    return value


_SUBSCRIPTION = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# ARM's rule for resource group names: 1-90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.'.
_RESOURCE_GROUP = re.compile(r"^[-\w.()]{0,89}[-\w()]$")


def subscription_id(text: str) -> str:
    """``argparse`` type of ``--subscription``: a subscription id (a GUID)."""
    value = text.strip()
    if not _SUBSCRIPTION.match(value):
        raise argparse.ArgumentTypeError(f"expected a subscription id (a GUID), got '{printable(text)}'")
    return value.lower()


def resource_group_name(text: str) -> str:
    """``argparse`` type of ``--resource-group``: a valid resource group name."""
    value = text.strip()
    if not _RESOURCE_GROUP.match(value):
        raise argparse.ArgumentTypeError(
            f"expected a resource group name (1-90 letters, digits, -, _, ., ( or ), not ending in .), "
            f"got '{printable(text)}'"
        )
    return value


def cloud_name(text: str) -> str:
    """``argparse`` type of ``--cloud``: one of the Azure clouds, any case, returned as spelled there."""
    cloud = next((c for c in CLOUDS if c.lower() == text.strip().lower()), None)
    if cloud is None:
        raise argparse.ArgumentTypeError(
            f"unknown cloud '{printable(text)}' (expected one of {', '.join(CLOUDS)})"
        )
    return cloud


def auth_mode(text: str) -> str:
    """``argparse`` type of ``--auth``: one of :data:`~tui.config.AUTH_MODES`, any case, returned in
    lower case (as the config file's ``auth`` is)."""
    mode = text.strip().lower()
    if mode not in AUTH_MODES:
        raise argparse.ArgumentTypeError(
            f"unknown sign-in mode '{printable(text)}' (expected one of {', '.join(AUTH_MODES)})"
        )
    return mode


def vault_url(text: str) -> str:
    """``argparse`` type of ``--vault-url``: an https URL with a host (the vault adapter's own rule,
    :func:`~tui.core.endpoints.vault_url_problem`), returned without surrounding blanks."""
    problem = vault_url_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"'{printable(text)}': {problem}")
    return text.strip()
