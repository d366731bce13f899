"""What a write through Azure Resource Manager sends, and what to type when it cannot be made.

The official tooling edits the OPC UA lists by reading each ARM resource, changing ``objects`` (the SPC)
or ``objectSecretMapping`` (a SecretSync) and PUTting the resource back; a SecretSync it creates carries
the site's custom location as ``extendedLocation`` and the instance's ``location`` (docs/domain.md §9.1).
:func:`put_body` and :func:`create_sync_body` build those bodies from what ARM answered, so the engine
(``tui.ops.steps``) only sends them. :func:`official_commands` words the same change as ``az iot ops
connector opcua`` commands, for a refusal when ARM cannot be reached (docs/domain.md §7).

Pure: no I/O.
"""

from __future__ import annotations

import copy
import shlex
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tui.core.changes.changeset import AddFile, AddVaultSecret, Change, RemoveEntry, cli_secret_name
from tui.core.changes.operations import SECRET_TYPE, SyncEdit

READ_ONLY_FIELDS = ("id", "name", "type", "systemData", "etag")
"""Top-level fields ARM sets itself; they are not sent back (ARM would ignore them anyway)."""
READ_ONLY_PROPERTIES = ("provisioningState",)
CUSTOM_LOCATION_TYPE = "CustomLocation"
"""``extendedLocation.type`` of a resource placed on an Arc custom location."""

Pairs = Sequence[tuple[str, str]]


def mapping_items(pairs: Pairs) -> list[dict[str, str]]:
    """``objectSecretMapping`` items from ``(sourcePath, targetKey)`` pairs, in order."""
    return [{"sourcePath": source, "targetKey": target} for source, target in pairs]


def put_body(
    body: Mapping[str, Any],
    *,
    objects: str | None = None,
    set_objects: bool = False,
    mappings: Pairs | None = None,
    force_synchronization: str | None = None,
) -> dict[str, Any]:
    """The resource ``body`` (as ARM returned it) with its list edited, ready to PUT.

    ``set_objects`` replaces the SPC's ``objects`` with ``objects`` (None drops the property, as the
    official CLI does when the last object goes); ``mappings`` replaces a SecretSync's
    ``objectSecretMapping``; ``force_synchronization`` sets a new sync token. Everything else in the
    body (location, extendedLocation, tags, the other properties) goes back as it was, so a field this
    version does not know is kept.
    """
    out = {k: copy.deepcopy(v) for k, v in body.items() if k not in READ_ONLY_FIELDS}
    raw_props = out.get("properties")
    props: dict[str, Any] = dict(raw_props) if isinstance(raw_props, Mapping) else {}
    for key in READ_ONLY_PROPERTIES:
        props.pop(key, None)
    if set_objects:
        if objects is None:
            props.pop("objects", None)
        else:
            props["objects"] = objects
    if mappings is not None:
        props["objectSecretMapping"] = mapping_items(mappings)
    if force_synchronization is not None:
        props["forceSynchronization"] = force_synchronization
    out["properties"] = props
    return out


def create_sync_body(op: SyncEdit, mappings: Pairs) -> dict[str, Any]:
    """The body of a SecretSync the official CLI would create for a list's first entry."""
    assert op.arm is not None
    body: dict[str, Any] = {}
    if op.arm.location:
        body["location"] = op.arm.location
    if op.arm.extended_location:
        body["extendedLocation"] = {"name": op.arm.extended_location, "type": CUSTOM_LOCATION_TYPE}
    props: dict[str, Any] = {
        "kubernetesSecretType": op.secret_type or SECRET_TYPE,
        "secretProviderClassName": op.spc_name,
        "serviceAccountName": op.service_account,
        "objectSecretMapping": mapping_items(mappings),
    }
    if op.force_synchronization:
        props["forceSynchronization"] = op.force_synchronization
    body["properties"] = props
    return body


# -- the same change as official CLI commands ----------------------------------------------------------

INSTANCE_PLACEHOLDER = "<instance>"
"""The AIO instance name is not read from the cluster: the user fills it in."""


def official_commands(
    changes: Iterable[Change], *, resource_group: str | None, instance: str | None = None
) -> list[str]:
    """The ``az iot ops connector opcua`` commands that make ``changes`` through ARM (docs/domain.md §7).

    One ``add`` per file (the CLI takes one ``--certificate-file``), one ``remove`` per list and purge
    choice (it takes several ``--certificate-names``). A secret already in the vault has no CLI
    command: the line says to map it in the operations experience. Arguments are shell-quoted.
    """
    group = shlex.quote(resource_group) if resource_group else "<resource-group>"
    where = f"--instance {shlex.quote(instance) if instance else INSTANCE_PLACEHOLDER} -g {group}"
    out: list[str] = []
    removals: dict[tuple[str, bool], list[str]] = {}
    for change in changes:
        if isinstance(change, AddFile):
            line = (
                f"az iot ops connector opcua {change.list_name} add {where} "
                f"--certificate-file {shlex.quote(change.file_name)}"
            )
            secret = change.effective_secret_name
            # Named whenever it is not what the CLI derives itself (a proposed name differs when the
            # CLI's own would be refused).
            if secret and secret != cli_secret_name(change.file_name):
                line += f" --secret-name {shlex.quote(secret)}"
            if change.overwrite:
                line += " --overwrite-secret"
            out.append(line)
        elif isinstance(change, RemoveEntry):
            removals.setdefault((change.list_name, change.purge), []).append(change.target_key)
        elif isinstance(change, AddVaultSecret):
            out.append(
                f"map Key Vault secret {change.secret_name} into the {change.list_name} list in the "
                "operations experience (the CLI has no command for a secret already in the vault)"
            )
    for (list_name, purge), names in removals.items():
        line = (
            f"az iot ops connector opcua {list_name} remove {where} "
            f"--certificate-names {' '.join(shlex.quote(n) for n in names)}"
        )
        out.append(line + (" --include-secrets" if purge else ""))
    return out
