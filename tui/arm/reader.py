"""Reading a site's list resources from ARM into an :class:`~tui.core.model.arm.ArmSnapshot`, never raising.

Both kinds are listed in the resource group (two requests, however many lists) and kept when they sit on
the site's custom location, so another AIO instance in the same resource group is not taken for this
one. A failure becomes the snapshot's status (FORBIDDEN, UNREACHABLE or ERROR with a one-line reason):
the model then knows ownership from the annotations alone and judges no drift, and the cluster view is
untouched (docs/design.md §6).
"""

from __future__ import annotations

from types import MappingProxyType

from tui.arm.errors import classify
from tui.arm.resources import ArmResources
from tui.core.clock import Clock
from tui.core.model.arm import ArmKind, ArmResource, ArmSnapshot
from tui.core.model.snapshot import AreaState, ResourceStatus


def on_location(resource: ArmResource, custom_location: str | None) -> bool:
    """Whether ``resource`` is placed on ``custom_location`` (any, when the location is unknown)."""
    if custom_location is None:
        return True
    return (resource.extended_location or "").lower() == custom_location.lower()


def read_arm_snapshot(resources: ArmResources, *, clock: Clock) -> ArmSnapshot:
    """List both list kinds in the resource group and keep those on the site's custom location."""
    taken_at = clock.now()
    ids = resources.ids
    found: dict[tuple[ArmKind, str], ArmResource] = {}
    try:
        for kind in (ArmKind.SPC, ArmKind.SECRET_SYNC):
            for resource in resources.list(kind):
                if resource.name and on_location(resource, ids.custom_location):
                    found[(kind, resource.name.lower())] = resource
    except Exception as exc:  # nothing may escape to the feed: the status says what went wrong
        # The SDK's reason, without the adapter's "listing <type> in resource group <rg>" prefix: the
        # header and status already say it is ARM and name the resource group.
        state, message = classify(exc.__cause__ or exc)
        return ArmSnapshot(ResourceStatus(state, message, taken_at), ids, taken_at=taken_at)
    return ArmSnapshot(ResourceStatus(AreaState.OK, "", taken_at), ids, MappingProxyType(found), taken_at)
