"""A resource group's list resources read through the ARM client's own pipeline, without the SDK's models.

``list_by_resource_group`` turns every listed resource into a generated model, each of its object
mappings too, and :class:`~tui.arm.resources.ArmResources` then turns them back into the JSON they came
from (``as_dict``): at a site's 2,000 list entries the SecretSync listing costs ~45 ms of interpreter
time instead of ~5. It is on the path of every ``status`` (after the cluster read, before the build) and
of every ARM re-read of the dashboard, where the interpreter time it takes is the UI thread's.
:func:`list_resources` sends the same requests through the same pipeline
(``SecretsStoreExtensionMgmtClient.send_request``: credential, TLS, retries, the operation's deadline)
and keeps each item's JSON as it came.

The first request is the one the SDK builds (the resource group's collection and the client's
api-version), each next page is built from ``nextLink`` as the SDK builds it. An answer other than 200
(once the pipeline's retries are spent) raises what the SDK's listing raises for it, made from that same
answer: the exception type of its error map, else an ``HttpResponseError`` read in ARM's error format, so
errors are classified and worded as they always were (an api-version refusal included) and nothing is
asked twice. A 200 whose body is not of the documented shape raises :class:`NotAsTheSdkReadsIt`: the
caller then lists through the SDK from the start.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, quote, urljoin, urlparse

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ResourceNotModifiedError,
    map_error,
)
from azure.core.rest import HttpRequest
from azure.core.utils import case_insensitive_dict
from azure.mgmt.core.exceptions import ARMErrorFormat

from tui.arm.client import DEADLINE_OPTION
from tui.core.model.arm import ARM_PROVIDER, ArmIds, ArmKind

_ACCEPT = {"Accept": "application/json"}

_ERROR_MAP = {
    401: ClientAuthenticationError,
    404: ResourceNotFoundError,
    409: ResourceExistsError,
    304: ResourceNotModifiedError,
}
"""The generated ``list_by_resource_group``'s own error map."""


class NotAsTheSdkReadsIt(Exception):
    """An answer this module does not read exactly as the SDK would: the SDK's listing takes over."""


def first_request(ids: ArmIds, kind: ArmKind, api_version: str) -> HttpRequest:
    """The request ``list_by_resource_group`` sends first (path segments quoted as the SDK quotes them)."""
    path = (
        f"/subscriptions/{quote(ids.subscription, safe='')}"
        f"/resourceGroups/{quote(ids.resource_group, safe='')}"
        f"/providers/{ARM_PROVIDER}/{kind.value}"
    )
    return HttpRequest("GET", path, params={"api-version": api_version}, headers=dict(_ACCEPT))


def next_request(next_link: str, api_version: str) -> HttpRequest:
    """The request for ``nextLink`` as the SDK builds it: the link's path and query, the client's
    api-version."""
    parsed = urlparse(next_link)
    # Case-insensitive, as the SDK's: the link's own api-version is replaced whatever its spelling.
    params = case_insensitive_dict(
        {key: [quote(v) for v in values] for key, values in parse_qs(parsed.query).items()}
    )
    params["api-version"] = api_version
    return HttpRequest("GET", urljoin(next_link, parsed.path), headers=dict(_ACCEPT), params=params)


def list_resources(
    client: Any, ids: ArmIds, kind: ArmKind, *, api_version: str, deadline: float | None
) -> list[Mapping[str, Any]]:
    """Every resource of ``kind`` in the resource group, each the JSON object ARM listed, in order.

    ``client`` is a ``SecretsStoreExtensionMgmtClient`` made for ``api_version``. Raises what the SDK's
    listing raises for an answer other than 200, :class:`NotAsTheSdkReadsIt` (see the module), and the
    transport's or credential's own exceptions as the SDK would raise them.
    """
    found: list[Mapping[str, Any]] = []
    request = first_request(ids, kind, api_version)
    while True:
        response = client.send_request(request, **{DEADLINE_OPTION: deadline})
        if response.status_code != 200:
            map_error(status_code=response.status_code, response=response, error_map=_ERROR_MAP)
            raise HttpResponseError(response=response, error_format=ARMErrorFormat)
        try:
            body = response.json()
        except ValueError:
            raise NotAsTheSdkReadsIt from None
        if not isinstance(body, Mapping):
            raise NotAsTheSdkReadsIt
        items = body.get("value", [])
        if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
            raise NotAsTheSdkReadsIt
        found.extend(items)
        next_link = body.get("nextLink") or None
        if next_link is None:
            return found
        if not isinstance(next_link, str):
            raise NotAsTheSdkReadsIt
        request = next_request(next_link, api_version)
