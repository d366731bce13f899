"""Split a certificate bundle (issue 13 item 26): one list entry per certificate of a multi-certificate
``.pem``, each checked with the core's rules like any upload, each ticked or not by the user.

Opened from the upload dialog when the chosen file is a PEM bundle (:func:`tui.core.changes.bundle.
split_bundle`). Every part is proposed as ``<common-name>.crt`` with its own vault secret; a part the
core refuses (already in the list, not a CA for the issuer list, expired...) starts unticked and says
why. ``ctrl+s`` stages the ticked parts, after checking them together once more.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Static

from tui.core.changes.bundle import BundlePart
from tui.core.changes.changeset import AddFile
from tui.core.durations import days_left, expiry_phrase
from tui.core.model.snapshot import VaultSecret
from tui.core.model.state import ClusterState
from tui.ui.modals.safe import safe, title
from tui.ui.view.levels import DEFAULT_PALETTE, Level, Palette
from tui.ui.view.staging import Check, StagedItem, Staging, check_new


class SplitBundleModal(ModalScreen[list[StagedItem] | None]):
    """One checkbox per certificate of a bundle; returns the staged items of the ticked ones."""

    DEFAULT_CSS = """
    SplitBundleModal { align: center middle; }
    SplitBundleModal #split-dialog {
        width: 90%; max-width: 120; height: auto; max-height: 95%;
        border: thick $accent; border-title-style: bold; background: $surface; padding: 0 1;
    }
    SplitBundleModal #split-parts { height: auto; max-height: 20; }
    SplitBundleModal Checkbox { border: none; padding: 0; height: auto; background: transparent; }
    SplitBundleModal .split-why { padding-left: 4; height: auto; }
    SplitBundleModal .dialog-buttons { height: auto; margin-top: 1; }
    SplitBundleModal .dialog-hint { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="split.cancel", tooltip="Back to the upload dialog"),
        Binding(
            "ctrl+s", "stage", "Stage ticked", id="split.stage", tooltip="Stage every ticked certificate"
        ),
    ]

    def __init__(
        self,
        parts: Sequence[BundlePart],
        *,
        source: str,
        list_name: str,
        state: ClusterState,
        staging: Staging,
        now: datetime,
        vault_secrets: Mapping[str, VaultSecret] | None,
        palette: Palette | None = None,
    ) -> None:
        super().__init__(id="split-bundle")
        self.parts = tuple(parts)
        self.source = source
        self.list_name = list_name
        self.state = state
        self.staging = staging
        self.now = now
        self.vault_secrets = vault_secrets
        self.palette = palette or DEFAULT_PALETTE
        self.changes = tuple(AddFile(list_name, p.file_name, p.data) for p in self.parts)
        self.check: Check = self._check(range(len(self.parts)))
        """Every part checked together (what the boxes start from)."""

    def _check(self, indexes: Sequence[int] | range) -> Check:
        chosen = [self.changes[i] for i in indexes]
        return check_new(self.staging, chosen, self.state, now=self.now, vault_secrets=self.vault_secrets)

    def compose(self) -> ComposeResult:
        """One box per certificate with its subject, expiry and the core's verdict."""
        count = len(self.parts)
        with Vertical(id="split-dialog") as dialog:
            dialog.border_title = title(f"Split {self.source}: {count} certificates")
            yield Static(
                f"A file of the {self.list_name} list holds exactly one certificate: each ticked one "
                "becomes its own entry (.crt, PEM) with its own vault secret.",
                markup=False,
            )
            with VerticalScroll(id="split-parts"):
                for index in range(len(self.parts)):
                    problems = self.check.problems_of(index)
                    ticked = not problems
                    yield Checkbox(self._label(index, ticked), value=ticked, id=f"split-{index}")
                    why = [Text(f"✗ {p.message}", style=self.palette.style(Level.ERROR)) for p in problems]
                    why += [
                        Text(f"! {w.message}", style=self.palette.style(Level.WARNING))
                        for w in self.check.warnings
                        if w.change_index == index
                    ]
                    yield Static(safe(Text("\n").join(why)), classes="split-why", markup=False)
            yield Static("", id="split-verdict", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Stage ticked", id="split-stage", variant="primary")
                yield Button("Back", id="split-cancel")
            yield Static(
                "space ticks · ctrl+s stage the ticked ones · esc back", classes="dialog-hint", markup=False
            )

    def _label(self, index: int, ticked: bool) -> Text:
        # Whether it is staged is said in words too, not only by the box's colour (monochrome terminals).
        part = self.parts[index]
        cert = part.certificate
        days = days_left(cert.not_after, self.now)
        label = Text(
            "stage  " if ticked else "skip   ", style=self.palette.style(Level.OK if ticked else Level.MUTED)
        )
        label.append(f"{self.list_name}/{part.file_name}", style="bold")
        label.append(f"  {cert.subject}  ", style=self.palette.style(Level.MUTED))
        label.append(
            expiry_phrase(days),
            style=self.palette.style(Level.ERROR if days < 0 else Level.PLAIN),
        )
        return safe(label)  # the file name comes from the certificate's subject

    @on(Checkbox.Changed)
    def _ticked(self, event: Checkbox.Changed) -> None:
        event.stop()
        box = event.checkbox
        if box.id and box.id.startswith("split-"):
            box.label = self._label(int(box.id.removeprefix("split-")), event.value)

    def on_mount(self) -> None:
        """Focus the first box."""
        self.query(Checkbox).first().focus()

    @property
    def ticked(self) -> list[int]:
        """Indexes of the ticked parts."""
        return [i for i in range(len(self.parts)) if self.query_one(f"#split-{i}", Checkbox).value]

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "split-stage":
            self.action_stage()
        else:
            self.action_cancel()

    def action_stage(self) -> None:
        """Stage the ticked parts when the core accepts them together; otherwise say why not."""
        ticked = self.ticked
        if not ticked:
            self.notify("nothing ticked", severity="warning", timeout=3)
            return
        check = self._check(ticked)
        if not check.ok:
            lines = Text("\n").join(
                Text(f"✗ {p.message}", style=self.palette.style(Level.ERROR)) for p in check.problems
            )
            self.query_one("#split-verdict", Static).update(safe(lines))
            return
        contents = {r.index - len(self.staging.changes): r.content for r in check.resolved}
        self.dismiss([StagedItem(self.changes[i], contents.get(n)) for n, i in enumerate(ticked)])

    def action_cancel(self) -> None:
        """Back to the upload dialog, nothing staged."""
        self.dismiss(None)
