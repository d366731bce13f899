"""Names a user types or a file is called are echoed escaped, on one line, by every command.

An ESC or BEL echoed raw drives the terminal (colours, bell, title), and a newline splits an error over
two lines that a script or a ticket then reads as two. Each command below is fed a name holding all
three and must answer with exactly one stderr line, no raw control byte, the name visibly escaped
(``\\1B``, ``\\07``, ``\\0A``), and nothing changed on the site.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests import certgen
from tests.integration.changes_support import run_cli, running_demo, site_snapshot
from tui.demo.environment import DemoEnvironment

BAD = "x\x1b[31mred\x07bell\nline2"
SHOWN = "x\\1B[31mred\\07bell\\0Aline2"
MAPPABLE = "esc-test-der"  # a certificate in the vault that no list maps yet
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoEnvironment]:
    with running_demo() as env:
        env.vault.put_secret(
            MAPPABLE,
            _leaf("esc-test").der.hex(),
            content_type="application/pkix-cert",
            tags={"file-encoding": "hex"},
        )
        yield env


def _leaf(cn: str) -> certgen.Issued:
    return certgen.make_leaf(None, cn, not_before=datetime.now(UTC) - timedelta(days=1), days=365)


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def _ca_der() -> bytes:
    return certgen.make_ca("Escaping Test CA", not_before=datetime.now(UTC) - timedelta(days=1), days=365).der


Args = Callable[[Path], list[str]]
CASES: dict[str, Args] = {
    "trust add, missing file": lambda tmp: ["trust", "add", str(tmp / f"{BAD}.der")],
    "trust add, file name": lambda tmp: [
        "trust",
        "add",
        _write(tmp, f"{BAD}.der", _leaf("a").der),
        "--secret-name",
        "esc-a-der",
    ],
    "trust add, secret name": lambda tmp: [
        "trust",
        "add",
        _write(tmp, "esc-b.der", _leaf("b").der),
        "--secret-name",
        BAD,
    ],
    "issuer add, file name": lambda tmp: [
        "issuer",
        "add",
        _write(tmp, f"{BAD}.der", _ca_der()),
        "--secret-name",
        "esc-ca-der",
    ],
    "trust remove": lambda tmp: ["trust", "remove", f"{BAD}.der"],
    "issuer remove": lambda tmp: ["issuer", "remove", f"{BAD}.crl"],
    "vault add, secret name": lambda tmp: ["vault", "add", BAD, "--list", "trust"],
    "vault add, target key": lambda tmp: [
        "vault",
        "add",
        MAPPABLE,
        "--list",
        "trust",
        "--target-key",
        f"{BAD}.der",
    ],
    "journal resume": lambda tmp: ["journal", "resume", BAD],
    "journal rollback": lambda tmp: ["journal", "rollback", BAD],
    "inspect": lambda tmp: ["inspect", _write(tmp, f"{BAD}.der", b"not a certificate")],
    "renew": lambda tmp: ["renew", BAD],
}


@pytest.mark.parametrize("case", list(CASES))
def test_names_with_control_characters_are_escaped_on_one_line(
    demo: DemoEnvironment, tmp_path: Path, case: str
) -> None:
    args = CASES[case](tmp_path)
    before = site_snapshot(demo)
    result = run_cli(demo, tmp_path, *args, *([] if args[0] == "inspect" else ["--yes"]))
    assert result.returncode in (1, 2), (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, result.stderr
    assert not _CONTROL.search(result.stderr), repr(result.stderr)
    assert result.stderr.startswith("aio-certs ") and SHOWN in result.stderr, result.stderr
    assert site_snapshot(demo) == before
