"""A path that is not a regular file is refused at once, never waited on: FIFOs, sockets, devices.

``open()`` of a FIFO blocks until a writer comes, so each case runs in a subprocess whose generous
timeout is only the failure detector (the bug hung forever); nothing here measures speed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HANG = 60  # seconds: far beyond a refusal, only there so a regression fails instead of hanging the suite

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs and unix sockets")

UPLOAD = "import sys; from tui.ui.modals.upload import read_file; print(read_file(sys.argv[1]).error)"


@pytest.fixture(params=["fifo", "socket", "device"])
def special(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """``(path, reason)`` of a FIFO, a bound unix socket, or ``/dev/null``."""
    if request.param == "fifo":
        path = tmp_path / "plc.der"
        os.mkfifo(path)
        yield str(path), "is a named pipe (FIFO), not a regular file"
    elif request.param == "socket":
        path = tmp_path / "s.der"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.bind(str(path))
            sock.listen()
            yield str(path), "is a socket, not a regular file"
    else:
        yield os.devnull, "is a character device, not a regular file"


def _run(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIO_CERTS_") and k != "KUBECONFIG"}
    env.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / "config"),
            "AIO_CERTS_STATE_DIR": str(home / "state"),
        }
    )
    try:
        return subprocess.run(
            [sys.executable, *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=HANG,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{args[1:]} blocked on a file that is not a regular file")


@pytest.mark.parametrize("command", ["inspect", "trust add", "issuer add"])
def test_commands_refuse_at_once_with_one_line(
    special: tuple[str, str], command: str, tmp_path: Path
) -> None:
    path, reason = special
    extra = [] if command == "inspect" else ["--yes"]
    result = _run(["-m", "tui", *command.split(), path, *extra], tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stderr == f"aio-certs {command}: {path}: {reason}\n"


def test_the_upload_dialog_refuses_at_once(special: tuple[str, str], tmp_path: Path) -> None:
    path, reason = special
    result = _run(["-c", UPLOAD, path], tmp_path)
    assert (result.returncode, result.stdout) == (0, f"{path}: {reason}\n"), result.stderr


SWAPPED = """\
import os, sys
from tui.core import files
fifo, regular = sys.argv[1], os.stat(sys.argv[2])
real_stat = os.stat
# The path passes the stat as a regular file and is a FIFO by the time it is opened.
os.stat = lambda p, *a, **k: regular if os.fspath(p) == fifo else real_stat(p, *a, **k)
try:
    files.read_regular_file(fifo, limit=1024)
except files.UnreadableFile as exc:
    print(exc)
"""


def test_a_fifo_swapped_in_after_the_stat_does_not_block(tmp_path: Path) -> None:
    fifo, regular = tmp_path / "plc.der", tmp_path / "regular.der"
    os.mkfifo(fifo)
    regular.write_bytes(b"0")
    result = _run(["-c", SWAPPED, str(fifo), str(regular)], tmp_path)
    assert result.stdout == "is a named pipe (FIFO), not a regular file\n", result.stderr


def test_regular_files_and_their_limits(tmp_path: Path) -> None:
    from tui.core.files import UnreadableFile, not_regular_reason, read_regular_file

    path = tmp_path / "a.der"
    path.write_bytes(b"\x30\x03abc")
    assert read_regular_file(path, limit=5) == b"\x30\x03abc"
    with pytest.raises(UnreadableFile, match=r"^too large \(5 bytes; limit 4 bytes\)$"):
        read_regular_file(path, limit=4)
    with pytest.raises(UnreadableFile, match=r"^no such file$"):
        read_regular_file(tmp_path / "missing.der", limit=5)
    with pytest.raises(UnreadableFile, match=r"^is a directory$"):
        read_regular_file(tmp_path, limit=5)
    assert not_regular_reason(os.stat(path).st_mode) is None
