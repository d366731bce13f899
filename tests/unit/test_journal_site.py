"""Which site a journal was written for, and when it is another (trial finding 1)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.unit.test_audit_trail import JOURNAL_ID, _plan
from tui.core.changes.journal import PlanRecord, SiteIdentity, record_from_json, site_difference
from tui.ops.journal import JournalInfo, unusable_info
from tui.ops.site import OtherSite, by_site, journals_of, refuse_other_site

SITE = SiteIdentity(
    "https://site.example:6443",
    "uid-site",
    "https://site-kv.vault.azure.net/",
    ("/subscriptions/s/resourceGroups/site/providers/Microsoft.SecretSyncController/secretSyncs/trust",),
)


def _info(site: SiteIdentity | None, journal_id: str = JOURNAL_ID) -> JournalInfo:
    path = Path(f"{journal_id}.jsonl")
    return JournalInfo(
        journal_id, path, "2026-03-01T12:00:00Z", "aio-demo", (), 3, 1, 0, None, None, False, site=site
    )


def test_the_plan_record_keeps_the_site_and_older_records_read_without_one() -> None:
    record = dataclasses.replace(_plan(), site=SITE)
    back = record_from_json(record.to_json())
    assert isinstance(back, PlanRecord) and back.site == SITE
    older = record.to_json()
    del older["site"]  # as written before sites were recorded
    again = record_from_json(older)
    assert isinstance(again, PlanRecord) and again.site is None


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        # The trial: same context name, another served demo (another URL, another cluster).
        (
            dataclasses.replace(SITE, server="https://lat.example:6443", cluster_uid="uid-lat"),
            "the cluster differs",
        ),
        # k3s through a tunnel: every cluster is https://127.0.0.1:6443; only the UID tells them apart.
        (dataclasses.replace(SITE, cluster_uid="uid-other"), "the cluster differs"),
        # No UID readable now: the URL decides.
        (
            dataclasses.replace(SITE, server="https://lat.example:6443", cluster_uid=None),
            "the API server differs",
        ),
        (dataclasses.replace(SITE, vault_url="https://lat-kv.vault.azure.net"), "the vault differs"),
        (
            dataclasses.replace(SITE, arm_resources=("/subscriptions/s/resourceGroups/lat/x",)),
            "the ARM resources",
        ),
    ],
)
def test_what_differs_is_named(current: SiteIdentity, expected: str) -> None:
    difference = site_difference(SITE, current)
    assert difference is not None and difference.startswith(expected)


def test_the_same_site_reached_another_way_is_the_same_site() -> None:
    # Same cluster UID through another address; vault URL in another case and without the slash;
    # an ARM id in another case; what is unknown now is not compared.
    same = SiteIdentity(
        "https://10.0.0.5:6443",
        "uid-site",
        "https://SITE-KV.vault.azure.net",
        tuple(r.upper() for r in SITE.arm_resources),
    )
    assert site_difference(SITE, same) is None
    assert site_difference(SITE, SiteIdentity("https://site.example:6443/")) is None
    assert "records no site" in (site_difference(None, SITE) or "")


def test_refusal_is_one_line_and_says_how_to_point_at_the_right_site() -> None:
    lat = dataclasses.replace(SITE, server="https://lat.example:6443", cluster_uid="uid-lat")
    with pytest.raises(OtherSite) as caught:
        refuse_other_site(_info(SITE), lat, unchecked=False, action="resume")
    line = str(caught.value)
    assert "\n" not in line and "the cluster differs" in line and "uid-site" in line and "uid-lat" in line
    assert "--context or --kubeconfig, --vault-url" in line
    assert f"`aio-certs journal resume {JOURNAL_ID} --site-unchecked`" in line
    with pytest.raises(OtherSite, match="records no site"):
        refuse_other_site(_info(None), SITE, unchecked=False, action="rollback")
    refuse_other_site(_info(None), SITE, unchecked=True, action="rollback")  # the user vouches
    refuse_other_site(_info(SITE), SITE, unchecked=False, action="resume")  # its own site


def test_listing_keeps_this_sites_unreadable_and_unrecorded_journals() -> None:
    lat = dataclasses.replace(SITE, cluster_uid="uid-lat")
    infos = [
        _info(SITE, "a"),
        _info(lat, "b"),
        _info(None, "c"),
        unusable_info(Path("d.jsonl"), "empty file"),
    ]
    assert [i.id for i in journals_of(infos, SITE)] == ["a", "c", "d"]
    marks = {j.info.id: j.other for j in by_site(infos, SITE)}
    assert marks["a"] is None and (marks["b"] or "").startswith("the cluster differs")


def test_the_start_notice_names_the_site_of_an_unfinished_apply(tmp_path: Path) -> None:
    # Printed before connecting, on every change command: with a shared context name, the API server
    # is what tells the user whether the apply is this site's.
    from tui.ops.journal import JournalStore, notice_lines

    JournalStore(tmp_path).create(JOURNAL_ID, dataclasses.replace(_plan(), site=SITE)).close()
    [line] = notice_lines(tmp_path)
    assert (
        f"unfinished apply {JOURNAL_ID} (0/" in line
        and ", interrupted, site https://site.example:6443)" in line
    )
