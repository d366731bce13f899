"""``aio-certs journal`` on a broken state directory or journal: one line naming the path and what is
wrong, exit 1, nothing written; the listing shows an unusable journal as such.

No cluster is needed: every refusal here comes before a connection (the kubeconfig points nowhere).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_journal import BROKEN, PLAN, T0
from tui.core.changes.journal import EndRecord
from tui.ops.journal import JournalStore

ROOT = Path(__file__).resolve().parents[2]
GOOD = "20260301T120000Z-a1b2c3"


def _cli(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIO_CERTS_") and k != "KUBECONFIG"}
    env.update(
        {
            "AIO_CERTS_STATE_DIR": str(state),
            "HOME": str(state.parent),
            "XDG_CONFIG_HOME": str(state.parent / "config"),
            "KUBECONFIG": str(state.parent / "none"),
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
        input="",
    )


def _one_line(result: subprocess.CompletedProcess[str], prefix: str) -> str:
    assert "Traceback" not in result.stderr and "unexpected error" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(prefix), result.stderr
    return lines[0]


@pytest.mark.parametrize(
    "argv",
    [
        ("journal",),
        ("journal", "resume", GOOD, "--yes"),
        ("journal", "rollback", GOOD, "--dry-run"),
        ("trust", "add", "x.der"),
        ("renew", "--dry-run"),
    ],
)
def test_a_state_directory_that_is_a_file(tmp_path: Path, argv: tuple[str, ...]) -> None:
    state = tmp_path / "state"
    state.write_text("a file\n")
    result = _cli(state, *argv)
    assert result.returncode == 1
    line = _one_line(result, "aio-certs ")
    assert line.endswith(f": state directory {state}: not a directory"), line
    assert state.read_text() == "a file\n"


@pytest.mark.parametrize(
    "argv", [("journal",), ("journal", "resume", GOOD, "--yes"), ("issuer", "remove", "x.der", "--yes")]
)
def test_a_journal_directory_that_is_a_file(tmp_path: Path, argv: tuple[str, ...]) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    (state / "journal").write_text("")
    result = _cli(state, *argv)
    assert result.returncode == 1
    line = _one_line(result, "aio-certs ")
    assert line.endswith(f": journal directory {state / 'journal'}: not a directory"), line


def _state_with(tmp_path: Path, name: str, data: bytes) -> tuple[Path, Path]:
    state = tmp_path / "state"
    JournalStore(state).create(GOOD, PLAN).close()  # a pending apply next to the broken one
    path = state / "journal" / f"{name}.jsonl"
    path.write_bytes(data)
    path.chmod(0o600)
    return state, path


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_the_listing_shows_an_unusable_journal_in_one_line(tmp_path: Path, name: str) -> None:
    data, problem = BROKEN[name]
    state, path = _state_with(tmp_path, name, data)
    result = _cli(state, "journal")
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    [shown] = [line for line in lines if line.startswith(name)]
    assert shown.startswith(f"{name}  UNUSABLE    journal {path}: {problem}"), shown
    assert "\x1b" not in result.stdout
    assert any(line.startswith(f"{GOOD}  PENDING") for line in lines)
    listed = {j["id"]: j for j in json.loads(_cli(state, "journal", "--json").stdout)}
    assert listed[name]["problem"].startswith(problem) and listed[name]["pending"] is False
    assert listed[name]["path"] == str(path) and listed[GOOD]["problem"] is None


@pytest.mark.parametrize("name", sorted(BROKEN))
@pytest.mark.parametrize("action", ["resume", "rollback"])
def test_resume_or_rollback_of_an_unusable_journal_is_one_line_and_writes_nothing(
    tmp_path: Path, name: str, action: str
) -> None:
    data, problem = BROKEN[name]
    state, path = _state_with(tmp_path, name, data)
    result = _cli(state, "journal", action, name, "--yes")
    assert result.returncode == 1
    verb = "resumed" if action == "resume" else "rolled back"
    line = _one_line(result, f"aio-certs journal {action}: journal {path}: {problem}")
    assert line.endswith(f"; it cannot be {verb}")
    assert path.read_bytes() == data
    # The refusal is audited (nothing else was written).
    [event] = [json.loads(e) for e in (state / "audit.jsonl").read_text().splitlines()]
    assert (event["action"], event["outcome"], event["extra"]) == (
        f"journal {action}",
        "refused",
        {"journal": name},
    )
    assert sorted(p.name for p in (state / "journal").iterdir()) == sorted([f"{GOOD}.jsonl", path.name])


def test_journal_names_and_contexts_with_control_characters_are_escaped(tmp_path: Path) -> None:
    # From the adversarial pass: a journal file named with ESC/BEL, or whose context holds them, was
    # printed raw by `journal` and by every change command's "unfinished apply" notice.
    import dataclasses

    state = tmp_path / "state"
    hostile = "2026\x1b]0;owned\x07X"
    JournalStore(state).create(hostile, dataclasses.replace(PLAN, context="aio\x1b]0;pwned\x07demo")).close()
    listing = _cli(state, "journal")
    assert listing.returncode == 0, listing.stderr
    for stream in (listing.stdout, listing.stderr):
        assert "\x1b" not in stream and "\x07" not in stream
    assert "2026\\1B]0;owned\\07X" in listing.stdout and "aio\\1B]0;pwned\\07demo" in listing.stdout
    notice = _cli(state, "trust", "remove", "x.der", "--dry-run")
    assert "\x1b" not in notice.stderr and "\x07" not in notice.stderr
    assert "unfinished apply 2026\\1B]0;owned\\07X" in notice.stderr
    dry = _cli(state, "journal", "rollback", hostile, "--dry-run")
    assert "\x1b" not in dry.stdout + dry.stderr and "\x07" not in dry.stdout + dry.stderr


def _ended(tmp_path: Path, outcome: str) -> Path:
    """A state directory holding journal ``GOOD``, ended with ``outcome``."""
    state = tmp_path / "state"
    journal = JournalStore(state).create(GOOD, PLAN)
    journal.append(EndRecord("p1", outcome, T0))
    journal.close()
    return state


@pytest.mark.parametrize(
    ("outcome", "action", "said"),
    [
        ("applied", "resume", f"journal {GOOD}: already applied; nothing to resume"),
        ("rolled-back", "rollback", f"journal {GOOD}: already rolled back; nothing to roll back"),
        (
            "applied",
            "rollback",
            f"journal {GOOD}: was applied, so there is no unfinished apply to roll back (a rollback undoes "
            "an interrupted or failed apply). To take the change back, make the opposite change: "
            "aio-certs trust remove plc-1.der; aio-certs trust remove plc-2.der",
        ),
    ],
)
def test_a_journal_that_already_ended_as_asked_is_nothing_to_do(
    tmp_path: Path, outcome: str, action: str, said: str
) -> None:
    # Issue 13 item 16: this exited 1 with "already applied; nothing to rollback", where the help
    # promises 0 when there is nothing to do. No cluster is needed (the kubeconfig points nowhere).
    state = _ended(tmp_path, outcome)
    before = (state / "journal" / f"{GOOD}.jsonl").read_bytes()
    result = _cli(state, "journal", action, GOOD, "--yes")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [said]
    assert (state / "journal" / f"{GOOD}.jsonl").read_bytes() == before
    [event] = [json.loads(e) for e in (state / "audit.jsonl").read_text().splitlines()]
    assert (event["action"], event["outcome"]) == (f"journal {action}", "nothing-to-do")


@pytest.mark.parametrize("outcome", ["rolled-back", "abandoned"])
def test_resuming_an_undone_journal_is_refused(tmp_path: Path, outcome: str) -> None:
    state = _ended(tmp_path, outcome)
    result = _cli(state, "journal", "resume", GOOD, "--yes")
    assert result.returncode == 1
    _one_line(result, f"aio-certs journal resume: journal {GOOD}: already ")
    assert result.stderr.rstrip().endswith("nothing to resume; plan the change again")
