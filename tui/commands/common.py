"""Command-line options every cluster-facing command shares, and what they turn into.

Options follow kubectl and the official ``az iot ops`` wording: ``--kubeconfig``, ``--context``,
``-n/--namespace`` (the AIO namespace), ``--issuer KIND/NAME``, ``--trust-bundle CONFIGMAP/KEY``,
``--vault-url``, ``--auth``, ``--cloud``, ``--expiring-days WARN/CRIT``, ``--read-only``.
Only the standard library is imported at module level (see ``tui/cli.py``); the helpers that build
clients import the heavy adapters when called.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tui.core.text import printable

if TYPE_CHECKING:
    from tui.cluster.config import ClusterConnection, ConnectionSettings
    from tui.cluster.live import ClusterFeed, VaultReader
    from tui.core.clock import Clock
    from tui.core.model.settings import ModelSettings
    from tui.core.model.snapshot import VaultSnapshot
    from tui.core.model.state import ClusterState

VAULT_URL_ENV = "AIO_CERTS_VAULT_URL"
VAULT_CA_ENV = "AIO_CERTS_VAULT_CA"
AUTH_ENV = "AIO_CERTS_AUTH"
DEFAULT_CLOUD = "AzureCloud"


class UsageError(ValueError):
    """A flag value is wrong; ``str()`` is one line naming the flag and the reason (exit status 2)."""


@dataclass(frozen=True)
class VaultSettings:
    """Where the Key Vault is and how to sign in; None fields fall back to the environment or the SPC."""

    url: str | None = None  # --vault-url, else AIO_CERTS_VAULT_URL, else derived from the SPC
    auth: str | None = None  # --auth, else AIO_CERTS_AUTH, else "default"
    cloud: str | None = None  # --cloud, else the SPC's cloudName, else AzureCloud
    ca_bundle: str | None = None  # AIO_CERTS_VAULT_CA


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """``--kubeconfig`` and ``--context``, as kubectl spells them."""
    group = parser.add_argument_group("cluster connection")
    group.add_argument("--kubeconfig", metavar="PATH",
                       help="kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)")
    group.add_argument("--context", metavar="NAME", help="kubeconfig context to use (default: current)")
    group.add_argument("--request-timeout", metavar="SECONDS", type=positive_seconds, default=10.0,
                       help="give up on a request to the API server or the Key Vault after this long, "
                            "retries included (default: 10)")


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Namespaces, bring-your-own issuer and trust bundle, expiry thresholds."""
    group = parser.add_argument_group("site")
    group.add_argument("-n", "--namespace", metavar="NS", default=None,
                       help="AIO namespace (default: $AIO_CERTS_NAMESPACE, else azure-iot-operations)")
    group.add_argument("--cert-manager-namespace", metavar="NS", default=None,
                       help="cert-manager's cluster resource namespace (default: cert-manager)")
    group.add_argument("--issuer", metavar="KIND/NAME",
                       help="issuer of a bring-your-own-issuer site when the broker listener does not "
                            "name it")
    group.add_argument("--trust-bundle", metavar="CONFIGMAP/KEY",
                       help="trust bundle of a bring-your-own-issuer site when the dataflow endpoint "
                            "does not name it")
    group.add_argument("--expiring-days", metavar="WARN/CRIT", default=None,
                       help="days before expiry that count as a warning / as critical (default: 30/7)")


def add_vault_arguments(parser: argparse.ArgumentParser) -> None:
    """Key Vault location and sign-in."""
    group = parser.add_argument_group("key vault")
    group.add_argument("--vault-url", metavar="URL",
                       help=f"Key Vault URL (default: ${VAULT_URL_ENV}, else from the SecretProviderClass)")
    group.add_argument("--auth", metavar="MODE",
                       help=f"how to sign in to the vault: default, cli, managed-identity, device-code, "
                            f"workload-identity, demo (default: ${AUTH_ENV} or default)")
    group.add_argument("--cloud", metavar="NAME", type=cloud_name,
                       help="AzureCloud, AzureChinaCloud or AzureUSGovernment (default: the SPC's, else "
                            "AzureCloud)")


def _seconds(text: str) -> float:
    """A finite number of seconds, else ArgumentTypeError (argparse names the flag)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number of seconds, got '{printable(text)}'")
    return value


def positive_seconds(text: str) -> float:
    """``argparse`` type of ``--request-timeout``: finite and above 0 (``nan``, ``inf``, ``-1`` refused)."""
    value = _seconds(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got '{printable(text)}'")
    return value


def non_negative_seconds(text: str) -> float:
    """``argparse`` type of ``--wait-timeout``: finite and not negative (0 means do not wait)."""
    value = _seconds(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got '{printable(text)}'")
    return value


def cloud_name(text: str) -> str:
    """``argparse`` type of ``--cloud``: one of the Azure clouds, any case, returned as spelled there."""
    from tui.config import CLOUDS

    cloud = next((c for c in CLOUDS if c.lower() == text.strip().lower()), None)
    if cloud is None:
        raise argparse.ArgumentTypeError(f"unknown cloud '{printable(text)}' (expected one of "
                                         f"{', '.join(CLOUDS)})")
    return cloud


def add_read_only_argument(parser: argparse.ArgumentParser) -> None:
    """``--read-only``: refuse every write, whatever else is asked."""
    parser.add_argument("--read-only", action="store_true",
                        help="never write to the cluster or the vault")


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """All of the shared options."""
    add_connection_arguments(parser)
    add_model_arguments(parser)
    add_vault_arguments(parser)
    add_read_only_argument(parser)


def parse_expiring_days(text: str) -> tuple[int, int]:
    """Parse ``--expiring-days WARN/CRIT`` (``30/7``) into two non-negative integers."""
    warn, sep, crit = text.strip().partition("/")
    try:
        if not sep:
            raise ValueError
        values = int(warn), int(crit)
    except ValueError:
        raise UsageError(f"--expiring-days: expected WARN/CRIT in days such as 30/7, got {text!r}") from None
    if min(values) < 0:
        raise UsageError(f"--expiring-days: days must not be negative, got {text!r}")
    if values[1] > values[0]:
        raise UsageError(f"--expiring-days: critical ({values[1]}) must not exceed warning ({values[0]})")
    return values


def model_settings(args: argparse.Namespace) -> ModelSettings:
    """Turn the parsed site options into :class:`~tui.core.model.settings.ModelSettings`.

    Raises :class:`UsageError` (one line naming the flag) on a bad value.
    """
    from tui.core.model.settings import (
        ModelSettings,
        parse_issuer_flag,
        parse_namespace,
        parse_trust_bundle_flag,
    )

    fields: dict[str, Any] = {}
    try:
        # The flag wins; AIO_CERTS_NAMESPACE lets `source DIR/env` of a demo seeded under another
        # namespace point every command at it without repeating -n.
        namespace = getattr(args, "namespace", None) or os.environ.get("AIO_CERTS_NAMESPACE")
        if namespace:
            fields["namespace"] = parse_namespace(namespace)
        if getattr(args, "issuer", None):
            fields["issuer_override"] = parse_issuer_flag(args.issuer)
        if getattr(args, "trust_bundle", None):
            fields["trust_bundle_override"] = parse_trust_bundle_flag(args.trust_bundle)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if getattr(args, "cert_manager_namespace", None):
        try:
            fields["cert_manager_namespace"] = parse_namespace(args.cert_manager_namespace)
        except ValueError:
            raise UsageError(f"--cert-manager-namespace: {args.cert_manager_namespace!r} is not a valid "
                             "namespace name") from None
    if getattr(args, "expiring_days", None):
        warn, critical = parse_expiring_days(args.expiring_days)
        fields["expiring_warn_days"], fields["expiring_critical_days"] = warn, critical
    try:
        return ModelSettings(**fields)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def connection_settings(args: argparse.Namespace) -> ConnectionSettings:
    """``--kubeconfig`` / ``--context`` as :class:`~tui.cluster.config.ConnectionSettings`."""
    from tui.cluster.config import ConnectionSettings

    return ConnectionSettings(kubeconfig=getattr(args, "kubeconfig", None),
                              context=getattr(args, "context", None))


def vault_settings(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> VaultSettings:
    """Vault options with their environment fallbacks (flags win)."""
    env = os.environ if environ is None else environ
    return VaultSettings(
        url=getattr(args, "vault_url", None) or env.get(VAULT_URL_ENV, "").strip() or None,
        auth=getattr(args, "auth", None) or env.get(AUTH_ENV, "").strip() or None,
        cloud=getattr(args, "cloud", None),
        ca_bundle=env.get(VAULT_CA_ENV, "").strip() or None,
    )


def connect_cluster(args: argparse.Namespace) -> ClusterConnection:
    """Open the cluster connection for the parsed options; raises ``ClusterConfigError`` (one line)."""
    from tui.cluster.config import connect

    return connect(connection_settings(args))


def vault_target(settings: VaultSettings, state: ClusterState | None) -> tuple[str | None, tuple[str, ...]]:
    """The vault URL to read and the secret names whose values matter, for the latest state.

    The URL comes from ``--vault-url``/``AIO_CERTS_VAULT_URL``, else from the keyvaultName of the SPC the
    OPC UA lists use (with ``--cloud`` or the SPC's cloudName). Values are read only for the objects that
    SPC maps; everything else is listed without values. ``(None, ())`` when no vault is known.
    """
    from tui.vault.client import vault_url_for

    spc = None
    if state is not None:
        spc = next((s for s in state.spcs if s.name == state.opcua_spc), None)
    names = tuple(o.object_name for o in spc.objects) if spc is not None else ()
    if settings.url:
        return settings.url, names
    if spc is None or not spc.keyvault_name:
        return None, names
    cloud = settings.cloud or spc.cloud_name or DEFAULT_CLOUD
    return vault_url_for(spc.keyvault_name, cloud, env={}), names


FULL_READ_EVERY = timedelta(minutes=10)
"""How long timed re-reads of a vault may reuse unchanged values before every value is read again."""


def make_vault_reader(settings: VaultSettings, *, clock: Clock, quick: bool = False, values: bool = True,
                      timeout: float | None = None) -> VaultReader:
    """A function reading the vault for a state (see :func:`vault_target`); never raises.

    One SecretClient is kept per vault URL. An ``incremental`` read reuses the values of secrets whose
    ``updated_on`` and content type did not change since the last complete read of that vault, for up to
    :data:`FULL_READ_EVERY`; other reads fetch every value. ``quick`` makes the client give up sooner
    (for one-shot commands such as ``status``); ``values=False`` lists the secrets' properties without
    fetching any value (one request per page instead of one per secret: presence, content type and
    expiry, but not whether the synced bytes equal the vault's). ``timeout`` (``--request-timeout``)
    bounds every vault call, retries included.
    """
    from tui.core.model.snapshot import AreaState, ResourceStatus, VaultSnapshot

    clients: dict[str, Any] = {}
    timeouts: dict[str, Any] = ({"retry_total": 1, "connection_timeout": 5.0, "read_timeout": 15.0}
                                if quick else {})
    if timeout is not None:
        timeouts["timeout"] = timeout
    # Per vault URL: the last complete snapshot, and when all of its values were last read.
    last: dict[str, tuple[VaultSnapshot, datetime]] = {}

    def read(state: ClusterState | None, *, incremental: bool = False,
             on_listed: Callable[[VaultSnapshot], None] | None = None) -> VaultSnapshot | None:
        # Imported on first read (the feed's vault thread, after the first cluster state): the Azure SDK
        # takes ~0.1 s to import, which would otherwise delay the dashboard's first frame.
        from tui.vault.client import make_secret_client
        from tui.vault.errors import classify
        from tui.vault.reader import read_vault_snapshot

        url = None
        try:
            url, names = vault_target(settings, state)
            if url is None:
                return None
            client = clients.get(url)
            if client is None:
                client = make_secret_client(url, auth=settings.auth, ca_bundle=settings.ca_bundle, **timeouts)
                clients[url] = client
        except Exception as exc:  # bad URL, CA file or auth mode: a vault status, never a crash
            area_state, message = classify(exc)
            now = clock.now()
            return VaultSnapshot(url or "", ResourceStatus(area_state, message, now), taken_at=now)
        previous, full_at = last.get(url, (None, None))
        now = clock.now()
        if not incremental or full_at is None or now - full_at >= FULL_READ_EVERY:
            previous = None  # every value now and then: the service's timestamps have 1 s resolution
        snapshot = read_vault_snapshot(client, names=names if values else (), clock=clock, previous=previous,
                                       on_listed=on_listed)
        if snapshot.status.state is AreaState.OK:
            last[url] = (snapshot, full_at if previous is not None and full_at is not None else now)
        else:
            last.pop(url, None)
        return snapshot

    return read


def open_feed(args: argparse.Namespace, *,
              clock: Clock | None = None) -> tuple[ClusterConnection, ClusterFeed]:
    """Connect and build (not start) the live feed for the parsed options.

    Raises ``ClusterConfigError`` or :class:`UsageError`, each one line.
    """
    from tui.cluster.live import ClusterFeed
    from tui.core.clock import SystemClock

    settings = model_settings(args)
    clk = clock or SystemClock()
    connection = connect_cluster(args)
    reader = make_vault_reader(vault_settings(args), clock=clk,
                               timeout=getattr(args, "request_timeout", None))
    return connection, ClusterFeed(connection.api_client, settings, clock=clk, vault_reader=reader)
