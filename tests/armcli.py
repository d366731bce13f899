"""What the official CLI does to ARM-owned lists, for tests: read, edit whole, PUT back (no If-Match).

``az iot ops connector opcua trust|issuer add|remove`` reads the SecretProviderClass and SecretSync
resources (through Resource Graph), edits the SPC's ``objects`` text and the SecretSync's
``objectSecretMapping``, and PUTs each resource back whole with its vendored client (api-version
``2024-08-21-preview``), read-only fields and all, without ``If-Match``, waiting for each long-running
operation; removing a SecretSync's last mapping deletes it (docs/domain.md §9.1; CLI
``providers/orchestration/resources/connector/opcua/certs.py``). These helpers do the same through the
real ``SecretsStoreExtensionMgmtClient``, so a test can make "someone else's" change the way a real one
arrives, e.g. after aio-certs' own apply:

    client = armcli.for_demo(env)
    armcli.trust_add(client, env.arm.site.resource_group, "new-plc.der", vault=secret_client, content=der)
    env.arm.wait_idle(HANG)   # the Arc projection has put ARM's copy on the cluster

The objects text is edited exactly as the CLI does it (PyYAML, independent of the product's own code).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import yaml
from azure.core.credentials import AccessToken
from azure.core.exceptions import ResourceNotFoundError
from azure.keyvault.secrets import SecretClient
from azure.mgmt.secretsstoreextension import SecretsStoreExtensionMgmtClient

from tui.core.model.arm import CLI_API_VERSION
from tui.core.model.names import ISSUER_LIST_SYNC, OPCUA_SPC, SSC_SERVICE_ACCOUNT, TRUST_LIST_SYNC

CONTENT_TYPES = {".der": "application/pkix-cert", ".crl": "application/pkix-crl"}
POLLING_INTERVAL = 0.05
"""Poll interval when ARM sends no Retry-After (the emulator always does; this only bounds a surprise)."""


class DemoToken:
    """A bearer the demo's emulators accept (any non-empty token), for any scope."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        """A token valid for an hour."""
        return AccessToken("aio-certs-test", int(time.time()) + 3600)


def mgmt_client(
    endpoint: str, ca_pem: str, subscription: str, *, api_version: str | None = CLI_API_VERSION
) -> SecretsStoreExtensionMgmtClient:
    """The SDK client as the CLI's vendored one talks (its api-version unless ``api_version`` says
    otherwise; None: the SDK's default), trusting ``ca_pem`` for the endpoint's TLS."""
    options: dict[str, Any] = {"connection_verify": ca_pem, "polling_interval": POLLING_INTERVAL}
    if api_version is not None:
        options["api_version"] = api_version
    return SecretsStoreExtensionMgmtClient(DemoToken(), subscription, base_url=endpoint, **options)


def for_demo(env: Any, *, api_version: str | None = CLI_API_VERSION) -> SecretsStoreExtensionMgmtClient:
    """:func:`mgmt_client` for a running ``DemoEnvironment``."""
    return mgmt_client(
        env.arm.endpoint, str(env.arm_ca_path), env.arm.site.subscription, api_version=api_version
    )


def graph_row(resource: Mapping[str, Any], subscription: str, resource_group: str) -> dict[str, Any]:
    """``resource`` as an Azure Resource Graph row: the GET body plus the columns Resource Graph adds
    (the CLI sends such a row back whole in its PUT)."""
    row = dict(resource)
    row.update(
        {
            "resourceGroup": resource_group,
            "subscriptionId": subscription,
            "tenantId": "72f988bf-0000-4000-8000-00000000a10c",
            "kind": "",
            "managedBy": "",
            "sku": None,
            "plan": None,
            "identity": None,
            "zones": None,
        }
    )
    return row


def _get(operations: Any, resource_group: str, name: str) -> dict[str, Any] | None:
    try:
        return dict(operations.get(resource_group, name).as_dict())
    except ResourceNotFoundError:
        return None


def add_spc_object(objects: str | None, secret_name: str) -> str:
    """The CLI's ``_add_entry_to_fortos_yaml``: one ``secret``/``hex`` item appended to the objects text."""
    document = yaml.safe_load(objects) if objects else {"array": []}
    entry = yaml.safe_dump(
        {"objectName": secret_name, "objectType": "secret", "objectEncoding": "hex"}, indent=6
    )
    if entry not in document["array"]:
        document["array"].append(entry)
    return yaml.safe_dump(document, indent=6).replace("\n- |", "\n    - |")


def remove_spc_object(objects: str | None, secret_name: str) -> str:
    """The CLI's ``_remove_entry_from_fortos_yaml`` (empty text when nothing is left)."""
    document = yaml.safe_load(objects) if objects else {"array": []}
    for entry in document["array"]:
        if yaml.safe_load(entry)["objectName"] == secret_name:
            document["array"].remove(entry)
            break
    if not document["array"]:
        return ""
    return yaml.safe_dump(document, indent=6).replace("\n- |", "\n    - |")


def add_mapping(
    client: SecretsStoreExtensionMgmtClient,
    resource_group: str,
    secret_sync: str,
    source_path: str,
    target_key: str,
    *,
    location: str | None = None,
    extended_location: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """GET the SecretSync, append (or re-point) one mapping, PUT it back whole and wait: the CLI's
    ``_add_secrets_to_secret_sync``. A missing SecretSync is created (then ``location`` and
    ``extended_location`` are needed, as the CLI takes them from the instance). Returns the result."""
    subscription = client._config.subscription_id
    current = _get(client.secret_syncs, resource_group, secret_sync)
    if current is None:
        if location is None or extended_location is None:
            raise ValueError(f"SecretSync {secret_sync} does not exist: give location and extended_location")
        body: dict[str, Any] = {
            "location": location,
            "extendedLocation": dict(extended_location),
            "properties": {
                "kubernetesSecretType": "Opaque",
                "secretProviderClassName": OPCUA_SPC,
                "serviceAccountName": SSC_SERVICE_ACCOUNT,
                "objectSecretMapping": [{"sourcePath": source_path, "targetKey": target_key}],
            },
        }
    else:
        body = graph_row(current, subscription, resource_group)
        mapping = list(body["properties"].get("objectSecretMapping") or [])
        if any(m["sourcePath"] == source_path for m in mapping):
            mapping = [
                {**m, "targetKey": target_key} if m["sourcePath"] == source_path else m for m in mapping
            ]
        else:
            mapping.append({"sourcePath": source_path, "targetKey": target_key})
        body["properties"]["objectSecretMapping"] = mapping
    poller = client.secret_syncs.begin_create_or_update(resource_group, secret_sync, body)
    return dict(poller.result().as_dict())


def remove_mapping(
    client: SecretsStoreExtensionMgmtClient, resource_group: str, secret_sync: str, target_key: str
) -> dict[str, Any] | None:
    """Drop the mapping of ``target_key`` and PUT the SecretSync back whole, or delete it when that was
    its last mapping (the CLI's ``_remove_secrets_from_secret_sync``). None when deleted."""
    current = _get(client.secret_syncs, resource_group, secret_sync)
    if current is None:
        raise LookupError(f"SecretSync {secret_sync} not found")
    body = graph_row(current, client._config.subscription_id, resource_group)
    mapping = [m for m in body["properties"].get("objectSecretMapping") or [] if m["targetKey"] != target_key]
    if not mapping:
        client.secret_syncs.begin_delete(resource_group, secret_sync).result()
        return None
    body["properties"]["objectSecretMapping"] = mapping
    return dict(
        client.secret_syncs.begin_create_or_update(resource_group, secret_sync, body).result().as_dict()
    )


def update_spc_objects(
    client: SecretsStoreExtensionMgmtClient,
    resource_group: str,
    *,
    add: str | None = None,
    remove: str | None = None,
    spc: str = OPCUA_SPC,
) -> dict[str, Any]:
    """GET the SPC, add or remove one object in its ``objects`` text, PUT it back whole and wait (the
    CLI's ``_add_secrets_to_spc`` / ``_remove_secrets_from_spc``; an emptied text drops ``objects``)."""
    current = _get(client.azure_key_vault_secret_provider_classes, resource_group, spc)
    if current is None:
        raise LookupError(f"SecretProviderClass {spc} not found")
    body = graph_row(current, client._config.subscription_id, resource_group)
    objects = body["properties"].get("objects")
    if add is not None:
        objects = add_spc_object(objects, add)
    if remove is not None:
        objects = remove_spc_object(objects, remove)
    if objects:
        body["properties"]["objects"] = objects
    else:
        body["properties"].pop("objects", None)
    poller = client.azure_key_vault_secret_provider_classes.begin_create_or_update(resource_group, spc, body)
    return dict(poller.result().as_dict())


def upload(vault: SecretClient, secret_name: str, file_name: str, content: bytes) -> None:
    """Store a list file as the CLI does: hex text, content type by extension, ``file-encoding=hex``."""
    suffix = file_name[file_name.rfind(".") :].lower()
    vault.set_secret(
        secret_name,
        content.hex(),
        content_type=CONTENT_TYPES.get(suffix, "application/x-pem-file"),
        tags={"file-encoding": "hex"},
    )


def list_add(
    client: SecretsStoreExtensionMgmtClient,
    resource_group: str,
    secret_sync: str,
    file_name: str,
    *,
    vault: SecretClient | None = None,
    content: bytes | None = None,
) -> dict[str, Any]:
    """``az iot ops connector opcua trust|issuer add``: upload (when ``vault`` and ``content`` are given),
    add the object to the SPC, then the mapping to the SecretSync; returns the SecretSync."""
    secret_name = file_name.replace(".", "-")
    if vault is not None and content is not None:
        upload(vault, secret_name, file_name, content)
    update_spc_objects(client, resource_group, add=secret_name)
    return add_mapping(client, resource_group, secret_sync, secret_name, file_name)


def trust_add(
    client: SecretsStoreExtensionMgmtClient, resource_group: str, file_name: str, **kw: Any
) -> dict[str, Any]:
    """``az iot ops connector opcua trust add`` (see :func:`list_add`)."""
    return list_add(client, resource_group, TRUST_LIST_SYNC, file_name, **kw)


def issuer_add(
    client: SecretsStoreExtensionMgmtClient, resource_group: str, file_name: str, **kw: Any
) -> dict[str, Any]:
    """``az iot ops connector opcua issuer add`` (see :func:`list_add`)."""
    return list_add(client, resource_group, ISSUER_LIST_SYNC, file_name, **kw)
