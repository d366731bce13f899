"""``aio-certs vault list`` says what each unmapped secret holds: subject and expiry, expired ones marked
(issue 13 item 23), through the real SecretClient against the demo's Key Vault emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests import certgen
from tests.integration.changes_support import run_cli, running_demo
from tui.demo.environment import DemoEnvironment


@pytest.fixture
def demo() -> Iterator[DemoEnvironment]:
    with running_demo() as env:
        yield env


def test_vault_list_shows_subject_and_expiry_and_marks_the_expired(
    demo: DemoEnvironment, tmp_path: Path
) -> None:
    # The CLI judges expiry on the real clock, so the certificates are made relative to it.
    now = datetime.now(UTC).replace(microsecond=0)
    fresh = certgen.make_leaf(None, "PLC Nine", not_before=now - timedelta(days=1), days=365)
    # 35 days and some seconds ago by the time the CLI looks: the 36th day since (days left round down).
    old = certgen.make_leaf(None, "PLC Old", not_before=now - timedelta(days=400), days=365)
    for name, cert in (("plc-9-der", fresh), ("plc-old-der", old)):
        demo.vault.put_secret(
            name, cert.der.hex(), content_type="application/pkix-cert", tags={"file-encoding": "hex"}
        )
    demo.vault.put_secret("a-password", "hunter2", content_type="text/plain")

    listed = run_cli(demo, tmp_path, "vault", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert set(rows) == {"plc-9-der", "plc-old-der", "a-password"}
    assert (rows["plc-9-der"]["subject"], rows["plc-9-der"]["expired"]) == (
        "CN=PLC Nine,O=aio-certs tests",
        False,
    )
    assert rows["plc-9-der"]["expiry"] in ("expires in 363d", "expires in 364d")
    assert (rows["plc-old-der"]["expired"], rows["plc-old-der"]["expiry"]) == (True, "expired 36d ago")
    assert rows["a-password"]["kind"] is None and rows["a-password"]["problem"]
    assert "hunter2" not in listed.stdout  # a value is never printed

    text = run_cli(demo, tmp_path, "vault", "list")
    assert text.returncode == 0, text.stderr
    lines = {line.split()[0]: line for line in text.stdout.splitlines()}
    assert "certificate CN=PLC Nine,O=aio-certs tests  until" in lines["plc-9-der"]
    assert (
        "EXPIRED  certificate CN=PLC Old,O=aio-certs tests" in lines["plc-old-der"]
        and "(expired 36d ago)" in lines["plc-old-der"]
    )
    assert "hunter2" not in text.stdout
