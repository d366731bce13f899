"""``tui/arm/listing.py`` with a typed in-memory client: which answers it reads, which it leaves to the SDK,
and how it follows ``nextLink`` (the wire itself: ``tests/integration/test_arm_listing.py``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpRequest

from tui.arm.client import DEADLINE_OPTION
from tui.arm.listing import NotAsTheSdkReadsIt, list_resources
from tui.core.model.arm import ArmIds, ArmKind

IDS = ArmIds("sub 1", "rg/odd", None)
VERSION = "2024-08-21-preview"
ENDPOINT = "https://arm.example"


@dataclass
class _Response:
    status_code: int
    body: str
    reason: str = "OK"

    def json(self) -> Any:
        return json.loads(self.body)

    def text(self) -> str:
        return self.body


@dataclass
class _Client:
    """Answers the requests in order, and keeps them (their URL as the client's endpoint would make it)."""

    answers: list[_Response]
    sent: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)

    def send_request(self, request: HttpRequest, **kwargs: Any) -> _Response:
        url = request.url if request.url.startswith("https://") else ENDPOINT + request.url
        self.sent.append((url, kwargs))
        return self.answers.pop(0)


def _page(items: list[Any], next_link: str | None = None) -> _Response:
    body: dict[str, Any] = {"value": items}
    if next_link is not None:
        body["nextLink"] = next_link
    return _Response(200, json.dumps(body))


def test_pages_are_followed_with_the_clients_api_version_and_the_deadline() -> None:
    link = f"{ENDPOINT}/subscriptions/x/resourceGroups/y/providers/p/secretSyncs"
    link += "?api-version=2019-01-01&$skipToken=2"
    client = _Client([_page([{"name": "a"}, {"name": "b"}], link), _page([{"name": "c"}])])
    found = list_resources(client, IDS, ArmKind.SECRET_SYNC, api_version=VERSION, deadline=12.5)
    assert [item["name"] for item in found] == ["a", "b", "c"]
    first, second = (urlparse(url) for url, _ in client.sent)
    # The path segments quoted as the SDK quotes them (nothing left unquoted, "/" included).
    provider = "/providers/Microsoft.SecretSyncController/secretSyncs"
    assert first.path == "/subscriptions/sub%201/resourceGroups/rg%2Fodd" + provider
    assert parse_qs(first.query) == {"api-version": [VERSION]}
    assert second.path == "/subscriptions/x/resourceGroups/y/providers/p/secretSyncs"
    assert parse_qs(second.query) == {"api-version": [VERSION], "$skipToken": ["2"]}
    assert all(kwargs == {DEADLINE_OPTION: 12.5} for _, kwargs in client.sent)


def test_an_empty_page_without_value_is_an_empty_listing() -> None:
    client = _Client([_Response(200, "{}")])
    assert list_resources(client, IDS, ArmKind.SPC, api_version=VERSION, deadline=None) == []


def _error(status: int, code: str) -> _Response:
    return _Response(status, json.dumps({"error": {"code": code, "message": "no"}}), reason="Error")


@pytest.mark.parametrize(
    ("answer", "raised"),
    [
        (_error(400, "InvalidApiVersionParameter"), HttpResponseError),
        (_error(401, "InvalidAuthenticationToken"), ClientAuthenticationError),
        (_error(404, "ResourceGroupNotFound"), ResourceNotFoundError),
        (_error(429, "TooManyRequests"), HttpResponseError),
    ],
    ids=["400", "401", "404", "429"],
)
def test_an_error_answer_raises_what_the_sdks_listing_raises(
    answer: _Response, raised: type[HttpResponseError]
) -> None:
    client = _Client([answer])
    with pytest.raises(HttpResponseError) as caught:
        list_resources(client, IDS, ArmKind.SECRET_SYNC, api_version=VERSION, deadline=None)
    error = caught.value
    assert type(error) is raised
    # Read in ARM's error format (what tui/arm/errors.py words and classifies), from the one answer.
    if raised is HttpResponseError:
        assert error.error is not None and error.error.code == json.loads(answer.body)["error"]["code"]
    assert error.status_code == answer.status_code
    assert len(client.sent) == 1


def test_a_links_own_api_version_is_replaced_whatever_its_spelling() -> None:
    link = f"{ENDPOINT}/subscriptions/x/resourceGroups/y/providers/p/secretSyncs?Api-Version=2019-01-01&a=1"
    client = _Client([_page([], link), _page([])])
    list_resources(client, IDS, ArmKind.SECRET_SYNC, api_version=VERSION, deadline=None)
    query = urlparse(client.sent[1][0]).query
    assert sorted(k.lower() for k in parse_qs(query)) == ["a", "api-version"]
    assert parse_qs(query.lower())["api-version"] == [VERSION]


@pytest.mark.parametrize(
    "answer",
    [
        _Response(200, "not json"),
        _Response(200, "[]"),
        _Response(200, json.dumps({"value": {"name": "a"}})),
        _Response(200, json.dumps({"value": ["a"]})),
        _Response(200, json.dumps({"value": [], "nextLink": 7})),
    ],
    ids=[
        "no JSON",
        "a list body",
        "value not a list",
        "an item not an object",
        "a bad link",
    ],
)
def test_a_200_not_as_documented_is_left_to_the_sdk(answer: _Response) -> None:
    client = _Client([answer])
    with pytest.raises(NotAsTheSdkReadsIt):
        list_resources(client, IDS, ArmKind.SECRET_SYNC, api_version=VERSION, deadline=None)
    assert len(client.sent) == 1
