"""The dashboard's first vault read in a forked child (tui/commands/shared/vault_worker.py), over the wire.

The reading side runs in a fresh Python process, as the dashboard does: a fork is made only from a process
running no other thread, and this test process runs the Key Vault emulator's threads. That process reads
through the real ``SecretClient`` (the child's, then its own) and prints what it saw as JSON; the emulator
here counts the value GETs. Its clock is frozen a day back, so every version is settled (old enough to be
remembered, tui/vault/reader.py) by the time the reading process lists it on the machine's clock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tui.core.clock import FrozenClock
from tui.demo.keyvault.vault import KeyVaultEmulator, start_keyvault_emulator

ROOT = Path(__file__).resolve().parents[2]
COUNT = 40  # above LISTING_FIRST_FROM: the listing is delivered ahead of the values
HEX = "application/pkix-cert"

_READER = """
import json, os, sys
from types import SimpleNamespace
from tests import rawobjects
from tui.commands.shared.settings import VaultSettings
from tui.commands.shared.vault_reader import make_vault_reader
from tui.commands.shared.vault_worker import ForkedVaultReader, vault_reader_for_feed
from tui.core.clock import SystemClock
from tui.core.model.spc import parse_spc

url, ca, count, kill_first = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "kill"
names = [f"plc-{i:02d}-der" for i in range(count)]
spc = parse_spc(rawobjects.spc("opcua-spc", "azure-iot-operations", names))
state = SimpleNamespace(spcs=[spc], opcua_spc=spc.name)
settings = VaultSettings(url=url, auth="demo", ca_bundle=ca)
reader = vault_reader_for_feed(lambda: make_vault_reader(settings, clock=SystemClock()))
assert isinstance(reader, ForkedVaultReader)
child = reader.pid
if kill_first:
    os.kill(child, 9)
    os.waitpid(child, 0)
listed = []
out = {"child": child, "me": os.getpid(), "sdk_before": "azure.keyvault.secrets" in sys.modules}
niceness = []
def on_listed(snapshot):
    listed.append(snapshot.values_pending)
    try:  # the child's priority beside this process's, while it reads (it ends after the read)
        mine = os.getpriority(os.PRIO_PROCESS, 0)
        niceness.append(os.getpriority(os.PRIO_PROCESS, child) - min(mine + 10, 19))
    except ProcessLookupError:
        niceness.append(None)
first = reader(state, on_listed=on_listed)
out["niceness"] = niceness
out["first"] = [first.status.state.value, sum(1 for s in first.secrets.values() if s.value)]
out["listed"] = listed
out["handed_over"] = reader.handed_over
try:
    os.kill(child, 0)
    out["child_alive"] = True
except ProcessLookupError:
    out["child_alive"] = False
print(json.dumps(out), flush=True)
sys.stdin.readline()  # the test counts the first read's GETs, then lets the second begin
second = reader(state)
print(json.dumps({"second": [second.status.state.value, sum(1 for s in second.secrets.values() if s.value)],
                  "sdk_after": "azure.keyvault.secrets" in sys.modules}), flush=True)
reader.close()
"""


@pytest.fixture
def kv() -> Iterator[KeyVaultEmulator]:
    clock = FrozenClock(datetime.now(UTC) - timedelta(days=1))
    with start_keyvault_emulator(clock=clock) as emulator:
        for i in range(COUNT):
            emulator.put_secret(f"plc-{i:02d}-der", f"30{i:04x}", HEX, {"file-encoding": "hex"})
        yield emulator


def _value_gets(kv: KeyVaultEmulator) -> int:
    return sum(1 for r in kv.requests() if r.method == "GET" and r.path.startswith("/secrets/"))


def _run(kv: KeyVaultEmulator, *, kill_first: bool) -> tuple[dict[str, Any], int, dict[str, Any], int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIO_CERTS_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _READER,
            kv.url,
            str(kv.ca_pem_path),
            str(COUNT),
            "kill" if kill_first else "-",
        ],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        first = json.loads(proc.stdout.readline() or "{}")
        first_gets = _value_gets(kv)
        kv.clear_requests()
        proc.stdin.write("\n")
        proc.stdin.flush()
        second = json.loads(proc.stdout.readline() or "{}")
        second_gets = _value_gets(kv)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert err == ""  # the child never wrote to the terminal
    return first, first_gets, second, second_gets


def test_the_first_read_runs_in_the_child_which_hands_its_values_over(kv: KeyVaultEmulator) -> None:
    first, first_gets, second, second_gets = _run(kv, kill_first=False)
    assert first["child"] != first["me"]
    assert first["first"] == ["ok", COUNT]
    assert first["listed"] == [COUNT]  # the listing ahead of its values, passed on to this process
    assert first["niceness"] == [0]  # the child reads at nice +10 beside the dashboard (at most 19)
    assert first["handed_over"] is True and first["child_alive"] is False
    assert first["sdk_before"] is False  # the reading process never imported the SDK for that read
    assert first_gets == COUNT  # every value, read by the child
    # The re-read is this process's own, with the child's values: a listing, no value fetched again.
    assert second == {"second": ["ok", COUNT], "sdk_after": True}
    assert second_gets == 0


def test_a_child_gone_before_the_first_read_leaves_the_reads_to_this_process(kv: KeyVaultEmulator) -> None:
    first, first_gets, second, second_gets = _run(kv, kill_first=True)
    assert first["first"] == ["ok", COUNT]
    assert first["handed_over"] is False and first["child_alive"] is False
    assert first_gets == COUNT
    assert second == {"second": ["ok", COUNT], "sdk_after": True}
    assert second_gets == 0  # this process remembers what it read itself
