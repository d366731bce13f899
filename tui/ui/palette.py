"""Our entries in the command palette (``ctrl+p``), next to Textual's built-ins (theme, keys, quit...).

Jump to a pane, filter or clear the filter, sort the OPC UA table by any column, refresh, toggle the
read-only view, the journal and audit views, the context switch, and (outside the read-only view) the
changes: upload, replace, add from Key Vault, mark stale entries, apply, discard, renew, unfinished applies.
Each command calls the same action a key binding would.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.ui.view.rows import OPCUA_COLUMNS
from tui.ui.widgets.pane_tabs import PANES

if TYPE_CHECKING:
    from tui.ui.app import DashboardApp


def _toggle_problems(app: DashboardApp) -> None:
    """Show the OPC UA pane with only its problems (or all entries again), as ``p`` there does."""
    app.action_show_pane("opcua")
    app.dashboard.opcua_pane.action_toggle_problems()


class DashboardCommands(Provider):
    """Palette commands of the dashboard."""

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app: DashboardApp = self.app  # type: ignore[assignment]
        commands: list[tuple[str, Callable[[], object], str]] = []
        for number, (pane_id, title) in enumerate(PANES, start=1):
            commands.append(
                (
                    f"Jump to {title} pane",
                    partial(app.action_show_pane, pane_id),
                    f"Show and focus the {title} pane (key {number})",
                )
            )
        commands += [
            (
                "Toggle read-only view",
                app.action_toggle_read_only,
                "Hide or show actions that would change the cluster or the vault",
            ),
            ("Filter OPC UA entries", app.action_filter, "Open the OPC UA filter box (key /)"),
            ("Clear OPC UA filter", app.action_clear_filter, "Show every OPC UA entry again"),
            (
                "Show problems only (toggle)",
                partial(_toggle_problems, app),
                "Only the OPC UA entries with a critical or warning finding; again: all (key p)",
            ),
            ("Refresh now", app.action_refresh, "Re-read the Key Vault and rebuild the view (ctrl+r)"),
            ("Show keys", app.action_help, "List every key binding (key ?)"),
            ("Journals", app.action_journal_view, "Every apply's journal, newest first (key J)"),
            ("Audit trail", app.action_audit_view, "Every change and attempt, newest first (key L)"),
            (
                "Switch kubeconfig context",
                app.action_switch_context,
                "Or reload the kubeconfig and reconnect (key K)",
            ),
        ]
        if app.changes_enabled:
            # Changes write to the cluster and the vault: the read-only view does not offer them.
            change = app.request_change
            commands += [
                (
                    "Upload a certificate or CRL file",
                    partial(change, "upload"),
                    "Stage a file for the trust or issuer list (key u on the OPC UA pane)",
                ),
                (
                    "Add from Key Vault",
                    partial(change, "vault-add"),
                    "Stage a vault secret into a list (key v on the OPC UA pane)",
                ),
                (
                    "Mark stale entries",
                    partial(change, "mark-stale"),
                    "Mark expired, duplicate, orphaned entries and CRLs without CA (key x)",
                ),
                ("Apply staged changes", partial(change, "apply"), "Plan, review, confirm and apply (key a)"),
                ("Discard staged changes", partial(change, "discard"), "Forget every staged change (key Z)"),
                (
                    "Renew the root CA",
                    partial(change, "renew"),
                    "cert-manager re-issues it, as cmctl renew (key r on the Root CA pane)",
                ),
                (
                    "Replace the entry under the cursor",
                    app.action_replace_entry,
                    "Upload a file under the selected entry's name and secret (key R)",
                ),
                (
                    "Unfinished applies",
                    partial(change, "journal"),
                    "Resume or roll back applies that did not finish",
                ),
            ]
        for column in OPCUA_COLUMNS:
            label = "marked first" if column.key == "mark" else column.label
            commands.append(
                (
                    f"Sort OPC UA by {label}",
                    partial(app.sort_opcua, column.key),
                    "Choose it again to reverse the order",
                )
            )
        return commands

    async def discover(self) -> Hits:
        """Every command, shown when the palette opens."""
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        """Commands whose name matches ``query`` (fuzzy)."""
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
