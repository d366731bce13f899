"""The upload dialog proposes only secret names its own check accepts (issue 13 item 12)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from tests import certgen
from tests.ui.test_change_dialogs import _open_upload, _verdict, leaf, opened
from tui.core.model.state import ClusterState

__all__ = ["leaf"]  # the fixture, imported so pytest finds it here


async def test_a_file_name_with_spaces_gets_a_usable_secret_name(
    steady: ClusterState, leaf: certgen.Issued, tmp_path: Path
) -> None:
    path = tmp_path / "my ca with space.der"
    path.write_bytes(leaf.der)
    async with opened(steady) as (app, pilot):
        modal = await _open_upload(app, pilot, path)
        assert modal.query_one("#upload-secret", Input).placeholder.startswith(
            "my-ca-with-space-der (default, from the file name)"
        )
        verdict = _verdict(app)
        # The file name itself is no SecretSync target key (item 27 lets the user pick one); the proposed
        # secret name is not what the dialog complains about.
        assert "secret names may only hold" not in verdict and "my ca with space-der" not in verdict
        assert "trust/my ca with space.der:" in verdict
