"""How ``aio-certs dashboard`` starts with a child connecting and listing ahead (commands/dashboard/run.py,
design §10.1), the child, the connection and the app replaced by typed stand-ins that record the order:

- plain credentials (a token): the dashboard connects again only after its first frame (``LazyFeed``);
- credentials from a plugin (exec, auth-provider): it connects again before it takes the screen, where
  the plugin may still write to the terminal or ask its user something;
- the child's one line saying why it could not connect ends the start, before the screen, status 3;
- a child that ended without a word leaves the start to the dashboard, which connects and lists itself.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from tui.cli import build_parser
from tui.commands.dashboard import run as dashboard
from tui.commands.dashboard.arguments import EXIT_UNREACHABLE
from tui.commands.shared.early_connect import Connected
from tui.core.model.state import ClusterState
from tui.ui.source import FeedSource, PrefetchedSource, StateSource


class FakeStates:
    """The child's side as the dashboard sees it (a stand-in for ``prefetch.ForkedStates``)."""

    def __init__(self, calls: list[str], connected: Connected | str | None) -> None:
        self.calls = calls
        self._connected = connected
        self.closed = 0

    def connected(self) -> Connected | str | None:
        self.calls.append("child connected")
        return self._connected

    def next(self) -> ClusterState | None:
        return None

    def finish(self, timeout: float) -> None:
        pass

    def close(self) -> None:
        self.closed += 1


class FakeFeed:
    """A feed that records being started; never reads anything."""

    def __init__(self, calls: list[str]) -> None:
        self.calls = calls
        self.vault_snapshot = None
        self.arm_snapshot = None

    def start(self) -> None:
        self.calls.append("feed started")

    def stop(self, timeout: float = 5.0) -> None:
        pass

    def subscribe(self, callback: Any) -> Any:
        return lambda: None

    def refresh_vault(self) -> None:
        pass

    def refresh_arm(self) -> None:
        pass

    def rebuild(self) -> None:
        pass

    def release_side_reads(self) -> None:
        pass

    def defer_builds(self, seconds: float) -> None:
        pass


def _kubeconfig(tmp_path: Path, credentials: dict[str, object]) -> Path:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443"}}],
        "users": [{"name": "u", "user": credentials}],
        "contexts": [{"name": "site", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "site",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def _start(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    credentials: dict[str, object],
    connected: Connected | str | None,
) -> tuple[int, list[str], FakeStates, StateSource | None]:
    calls: list[str] = []
    states = FakeStates(calls, connected)
    shown: list[StateSource] = []
    for name in [n for n in os.environ if n.startswith("AIO_CERTS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("AIO_CERTS_STATE_DIR", str(tmp_path / "state"))
    # The test process runs other threads: say a fork is possible, and hand over the stand-in child.
    monkeypatch.setattr(dashboard, "can_fork", lambda: True)
    monkeypatch.setattr(dashboard, "fork_first_states", lambda _settings, _clock: states)
    monkeypatch.setattr(dashboard, "prepare_ui", lambda: calls.append("ui imported"))
    # The vault's reads in this process: no worker child left behind by a test.
    monkeypatch.setattr(dashboard, "vault_reader_for_feed", lambda make: make())

    def connect(_settings: object) -> SimpleNamespace:
        calls.append("connected here")
        return SimpleNamespace(
            api_client=None, context="site", server="https://127.0.0.1:6443", warning=None, close=lambda: None
        )

    monkeypatch.setattr(dashboard, "connect", connect)
    monkeypatch.setattr(dashboard.FeedParts, "feed", lambda _self, _connection: FakeFeed(calls))

    def run_app(source: StateSource, *_args: object, **_kwargs: object) -> int:
        calls.append("screen taken")
        shown.append(source)
        return 0

    monkeypatch.setattr(dashboard, "run_app", run_app)
    args = build_parser().parse_args(["dashboard", "--kubeconfig", str(_kubeconfig(tmp_path, credentials))])
    assert isinstance(args, argparse.Namespace)
    code = dashboard.run(args)
    return code, calls, states, shown[0] if shown else None


WHERE = Connected("site", "https://127.0.0.1:6443", None)
TOKEN = {"token": "not-a-real-token"}
EXEC = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "kubelogin"}}


def test_plain_credentials_are_loaded_again_after_the_first_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, calls, _states, source = _start(tmp_path, monkeypatch, TOKEN, WHERE)
    assert code == 0
    assert calls == ["ui imported", "child connected", "screen taken"]  # no connect before the screen
    assert isinstance(source, PrefetchedSource)
    assert source.info.context == "site" and not source.live_started
    assert source._made() is None  # nothing connected yet
    live = source._make_live()  # what starting the live feed does, after the first frame
    assert calls[-1] == "connected here" and isinstance(live.feed, FakeFeed)


def test_credentials_from_a_plugin_are_loaded_again_before_the_screen_is_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, calls, _states, source = _start(tmp_path, monkeypatch, EXEC, WHERE)
    assert code == 0
    assert calls == ["ui imported", "child connected", "connected here", "screen taken"]
    assert isinstance(source, PrefetchedSource)
    live = source._make_live()  # made over the connection made before the screen: no second one
    assert isinstance(live.feed, FakeFeed) and calls.count("connected here") == 1


def test_the_childs_reason_for_not_connecting_ends_the_start_before_the_screen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    why = "context 'site': File does not exist: /gone.crt"
    code, calls, states, source = _start(tmp_path, monkeypatch, TOKEN, why)
    assert code == EXIT_UNREACHABLE and source is None
    assert calls == ["ui imported", "child connected"]
    assert states.closed == 1
    assert capsys.readouterr().err == f"aio-certs: cannot reach the cluster: {why}\n"


def test_a_child_that_ended_without_a_word_leaves_the_start_to_the_dashboard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, calls, states, source = _start(tmp_path, monkeypatch, TOKEN, None)
    assert code == 0
    # Connected and listing (the feed started before the screen, as without a child).
    assert calls == ["ui imported", "child connected", "connected here", "feed started", "screen taken"]
    assert isinstance(source, FeedSource) and states.closed == 1
