"""Deterministic cluster states for the dashboard tests and snapshots.

A quickstart AIO site (``tests.rawobjects``) with a realistic pair of OPC UA lists built by
``tests.certgen`` from EC keys only (ECDSA signs deterministically, so thumbprints never change between
runs): healthy PLCs and gateways, an expired one, two expiring ones, one not yet valid, a duplicate, and
an issuer list with two CAs, one CRL current and one stale, and a CA without CRL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tests import armobjects, certgen, rawobjects
from tests.rawobjects import Site
from tui.core.build.assemble import build_state
from tui.core.model import resources as rk
from tui.core.model.arm import ArmKind, ArmSnapshot
from tui.core.model.names import (
    CERT_MANAGER_NAMESPACE,
    ISSUER_LIST_SYNC,
    OPCUA_SPC,
    QUICKSTART_CA_COMMON_NAME,
    ROOT_CA_SECRET,
    TRUST_LIST_SYNC,
)
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import AreaState, ResourceStatus
from tui.core.model.state import ClusterState

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
"""The frozen time every test state is built at."""

CA_LIFETIME = timedelta(days=90)
RENEW_BEFORE = timedelta(days=30)


def root_ca(now: datetime = NOW, generation: int = 1) -> certgen.Issued:
    """The quickstart root CA of one generation (each rotation is a new one, issued at ``now``)."""
    age = timedelta(days=30) if generation == 1 else timedelta(0)
    return certgen.make_ca(
        QUICKSTART_CA_COMMON_NAME,
        key="ec",
        not_before=now - age,
        not_after=now - age + CA_LIFETIME,
        serial=0x1000 + generation,
        subject=certgen.name(QUICKSTART_CA_COMMON_NAME),
    )


@dataclass(frozen=True)
class OpcUaFiles:
    """File name -> bytes for both lists."""

    trust: dict[str, bytes]
    issuer: dict[str, bytes]


def opcua_files(now: datetime = NOW) -> OpcUaFiles:
    """The OPC UA trust and issuer lists of the test site."""
    day = timedelta(days=1)
    site_ca = certgen.make_ca("Contoso Site Issuing CA", not_before=now - 400 * day, days=3650)
    vendor_ca = certgen.make_ca("Fabrikam Vendor CA", not_before=now - 800 * day, days=3650)
    lone_ca = certgen.make_ca("Northwind Lab CA", not_before=now - 100 * day, days=1000)

    def leaf(cn: str, issuer: certgen.Issued | None, start_days: float, days: float) -> bytes:
        uri = f"urn:{cn.lower().replace(' ', '-')}:opcua"
        return certgen.make_leaf(
            issuer,
            cn,
            uris=(uri,),
            dns=(f"{cn.lower().replace(' ', '-')}.local",),
            not_before=now + start_days * day,
            days=days,
        ).der

    plc1 = leaf("PLC Line 1", site_ca, -200, 730)
    trust = {
        "plc-line1.der": plc1,
        "plc-line2.der": leaf("PLC Line 2", site_ca, -150, 730),
        "gateway-north.der": leaf("Gateway North", None, -50, 1095),
        "historian.der": leaf("Historian", vendor_ca, -300, 1095),
        "hmi-panel-07.der": leaf("HMI Panel 07", None, -10, 365),
        "scada-server.der": leaf("SCADA Server", site_ca, -20, 825),
        "plc-expired.der": leaf("PLC Retired", site_ca, -400, 390),
        "sensor-hub.der": leaf("Sensor Hub", None, -362, 365),
        "mes-connector.der": leaf("MES Connector", vendor_ca, -345, 365),
        "robot-cell-3.der": leaf("Robot Cell 3", None, 5, 365),
        "plc-line1-copy.der": plc1,
    }
    issuer = {
        "contoso-site-ca.der": site_ca.der,
        "contoso-site-ca.crl": certgen.make_crl(
            site_ca, revoked=(), this_update=now - 2 * day, next_update=now + 5 * day
        ).der,
        "fabrikam-vendor-ca.der": vendor_ca.der,
        "fabrikam-vendor-ca.crl": certgen.make_crl(
            vendor_ca, this_update=now - 20 * day, next_update=now - 13 * day
        ).der,
        "northwind-lab-ca.der": lone_ca.der,
    }
    return OpcUaFiles(trust, issuer)


def make_site(now: datetime = NOW, *, generation: int = 1, files: OpcUaFiles | None = None) -> Site:
    """The whole raw site with the root CA of ``generation`` (revision = generation)."""
    files = files or opcua_files(now)
    ca = root_ca(now, generation)
    return rawobjects.quickstart_site(
        now,
        ca=ca,
        trust=files.trust,
        issuer_list=files.issuer,
        ca_revision=generation,
        ca_duration=CA_LIFETIME,
        renew_before=RENEW_BEFORE,
    )


def build(
    site: Site,
    now: datetime = NOW,
    *,
    previous: ClusterState | None = None,
    vault: bool = True,
    settings: ModelSettings | None = None,
    arm: ArmSnapshot | None = None,
) -> ClusterState:
    """The ClusterState of ``site`` at ``now`` (with the vault read, unless ``vault`` is False, and
    ARM's side when ``arm`` is given)."""
    return build_state(
        site.snapshot(now),
        settings=settings or ModelSettings(),
        now=now,
        vault=site.vault_snapshot() if vault else None,
        previous=previous,
        arm=arm,
    )


def arm_owned_site(now: datetime = NOW) -> Site:
    """The steady site with its SPC and SecretSyncs projected from ARM (docs/domain.md §9.2)."""
    site = make_site(now)
    for kind, arm_kind, name in (
        (rk.SECRET_SYNCS, ArmKind.SECRET_SYNC, TRUST_LIST_SYNC),
        (rk.SECRET_SYNCS, ArmKind.SECRET_SYNC, ISSUER_LIST_SYNC),
        (rk.SECRET_PROVIDER_CLASSES, ArmKind.SPC, OPCUA_SPC),
    ):
        site.add(kind, armobjects.annotated(site.get(kind, site.namespace, name), arm_kind))
    return site


def arm_in_step(site: Site, *, drop_trust: Iterable[str] = ()) -> ArmSnapshot:
    """ARM holding the site's lists as the cluster does, less the trust files ``drop_trust`` (what a
    ``--local-only`` add leaves: mapped on the cluster only)."""
    dropped = set(drop_trust)
    resources = []
    for name in (TRUST_LIST_SYNC, ISSUER_LIST_SYNC):
        sync = site.get(rk.SECRET_SYNCS, site.namespace, name)
        mappings = [
            (item["sourcePath"], item["targetKey"])
            for item in sync["spec"]["secretObject"]["data"]
            if item["targetKey"] not in dropped
        ]
        resources.append(armobjects.arm_sync(name, OPCUA_SPC, mappings))
    spc = site.get(rk.SECRET_PROVIDER_CLASSES, site.namespace, OPCUA_SPC)
    resources.append(armobjects.arm_spc(OPCUA_SPC, objects_text=spc["spec"]["parameters"]["objects"]))
    return armobjects.snapshot(*resources)


def steady_state(now: datetime = NOW) -> ClusterState:
    """The healthy-apart-from-the-certificates site, vault read."""
    return build(make_site(now), now)


def rotated_state(
    previous: ClusterState, now: datetime, *, generation: int = 2, extra_trust: dict[str, bytes] | None = None
) -> ClusterState:
    """The site after the root CA rotated to ``generation`` at ``now``: the bundle holds the new CA only,
    as trust-manager rebuilds it from its current source (docs/domain.md §4.3)."""
    files = opcua_files(NOW)
    if extra_trust:
        files = OpcUaFiles({**files.trust, **extra_trust}, files.issuer)
    site = make_site(now, generation=generation, files=files)
    return build(site, now, previous=previous)


def reconnecting_state(state_site: Site, now: datetime, since: datetime) -> ClusterState:
    """The site as seen while the watches are broken and retrying since ``since``."""
    for kind in rk.ALL_KINDS:
        state_site.states[kind.key] = ResourceStatus(AreaState.RECONNECTING, "connection refused", since)
    return build(state_site, now)


def forbidden_secrets_state(now: datetime = NOW) -> ClusterState:
    """Secrets are forbidden (RBAC): the root CA and OPC UA areas cannot be read."""
    site = make_site(now)
    site.set_state(rk.SECRETS, AreaState.FORBIDDEN, "secrets is forbidden: User cannot list secrets")
    return build(site, now)


def root_ca_secret_key() -> str:
    """Key of the root CA secret, as the Root CA pane shows it."""
    return f"{CERT_MANAGER_NAMESPACE}/{ROOT_CA_SECRET}"


def many_entries_state(count: int, now: datetime = NOW) -> ClusterState:
    """A site with ``count`` extra trust entries (distinct self-signed leaves) for scale tests."""
    files = opcua_files(now)
    extra = {
        f"device-{index:05d}.der": certgen.make_leaf(
            None, f"Device {index:05d}", not_before=now - timedelta(days=10), days=30 + index % 700
        ).der
        for index in range(count)
    }
    return build(make_site(now, files=OpcUaFiles({**files.trust, **extra}, files.issuer)), now)
