"""What ``status`` must know from the cluster before it reads the vault and ARM, without building a state.

``status`` used to build the whole state once without the vault and ARM only to learn three things, then
build it again with them: which SPC the OPC UA lists use (the vault to list, and the names whose values
matter), which lists have no synced Secret (then only the vault's values say what they hold), and the ARM
ids the cluster names. Each is a small part of that first build, computed here by the same functions from
the same raw objects, so it equals what the first build would have said (``tests/unit/test_status_targets.py``
compares them); the one build left is the one that prints.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.core.build.arm import discover_ids
from tui.core.build.readers import meta_of
from tui.core.build.sync import build_sync, choose_opcua_spc
from tui.core.model import resources as rk
from tui.core.model.arm import ArmIds
from tui.core.model.names import OPCUA_LISTS
from tui.core.model.snapshot import RawSnapshot
from tui.core.model.spc import SpcView, parse_spc


@dataclass(frozen=True)
class SiteTargets:
    """The parts of a state built without vault and ARM that say what ``status`` reads next."""

    lists_spc: SpcView | None
    """The SPC the OPC UA lists use: ``state.opcua_spc``'s view among ``state.spcs``."""
    unsynced: tuple[str, ...]
    """The lists whose SecretSync maps files but has no synced Secret (``run.unsynced_lists``)."""
    arm_ids: ArmIds | None
    """The ids the cluster names (the ``arm`` view of a state built without an ARM snapshot)."""


def site_targets(raw: RawSnapshot, namespace: str) -> SiteTargets:
    """Read :class:`SiteTargets` from ``raw`` as ``build_state`` (tui/core/build/assemble.py) derives each
    part: the SPCs of the namespace, the list SecretSyncs as :func:`build_sync` reads them (joining owners and
    sizes later changes neither presence, mappings nor the Secret's presence), the lists' SPC by
    :func:`choose_opcua_spc`, and :func:`discover_ids`."""
    spcs = sorted(
        (
            parse_spc(o)
            for o in raw.items(rk.SECRET_PROVIDER_CLASSES.key)
            if meta_of(o).get("namespace") == namespace
        ),
        key=lambda s: s.name,
    )
    syncs = [build_sync(raw, namespace, list_name, sync_name) for list_name, sync_name in OPCUA_LISTS.items()]
    chosen = choose_opcua_spc(syncs, spcs)
    return SiteTargets(
        lists_spc=next((s for s in spcs if s.name == chosen), None),
        unsynced=tuple(s.list_name for s in syncs if s.present and s.mappings and not s.secret_present),
        arm_ids=discover_ids(raw, namespace),
    )
