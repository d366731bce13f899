"""Dry runs leave an audit line too, with the plan's thumbprints, secrets and entries (against the demo).

Refusals before any plan are in ``tests/unit/test_audit_trail.py``; applies, cancels and refused plans in
``test_changes_cli.py`` and ``test_changes_refused.py``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests import certgen
from tests.integration.changes_support import run_cli, running_demo, site_snapshot
from tui.demo.environment import KUBE_CONTEXT, DemoEnvironment


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoEnvironment]:
    with running_demo() as env:
        yield env


def _events(state_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (state_dir / "audit.jsonl").read_text().splitlines()]


def test_dry_runs_are_audited_with_what_the_plan_concerns(demo: DemoEnvironment, tmp_path: Path) -> None:
    leaf = certgen.make_leaf(None, "dry PLC", not_before=datetime.now(UTC) - timedelta(days=1), days=365)
    (tmp_path / "dry-plc.der").write_bytes(leaf.der)
    before = site_snapshot(demo)
    added = run_cli(demo, tmp_path, "trust", "add", str(tmp_path / "dry-plc.der"), "--dry-run")
    assert added.returncode == 0, added.stderr
    removed = run_cli(demo, tmp_path, "trust", "remove", "historian-main.der", "--dry-run", "--read-only")
    assert removed.returncode == 0, removed.stderr
    assert site_snapshot(demo) == before
    add, remove = _events(tmp_path)
    assert (add["action"], add["outcome"], add["context"]) == ("trust add", "dry-run", KUBE_CONTEXT)
    assert add["sha256"] == [hashlib.sha256(leaf.der).hexdigest().upper()]
    assert add["vault_secrets"] == ["dry-plc-der"]
    assert add["entries"] == ["trust/dry-plc.der"] and add["plan_id"]
    assert (remove["action"], remove["outcome"], remove["entries"]) == (
        "trust remove",
        "dry-run",
        ["trust/historian-main.der"],
    )
    assert len(remove["sha256"]) == 1 and remove["vault_secrets"]  # what the entry held, from the site
