"""``inspect`` output that depends on time, with the clock injected (no wall-clock dependence)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests import certgen as g
from tui.commands.inspect import run as cmd
from tui.core.clock import FrozenClock

CapSys = pytest.CaptureFixture[str]
START = datetime(2025, 1, 1, tzinfo=UTC)
CA = g.make_ca("Render CA", not_before=START, days=3650)
LEAF = g.make_leaf(CA, "plc-r", not_before=START, days=100, uris=("urn:r",))


def run(paths: list[Path], when: datetime, *, as_json: bool = False) -> int:
    args = argparse.Namespace(files=[str(p) for p in paths], json=as_json)
    return cmd.run(args, clock=FrozenClock(when))


@pytest.fixture
def leaf_file(tmp_path: Path) -> Path:
    path = tmp_path / "leaf.pem"
    path.write_bytes(LEAF.pem)
    return path


@pytest.mark.parametrize(
    ("offset", "note"),
    [
        (timedelta(days=-3), "NOT YET VALID, starts in 3 days"),
        (timedelta(hours=-1), "NOT YET VALID, starts in 1 day"),
        (timedelta(0), "100 days left"),
        (timedelta(days=99, hours=1), "0 days left"),
        # Days left round down (-1 within the first day after expiry); "ago" shows minus that figure.
        (timedelta(days=100, hours=3), "EXPIRED 1 day ago"),
        (timedelta(days=101, hours=3), "EXPIRED 2 days ago"),
        (timedelta(days=130), "EXPIRED 30 days ago"),
    ],
)
def test_validity_line(leaf_file: Path, capsys: CapSys, offset: timedelta, note: str) -> None:
    assert run([leaf_file], START + offset) == 0
    out = capsys.readouterr().out
    assert f"  valid      2025-01-01 00:00Z to 2025-04-11 00:00Z ({note})\n" in out


def test_crl_lines_follow_the_clock_and_the_given_ca(tmp_path: Path, capsys: CapSys) -> None:
    crl_path, ca_path, other_path = tmp_path / "c.crl", tmp_path / "ca.pem", tmp_path / "other.pem"
    crl_path.write_bytes(g.make_crl(CA, revoked=(1, 2), this_update=START).der)
    ca_path.write_bytes(CA.pem)
    other_path.write_bytes(g.make_ca("Render CA", key="ed25519", subject=CA.subject).pem)

    run([crl_path], START + timedelta(days=2))
    out = capsys.readouterr().out
    assert "  next       2025-01-08 00:00Z (in 5 days)" in out
    assert "  revoked    2 certificates" in out
    assert "  signature  not checked (pass the issuing CA certificate too)" in out

    run([crl_path, ca_path], START + timedelta(days=8, hours=6))
    out = capsys.readouterr().out
    assert "(STALE: due 2 days ago)" in out  # 1.25 days past: days left -2, by the one rule
    assert "  signature  verified with the CA given" in out

    run([crl_path, other_path], START)
    assert "  signature  DOES NOT VERIFY with the CA given" in capsys.readouterr().out


def test_json_time_dependent_fields(leaf_file: Path, tmp_path: Path, capsys: CapSys) -> None:
    crl_path = tmp_path / "c.crl"
    crl_path.write_bytes(g.make_crl(CA, this_update=START).der)
    assert run([leaf_file, crl_path], START + timedelta(days=10), as_json=True) == 0
    cert, crl = json.loads(capsys.readouterr().out)
    assert cert["days_left"] == 90 and cert["private_key_in_file"] is False
    assert crl["stale"] is True and crl["signature"] == "unchecked" and crl["signature_ca"] is None
    assert crl["days_left"] == -3  # nextUpdate START + 7 days, read at START + 10 days


def test_ca_line_variants() -> None:
    from tui.core.certs import decode_bytes

    def ca_line(issued: g.Issued) -> str:
        lines = cmd.render_certificate(decode_bytes(issued.der).certificates[0], START)
        return next(line for line in lines if line.startswith("  CA "))

    assert ca_line(CA) == "  CA         yes, self-signed root"
    assert ca_line(g.make_intermediate(CA, "Render Sub")) == "  CA         yes, path length 0"
    assert ca_line(LEAF) == "  CA         no"
    assert ca_line(g.make_leaf(None, "opc app")) == "  CA         no, self-signed"


def test_v1_certificate_says_so(tmp_path: Path, capsys: CapSys) -> None:
    path = tmp_path / "v1.der"
    path.write_bytes(g.make_leaf(CA, "old", version=1).der)
    run([path], START)
    assert "  version    1\n" in capsys.readouterr().out
