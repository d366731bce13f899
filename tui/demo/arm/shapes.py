"""The two list resources as ARM holds them, and the cluster copy the Arc projection makes of each.

One builder for each side, shared by the seed (which creates the site's lists through ARM), the emulator's
projection (``tui.demo.controllers.arc``) and the tests:

- :func:`spc_properties` and :func:`secret_sync_properties` give a resource's ``properties`` in the shape
  of the REST API (docs/domain.md §9.1): camel-case ``clientId``/``tenantId``, ``objectSecretMapping``,
  ``kubernetesSecretType``;
- :func:`cluster_copy` gives the SecretProviderClass or SecretSync the projection writes for a resource:
  the same name in the custom location's namespace, the spec the SSE CRDs have (built with
  ``tui.demo.seed.aio``, so a projected object looks like a cluster-only one), plus the
  ``management.azure.com/*`` annotations and the provider-name label (docs/domain.md §9.2).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from tui.core.model.arm import PROVIDER_NAME_LABEL, RESOURCE_ID_ANNOTATION, ArmKind
from tui.core.model.names import SSC_SERVICE_ACCOUNT
from tui.demo.arm.site import ArmSite
from tui.demo.seed.aio import secret_provider_class, secret_sync

CUSTOM_LOCATION_ANNOTATION = "management.azure.com/customLocation"
LOCATION_ANNOTATION = "management.azure.com/location"
OPERATION_ID_ANNOTATION = "management.azure.com/operationId"
SYSTEM_DATA_ANNOTATION = "management.azure.com/systemData"
PROVIDER_NAME = "microsoft.secretsynccontroller"
"""The provider-name label's value: the resource provider in lower case, as the resource sync rules of
other Arc custom-location services select on (UNCONFIRMED for SecretSyncController, docs/domain.md §9.2)."""

PROJECTION_ANNOTATIONS = frozenset(
    {
        RESOURCE_ID_ANNOTATION,
        CUSTOM_LOCATION_ANNOTATION,
        LOCATION_ANNOTATION,
        OPERATION_ID_ANNOTATION,
        SYSTEM_DATA_ANNOTATION,
    }
)
"""Every annotation the projection owns (it overwrites or removes these and leaves any other alone)."""
DYNAMIC_ANNOTATIONS = frozenset({OPERATION_ID_ANNOTATION, SYSTEM_DATA_ANNOTATION})
"""The annotations that change with every ARM write (the rest follow from the resource's id alone)."""

OPAQUE = "Opaque"


@dataclass(frozen=True)
class ArmSeed:
    """One resource to create in ARM when the site starts: what a PUT body's ``properties`` holds."""

    kind: ArmKind
    name: str
    properties: Mapping[str, Any]
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


def spc_properties(
    *,
    keyvault_name: str,
    tenant_id: str,
    client_id: str,
    objects: str | None = None,
    cloud_name: str | None = None,
) -> dict[str, Any]:
    """An ``azureKeyVaultSecretProviderClasses`` resource's properties, as the official CLI writes them
    (``objects`` absent when the class lists nothing)."""
    properties: dict[str, Any] = {"keyvaultName": keyvault_name, "clientId": client_id, "tenantId": tenant_id}
    if cloud_name is not None:
        properties["cloudName"] = cloud_name
    if objects is not None:
        properties["objects"] = objects
    return properties


def secret_sync_properties(
    spc_name: str,
    mappings: Sequence[tuple[str, str]],
    *,
    service_account: str = SSC_SERVICE_ACCOUNT,
    secret_type: str = OPAQUE,
    force: str | None = None,
) -> dict[str, Any]:
    """A ``secretSyncs`` resource's properties mapping ``(sourcePath, targetKey)`` pairs, as the official
    CLI creates one (Opaque, the ``aio-ssc-sa`` service account)."""
    properties: dict[str, Any] = {
        "kubernetesSecretType": secret_type,
        "secretProviderClassName": spc_name,
        "serviceAccountName": service_account,
        "objectSecretMapping": [{"sourcePath": source, "targetKey": target} for source, target in mappings],
    }
    if force is not None:
        properties["forceSynchronization"] = force
    return properties


def projection_annotations(
    kind: ArmKind,
    name: str,
    site: ArmSite,
    *,
    operation_id: str | None = None,
    system_data: Mapping[str, Any] | None = None,
    location: str | None = None,
) -> dict[str, str]:
    """The ``management.azure.com/*`` annotations of the cluster copy of ``name``; the dynamic ones only
    when an operation id and systemData are given (the seed's picture of a site leaves them out).
    ``location`` is the resource's Azure region (default: the site's)."""
    annotations = {
        RESOURCE_ID_ANNOTATION: site.resource_id(kind, name),
        CUSTOM_LOCATION_ANNOTATION: site.custom_location_id,
        LOCATION_ANNOTATION: location or site.location,
    }
    if operation_id is not None:
        annotations[OPERATION_ID_ANNOTATION] = operation_id
    if system_data is not None:
        annotations[SYSTEM_DATA_ANNOTATION] = json.dumps(dict(system_data), sort_keys=True)
    return annotations


def cluster_copy(
    kind: ArmKind,
    name: str,
    properties: Mapping[str, Any],
    site: ArmSite,
    namespace: str,
    *,
    operation_id: str | None = None,
    system_data: Mapping[str, Any] | None = None,
    location: str | None = None,
) -> dict[str, Any]:
    """The SecretProviderClass or SecretSync the Arc projection keeps on the cluster for a resource.

    The SPC's parameters keep the cluster spelling the demo has always used (``clientID``, ``tenantID``);
    how the real projection spells them is UNCONFIRMED (docs/domain.md §5.1), and the model reads both.
    """
    annotations = projection_annotations(kind, name, site, operation_id=operation_id, system_data=system_data)
    labels = {PROVIDER_NAME_LABEL: PROVIDER_NAME}
    if kind is ArmKind.SPC:
        objects = properties.get("objects")
        cloud = properties.get("cloudName")
        return secret_provider_class(
            name,
            namespace,
            str(objects) if objects is not None else None,
            keyvault_name=str(properties.get("keyvaultName") or ""),
            tenant_id=str(properties.get("tenantId") or ""),
            client_id=str(properties.get("clientId") or ""),
            cloud_name=str(cloud) if cloud is not None else None,
            labels=labels,
            annotations=annotations,
        )
    mappings = [
        (str(item.get("sourcePath") or ""), str(item.get("targetKey") or ""))
        for item in properties.get("objectSecretMapping") or []
        if isinstance(item, Mapping)
    ]
    force = properties.get("forceSynchronization")
    return secret_sync(
        name,
        namespace,
        str(properties.get("secretProviderClassName") or ""),
        mappings,
        force=str(force) if force else None,
        service_account=str(properties.get("serviceAccountName") or SSC_SERVICE_ACCOUNT),
        secret_type=str(properties.get("kubernetesSecretType") or OPAQUE),
        labels=labels,
        annotations=annotations,
    )
