"""Seed: the OPC UA certificate lists, in Key Vault and on the cluster (docs/domain.md §2.5, §5-§7).

A plant with PLCs, gateways, historians and an MES connector. Each file is uploaded to the vault the way
``az iot ops connector opcua trust|issuer add`` does (whole file hex-encoded, tag ``file-encoding=hex``,
content type by extension, secret name = file name with dots as dashes), listed in the
``opc-ua-connector`` SecretProviderClass and mapped by a SecretSync. The set is chosen to exercise every
finding: expired, expiring within 7 and 30 days, not yet valid, a duplicate thumbprint under two names,
CAs with a fresh and a stale CRL, a CA without a CRL.

The SPCs and SecretSyncs are ARM resources projected onto the cluster, as the official tooling creates
them (docs/domain.md §9), unless the site is seeded with cluster-only lists.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tui.core.model.arm import ArmKind
from tui.core.model.names import (
    ISSUER_LIST_SYNC,
    LIST_ISSUER,
    LIST_TRUST,
    OPCUA_SPC,
    TRUST_LIST_SYNC,
)
from tui.core.model.spc import cli_object, serialize_objects
from tui.demo.arm.shapes import ArmSeed, cluster_copy, secret_sync_properties, spc_properties
from tui.demo.arm.site import ArmSite
from tui.demo.seed.aio import (
    FILE_ENCODING_TAG,
    content_type_for,
    secret_name_for,
    secret_provider_class,
    secret_sync,
)
from tui.demo.seed.keys import ec_key, rsa_key
from tui.demo.seed.trust import SeedContext
from tui.demo.seed.x509 import (
    CLIENT_AUTH,
    SERVER_AUTH,
    Issued,
    SigningKey,
    build_ca,
    build_crl,
    build_leaf,
    name,
)

ORG = "Contoso Manufacturing"
SITE_DOMAIN = "plant1.contoso.local"
PLANT = "Plant 1"


@dataclass(frozen=True)
class VaultSeed:
    """One Key Vault secret to create: the hex of a file, with the CLI's content type and tag."""

    name: str
    value: str
    content_type: str
    tags: dict[str, str]


@dataclass(frozen=True)
class OpcuaEntry:
    """One seeded file of an OPC UA list, with the health the dashboard should report for it."""

    list_name: str
    """``trust`` or ``issuer``."""
    target_key: str
    """File name: the SecretSync targetKey and the key in the synced Secret."""
    secret_name: str
    """Key Vault secret name (and SPC objectName / SecretSync sourcePath)."""
    expect: str
    """healthy, expired, expiring-7d, expiring-30d, not-yet-valid, duplicate, ca, ca-no-crl, crl,
    crl-stale, or bench (``--scale`` extras)."""
    sha256: str
    """SHA-256 of the DER certificate or CRL (the thumbprint)."""
    content: bytes
    """The file bytes exactly as synced."""


@dataclass(frozen=True)
class _Device:
    file_name: str
    common_name: str
    unit: str
    from_days: int
    to_days: int
    expect: str
    rsa: bool = False
    signer: str | None = None  # None: self-signed; else a key of the CA table


# Offsets are days from start-up; "expiring" entries land inside the 7- and 30-day windows.
_DEVICES: tuple[_Device, ...] = (
    _Device("plc-press-line1.der", "Press Line 1 PLC", "Press Shop", -400, 330, "healthy", rsa=True),
    _Device("plc-press-line2.der", "Press Line 2 PLC", "Press Shop", -742, -12, "expired"),
    _Device("plc-paint-shop.der", "Paint Shop PLC", "Paint Shop", -361, 4, "expiring-7d"),
    _Device("plc-packaging-01.der", "Packaging PLC 01", "Packaging", -346, 19, "expiring-30d"),
    _Device("plc-packaging-02.crt", "Packaging PLC 02", "Packaging", -90, 640, "healthy"),
    _Device("gateway-north.der", "North Hall OPC UA Gateway", "Site IT", -120, 610, "healthy", signer="line"),
    _Device("gateway-south.der", "South Hall Gateway", "Site IT", 3, 733, "not-yet-valid", signer="line"),
    _Device("gateway-edge-03.crt", "Edge Gateway 03", "Site IT", -339, 26, "expiring-30d"),
    _Device("historian-main.der", "Process Historian", "Quality", -200, 1625, "healthy"),
    _Device("historian-backup.der", "Process Historian Backup", "Quality", -700, 27, "expiring-30d"),
    _Device("hmi-line1-panel.der", "Line 1 HMI Panel", "Press Shop", -30, 1065, "healthy"),
    _Device("robot-cell-07.der", "Robot Cell 07 Controller", "Body Shop", -1100, -365, "expired"),
    _Device("mes-connector.der", "MES OPC UA Connector", "Site IT", -60, 305, "healthy", signer="line"),
    _Device("energy-meter-gw.der", "Energy Meter Gateway", "Energy", -728, 2, "expiring-7d", signer="bms"),
)
_DUPLICATE_OF = "plc-press-line1.der"
_DUPLICATE_FILE = "plc-press-line1-old.crt"  # the same certificate uploaded again as PEM, under another name
_ROOT_FILE = "contoso-ot-root-ca.der"


def _host(file_name: str) -> str:
    return f"{file_name.rsplit('.', 1)[0]}.{SITE_DOMAIN}"


def _file_bytes(file_name: str, der: bytes) -> bytes:
    # `.crt` files are PEM (exactly one certificate, as the CLI demands); everything else stays DER.
    if file_name.endswith(".crt"):
        return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)
    return der


def _entry(list_name: str, file_name: str, der: bytes, expect: str) -> OpcuaEntry:
    return OpcuaEntry(
        list_name=list_name,
        target_key=file_name,
        secret_name=secret_name_for(file_name),
        expect=expect,
        sha256=hashlib.sha256(der).hexdigest(),
        content=_file_bytes(file_name, der),
    )


def _cas(ctx: SeedContext) -> dict[str, Issued]:
    start = ctx.start
    root = build_ca(
        name("Contoso OT Root CA", organization=ORG, country="DE"),
        rsa_key(ctx.seed, "ot-root-ca"),
        serial=ctx.serial(),
        not_before=start - timedelta(days=1500),
        not_after=start + timedelta(days=2150),
    )
    line = build_ca(
        name("Contoso Line Issuing CA", organization=ORG, unit="Production", country="DE"),
        ec_key(ctx.seed, "line-issuing-ca"),
        serial=ctx.serial(),
        not_before=start - timedelta(days=400),
        not_after=start + timedelta(days=1425),
        signer=root,
        path_length=0,
    )
    bms = build_ca(
        name("Contoso Building Automation CA", organization=ORG, unit="Facilities", country="DE"),
        ec_key(ctx.seed, "bms-ca"),
        serial=ctx.serial(),
        not_before=start - timedelta(days=800),
        not_after=start + timedelta(days=1025),
        signer=root,
        path_length=0,
    )
    oem = build_ca(
        name("Fabrikam Automation Device CA", organization="Fabrikam Automation GmbH", country="DE"),
        ec_key(ctx.seed, "oem-ca"),
        serial=ctx.serial(),
        not_before=start - timedelta(days=1000),
        not_after=start + timedelta(days=2650),
    )
    return {"root": root, "line": line, "bms": bms, "oem": oem}


def _device_cert(ctx: SeedContext, device: _Device, cas: dict[str, Issued]) -> Issued:
    label = f"device/{device.file_name}"
    key: SigningKey = rsa_key(ctx.seed, label) if device.rsa else ec_key(ctx.seed, label)
    host = _host(device.file_name)
    stem = device.file_name.rsplit(".", 1)[0]
    return build_leaf(
        name(device.common_name, organization=ORG, unit=device.unit, locality=PLANT, domain_component=stem),
        key,
        serial=ctx.serial(),
        not_before=ctx.start + timedelta(days=device.from_days),
        not_after=ctx.start + timedelta(days=device.to_days),
        signer=cas[device.signer] if device.signer else None,
        dns_names=[host],
        uris=[f"urn:{stem}:Contoso:OpcUaServer"],
        extended_key_usage=(SERVER_AUTH, CLIENT_AUTH),
        opcua=True,
    )


def trust_list(ctx: SeedContext, cas: dict[str, Issued]) -> list[OpcuaEntry]:
    """The trust list: devices, one duplicate, and the site root CA (trusting it trusts its leaves)."""
    out: list[OpcuaEntry] = []
    by_file: dict[str, bytes] = {}
    for device in _DEVICES:
        der = _device_cert(ctx, device, cas).der
        by_file[device.file_name] = der
        out.append(_entry(LIST_TRUST, device.file_name, der, device.expect))
    out.append(_entry(LIST_TRUST, _DUPLICATE_FILE, by_file[_DUPLICATE_OF], "duplicate"))
    out.append(_entry(LIST_TRUST, _ROOT_FILE, cas["root"].der, "ca"))
    return out


def issuer_list(ctx: SeedContext, cas: dict[str, Issued]) -> list[OpcuaEntry]:
    """The issuer list: intermediate CAs with CRLs (one stale) and a vendor CA without a CRL."""
    start = ctx.start
    line_crl = build_crl(
        cas["line"],
        last_update=start - timedelta(days=21),
        next_update=start - timedelta(days=7),  # stale: the CA stopped publishing a week ago
        number=41,
        revoked=[(ctx.serial(), start - timedelta(days=95))],
    )
    bms_crl = build_crl(
        cas["bms"],
        last_update=start - timedelta(days=2),
        next_update=start + timedelta(days=5),
        number=118,
    )
    return [
        _entry(LIST_ISSUER, "contoso-line-issuing-ca.der", cas["line"].der, "ca"),
        _entry(LIST_ISSUER, "contoso-line-issuing-ca.crl", line_crl.der, "crl-stale"),
        _entry(LIST_ISSUER, "contoso-building-automation-ca.crt", cas["bms"].der, "ca"),
        _entry(LIST_ISSUER, "contoso-building-automation-ca.crl", bms_crl.der, "crl"),
        _entry(LIST_ISSUER, "fabrikam-device-ca.der", cas["oem"].der, "ca-no-crl"),
    ]


def bench_entries(ctx: SeedContext, count: int) -> list[OpcuaEntry]:
    """``count`` extra self-signed trust entries for benchmarks; one shared key keeps this fast."""
    key = ec_key(ctx.seed, "bench-devices")
    out: list[OpcuaEntry] = []
    for i in range(1, count + 1):
        host = f"bench-device-{i:05d}.{SITE_DOMAIN}"
        first = ctx.rng.randint(-900, -1)
        last = ctx.rng.randint(-60, 1100)
        issued = build_leaf(
            name(f"Bench Device {i:05d}", organization=ORG, domain_component=host),
            key,
            serial=ctx.serial(),
            not_before=ctx.start + timedelta(days=first),
            not_after=ctx.start + timedelta(days=max(last, first + 1)),
            dns_names=[host],
            uris=[f"urn:{host}:Contoso:BenchDevice"],
            extended_key_usage=(SERVER_AUTH, CLIENT_AUTH),
            opcua=True,
        )
        out.append(_entry(LIST_TRUST, f"bench-device-{i:05d}.der", issued.der, "bench"))
    return out


def vault_seeds(entries: Sequence[OpcuaEntry]) -> list[VaultSeed]:
    """The vault secrets behind ``entries`` (duplicates by secret name collapse to one)."""
    seen: dict[str, VaultSeed] = {}
    for entry in entries:
        seen[entry.secret_name] = VaultSeed(
            name=entry.secret_name,
            value=entry.content.hex(),
            content_type=content_type_for(entry.target_key),
            tags={FILE_ENCODING_TAG: "hex"},
        )
    return list(seen.values())


def seed_opcua(
    ctx: SeedContext, keyvault_name: str, scale: int, *, arm: ArmSite | None = None
) -> tuple[list[OpcuaEntry], list[VaultSeed], list[ArmSeed]]:
    """Add the SPCs and SecretSyncs to ``ctx``; return every list entry, the vault secrets, and the ARM
    resources behind the lists.

    With ``arm`` the lists are ARM-owned, as on a site set up with the official tooling: the objects added
    to ``ctx`` are the cluster copies the Arc projection makes (annotated, labelled; the demo creates them
    through ARM) and the ARM resources are returned. Without it they are cluster-only and none is returned.
    """
    cas = _cas(ctx)
    trust = trust_list(ctx, cas) + bench_entries(ctx, scale)
    issuer = issuer_list(ctx, cas)
    ids = {"tenant": ctx.uid(), "client": ctx.uid()}
    ns = ctx.names.namespace
    # The instance's default SPC (no objects), as `az iot ops secretsync enable` leaves it.
    default_spc = "spc-ops-" + ctx.suffix(7)
    objects = serialize_objects([cli_object(e.secret_name) for e in _unique(trust + issuer)], style="cli")
    resources = [
        ArmSeed(
            ArmKind.SPC,
            spc_name,
            spc_properties(
                keyvault_name=keyvault_name,
                tenant_id=ids["tenant"],
                client_id=ids["client"],
                objects=spc_objects,
            ),
        )
        for spc_name, spc_objects in ((default_spc, None), (OPCUA_SPC, objects))
    ]
    resources += [
        ArmSeed(
            ArmKind.SECRET_SYNC,
            sync_name,
            secret_sync_properties(OPCUA_SPC, [(e.secret_name, e.target_key) for e in listed]),
        )
        for sync_name, listed in ((TRUST_LIST_SYNC, trust), (ISSUER_LIST_SYNC, issuer))
    ]
    for resource in resources:
        if arm is not None:
            ctx.add(cluster_copy(resource.kind, resource.name, resource.properties, arm, ns))
        else:
            ctx.add(_cluster_only(resource, ns))
    entries = trust + issuer
    return entries, vault_seeds(entries), resources if arm is not None else []


def _cluster_only(resource: ArmSeed, namespace: str) -> dict[str, Any]:
    """A list object created on the cluster directly (kubectl or a cluster-only site): no ARM markers."""
    props = resource.properties
    if resource.kind is ArmKind.SPC:
        return secret_provider_class(
            resource.name,
            namespace,
            props.get("objects"),
            keyvault_name=props["keyvaultName"],
            tenant_id=props["tenantId"],
            client_id=props["clientId"],
        )
    mappings = [(m["sourcePath"], m["targetKey"]) for m in props["objectSecretMapping"]]
    return secret_sync(resource.name, namespace, props["secretProviderClassName"], mappings)


def _unique(entries: Sequence[OpcuaEntry]) -> list[OpcuaEntry]:
    seen: set[str] = set()
    out = []
    for entry in entries:
        if entry.secret_name not in seen:
            seen.add(entry.secret_name)
            out.append(entry)
    return out
