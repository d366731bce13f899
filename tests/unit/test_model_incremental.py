"""Incremental rebuilds: a build that reuses remembered parts equals a build from scratch.

The live view rebuilds on every watch event with one long-lived DecodeCache, whose BuildMemo keeps the
OPC UA entries and their findings with what they were made from and how long they hold. Each test
here drives a sequence of changes (objects replaced or edited in place, the vault, settings, the
clock moved to the exact instants where a figure turns over) and compares every incremental state
with one built from nothing.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import certgen as cg
from tests.rawobjects import Site, quickstart_site, spc, tls_secret
from tui.core.build import opcua_rows
from tui.core.build.assemble import build_state
from tui.core.build.cache import DecodeCache
from tui.core.build.entry_findings import remembered_entry_findings, text_stable_until
from tui.core.build.memo import MISS, BuildMemo
from tui.core.build.opcua_rows import ROW_FIELDS, prewarm_list_files
from tui.core.durations import humanize
from tui.core.health.findings import entry_findings
from tui.core.model import resources as rk
from tui.core.model.names import (
    CERT_MANAGER_NAMESPACE,
    ISSUER_LIST_SYNC,
    OPCUA_SPC,
    QUICKSTART_CA_COMMON_NAME,
    ROOT_CA_SECRET,
    TRUST_LIST_SYNC,
)
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import AreaState, RawSnapshot, ResourceStatus, VaultSnapshot
from tui.core.model.state import ClusterState, Health
from tui.demo.seed.aio import secret_name_for
from tui.demo.seed.objects import b64, iso

NOW = cg.EPOCH + timedelta(days=100)
NS = "azure-iot-operations"
DAY = timedelta(days=1)
ROOT = cg.make_ca(QUICKSTART_CA_COMMON_NAME, days=365)
ROOT_NEXT = cg.make_ca(QUICKSTART_CA_COMMON_NAME, not_before=NOW - timedelta(hours=1), days=365)
SITE_CA = cg.make_ca("Contoso Site Root CA")
EXPIRING_AT = NOW + timedelta(days=20, hours=3)
SOON_AT = NOW + timedelta(hours=5, minutes=7)
FUTURE_FROM = NOW + timedelta(days=2)
CRL = cg.make_crl(SITE_CA, this_update=NOW - timedelta(days=6))  # nextUpdate NOW + 1 day
CRL_NEXT = NOW + DAY
TRUST = {
    "plc-ok.der": cg.make_leaf(SITE_CA, "plc-ok").der,
    "plc-expiring.der": cg.make_leaf(SITE_CA, "plc-expiring", not_after=EXPIRING_AT).der,
    "plc-soon.der": cg.make_leaf(SITE_CA, "plc-soon", not_after=SOON_AT).der,
    "plc-expired.der": cg.make_leaf(SITE_CA, "plc-expired", not_after=NOW - timedelta(days=2, hours=1)).der,
    # Half a day off the days-left boundaries, so "not yet valid" ending is a boundary of its own.
    "plc-future.der": cg.make_leaf(SITE_CA, "plc-future", not_before=FUTURE_FROM, days=30.5).der,
}
ISSUERS = {"site-ca.crt": SITE_CA.pem, "site-ca.crl": CRL.der}
NEW_FILE = ("gw-new.der", cg.make_leaf(SITE_CA, "gw-new").der)
OTHER = cg.make_leaf(None, "hmi-self-signed").der


@dataclass
class World:
    """What one step of a sequence changes: the site's objects, the vault, the clock and the settings."""

    site: Site
    vault: VaultSnapshot
    now: datetime = NOW
    settings: ModelSettings = field(default_factory=ModelSettings)
    spc_state: AreaState = AreaState.OK
    ticks: int = 0

    def snapshot(self) -> RawSnapshot:
        raw = self.site.snapshot(self.now)
        if self.spc_state is AreaState.OK:
            return raw
        key = rk.SECRET_PROVIDER_CLASSES.key
        # A forbidden collection is dropped; a reconnecting one keeps what it had (as the reflector does).
        kept = raw.objects[key] if self.spc_state is AreaState.RECONNECTING else {}
        return RawSnapshot(
            objects={**raw.objects, key: kept},
            status={**raw.status, key: ResourceStatus(self.spc_state, f"SPCs {self.spc_state}")},
            taken_at=raw.taken_at,
        )


def _world() -> World:
    site = quickstart_site(NOW, ca=ROOT, trust=TRUST, issuer_list=ISSUERS)
    return World(site, site.vault_snapshot())


def _replaced(world: World, kind: rk.ResourceKind, name: str, edit: Callable[[dict], None]) -> None:
    """Replace an object by an edited copy with a new resourceVersion, as a watch event does."""
    namespace = CERT_MANAGER_NAMESPACE if name == ROOT_CA_SECRET else NS
    obj = copy.deepcopy(world.site.get(kind, namespace, name))
    edit(obj)
    world.ticks += 1
    obj["metadata"]["resourceVersion"] = str(1000 + world.ticks)
    world.site.add(kind, obj)


def _sync_status(world: World) -> None:
    def edit(obj: dict) -> None:
        obj["status"]["lastSuccessfulSyncTime"] = iso(world.now + timedelta(seconds=world.ticks))

    _replaced(world, rk.SECRET_SYNCS, TRUST_LIST_SYNC, edit)


def _secret_in_place(world: World) -> None:
    # Not a new object: the memo must notice an edit of the very dict it saw before.
    data = world.site.get(rk.SECRETS, NS, TRUST_LIST_SYNC)["data"]
    data["plc-ok.der"] = (
        b64(OTHER) if data["plc-ok.der"] == b64(TRUST["plc-ok.der"]) else b64(TRUST["plc-ok.der"])
    )


def _secret_replaced(world: World) -> None:
    def edit(obj: dict) -> None:
        obj["data"]["plc-expired.der"] = b64(OTHER)

    _replaced(world, rk.SECRETS, TRUST_LIST_SYNC, edit)


def _add_file(world: World) -> None:
    name, data = NEW_FILE
    source = secret_name_for(name)

    def edit_secret(obj: dict) -> None:
        obj["data"][name] = b64(data)

    def edit_sync(obj: dict) -> None:
        items = obj["spec"]["secretObject"]["data"]
        if all(i["targetKey"] != name for i in items):
            items.append({"sourcePath": source, "targetKey": name})

    _replaced(world, rk.SECRETS, TRUST_LIST_SYNC, edit_secret)
    _replaced(world, rk.SECRET_SYNCS, TRUST_LIST_SYNC, edit_sync)
    world.site.vault_files[name] = data
    sources = [secret_name_for(f) for f in [*TRUST, *ISSUERS, name]]
    world.site.add(rk.SECRET_PROVIDER_CLASSES, spc(OPCUA_SPC, NS, sources))
    world.vault = world.site.vault_snapshot()


def _unmap_file(world: World) -> None:
    def edit(obj: dict) -> None:
        items = obj["spec"]["secretObject"]["data"]
        obj["spec"]["secretObject"]["data"] = [i for i in items if i["targetKey"] != "plc-ok.der"]

    _replaced(world, rk.SECRET_SYNCS, TRUST_LIST_SYNC, edit)


def _sync_failing(world: World) -> None:
    def edit(obj: dict) -> None:
        update = obj["status"]["conditions"][1]
        failing = update["reason"] == "ProviderError"
        update.update(
            {"status": "True", "reason": "UpdateNoValueChangeSucceeded"}
            if failing
            else {"status": "False", "reason": "ProviderError"}
        )

    _replaced(world, rk.SECRET_SYNCS, ISSUER_LIST_SYNC, edit)


def _partial_sync(world: World) -> None:
    # A PartialSync naming one item, or back to a success: only that entry's flags follow.
    def edit(obj: dict) -> None:
        update = obj["status"]["conditions"][1]
        partial = update["reason"] == "PartialSync"
        item = secret_name_for("plc-ok.der")
        summary = json.dumps([{"objectName": item, "status": "Failed", "error": "403"}])
        update.update(
            {"status": "True", "reason": "UpdateNoValueChangeSucceeded", "message": ""}
            if partial
            else {"status": "False", "reason": "PartialSync", "message": summary}
        )

    _replaced(world, rk.SECRET_SYNCS, TRUST_LIST_SYNC, edit)


def _object_in_other_spc(world: World) -> None:
    # Another SPC of the namespace gains (or loses) an object of a mapped file's name: the entry whose
    # own SPC lacks it reads other-spc, and only a change to that other SPC says so.
    key = (NS, "spc-ops-abc1234")
    if key in world.site.objects[rk.SECRET_PROVIDER_CLASSES.key]:
        world.site.remove(rk.SECRET_PROVIDER_CLASSES, NS, "spc-ops-abc1234")
    else:
        world.site.add(
            rk.SECRET_PROVIDER_CLASSES, spc("spc-ops-abc1234", NS, [secret_name_for("plc-expiring.der")])
        )


def _rotate_root(world: World) -> None:
    world.site.add(rk.SECRETS, tls_secret(ROOT_CA_SECRET, CERT_MANAGER_NAMESPACE, ROOT_NEXT))


def _vault_down(world: World) -> None:
    world.vault = world.site.vault_snapshot(state=AreaState.UNREACHABLE, message="connection refused")


def _vault_up(world: World) -> None:
    world.vault = world.site.vault_snapshot()


def _vault_value_changed(world: World) -> None:
    world.site.vault_files["plc-expiring.der"] = OTHER
    world.vault = world.site.vault_snapshot()


def _spc_state(state: AreaState) -> Callable[[World], None]:
    def read(world: World) -> None:
        world.spc_state = state

    return read


def _spc_object_removed(world: World) -> None:
    # Only the SPC changes: "plc-expiring.der" stays mapped but loses its SPC object (or gets it back).
    current = world.site.get(rk.SECRET_PROVIDER_CLASSES, NS, OPCUA_SPC)["spec"]["parameters"]["objects"]
    files = [*TRUST, *ISSUERS, *(f for f in world.site.vault_files if f not in TRUST and f not in ISSUERS)]
    if secret_name_for("plc-expiring.der") in current:
        files.remove("plc-expiring.der")
    world.site.add(rk.SECRET_PROVIDER_CLASSES, spc(OPCUA_SPC, NS, [secret_name_for(f) for f in files]))


def _thresholds(world: World) -> None:
    warn = 10 if world.settings.expiring_warn_days == 30 else 30
    world.settings = replace(world.settings, expiring_warn_days=warn, expiring_critical_days=min(7, warn))


def _clock(to: Callable[[World], datetime]) -> Callable[[World], None]:
    def move(world: World) -> None:
        world.now = to(world)

    return move


TICK = timedelta(microseconds=1)
STEPS: dict[str, Callable[[World], None]] = {
    "sync status written": _sync_status,
    "synced Secret edited in place": _secret_in_place,
    "synced Secret replaced": _secret_replaced,
    "file added": _add_file,
    "mapping removed": _unmap_file,
    "issuer sync failing/recovered": _sync_failing,
    "trust sync partial/recovered": _partial_sync,
    "object in another SPC/gone": _object_in_other_spc,
    "root CA rotated": _rotate_root,
    "vault unreachable": _vault_down,
    "vault back": _vault_up,
    "vault value changed": _vault_value_changed,
    "SPC forbidden": _spc_state(AreaState.FORBIDDEN),
    "SPC object removed/restored": _spc_object_removed,
    # Objects kept but not judged, then judged again: only whether the SPC could be read changes.
    "SPC reconnecting": _spc_state(AreaState.RECONNECTING),
    "SPC read again": _spc_state(AreaState.OK),
    "thresholds changed": _thresholds,
    "clock +1s": _clock(lambda w: w.now + timedelta(seconds=1)),
    "clock +1 day": _clock(lambda w: w.now + DAY),
    "clock -1 hour": _clock(lambda w: w.now - timedelta(hours=1)),
    # The exact instants where a figure or a text turns over, and the first instant after each.
    "clock at a days-left boundary": _clock(lambda w: EXPIRING_AT - 20 * DAY),
    "clock just past it": _clock(lambda w: EXPIRING_AT - 20 * DAY + TICK),
    "clock at an hours boundary": _clock(lambda w: SOON_AT - timedelta(hours=5)),
    "clock just past that": _clock(lambda w: SOON_AT - timedelta(hours=5) + TICK),
    "clock just before notBefore": _clock(lambda w: FUTURE_FROM - TICK),
    "clock at notBefore": _clock(lambda w: FUTURE_FROM),
    "clock at the CRL nextUpdate": _clock(lambda w: CRL_NEXT),
    "clock just past the CRL nextUpdate": _clock(lambda w: CRL_NEXT + TICK),
    "clock at notAfter": _clock(lambda w: SOON_AT),
    "clock just past notAfter": _clock(lambda w: SOON_AT + TICK),
}


class Builds:
    """The same sequence built twice: with one long-lived cache, and from scratch every time."""

    def __init__(self) -> None:
        self.cache = DecodeCache()
        self.incremental: ClusterState | None = None
        self.scratch: ClusterState | None = None

    def step(self, world: World, label: str) -> ClusterState:
        raw = world.snapshot()
        common = {"settings": world.settings, "now": world.now, "vault": world.vault}
        self.incremental = build_state(raw, previous=self.incremental, cache=self.cache, **common)
        self.scratch = build_state(raw, previous=self.scratch, cache=DecodeCache(), **common)
        assert self.incremental.opcua == self.scratch.opcua, label
        assert self.incremental.findings == self.scratch.findings, label
        assert self.incremental == self.scratch, label
        return self.incremental


def test_every_kind_of_change_in_turn_matches_a_build_from_scratch() -> None:
    world, builds = _world(), Builds()
    builds.step(world, "start")
    seen: set[Health] = set()
    for label, change in STEPS.items():
        change(world)
        state = builds.step(world, label)
        builds.step(world, f"{label}, built again")
        assert state.opcua, label
        seen.update(flag for entry in state.opcua for flag in entry.flags)
    # The sequence went through the states it means to exercise.
    assert {Health.SYNC_FAILING, Health.OTHER_SPC, Health.HAND_ADDED} <= seen, seen
    assert builds.cache.memo.hits > 0 and builds.cache.memo.misses > 0


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(sorted(STEPS)), min_size=1, max_size=10))
def test_any_sequence_of_changes_matches_a_build_from_scratch(labels: list[str]) -> None:
    world, builds = _world(), Builds()
    builds.step(world, "start")
    for label in labels:
        STEPS[label](world)
        builds.step(world, label)


def test_a_change_elsewhere_reuses_the_entries_and_a_changed_file_is_decoded_alone() -> None:
    world, builds = _world(), Builds()
    # Away from every instant where a figure or text of the site turns over (NOW itself is one).
    world.now = NOW + timedelta(hours=2, seconds=10)
    first = builds.step(world, "start")
    memo = builds.cache.memo
    for change in (_sync_status, _rotate_root, _clock(lambda w: w.now + timedelta(seconds=1))):
        misses = memo.misses
        change(world)
        builds.step(world, change.__name__)
        assert memo.misses == misses, change.__name__  # nothing of the OPC UA part was recomputed
    decoded = builds.cache.misses
    _secret_replaced(world)
    state = builds.step(world, "one file changed")
    # The signature check of the new file against the list CAs is new too; every other file is not.
    assert builds.cache.misses - decoded <= 2
    changed = {e.key for e in state.opcua} ^ {e.key for e in first.opcua} | {
        e.key for e in state.opcua if state.entry(e.key) != first.entry(e.key)
    }
    assert changed == {"trust/plc-expired.der"}


def test_a_remembered_build_hands_out_the_remembered_entries() -> None:
    # One object per list file, not a copy per build beside the memo's (issue 14, resident memory).
    world, builds = _world(), Builds()
    one = builds.step(world, "start")
    two = builds.step(world, "again")  # Builds.step asserts it equals a build from scratch
    assert one.opcua == two.opcua
    assert all(a is b for a, b in zip(one.opcua, two.opcua, strict=True))


def test_the_memo_keeps_each_files_row_as_values_and_builds_get_rows_of_their_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One 27-key dict per list file for the dashboard's life was 1.8 MiB at 2,000 files (issue 14).
    made: list[tuple[str, ...]] = []
    static_row = opcua_rows._static_row

    def recorded(*args: Any, **kwargs: Any) -> dict[str, Any]:
        row = static_row(*args, **kwargs)
        made.append(tuple(row))
        return row

    monkeypatch.setattr(opcua_rows, "_static_row", recorded)
    world, builds = _world(), Builds()
    builds.step(world, "start")
    # The values are kept by ROW_FIELDS: every row made has exactly those fields, in that order.
    assert made and set(made) == {ROW_FIELDS}
    memo = builds.cache.memo
    tables = [memo.peek(name) for name in list(memo._slots) if name[0] == "opcua-rows"]
    assert tables and all(isinstance(table, dict) and table for table in tables)
    kept = [values for table in tables for _inputs, values in table.values()]
    assert kept and all(type(values) is tuple and len(values) == len(ROW_FIELDS) for values in kept)
    # A change elsewhere rebuilds from the kept values (Builds.step compares with a build from scratch).
    _sync_status(world)
    builds.step(world, "rebuilt from the remembered rows")
    _clock(lambda w: w.now + timedelta(days=3))(world)
    builds.step(world, "and again, days later")


def test_entries_and_findings_have_slots_and_a_remembered_build_equals_one_from_scratch() -> None:
    # Thousands of entries live as long as the view runs: none carries a __dict__ (issue 14).
    world, builds = _world(), Builds()
    one = builds.step(world, "start")
    hits = builds.cache.memo.hits
    two = builds.step(world, "again")  # Builds.step asserts it equals a build from scratch
    assert builds.cache.memo.hits > hits  # the entries came from the memo
    assert two.opcua and two.findings
    for item in (*one.opcua, *two.opcua, *two.findings):
        assert not hasattr(item, "__dict__"), type(item)
    # A change after the remembered build still matches a build from scratch.
    _secret_replaced(world)
    builds.step(world, "one file changed")


def test_a_result_is_not_reused_outside_its_time_span_or_for_other_inputs() -> None:
    memo = BuildMemo()
    memo.put("part", ("in", {"a": "1"}), NOW, NOW + DAY, "value")
    assert memo.get("part", ("in", {"a": "1"}), NOW) == "value"
    assert memo.get("part", ("in", {"a": "1"}), NOW + DAY - TICK) == "value"
    assert memo.get("part", ("in", {"a": "1"}), NOW + DAY) is MISS
    assert memo.get("part", ("in", {"a": "1"}), NOW - TICK) is MISS  # a clock moved back
    assert memo.get("part", ("in", {"a": "2"}), NOW) is MISS
    assert memo.get("other", ("in", {"a": "1"}), NOW) is MISS
    memo.put("forever", (), NOW, None, 1)
    assert memo.get("forever", (), NOW + 10_000 * DAY) == 1


def test_the_memo_stays_bounded() -> None:
    memo = BuildMemo(maxsize=3)
    for i in range(5):
        memo.put(i, (), NOW, None, i)
    assert [memo.peek(i) for i in range(5)] == [MISS, MISS, 2, 3, 4]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["plc-expiring.der", "plc-soon.der", "plc-expired.der"]),
    st.integers(min_value=-3 * 86400 * 10**6, max_value=25 * 86400 * 10**6),
    st.integers(min_value=0, max_value=3 * 86400 * 10**6),
)
def test_entry_finding_texts_hold_exactly_until_their_bound(name: str, offset: int, later: int) -> None:
    cache = DecodeCache()
    site = quickstart_site(NOW, ca=ROOT, trust={name: TRUST[name]})
    start = NOW + timedelta(microseconds=offset)
    state = build_state(site.snapshot(start), settings=ModelSettings(), now=start, cache=cache)
    entry = state.entry(f"trust/{name}")
    assert entry is not None
    memo = BuildMemo()
    first = remembered_entry_findings(state.opcua, state.settings, start, memo)
    assert first == entry_findings(entry, state.settings, start)
    when = start + timedelta(microseconds=later)
    # Same entries, a later time: the remembered texts are exactly what a fresh computation says.
    assert remembered_entry_findings(state.opcua, state.settings, when, memo) == entry_findings(
        entry, state.settings, when
    )
    bound = text_stable_until(entry, start)
    if bound is not None and entry.certificate is not None:
        # The texts change at the bound and not a microsecond before it.
        expired = Health.EXPIRED in entry.flags
        at = (
            (lambda t: humanize(t - entry.certificate.not_after))
            if expired
            else (lambda t: humanize(entry.certificate.not_after - t))
        )
        assert at(bound - TICK) == at(start)
        assert at(bound) != at(start)


def test_prewarm_decodes_the_list_files_so_the_first_build_only_hits_and_builds_the_same() -> None:
    junk = {"junk.der": b"not a certificate", "empty.crt": b""}
    site = quickstart_site(NOW, ca=ROOT, trust={**TRUST, **junk}, issuer_list=ISSUERS)
    site.get(rk.SECRETS, NS, TRUST_LIST_SYNC)["data"]["bad-base64.der"] = "%%% not base64"
    raw = site.snapshot()
    vault = site.vault_snapshot()
    secrets = {name: raw.get(rk.SECRETS.key, NS, name) for name in (TRUST_LIST_SYNC, ISSUER_LIST_SYNC)}

    cold = DecodeCache()
    scratch = build_state(raw, settings=ModelSettings(), now=NOW, vault=vault, cache=cold)
    warm = DecodeCache()
    decoded = prewarm_list_files(secrets, warm)
    assert decoded == len(TRUST) + len(junk) + len(ISSUERS)  # the value that is not base64 is skipped
    assert (warm.hits, warm.misses) == (0, decoded)
    built = build_state(raw, settings=ModelSettings(), now=NOW, vault=vault, cache=warm)
    # Every list file was a hit: the warm build missed exactly `decoded` fewer times than the cold one.
    assert cold.misses - (warm.misses - decoded) == decoded
    assert built == scratch  # decode errors included
    errors = {e.target_key: e.decode_error for e in built.opcua if e.decode_error}
    assert set(errors) == {"junk.der", "empty.crt", "bad-base64.der"}
