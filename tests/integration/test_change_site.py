"""A journal is bound to the site it was written for (trial finding 1).

Two sites whose contexts share a name (``aio-demo``, k3s's ``default``) must not finish each other's
applies: an apply records the API server, the cluster's ``kube-system`` UID, the vault and its ARM
resources; ``journal resume|rollback`` refuses another site's journal, and one that records none, in one
line before asking or writing anything; ``journal`` lists this site's journals unless ``--all``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests import certgen
from tests.integration.changes_support import (
    cli_env,
    kubectl_json,
    one_line_error,
    run_cli,
    running_demo,
    site_snapshot,
)
from tests.unit.test_audit_trail import _plan
from tui.cli import build_parser
from tui.cluster.config import load_cluster_config
from tui.commands.dashboard.run import open_change_session
from tui.commands.shared.settings import command_settings, load_user_config
from tui.core.changes.journal import SiteIdentity
from tui.demo.environment import DemoEnvironment
from tui.ops.journal import JournalStore
from tui.ops.site import OtherSite

OTHER_CLUSTER = "20260301T120000Z-0c0c0c"
OTHER_SERVER = "20260301T120001Z-0d0d0d"
LEGACY = "20260301T120002Z-0e0e0e"


@pytest.fixture
def demo() -> Iterator[DemoEnvironment]:
    with running_demo() as env:
        yield env


def _here(demo: DemoEnvironment) -> SiteIdentity:
    connection = load_cluster_config(str(demo.kubeconfig_path), None, environ={})
    connection.close()
    uid = kubectl_json(demo, "get", "namespace", "kube-system")["metadata"]["uid"]
    return SiteIdentity(connection.server, uid, demo.vault_url)


def _audit(state: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (state / "audit.jsonl").read_text().splitlines()]


def test_an_apply_records_the_site_it_writes_to(demo: DemoEnvironment, tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    leaf = certgen.make_leaf(None, "site-bound", not_before=now - timedelta(days=1), days=365)
    path = tmp_path / "site-bound.der"
    path.write_bytes(leaf.der)
    result = run_cli(demo, tmp_path, "trust", "add", str(path), "--yes", "--wait-timeout", "20")
    assert result.returncode == 0, result.stderr
    [journal] = sorted((tmp_path / "journal").glob("*.jsonl"))
    plan = json.loads(journal.read_text().splitlines()[0])
    here = _here(demo)
    assert plan["site"]["server"] == here.server
    assert plan["site"]["cluster_uid"] == here.cluster_uid
    assert plan["site"]["vault_url"].rstrip("/") == here.vault_url.rstrip("/")  # type: ignore[union-attr]
    # The listing counts it as this site's, with no "other sites" line.
    listing = run_cli(demo, tmp_path, "journal")
    assert journal.stem in listing.stdout and "other sites" not in listing.stdout


def test_another_sites_journal_is_refused_and_not_listed(demo: DemoEnvironment, tmp_path: Path) -> None:
    here = _here(demo)
    store = JournalStore(tmp_path)
    # Same context name, same API server URL (a tunnel), another cluster: the UID tells them apart.
    other_cluster = dataclasses.replace(here, cluster_uid="00000000-0000-0000-0000-00000000000c")
    store.create(OTHER_CLUSTER, dataclasses.replace(_plan(), context="aio-demo", site=other_cluster)).close()
    # Another server, its UID never read: the URL tells them apart.
    other_server = SiteIdentity("https://lat.example:6443", None, here.vault_url)
    later = dataclasses.replace(
        _plan(), plan_id="p2", at=_plan().at + timedelta(seconds=1), site=other_server
    )
    store.create(OTHER_SERVER, later).close()
    legacy = dataclasses.replace(_plan(), plan_id="p3", at=_plan().at + timedelta(seconds=2), site=None)
    store.create(LEGACY, legacy).close()
    before = site_snapshot(demo)

    for action in ("resume", "rollback"):
        refused = run_cli(demo, tmp_path, "journal", action, OTHER_CLUSTER, "--yes")
        assert refused.returncode == 1, refused.stderr
        line = one_line_error(
            refused, f"aio-certs journal {action}: journal {OTHER_CLUSTER} is not for the site"
        )
        assert "the cluster differs" in line and other_cluster.cluster_uid in line  # type: ignore[operator]
        assert "--context or --kubeconfig" in line and "--site-unchecked" in line
    server = run_cli(demo, tmp_path, "journal", "resume", OTHER_SERVER, "--yes")
    assert server.returncode == 1
    assert "the API server differs (written for https://lat.example:6443" in server.stderr
    old = run_cli(demo, tmp_path, "journal", "resume", LEGACY, "--yes")
    assert old.returncode == 1
    assert "records no site (written by an earlier aio-certs)" in old.stderr
    assert f"aio-certs journal resume {LEGACY} --site-unchecked" in old.stderr
    assert site_snapshot(demo) == before  # nothing written anywhere
    assert [(e["action"], e["outcome"]) for e in _audit(tmp_path)] == [
        ("journal resume", "refused"),
        ("journal rollback", "refused"),
        ("journal resume", "refused"),
        ("journal resume", "refused"),
    ]

    listing = run_cli(demo, tmp_path, "journal")
    assert listing.returncode == 0, listing.stderr
    assert LEGACY in listing.stdout and "(site not recorded)" in listing.stdout
    assert OTHER_CLUSTER not in listing.stdout and OTHER_SERVER not in listing.stdout
    assert "2 journal(s) of other sites not shown (--all lists them)" in listing.stdout
    every = run_cli(demo, tmp_path, "journal", "--all", "--json")
    marks = {j["id"]: j["other_site"] for j in json.loads(every.stdout)}
    assert marks[LEGACY] is None and "the cluster differs" in marks[OTHER_CLUSTER]
    assert "the API server differs" in marks[OTHER_SERVER]
    text = run_cli(demo, tmp_path, "journal", "list", "--all")
    assert text.stdout.count("OTHER SITE: ") == 2


def test_the_dashboards_session_refuses_and_lists_by_site_too(
    demo: DemoEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The dashboard resumes through ChangeSession.resume/rollback (the J view and the offer at start),
    # with no CLI check in front: the session itself must refuse, before any write.
    for key, value in cli_env(demo, tmp_path).items():
        monkeypatch.setenv(key, value)
    here = _here(demo)
    store = JournalStore(tmp_path)
    other_cluster = dataclasses.replace(here, cluster_uid="00000000-0000-0000-0000-00000000000c")
    store.create(OTHER_CLUSTER, dataclasses.replace(_plan(), site=other_cluster)).close()
    other_vault = dataclasses.replace(here, vault_url="https://lat.vault.example")
    store.create(OTHER_SERVER, dataclasses.replace(_plan(), plan_id="p2", site=other_vault)).close()
    store.create(LEGACY, dataclasses.replace(_plan(), plan_id="p3", site=None)).close()
    args = build_parser().parse_args(["dashboard"])
    session, connection = open_change_session(command_settings(args, load_user_config()))
    before = site_snapshot(demo)
    try:
        # The dashboard's listing reads only the API server and the cluster's UID (no cluster list at
        # start): the other cluster's journal is left out; the vault is judged when resuming.
        assert [i.id for i in session.site_journals(pending_only=True)] == [OTHER_SERVER, LEGACY]
        assert {i.id for i in session.site_journals(every_site=True)} == {OTHER_CLUSTER, OTHER_SERVER, LEGACY}
        for call in (session.resume, session.rollback):
            with pytest.raises(OtherSite, match="the cluster differs"):
                call(OTHER_CLUSTER, progress=lambda _e: None, wait_timeout=5)
            with pytest.raises(OtherSite, match=r"the vault differs \(written for https://lat.vault.example"):
                call(OTHER_SERVER, progress=lambda _e: None, wait_timeout=5)
        with pytest.raises(OtherSite, match="records no site"):
            session.resume(LEGACY, progress=lambda _e: None, wait_timeout=5)
    finally:
        connection.close()
    assert site_snapshot(demo) == before
