"""``trust|issuer add --target-key`` names the entry in the list (issue 13 item 27)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import certgen as cg
from tui.cli import build_parser
from tui.commands.shared.exits import Refused
from tui.commands.shared.list_changes import stage_add
from tui.core.changes.changeset import AddFile


def test_target_key_names_the_entry_and_its_default_secret(tmp_path: Path) -> None:
    path = tmp_path / "download (3).der"
    path.write_bytes(cg.make_leaf(None, "plc-1").der)
    args = build_parser().parse_args(["trust", "add", str(path), "--target-key", "plc-1.der", "--overwrite"])
    assert args.target_key == "plc-1.der"
    (change,) = stage_add("trust", args.files, secret_name=None, overwrite=True, target_key=args.target_key)
    assert isinstance(change, AddFile)
    assert (change.file_name, change.effective_secret_name, change.overwrite) == (
        "plc-1.der",
        "plc-1-der",
        True,
    )
    # Without it, the file's own name, as before.
    (plain,) = stage_add("trust", args.files, secret_name=None, overwrite=False)
    assert isinstance(plain, AddFile) and plain.file_name == "download (3).der"


def test_target_key_takes_one_file(tmp_path: Path) -> None:
    for name in ("a.der", "b.der"):
        (tmp_path / name).write_bytes(cg.make_leaf(None, name).der)
    with pytest.raises(Refused, match="--target-key: give one FILE per command when naming its entry"):
        stage_add(
            "trust",
            [str(tmp_path / "a.der"), str(tmp_path / "b.der")],
            secret_name=None,
            overwrite=False,
            target_key="x.der",
        )


def test_target_key_is_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["issuer", "add", "--help"])
    out = capsys.readouterr().out
    assert "--target-key NAME" in out
    assert "aio-certs issuer add new.der --target-key plc-1.der --overwrite" in out
