"""The vault adapter (:class:`tui.vault.writes.VaultWriter`) against an SDK-shaped fake SecretClient: the
requests each operation makes, in order, and one-line errors. The decisions around them are tested
through the port (test_vault_write_guard.py, test_ops_engine.py); the Key Vault emulator checks the
same requests over the wire (tests/integration).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tui.core.changes.operations import VaultWrite
from tui.ops.errors import WriteConflict
from tui.ops.ports import VaultPort
from tui.ops.vault_ops import read_secret, restore_version, write_secret_checked
from tui.vault.errors import VaultError
from tui.vault.writes import VaultWriter

OURS = "3082aa"
THEIRS = "3082bb"


@dataclass
class _Props:
    name: str
    version: str
    content_type: str | None = "application/pkix-cert"
    tags: dict[str, str] = field(default_factory=lambda: {"file-encoding": "hex"})
    enabled: bool = True
    updated_on: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    expires_on: datetime | None = None


@dataclass
class _Secret:
    value: str
    properties: _Props


def _status(code: int) -> HttpResponseError:
    exc = HttpResponseError(message=f"status {code}")
    exc.status_code = code
    exc.reason = "Forbidden" if code == 403 else "Error"
    return exc


class FakeSecretClient:
    """The SecretClient methods the adapter calls, recorded by name; ``hooks[call]`` runs before that
    call (another writer getting in, or a failure)."""

    def __init__(self) -> None:
        self.versions: dict[str, list[tuple[str, str, _Props]]] = {}
        self.deleted: dict[str, list[tuple[str, str, _Props]]] = {}
        self._ids = (f"v{n}" for n in itertools.count(1))
        self.hooks: dict[str, Callable[[], object]] = {}
        self.calls: list[str] = []
        self.set_kwargs: list[dict[str, Any]] = []

    def _hook(self, call: str) -> None:
        self.calls.append(call)
        hook = self.hooks.pop(call, None)
        if hook is not None:
            hook()

    def put(self, name: str, value: str, **kwargs: Any) -> str:
        version = next(self._ids)
        props = _Props(name, version, **kwargs)
        self.versions.setdefault(name, []).append((version, value, props))
        return version

    def set_secret(self, name: str, value: str, **kwargs: Any) -> _Secret:
        self._hook("set")
        self.set_kwargs.append(kwargs)
        version = self.put(
            name,
            value,
            content_type=kwargs.get("content_type"),
            tags=kwargs.get("tags"),
            expires_on=kwargs.get("expires_on"),
        )
        return _Secret(value, _Props(name, version))

    def get_secret(self, name: str, version: str | None = None) -> _Secret:
        self._hook("get" if version is None else "get-version")
        history = self.versions.get(name)
        if not history:
            raise ResourceNotFoundError("SecretNotFound")
        found = history[-1] if version is None else next(v for v in history if v[0] == version)
        return _Secret(found[1], found[2])

    def list_properties_of_secret_versions(self, name: str) -> Iterator[_Props]:
        self._hook("list")
        history = self.versions.get(name)
        if not history:
            raise ResourceNotFoundError("SecretNotFound")
        return iter([props for _, _, props in history])

    def get_deleted_secret(self, name: str) -> object:
        self._hook("get-deleted")
        if name not in self.deleted:
            raise ResourceNotFoundError("DeletedSecretNotFound")
        return object()

    def begin_delete_secret(self, name: str) -> None:
        self._hook("delete")
        if name not in self.versions:
            raise ResourceNotFoundError("SecretNotFound")
        self.deleted[name] = self.versions.pop(name)

    def purge_deleted_secret(self, name: str) -> None:
        self._hook("purge")
        del self.deleted[name]

    def begin_recover_deleted_secret(self, name: str) -> None:
        self._hook("recover")
        self.versions[name] = self.deleted.pop(name)


def _writer(client: FakeSecretClient) -> VaultWriter:
    return VaultWriter(client, wait_seconds=0)  # type: ignore[arg-type]  # SDK-shaped, not the SDK


def _op() -> VaultWrite:
    return VaultWrite("plc-der", OURS, "application/pkix-cert", list_name="trust", target_key="plc.der")


def test_the_guarded_write_makes_the_same_requests_in_the_same_order() -> None:
    client = FakeSecretClient()
    port: VaultPort = _writer(client)
    version = write_secret_checked(port, _op())
    assert version == "v1" and client.versions["plc-der"][-1][1] == OURS
    assert client.calls == ["list", "get", "set", "get", "list"]
    # The write is the official tool's: hex value, content type, the hex tag.
    assert client.set_kwargs == [
        {"content_type": "application/pkix-cert", "tags": {"file-encoding": "hex"}, "expires_on": None}
    ]


def test_a_foreign_version_is_read_by_id_and_is_a_conflict() -> None:
    client = FakeSecretClient()
    client.hooks["set"] = lambda: client.put("plc-der", THEIRS) and None
    with pytest.raises(WriteConflict, match="also written by someone else"):
        write_secret_checked(_writer(client), _op())
    # Ours landed on top of theirs: the adapter is asked to put theirs back (one more set).
    assert client.calls == ["list", "get", "set", "get", "list", "get-version", "set"]
    assert [entry[1] for entry in client.versions["plc-der"]] == [THEIRS, OURS, THEIRS]


def test_reads_say_absent_soft_deleted_or_fail_in_one_line() -> None:
    client = FakeSecretClient()
    writer = _writer(client)
    assert writer.read("plc-der") is None and writer.version_ids("plc-der") == set()
    client.put("plc-der", OURS)
    secret, version = writer.read("plc-der") or (None, None)
    assert secret is not None and secret.value == OURS and version == "v1"
    assert secret.tags == {"file-encoding": "hex"} and secret.content_type == "application/pkix-cert"
    client.deleted["gone-der"] = []
    assert read_secret(writer, "gone-der").deleted and not read_secret(writer, "other").deleted
    client.hooks["get"] = _raise(_status(500))
    with pytest.raises(VaultError) as caught:
        writer.read("plc-der")
    assert str(caught.value).startswith("reading secret plc-der: ") and "\n" not in str(caught.value)
    client.hooks["get-deleted"] = _raise(_status(403))  # no right to read the deleted list: not deleted
    assert writer.is_soft_deleted("gone-der") is False
    client.hooks["get-deleted"] = _raise(_status(500))
    with pytest.raises(VaultError, match=r"^reading deleted secret gone-der: 500"):
        writer.is_soft_deleted("gone-der")


def _raise(exc: Exception) -> Callable[[], None]:
    def hook() -> None:
        raise exc

    return hook


def test_delete_and_purge_waits_for_the_deleted_list_then_purges() -> None:
    client = FakeSecretClient()
    client.put("plc-der", OURS)
    writer = _writer(client)
    assert writer.delete("plc-der", purge=True) == "purged"
    assert client.calls == ["delete", "get-deleted", "purge"] and not client.deleted
    client.calls.clear()
    assert writer.delete("plc-der", purge=True) == "gone"
    assert client.calls == ["delete", "get-deleted"]
    client.put("plc-der", OURS)
    assert writer.delete("plc-der", purge=False) == "deleted" and "plc-der" in client.deleted
    # An already soft-deleted secret is purged when asked.
    assert writer.delete("plc-der", purge=True) == "purged" and not client.deleted


def test_a_purge_goes_ahead_without_the_right_to_read_deleted_secrets() -> None:
    client = FakeSecretClient()
    client.put("plc-der", OURS)
    client.hooks["get-deleted"] = _raise(_status(403))
    assert _writer(client).delete("plc-der", purge=True) == "purged"


def test_a_delete_that_never_shows_in_the_deleted_list_is_one_line() -> None:
    client = FakeSecretClient()
    client.put("plc-der", OURS)

    def vanish() -> None:  # the delete is accepted but the deleted list never shows it
        client.hooks["get-deleted"] = lambda: client.deleted.pop("plc-der", None) and None

    client.hooks["delete"] = vanish
    with pytest.raises(VaultError, match="still not in the deleted list after 0s") as caught:
        _writer(client).delete("plc-der", purge=True)
    assert "purge" not in client.calls and "\n" not in str(caught.value)


def test_recover_and_restore_a_version() -> None:
    client = FakeSecretClient()
    first = client.put("plc-der", THEIRS, tags={"file-encoding": "hex", "kept": "yes"})
    client.put("plc-der", OURS)
    writer = _writer(client)
    restored = restore_version(writer, "plc-der", first)
    assert client.versions["plc-der"][-1][1] == THEIRS and restored == "v3"
    assert client.set_kwargs[-1]["tags"] == {"file-encoding": "hex", "kept": "yes"}
    writer.delete("plc-der", purge=False)
    client.calls.clear()
    writer.recover("plc-der")
    assert client.calls == ["recover", "get"] and read_secret(writer, "plc-der").value == THEIRS
