"""The state directory is the user's alone: made owner-only whatever the umask, refused when another
user could write to it (directly or through a symlink), and a path that is no directory is one line.

The suite runs as root, for whom ``os.access`` says yes to everything: these checks read mode bits and
owners, so they are tested by setting those, not by dropping privileges.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.unit.test_journal import PLAN
from tui.config import StateDirError, prepare_state_dir
from tui.core.clock import FrozenClock
from tui.ops.audit import AuditLog
from tui.ops.journal import JournalError, JournalStore

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
OTHER_UID = 4242


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _audit(state: Path) -> AuditLog:
    return AuditLog(state, clock=FrozenClock(T0), user="tech", host="edge-1")


@pytest.fixture
def umask() -> Iterator[None]:
    """Restores the process umask the test changes."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.parametrize("mask", [0o000, 0o002, 0o277])
def test_everything_made_in_the_state_directory_is_owner_only_whatever_the_umask(
    tmp_path: Path, umask: None, mask: int
) -> None:
    os.umask(mask)
    state = tmp_path / "xdg" / "state" / "aio-certs"
    _audit(state).record(action="trust add", outcome="refused", context="aio-demo")
    JournalStore(state).create("j1", PLAN).close()
    # Parents made on the way get 0700 too (mkdir(parents=True) would leave them 0777 under umask 000).
    for directory in (tmp_path / "xdg", tmp_path / "xdg" / "state", state, state / "journal"):
        assert oct(_mode(directory)) == oct(0o700), directory
    for file in (state / "audit.jsonl", state / "journal" / "j1.jsonl"):
        assert oct(_mode(file)) == oct(0o600), file


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o720, 0o702, 0o1777])
def test_a_state_directory_others_may_write_to_is_refused_by_every_user_of_it(
    tmp_path: Path, mode: int
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    state.chmod(mode)
    with pytest.raises(StateDirError) as info:
        prepare_state_dir(state)
    assert str(info.value) == (
        f"state directory {state}: group- or world-writable (mode {mode:04o}), so another user could "
        "rewrite the audit log or a journal; refusing to use it (chmod go-w it)"
    )
    with pytest.raises(StateDirError, match="group- or world-writable"):
        _audit(state).record(action="trust add", outcome="applied", context="aio-demo")
    with pytest.raises(JournalError, match="group- or world-writable"):
        JournalStore(state).create("j1", PLAN)
    with pytest.raises(JournalError, match="group- or world-writable"):
        JournalStore(state).infos()
    assert list(state.iterdir()) == []  # nothing was written in it


def _foreign(path: Path) -> Path:
    """A directory that belongs to another user (as root: chown one; otherwise a system directory)."""
    if os.geteuid() != 0:
        return Path("/usr")
    path.mkdir(mode=0o700)
    os.chown(path, OTHER_UID, OTHER_UID)
    return path


def test_a_state_directory_of_another_user_is_refused(tmp_path: Path) -> None:
    state = _foreign(tmp_path / "theirs")
    owner = os.stat(state).st_uid
    with pytest.raises(StateDirError) as info:
        prepare_state_dir(state)
    assert str(info.value) == (
        f"state directory {state}: owned by uid {owner}, not by the current user "
        f"(uid {os.geteuid()}); refusing to use it"
    )


def test_symlinks_are_judged_by_where_they_lead(tmp_path: Path) -> None:
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    open_dir.chmod(0o777)
    link = tmp_path / "link"
    link.symlink_to(open_dir)
    with pytest.raises(StateDirError) as info:
        prepare_state_dir(link)
    assert str(info.value).startswith(
        f"state directory {link} (a symlink to {open_dir}): group- or world-writable (mode 0777)"
    )
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "gone")
    with pytest.raises(StateDirError, match=r"\(a symlink to .*/gone\): the symlink leads nowhere$"):
        prepare_state_dir(dangling)
    assert not (tmp_path / "gone").exists()
    # A symlink to a directory that is ours alone is fine, and what is made is made there.
    mine = tmp_path / "mine"
    mine.mkdir(mode=0o700)
    good = tmp_path / "good"
    good.symlink_to(mine)
    _audit(good).record(action="renew", outcome="applied", context="aio-demo")
    assert oct(_mode(mine / "journal")) == oct(0o700) and oct(_mode(mine / "audit.jsonl")) == oct(0o600)


def test_what_is_in_it_is_checked_too(tmp_path: Path) -> None:
    state = tmp_path / "state"
    prepare_state_dir(state)
    audit = state / "audit.jsonl"
    audit.write_text("")
    audit.chmod(0o666)
    with pytest.raises(StateDirError, match=rf"^audit log {audit}: group- or world-writable \(mode 0666\)"):
        prepare_state_dir(state)
    audit.unlink()
    audit.mkdir()
    with pytest.raises(StateDirError, match=rf"^audit log {audit}: not a regular file$"):
        prepare_state_dir(state)
    audit.rmdir()
    (state / "journal").chmod(0o770)
    with pytest.raises(JournalError, match=rf"^journal directory {state / 'journal'}: group- or world-writ"):
        JournalStore(state).pending()


def test_a_path_that_is_no_directory_is_one_line(tmp_path: Path) -> None:
    file = tmp_path / "state"
    file.write_text("not a directory\n")
    with pytest.raises(StateDirError, match=rf"^state directory {file}: not a directory$"):
        prepare_state_dir(file)
    with pytest.raises(
        StateDirError,
        match=rf"^state directory {file / 'sub'}: cannot create {file / 'sub'} "
        r"\(Not a directory\)$",
    ):
        prepare_state_dir(file / "sub")
    state = tmp_path / "ok"
    state.mkdir(mode=0o700)
    (state / "journal").write_text("")
    with pytest.raises(JournalError, match=rf"^journal directory {state / 'journal'}: not a directory$"):
        JournalStore(state).create("j1", PLAN)
    assert file.read_text() == "not a directory\n"


def _cli(state: Path, *args: str, umask: int = 0o022) -> subprocess.CompletedProcess[str]:
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
        umask=umask,
    )


@pytest.mark.parametrize(
    "argv",
    [
        ("trust", "add", "plc.der", "--yes"),
        ("issuer", "remove", "x.der"),
        ("vault", "add", "s", "--list", "trust", "--yes"),
        ("renew", "--yes"),
        ("journal",),
        ("journal", "rollback", "20260301T120000Z-abcdef", "--yes"),
    ],
)
def test_every_command_refuses_an_open_state_directory_in_one_line(
    tmp_path: Path,
    argv: tuple[str, ...],
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    state.chmod(0o777)
    result = _cli(state, *argv)
    command = " ".join(argv[:2]) if argv[0] != "renew" else "renew"
    command = "journal list" if argv == ("journal",) else command
    assert result.returncode == 1, result.stderr
    assert result.stderr == (
        f"aio-certs {command}: state directory {state}: group- or world-writable "
        "(mode 0777), so another user could rewrite the audit log or a journal; "
        "refusing to use it (chmod go-w it)\n"
    )
    assert list(state.iterdir()) == []


def test_a_command_under_umask_000_makes_its_state_directory_owner_only(tmp_path: Path) -> None:
    state = tmp_path / "new" / "state"
    result = _cli(state, "trust", "remove", "x.der", "--read-only", umask=0o000)
    assert result.returncode == 1 and "read-only mode is on" in result.stderr
    assert oct(_mode(tmp_path / "new")) == oct(0o700) and oct(_mode(state)) == oct(0o700)
    assert oct(_mode(state / "journal")) == oct(0o700) and oct(_mode(state / "audit.jsonl")) == oct(0o600)
