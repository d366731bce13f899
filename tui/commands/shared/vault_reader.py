"""Which Key Vault a site's lists use, and a reader of it for the live feed and ``status``.

The vault is the one ``--vault-url`` / ``AIO_CERTS_VAULT_URL`` names, else the one the OPC UA lists'
SecretProviderClass names. The Azure SDK is imported on the first read, not with this module: the
dashboard's first frame must not wait for it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

from tui.commands.shared.settings import VaultSettings
from tui.core.model.snapshot import AreaState, ResourceStatus, VaultSnapshot
from tui.vault.sdk_imports import VAULT, import_sdk

if TYPE_CHECKING:
    from tui.core.clock import Clock
    from tui.core.model.spc import SpcView
    from tui.core.model.state import ClusterState

DEFAULT_CLOUD = "AzureCloud"


def release_free_heap() -> bool:
    """Hand the C heap's free pages back to the system (glibc's ``malloc_trim(0)``); False elsewhere.

    A vault read of thousands of secrets allocates and frees many short-lived objects (responses, JSON,
    the SDK's models) on several threads, each with its own glibc arena; the freed memory stays mapped
    in those arenas until trimmed. Only on Linux with glibc; any failure is ignored.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        # Imported once a vault read is done, not with the dashboard: its first frame need not wait.
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no such symbol or library name)
        return False
    try:
        trim.argtypes = [ctypes.c_size_t]
        trim.restype = ctypes.c_int
        trim(0)
    except Exception:  # an allocator nicety: never a reason to fail a read
        return False
    return True


def vault_target(settings: VaultSettings, state: ClusterState | None) -> tuple[str | None, tuple[str, ...]]:
    """The vault URL to read and the secret names whose values matter, for the latest state.

    The URL comes from ``--vault-url``/``AIO_CERTS_VAULT_URL``, else from the keyvaultName of the SPC the
    OPC UA lists use (with ``--cloud`` or the SPC's cloudName). Values are read only for the objects that
    SPC maps; everything else is listed without values. ``(None, ())`` when no vault is known.
    """
    return vault_target_for(settings, lists_spc(state))


def lists_spc(state: ClusterState | None) -> SpcView | None:
    """The SecretProviderClass the OPC UA lists use in ``state`` (``state.opcua_spc``), if any."""
    if state is None:
        return None
    return next((s for s in state.spcs if s.name == state.opcua_spc), None)


def vault_target_for(settings: VaultSettings, spc: SpcView | None) -> tuple[str | None, tuple[str, ...]]:
    """:func:`vault_target` given the lists' SPC itself (``status`` finds it without building a state)."""
    import_sdk(VAULT)
    # The Azure SDK (~0.1 s) comes with tui.vault.client: imported when a vault is first looked for (the
    # dashboard's vault thread, after its first frame), never at start-up; one thread at a time.
    from tui.vault.client import vault_url_for

    names = tuple(o.object_name for o in spc.objects) if spc is not None else ()
    if settings.url:
        return settings.url, names
    if spc is None or not spc.keyvault_name:
        return None, names
    cloud = settings.cloud or spc.cloud_name or DEFAULT_CLOUD
    return vault_url_for(spc.keyvault_name, cloud, env={}), names


class SiteVaultReader:
    """Reads the vault for a state (a :class:`~tui.cluster.live.VaultReader`), or for the lists' SPC.

    Made by :func:`make_vault_reader`; never raises. One SecretClient is kept per vault URL; the values
    it has read are remembered by version with it (:mod:`tui.vault.reader`).
    """

    def __init__(
        self, settings: VaultSettings, *, clock: Clock, quick: bool, values: bool, timeout: float | None
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._values = values
        self._clients: dict[str, Any] = {}
        self._timeouts: dict[str, Any] = (
            {"retry_total": 1, "connection_timeout": 5.0, "read_timeout": 15.0} if quick else {}
        )
        if timeout is not None:
            self._timeouts["timeout"] = timeout
        self._trimmed = False
        self._adopted: dict[str, Mapping[str, Any]] = {}

    def export_values(self) -> dict[str, Mapping[str, Any]]:
        """The values each of this reader's clients remembers, by vault URL (see
        :func:`tui.vault.reader.remembered_values`): for another reader to :meth:`adopt_values`."""
        import_sdk(VAULT)
        # The SDK is in by now (a client was made); through the gate all the same, as every SDK import.
        from tui.vault.reader import remembered_values

        return {url: remembered_values(client) for url, client in self._clients.items()}

    def adopt_values(self, values: Mapping[str, Mapping[str, Any]]) -> None:
        """Remember ``values`` (from another reader's :meth:`export_values`): the client this reader makes
        for each of those vault URLs starts out knowing them, and its first read fetches only the versions
        that have changed since."""
        self._adopted.update(values)

    def __call__(
        self,
        state: ClusterState | None,
        *,
        incremental: bool = False,
        on_listed: Callable[[VaultSnapshot], None] | None = None,
        only: Collection[str] | None = None,
    ) -> VaultSnapshot | None:
        """Read the vault :func:`vault_target` names for ``state``; None when no vault is known."""
        return self.for_spc(lists_spc(state), incremental=incremental, on_listed=on_listed, only=only)

    def for_spc(
        self,
        spc: SpcView | None,
        *,
        incremental: bool = False,
        on_listed: Callable[[VaultSnapshot], None] | None = None,
        only: Collection[str] | None = None,
    ) -> VaultSnapshot | None:
        """The same read given the lists' SPC (what ``lists_spc(state)`` would return) instead of a state."""
        import_sdk(VAULT)
        # Imported on first read (the feed's vault thread, after the first cluster state): the Azure SDK
        # takes ~0.1 s to import, which would otherwise delay the dashboard's first frame.
        from tui.vault.client import make_secret_client
        from tui.vault.errors import classify
        from tui.vault.listing import list_vault_snapshot
        from tui.vault.reader import adopt_values, read_vault_secrets, read_vault_snapshot

        settings, clock = self._settings, self._clock
        url = None
        try:
            url, names = vault_target_for(settings, spc)
            if url is None:
                return None
            client = self._clients.get(url)
            if client is None:
                client = make_secret_client(
                    url, auth=settings.auth, ca_bundle=settings.ca_bundle, **self._timeouts
                )
                self._clients[url] = client
                adopted = self._adopted.pop(url, None)
                if adopted is not None:
                    adopt_values(client, adopted)
        except Exception as exc:  # bad URL, CA file or auth mode: a vault status, never a crash
            area_state, message = classify(exc)
            now = clock.now()
            return VaultSnapshot(url or "", ResourceStatus(area_state, message, now), taken_at=now)
        if only is not None:
            # The names the lists came to map since the last read (the feed lays them over that read).
            return read_vault_secrets(client, only, clock=clock)
        del incremental  # values are remembered by version: a timed read and one asked for cost the same
        if self._values:
            snapshot = read_vault_snapshot(client, names=names, clock=clock, on_listed=on_listed)
        else:
            # The listing alone (status): the same snapshot without the SDK's models, ~0.25 s less at
            # 2,000 secrets (tui/vault/listing.py).
            snapshot = list_vault_snapshot(client, clock=clock)
        if snapshot.status.state is AreaState.OK and self._values and not self._trimmed:
            # The first complete read is the one that reads every value: its garbage is the bulk.
            self._trimmed = True
            release_free_heap()
        return snapshot


def make_vault_reader(
    settings: VaultSettings,
    *,
    clock: Clock,
    quick: bool = False,
    values: bool = True,
    timeout: float | None = None,
) -> SiteVaultReader:
    """A function reading the vault for a state (see :func:`vault_target`); never raises.

    One SecretClient is kept per vault URL. Every read lists every secret and fetches the values of
    versions the client has not read before (:func:`tui.vault.reader.read_vault_snapshot`), so
    ``incremental`` (the feed's timed re-reads) changes nothing here. ``quick`` makes the client give
    up sooner (for one-shot commands such as ``status``); ``values=False`` lists the secrets' properties
    without fetching any value (one request per page instead of one per secret: presence, content type and
    expiry, but not whether the synced bytes equal the vault's). ``timeout`` (``--request-timeout``)
    bounds every vault call, retries included. ``only`` reads just those secrets (no listing): the feed's
    re-check of names newly mapped.
    """
    return SiteVaultReader(settings, clock=clock, quick=quick, values=values, timeout=timeout)
