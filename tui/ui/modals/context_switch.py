"""Switch kubeconfig context (``K``): the contexts of the kubeconfig, read again on open and on ``r``.

Each line gives the context, its cluster's server and default namespace; the one on screen and the
kubeconfig's current-context are marked. ``enter`` switches the dashboard to the highlighted context
(the same context again reconnects with the kubeconfig as it is now: a renewed token, a moved server);
``r`` reloads the kubeconfig; ``esc`` keeps the site on screen. The kubeconfig is read in a worker.
A line under the list says where the vault and ARM of the new context come from: found again from its
cluster, or kept because a flag or the environment names them (``kept``; trial finding 5).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.core.text import printable
from tui.ui.view.levels import DEFAULT_PALETTE, Level, Palette


@dataclass(frozen=True)
class ContextChoice:
    """One kubeconfig context as the dialog lists it."""

    name: str
    server: str
    namespace: str | None
    current: bool
    """The kubeconfig's current-context."""


ContextLister = Callable[[], tuple[Sequence[ContextChoice], str]]
"""Reads the kubeconfig again: its contexts and where the files came from (blocking; in a worker)."""


class ContextsRead(Message):
    """The kubeconfig was read (``choices``) or could not be (``error``)."""

    def __init__(self, choices: Sequence[ContextChoice] | None, where: str, error: str | None) -> None:
        super().__init__()
        self.choices = choices
        self.where = where
        self.error = error


class ContextSwitchModal(ModalScreen[str | None]):
    """The kubeconfig's contexts; returns the one to switch to, or None."""

    DEFAULT_CSS = """
    ContextSwitchModal { align: center middle; }
    ContextSwitchModal #context-dialog {
        width: 90%; max-width: 110; height: auto; max-height: 90%;
        border: thick $accent; border-title-style: bold; background: $surface; padding: 0 1;
    }
    ContextSwitchModal OptionList { height: auto; max-height: 16; border: none; padding: 0; }
    ContextSwitchModal .dialog-hint { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="context.cancel", tooltip="Keep the context on screen"),
        Binding("r", "reload", "Reload", id="context.reload", tooltip="Read the kubeconfig file(s) again"),
    ]

    def __init__(
        self,
        read: ContextLister,
        *,
        on_screen: str,
        palette: Palette | None = None,
        kept: Sequence[str] = (),
    ) -> None:
        super().__init__(id="context-switch")
        self._read_contexts = read
        self.kept = tuple(kept)
        """What stays on switching, and why (a flag or the environment names it); empty: nothing."""
        self.on_screen = on_screen
        """The context the dashboard shows now."""
        self.palette = palette or DEFAULT_PALETTE
        self.choices: list[ContextChoice] = []
        self.reads = 0
        """How many times the kubeconfig was read (the first on open, then one per ``r``)."""

    def compose(self) -> ComposeResult:
        """The contexts, a status line and a hint."""
        with Vertical(id="context-dialog") as dialog:
            dialog.border_title = "Switch kubeconfig context"
            yield Static("reading the kubeconfig…", id="context-status", markup=False)
            yield OptionList(id="context-list")
            yield Static(self._sides_text(), id="context-sides")
            yield Static(
                "↑↓ choose · enter switch (the same one: reconnect) · r reload the kubeconfig · esc cancel",
                classes="dialog-hint",
                markup=False,
            )

    def _sides_text(self) -> Text:
        if not self.kept:
            return Text(
                "the vault and ARM are found again from the new cluster (its SPC, its Arc ConfigMap)",
                style=self.palette.style(Level.MUTED),
            )
        text = Text("stays on switching: ", style=self.palette.style(Level.WARNING))
        text.append("; ".join(printable(line) for line in self.kept))
        return text

    def on_mount(self) -> None:
        """Read the kubeconfig."""
        self.query_one("#context-list", OptionList).focus()
        self._read()

    @work(
        thread=True,
        exclusive=True,
        group="contexts",
        exit_on_error=False,
        name="read kubeconfig",
        description="read the kubeconfig's contexts",
    )
    def _read(self) -> None:
        from tui.ui.change_session import one_line

        try:
            choices, where = self._read_contexts()
        except Exception as exc:  # a broken kubeconfig: one line, the site on screen stays
            self.post_message(ContextsRead(None, "", one_line(exc)))
            return
        self.post_message(ContextsRead(choices, where, None))

    @on(ContextsRead)
    def _contexts_read(self, message: ContextsRead) -> None:
        message.stop()
        self.reads += 1
        status = self.query_one("#context-status", Static)
        if message.choices is None:
            status.update(Text(f"✗ {message.error}", style=self.palette.style(Level.ERROR)))
            return
        self.choices = list(message.choices)
        status.update(
            Text(
                f"{len(self.choices)} context(s) in {printable(message.where)}",
                style=self.palette.style(Level.MUTED),
            )
        )
        options = self.query_one("#context-list", OptionList)
        options.clear_options()
        options.add_options([Option(self._line(c)) for c in self.choices])
        here = next((i for i, c in enumerate(self.choices) if c.name == self.on_screen), 0)
        if self.choices:
            options.highlighted = here

    def _line(self, choice: ContextChoice) -> Text:
        shown = choice.name == self.on_screen
        line = Text("● " if shown else "  ", style=self.palette.style(Level.OK))
        line.append(printable(choice.name), style="bold")
        line.append(f"  {printable(choice.server) or '(no server)'}", style=self.palette.style(Level.MUTED))
        if choice.namespace:
            line.append(f"  ns {printable(choice.namespace)}", style=self.palette.style(Level.MUTED))
        notes = [n for n, on in (("on screen", shown), ("current-context", choice.current)) if on]
        if notes:
            line.append(f"  ({', '.join(notes)})", style=self.palette.style(Level.INFO))
        return line

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if 0 <= event.option_index < len(self.choices):
            self.dismiss(self.choices[event.option_index].name)

    def action_reload(self) -> None:
        """Read the kubeconfig again."""
        self.query_one("#context-status", Static).update("reading the kubeconfig…")
        self._read()

    def action_cancel(self) -> None:
        """Keep the context on screen."""
        self.dismiss(None)
