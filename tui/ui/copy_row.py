"""Copy from the dashboard without opening a preview: ``c`` the thumbprint, ``C`` the PEM of the row
under the cursor (on the Root CA pane: the root CA).

The values come from the same :class:`~tui.ui.view.preview_doc.PreviewDoc` the preview shows, so the two
never disagree on what "the thumbprint" of a CRL is (its SHA-256). They go to the clipboard with OSC 52,
which reaches the local clipboard through SSH and tmux. A PEM holds public certificates and CRLs only:
the documents never carry private key material.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.ui.view import preview_doc

if TYPE_CHECKING:
    from tui.ui.screens.dashboard import DashboardScreen


def doc_under_cursor(dashboard: DashboardScreen) -> preview_doc.PreviewDoc | None:
    """The preview document of what the active pane points at (None: nothing there, or not read yet)."""
    state = dashboard.state
    if state is None:
        return None
    pane = dashboard.active_pane
    if pane == "root-ca":
        return preview_doc.root_ca_preview(state)
    if pane == "issuers":
        key = dashboard.issuers_pane.table.cursor_key
        issuer = state.issuer(key) if key is not None else None
        return preview_doc.issuer_preview(state, issuer) if issuer is not None else None
    key = dashboard.opcua_pane.table.cursor_key
    entry = state.entry(key) if key is not None else None
    return preview_doc.entry_preview(state, entry) if entry is not None else None


def copy_text(doc: preview_doc.PreviewDoc | None, what: str) -> tuple[str | None, str]:
    """The value to copy (``what``: ``thumbprint`` or ``pem``) and the notice that says what was copied;
    no value and the reason when there is nothing of that kind."""
    if doc is None:
        return None, "nothing to copy here: no certificate or CRL under the cursor"
    if what == "pem":
        if not doc.pem:
            return None, f"{doc.title}: no PEM to copy (no decoded certificate or CRL)"
        blocks = doc.pem.count("-----BEGIN ")
        return doc.pem, f"copied the PEM of {doc.title} ({blocks} block{'s' if blocks != 1 else ''})"
    if not doc.copy_value:
        return None, f"{doc.title}: no thumbprint to copy (no decoded certificate or CRL)"
    return doc.copy_value, f"copied {doc.copy_label} {doc.copy_value}"
