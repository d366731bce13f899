"""``status``'s heavy half over fakes (tui/commands/status/site.py): what it does while the vault is read.

While the vault listing is on the wire the list files are decoded into the cache the build then uses,
so a first run's decoding goes into that wait; without a vault read there is no wait to fill.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests import certgen as cg
from tests.rawobjects import quickstart_site
from tui.cli import build_parser
from tui.commands.shared.early_connect import Connected
from tui.commands.shared.settings import command_settings
from tui.commands.status import site as status_site
from tui.commands.status.cluster_child import ClusterRead, ForkedClusterRead
from tui.config import UserConfig
from tui.core.build import assemble
from tui.core.build.cache import DecodeCache
from tui.core.clock import FrozenClock
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import RawSnapshot

NOW = cg.EPOCH + timedelta(days=100)
CA = cg.make_ca("Contoso Site Root CA")
FILES = {
    f"plc-{i}.der": cg.make_leaf(CA, f"plc-{i}", not_before=NOW - timedelta(days=1), days=300).der
    for i in range(5)
}


class _VaultRead:
    """A vault read still under way: notes how many decodes the cache held when it was waited for."""

    def __init__(self, cache: DecodeCache) -> None:
        self.cache = cache
        self.decoded_when_waited: int | None = None

    def result(self) -> None:
        self.decoded_when_waited = len(self.cache.decoded_items())


@functools.cache
def _raw() -> RawSnapshot:
    # One read for the whole module: two reports compared must come from the same objects.
    return quickstart_site(NOW, ca=CA, trust=FILES).snapshot()


class _ClusterRead(ForkedClusterRead):
    """The cluster as the forked child would have read it (no child here)."""

    def __init__(self) -> None:
        self.raw = _raw()
        self.closed = False

    def connected(self) -> Connected:
        return Connected("c", "https://k", None)

    def read(self) -> ClusterRead:
        return ClusterRead(self.raw, None)

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch) -> DecodeCache:
    fresh = DecodeCache()
    # The one cache the prewarm and the build share (both name it DEFAULT_CACHE), fresh for the test.
    monkeypatch.setattr(status_site, "DEFAULT_CACHE", fresh)
    monkeypatch.setattr(assemble, "DEFAULT_CACHE", fresh)
    return fresh


def _report(tmp_path: Path, vault_read: Any) -> int:
    cluster = _ClusterRead()
    args = build_parser().parse_args(["status", "--no-vault"])
    settings = command_settings(args, UserConfig(), environ={"HOME": str(tmp_path)})
    code = int(
        status_site.report(
            settings,
            ModelSettings(),
            clock=FrozenClock(NOW),
            vault_reader=None,
            vault_read=vault_read,
            as_json=True,
            vault_values=False,
            show_all=False,
            cluster=cluster,
        )
    )
    assert cluster.closed  # the child is ended once its read is taken
    return code


def test_the_list_files_are_decoded_while_the_vault_is_read(
    cache: DecodeCache, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vault_read = _VaultRead(cache)
    _report(tmp_path, vault_read)
    # The trust list's five files (and nothing needs the vault for them).
    assert vault_read.decoded_when_waited is not None and vault_read.decoded_when_waited >= len(FILES)
    assert '"trust/plc-0.der"' in capsys.readouterr().out


def test_the_same_report_comes_out_either_way(
    cache: DecodeCache, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code = _report(tmp_path, _VaultRead(cache))
    prewarmed = capsys.readouterr().out
    fresh = DecodeCache()
    monkeypatch.setattr(status_site, "DEFAULT_CACHE", fresh)
    monkeypatch.setattr(assemble, "DEFAULT_CACHE", fresh)
    assert _report(tmp_path / "again", None) == code
    assert capsys.readouterr().out == prewarmed
    assert len(fresh.decoded_items()) >= len(FILES)  # the build decoded them itself
