"""``status`` learns what to read from the vault and ARM without a first build (status/targets.py).

It used to build the whole state once without the vault and ARM, then again with them. Each answer the
first build gave must come out the same from the raw objects: the lists' SPC (the vault to list and the
names whose values matter), the lists without a synced Secret, and the ARM ids. Compared here on sites
where each of them differs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from tests import armobjects as ao
from tests import certgen as cg
from tests.rawobjects import Site, quickstart_site, secret_sync, spc
from tui.commands.shared.arm_reader import arm_target, arm_target_for
from tui.commands.shared.settings import ArmSettings, VaultSettings
from tui.commands.shared.vault_reader import lists_spc, vault_target, vault_target_for
from tui.commands.status.run import unsynced_lists
from tui.commands.status.targets import site_targets
from tui.core.build.assemble import build_state
from tui.core.build.cache import DecodeCache
from tui.core.model import resources as rk
from tui.core.model.arm import ArmKind
from tui.core.model.names import ISSUER_LIST_SYNC, OPCUA_SPC, TRUST_LIST_SYNC
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import AreaState

NOW = cg.EPOCH + timedelta(days=100)
NS = "azure-iot-operations"
CA = cg.make_ca("Contoso Site Root CA")
PLC = cg.make_leaf(CA, "plc", not_before=NOW - timedelta(days=10), not_after=NOW + timedelta(days=300))


def _site() -> Site:
    return quickstart_site(NOW, ca=CA, trust={"plc.der": PLC.der}, issuer_list={"site-ca.crt": CA.pem})


def _annotated(site: Site) -> Site:
    for kind, arm_kind, name in (
        (rk.SECRET_SYNCS, ArmKind.SECRET_SYNC, TRUST_LIST_SYNC),
        (rk.SECRET_PROVIDER_CLASSES, ArmKind.SPC, OPCUA_SPC),
    ):
        site.add(kind, ao.annotated(site.get(kind, NS, name), arm_kind))
    return site


def _unsynced(site: Site) -> Site:
    return site.remove(rk.SECRETS, NS, TRUST_LIST_SYNC)


def _other_spc(site: Site) -> Site:
    # The lists name another SPC, with its own vault; the default one stays beside it.
    site.add(rk.SECRET_PROVIDER_CLASSES, spc("lists-spc", NS, ["plc-der"], keyvault="other-kv"))
    for name in (TRUST_LIST_SYNC, ISSUER_LIST_SYNC):
        site.add(rk.SECRET_SYNCS, secret_sync(name, NS, "lists-spc", [("plc-der", "plc.der")]))
    return site


def _no_syncs(site: Site) -> Site:
    for name in (TRUST_LIST_SYNC, ISSUER_LIST_SYNC):
        site.remove(rk.SECRET_SYNCS, NS, name)
    return site


def _no_spc(site: Site) -> Site:
    return _no_syncs(site).remove(rk.SECRET_PROVIDER_CLASSES, NS, OPCUA_SPC)


def _secrets_forbidden(site: Site) -> Site:
    return site.set_state(rk.SECRETS, AreaState.FORBIDDEN, "no")


SITES: dict[str, Callable[[Site], Site]] = {
    "quickstart": lambda s: s,
    "arm-annotated": _annotated,
    "unsynced-list": _unsynced,
    "another-spc": _other_spc,
    "no-syncs": _no_syncs,
    "no-spc": _no_spc,
    "secrets-forbidden": _secrets_forbidden,
}


@pytest.mark.parametrize("shape", SITES)
def test_the_targets_equal_what_a_first_build_said(shape: str) -> None:
    raw = SITES[shape](_site()).snapshot()
    first = build_state(raw, settings=ModelSettings(), now=NOW, cache=DecodeCache())
    targets = site_targets(raw, NS)
    assert targets.lists_spc == lists_spc(first)
    assert targets.unsynced == unsynced_lists(first)
    for arm in (
        ArmSettings(),
        ArmSettings(fallback_subscription="sub-env", fallback_resource_group="rg-env"),
        ArmSettings(subscription="sub-flag", resource_group="rg-flag"),
    ):
        assert arm_target_for(arm, targets.arm_ids) == arm_target(arm, first)
    for vault in (
        VaultSettings(),
        VaultSettings(url="https://kv.example/"),
        VaultSettings(cloud="AzureChinaCloud"),
    ):
        assert vault_target_for(vault, targets.lists_spc) == vault_target(vault, first)


def test_the_shapes_above_tell_the_targets_apart() -> None:
    """Each shape gives the comparison something to get wrong."""
    seen = {shape: site_targets(make(_site()).snapshot(), NS) for shape, make in SITES.items()}
    assert seen["quickstart"].lists_spc is not None and seen["quickstart"].arm_ids is None
    assert seen["arm-annotated"].arm_ids == ao.IDS
    assert seen["unsynced-list"].unsynced == ("trust",)
    assert seen["another-spc"].lists_spc is not None and seen["another-spc"].lists_spc.name == "lists-spc"
    assert seen["no-spc"].lists_spc is None
