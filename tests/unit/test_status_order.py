"""The order ``status`` starts things in (tui/commands/status/run.py), over fakes.

With the vault known up front, its listing (about 80 round trips at 2,000 secrets) starts before the
heavy half (kubernetes client, model) is imported, and only after the kubeconfig has passed the checks
connecting makes; a sign-in that prompts a person, ``--vault-values`` and ``--no-vault`` start nothing
early.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tui.cli import build_parser
from tui.cluster.config import ClusterConfigError
from tui.commands.shared.settings import command_settings
from tui.commands.status import run as status_run
from tui.config import UserConfig


def _events(monkeypatch: pytest.MonkeyPatch, *, bad_kubeconfig: bool = False) -> list[Any]:
    events: list[Any] = []

    def check(*_: Any, **__: Any) -> None:
        events.append("check kubeconfig")
        if bad_kubeconfig:
            raise ClusterConfigError("kubeconfig /nope: no such file")

    def read_beside(read: Any, *, prepare: Any, name: str = "vault") -> object:
        # As on a thread (the imports here, first); in a child they happen there, in the same order.
        prepare()
        events.append(f"start {name} read")
        return object()

    def report(*_: Any, **options: Any) -> int:
        events.append(("report", options["vault_read"] is not None))
        return 0

    def site() -> Any:
        events.append("import heavy half")
        return SimpleNamespace(report=report)

    monkeypatch.setattr(status_run, "check_cluster_config", check)
    monkeypatch.setattr(
        status_run, "import_sdk", lambda modules: events.append(f"import {' '.join(modules)}")
    )
    monkeypatch.setattr(status_run, "read_beside", read_beside)
    monkeypatch.setattr(status_run, "_import_site", site)
    return events


def _run(tmp_path: Path, env: dict[str, str], *flags: str) -> int:
    args = build_parser().parse_args(["status", *flags])
    settings = command_settings(args, UserConfig(), environ={"HOME": str(tmp_path), **env})
    return status_run._status(
        settings,
        as_json=False,
        no_vault=bool(args.no_vault),
        vault_values=bool(args.vault_values),
        show_all=False,
    )


VAULT = {"AIO_CERTS_VAULT_URL": "https://127.0.0.1:4443/", "AIO_CERTS_AUTH": "demo"}


def test_a_vault_known_up_front_is_listed_before_the_heavy_half_is_imported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    events = _events(monkeypatch)
    assert _run(tmp_path, VAULT) == 0
    assert events == [
        "check kubeconfig",
        "import tui.vault.client tui.vault.errors tui.vault.reader tui.vault.listing",
        "start vault read",
        "import heavy half",
        ("report", True),
    ]


def test_a_credential_that_signs_in_for_real_is_imported_before_the_listing_starts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # azure-identity, or the listing would wait at the gate for the main thread's import.
    events = _events(monkeypatch)
    assert _run(tmp_path, {**VAULT, "AIO_CERTS_AUTH": "cli"}) == 0
    assert events[1:3] == [
        "import tui.vault.client tui.vault.errors tui.vault.reader tui.vault.listing azure.identity",
        "start vault read",
    ]


@pytest.mark.parametrize(
    ("env", "flags"),
    [
        ({**VAULT, "AIO_CERTS_AUTH": "device-code"}, ()),  # a prompt waits until the cluster answered
        ({**VAULT, "AIO_CERTS_AUTH": "no-such-mode"}, ()),  # the reader reports it, later, as before
        (VAULT, ("--vault-values",)),  # values need the SPC's names
        (VAULT, ("--no-vault",)),
        ({"AIO_CERTS_AUTH": "demo"}, ()),  # the vault is named by the SPC
    ],
)
def test_nothing_starts_early_otherwise(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str], flags: tuple[str, ...]
) -> None:
    events = _events(monkeypatch)
    assert _run(tmp_path, env, *flags) == 0
    assert events == ["check kubeconfig", "import heavy half", ("report", False)]


def test_a_bad_kubeconfig_stops_before_any_vault_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _events(monkeypatch, bad_kubeconfig=True)
    assert _run(tmp_path, VAULT) == 3
    assert events == ["check kubeconfig"]
    assert (
        capsys.readouterr().err
        == "aio-certs status: cannot reach the cluster: kubeconfig /nope: no such file\n"
    )
