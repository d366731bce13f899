"""Where a site's list resources are in ARM, and a reader of them for the live feed and ``status``.

The subscription and resource group are ``--subscription`` / ``--resource-group`` when given, else what
the cluster says (the objects' resourceId annotation, else the Arc ConfigMap: ``state.arm``), else
``AZURE_SUBSCRIPTION_ID`` / ``AZURE_RESOURCE_GROUP``; the custom location is the cluster's
(docs/domain.md §9.4). Sign-in is the vault's credential chain (``--auth``) and ``--cloud`` picks the
endpoint unless ``AIO_CERTS_ARM_ENDPOINT`` names one. The Azure SDK is imported on the first read, not
with this module: the dashboard's first frame must not wait for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui.commands.shared.settings import ArmSettings, VaultSettings
from tui.core.model.arm import ArmIds, ArmSnapshot
from tui.core.model.snapshot import ResourceStatus
from tui.vault.sdk_imports import import_sdk

ARM_SDK = ("tui.arm.client", "tui.arm.errors", "tui.arm.resources", "tui.arm.reader", "tui.vault.credentials")
"""The ARM adapter's modules that bring the Azure SDK (its credentials are the vault's)."""

if TYPE_CHECKING:
    from tui.arm.resources import ArmResources
    from tui.core.clock import Clock
    from tui.core.model.state import ClusterState


def arm_target(settings: ArmSettings, state: ClusterState | None) -> ArmIds | None:
    """The ids to read ARM with for the latest state; None when no subscription and group are known."""
    view = state.arm if state is not None else None
    return _target(
        settings,
        view.subscription if view else None,
        view.resource_group if view else None,
        view.custom_location if view else None,
    )


def arm_target_for(settings: ArmSettings, discovered: ArmIds | None) -> ArmIds | None:
    """:func:`arm_target` given what the cluster says (``discover_ids`` of the raw objects), for a state
    built without an ARM snapshot, whose ``arm`` view carries exactly those ids (``status`` reads ARM
    before it builds)."""
    if discovered is None:
        return _target(settings, None, None, None)
    return _target(settings, discovered.subscription, discovered.resource_group, discovered.custom_location)


def _target(
    settings: ArmSettings, subscription: str | None, group: str | None, location: str | None
) -> ArmIds | None:
    subscription = settings.subscription or subscription or settings.fallback_subscription
    group = settings.resource_group or group or settings.fallback_resource_group
    if not subscription or not group:
        return None
    return ArmIds(subscription, group, location)


def open_arm(
    settings: ArmSettings,
    ids: ArmIds,
    *,
    auth: str | None,
    cloud: str | None,
    timeout: float | None = None,
    retry_total: int | None = None,
) -> ArmResources:
    """The ARM adapter for ``ids`` (also what a change session writes through; docs/design.md §7).

    Raises a one-line ``ArmError`` for a bad endpoint, CA file or auth mode, and for the ``demo``
    credential with an endpoint that is not on loopback.
    """
    import_sdk(ARM_SDK)
    # The Azure SDK comes with these (~0.1 s): imported when ARM is first read, never at start-up.
    from tui.arm.client import arm_endpoint, check_endpoint, refuse_demo_for
    from tui.arm.errors import ArmError
    from tui.arm.resources import ArmResources
    from tui.vault.credentials import make_credential, resolve_auth
    from tui.vault.errors import VaultError

    endpoint = check_endpoint(settings.endpoint) if settings.endpoint else arm_endpoint(cloud, env={})
    try:
        mode = resolve_auth(auth)
        refuse_demo_for(endpoint, demo=mode == "demo")
        credential = make_credential(mode, vault_url=endpoint)
    except VaultError as exc:
        raise ArmError(str(exc), exc.state) from None
    return ArmResources(
        ids,
        endpoint=endpoint,
        credential=credential,
        ca_bundle=settings.ca_bundle,
        timeout=timeout,
        retry_total=retry_total,
    )


class SiteArmReader:
    """Reads ARM's list resources for a state (a :class:`~tui.cluster.live.ArmReader`), or for ids.

    Made by :func:`make_arm_reader`; never raises. One adapter is kept per set of ids, so the api-version
    ARM accepted is asked first next time.
    """

    def __init__(
        self,
        settings: ArmSettings,
        vault: VaultSettings,
        *,
        clock: Clock,
        quick: bool,
        timeout: float | None,
    ) -> None:
        self._settings = settings
        self._vault = vault
        self._clock = clock
        self._quick = quick
        self._timeout = timeout
        self._adapters: dict[ArmIds, Any] = {}

    def __call__(self, state: ClusterState | None) -> ArmSnapshot | None:
        """Read ARM at :func:`arm_target` for ``state``; None when no ARM ids are known."""
        return self.for_ids(arm_target(self._settings, state))

    def for_ids(self, ids: ArmIds | None) -> ArmSnapshot | None:
        """Read ARM at ``ids`` (from :func:`arm_target` or :func:`arm_target_for`); None for None."""
        import_sdk(ARM_SDK)
        # Imported on first read (the feed's ARM thread, after the first cluster state).
        from tui.arm.errors import classify
        from tui.arm.reader import read_arm_snapshot

        if ids is None:
            return None
        try:
            adapter = self._adapters.get(ids)
            if adapter is None:
                adapter = open_arm(
                    self._settings,
                    ids,
                    auth=self._vault.auth,
                    cloud=self._vault.cloud,
                    timeout=self._timeout,
                    retry_total=1 if self._quick else None,
                )
                self._adapters[ids] = adapter
        except Exception as exc:  # bad endpoint, CA file or auth mode: an ARM status, never a crash
            area_state, message = classify(exc)
            now = self._clock.now()
            return ArmSnapshot(ResourceStatus(area_state, message, now), ids, taken_at=now)
        return read_arm_snapshot(adapter, clock=self._clock)


def make_arm_reader(
    settings: ArmSettings,
    vault: VaultSettings,
    *,
    clock: Clock,
    quick: bool = False,
    timeout: float | None = None,
) -> SiteArmReader:
    """A function reading ARM's list resources for a state (see :func:`arm_target`); never raises.

    One adapter is kept per set of ids, so the api-version ARM accepted is asked first next time.
    ``quick`` makes the client give up sooner (one retry, for one-shot commands such as ``status``);
    ``timeout`` (``--request-timeout``) bounds each listing, retries included.
    """
    return SiteArmReader(settings, vault, clock=clock, quick=quick, timeout=timeout)
