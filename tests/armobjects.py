"""ARM's side of a test site: list resources as ARM returns them, snapshots, and projected annotations.

The bodies follow the REST shape of ``Microsoft.SecretSyncController`` (docs/domain.md §9.1): ``properties``
with ``objectSecretMapping`` or ``objects``, ``extendedLocation`` naming the custom location. Nothing here
talks to a network.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any

from tui.core.model.arm import RESOURCE_ID_ANNOTATION, ArmIds, ArmKind, ArmResource, ArmSnapshot
from tui.core.model.snapshot import AreaState, ResourceStatus
from tui.core.model.spc import cli_object, serialize_objects

SUBSCRIPTION = "00000000-1111-2222-3333-444444444444"
RESOURCE_GROUP = "rg-aio"
CUSTOM_LOCATION = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers/"
    "Microsoft.ExtendedLocation/customLocations/site-cl"
)
IDS = ArmIds(SUBSCRIPTION, RESOURCE_GROUP, CUSTOM_LOCATION)


def resource(
    kind: ArmKind,
    name: str,
    properties: dict[str, Any],
    *,
    ids: ArmIds = IDS,
    etag: str | None = '"1"',
    location: str | None = CUSTOM_LOCATION,
) -> ArmResource:
    """One list resource as ARM answers a GET."""
    body: dict[str, Any] = {
        "id": ids.resource_id(kind, name),
        "name": name,
        "type": kind.resource_type,
        "properties": {**properties, "provisioningState": "Succeeded"},
    }
    if location:
        body["extendedLocation"] = {"name": location, "type": "CustomLocation"}
    return ArmResource(kind, name, body["id"], etag, MappingProxyType(body))


def arm_sync(name: str, spc_name: str, mappings: Sequence[tuple[str, str]], **kwargs: Any) -> ArmResource:
    """An ARM SecretSync mapping ``(sourcePath, targetKey)`` pairs."""
    props = {
        "secretProviderClassName": spc_name,
        "serviceAccountName": "aio-ssc-sa",
        "kubernetesSecretType": "Opaque",
        "objectSecretMapping": [{"sourcePath": s, "targetKey": t} for s, t in mappings],
    }
    return resource(ArmKind.SECRET_SYNC, name, props, **kwargs)


def arm_spc(
    name: str, object_names: Iterable[str] = (), *, objects_text: str | None = None, **kwargs: Any
) -> ArmResource:
    """An ARM SecretProviderClass whose ``objects`` names ``object_names`` in the official CLI's form."""
    text = (
        objects_text if objects_text is not None else serialize_objects([cli_object(n) for n in object_names])
    )
    props = {"keyvaultName": "kv-site", "clientId": "client", "tenantId": "tenant", "objects": text}
    return resource(ArmKind.SPC, name, props, **kwargs)


def snapshot(*resources: ArmResource, ids: ArmIds = IDS, taken_at: datetime | None = None) -> ArmSnapshot:
    """A readable ARM snapshot holding ``resources``."""
    return ArmSnapshot(
        ResourceStatus(AreaState.OK),
        ids,
        MappingProxyType({(r.kind, r.name.lower()): r for r in resources}),
        taken_at=taken_at,
    )


def unreadable(state: AreaState, message: str, *, ids: ArmIds = IDS) -> ArmSnapshot:
    """An ARM snapshot that says why ARM could not be read."""
    return ArmSnapshot(ResourceStatus(state, message), ids)


def annotated(obj: dict[str, Any], kind: ArmKind, *, ids: ArmIds = IDS) -> dict[str, Any]:
    """A copy of a cluster object with the annotations the Arc projection leaves (docs/domain.md §9.2)."""
    out = copy.deepcopy(obj)
    name = out["metadata"]["name"]
    annotations = out["metadata"].setdefault("annotations", {})
    annotations[RESOURCE_ID_ANNOTATION] = ids.resource_id(kind, name)
    if ids.custom_location:
        annotations["management.azure.com/customLocation"] = ids.custom_location
    return out
