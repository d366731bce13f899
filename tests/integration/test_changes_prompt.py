"""The confirmation prompt in a real terminal: ``aio-certs trust add`` without ``--yes`` on a pty.

The prompt's logic is unit-tested with an injected isatty; this runs the command as a technician does,
with stdin, stdout and stderr on a pseudo-terminal, answers the question, and checks what was written.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from tests import certgen
from tests.integration.changes_support import ROOT, TRUST_SYNC, cli_env, running_demo, site_snapshot
from tui.core.model import resources as rk
from tui.demo.environment import DemoEnvironment

PROMPT = b"[y/N] "
TIMEOUT = 60.0


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoEnvironment]:
    with running_demo() as env:
        yield env


def _answer(
    demo: DemoEnvironment, state_dir: Path, path: Path | None, answer: bytes, *args: str, **env: str
) -> tuple[int, str]:
    """Run ``trust add PATH`` (or, without a path, ``ARGS``) on a pty, type ``answer`` at the prompt;
    (exit status, all it printed)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", *(("trust", "add", str(path)) if path is not None else args)],
        cwd=ROOT,
        env=cli_env(demo, state_dir, **env),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    seen = b""
    try:
        while PROMPT not in seen:
            ready, _, _ = select.select([master], [], [], TIMEOUT)
            assert ready, f"no prompt; got {seen[-400:]!r}"
            seen += os.read(master, 65536)
        os.write(master, answer)
        while True:  # read to the end: the pty reports EIO once the child has gone
            ready, _, _ = select.select([master], [], [], TIMEOUT)
            assert ready, f"no end; got {seen[-400:]!r}"
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        return proc.wait(TIMEOUT), seen.decode("utf-8", "replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        os.close(master)


def test_no_at_the_prompt_writes_nothing_and_yes_applies(demo: DemoEnvironment, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    path = tmp_path / "prompted-plc.der"
    leaf = certgen.make_leaf(None, "prompted plc", not_before=now - timedelta(days=1), days=365)
    path.write_bytes(leaf.der)
    before = site_snapshot(demo)

    status, shown = _answer(demo, tmp_path, path, b"n\r")
    assert status == 1, shown
    assert "prompted-plc-der" in shown  # the plan was shown before the question
    assert "not confirmed; nothing was changed" in shown and "Traceback" not in shown
    assert site_snapshot(demo) == before

    status, shown = _answer(demo, tmp_path, path, b"y\r")
    assert status == 0, shown
    after = site_snapshot(demo)
    assert "prompted-plc-der" in after["vault"]["secrets"]
    [trust] = [obj for obj in after["cluster"][rk.SECRET_SYNCS.key] if obj["metadata"]["name"] == TRUST_SYNC]
    assert {"sourcePath": "prompted-plc-der", "targetKey": "prompted-plc.der"} in (
        trust["spec"]["secretObject"]["data"]
    )


def test_remove_with_purge_says_in_the_question_that_the_secret_goes_for_good(
    demo: DemoEnvironment, tmp_path: Path
) -> None:
    # Issue 13 item 11 (CLI): the question was "Apply these 4 step(s) to context ...?" with no word of
    # the purge, the one change here that cannot be undone.
    before = site_snapshot(demo)
    status, shown = _answer(demo, tmp_path, None, b"n\r", "trust", "remove", "plc-press-line1.der", "--purge")
    assert status == 1, shown
    question = " ".join(shown[shown.index("Apply these") : shown.index("[y/N]")].split())
    assert "This deletes and PURGES Key Vault secret plc-press-line1-der: deleted for good, it cannot be" in (
        question
    ), question
    assert site_snapshot(demo) == before


def test_a_context_name_with_control_characters_is_escaped_in_the_prompt(
    demo: DemoEnvironment, tmp_path: Path
) -> None:
    # From the adversarial pass: "Apply these 3 step(s) to context aio<ESC>]0;pwned<BEL>demo? [y/N]"
    # retitled the terminal that asked the question.
    name = "aio\x1b]0;pwned\x07demo"
    config = yaml.safe_load(demo.kubeconfig_path.read_text())
    config["contexts"][0]["name"] = name
    config["current-context"] = name
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config))
    leaf = certgen.make_leaf(None, "escaped ctx", not_before=datetime.now(UTC) - timedelta(days=1), days=365)
    path = tmp_path / "escaped-ctx.der"
    path.write_bytes(leaf.der)
    before = site_snapshot(demo)

    status, shown = _answer(demo, tmp_path, path, b"n\r", KUBECONFIG=str(kubeconfig))
    assert status == 1, shown
    assert "to context aio\\1B]0;pwned\\07demo? [y/N]" in shown
    assert "\x1b" not in shown and "\x07" not in shown
    assert site_snapshot(demo) == before
