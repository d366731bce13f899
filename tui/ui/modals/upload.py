"""Upload (``u``): stage a local certificate or CRL file for the trust or issuer list.

The path box completes file names as you type (``tab`` or ``→`` takes the completion); the list is a
choice of trust or issuer; the Key Vault secret name defaults to the file name with ``.`` replaced by
``-`` as the official tool does. Every keystroke re-checks the whole change with the core's rules, in a
thread worker (the file is read there, never on the UI thread), and shows the core's one-line messages
and the decoded file. ``enter`` stages it when nothing refuses it; ``esc`` cancels.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Button, Checkbox, Input, Label, Static
from textual.worker import get_current_worker

from tui.core.changes.bundle import BundlePart, split_bundle
from tui.core.changes.changeset import AddFile, default_secret_name
from tui.core.files import UnreadableFile, read_regular_file
from tui.core.model.names import LIST_ISSUER, LIST_TRUST
from tui.core.model.snapshot import VaultSecret
from tui.core.model.state import ClusterState
from tui.core.text import printable
from tui.ui.modals.list_choice import ListChoice
from tui.ui.modals.preview import ScrollBody
from tui.ui.modals.safe import SafeInput
from tui.ui.modals.split_bundle import SplitBundleModal
from tui.ui.modals.verdict import content_text, issue_lines
from tui.ui.view.levels import DEFAULT_PALETTE, Level, Palette
from tui.ui.view.staging import Check, StagedItem, Staging, check_new

MAX_FILE_BYTES = 1024 * 1024
"""Larger files are not read at all: no certificate or CRL for a list is anywhere near this size."""

VaultListing = Callable[[], Mapping[str, VaultSecret]]
"""Reads the vault's secret names (blocking; run in a worker)."""


_ESCAPED = re.compile(r"(?:\\[0-9A-F]{2})+")


def _unescape(match: re.Match[str]) -> str:
    raw = bytes(int(h, 16) for h in match.group(0).split("\\")[1:])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return match.group(0)
    # Only what printable() writes this way comes back: a control character, never ordinary text.
    return text if printable(text) == match.group(0) else match.group(0)


def real_path(shown: str) -> str:
    """The path on disk for a path as the box shows it (control characters written ``\\XX``,
    :func:`tui.core.text.printable`): the text itself when it names something, else the text with its
    escapes turned back into the control characters they stand for. ``~`` is expanded."""
    literal = os.path.expanduser(shown)
    if "\\" not in shown or os.path.lexists(literal):
        return literal
    return os.path.expanduser(unescaped(shown))


def unescaped(shown: str) -> str:
    """``shown`` with its ``\\XX`` escapes of control characters turned back (no file-system access)."""
    return _ESCAPED.sub(_unescape, shown) if "\\" in shown else shown


@dataclass(frozen=True)
class _Name:
    shown: str
    """The name as the box shows it (control characters escaped)."""
    real: str
    """The name on disk."""


def _matching_names(value: str) -> tuple[str, str, Path, list[_Name]]:
    """``value`` split into its directory part and separator, the directory, and the names that continue
    its last part (sorted; hidden ones only once a ``.`` is typed). Reads the directory.

    Matching is done on the names as shown (escaped), since that is what the box holds and what the user
    types on from.
    """
    head, sep, stem = value.rpartition("/")
    if not value or (not sep and not stem):
        return head, sep, Path("."), []
    directory = Path(real_path(head) if head else "/") if sep else Path(".")
    try:
        names = sorted(
            (_Name(printable(e.name), e.name) for e in os.scandir(directory)),
            key=lambda name: name.shown,
        )
    except OSError:
        return head, sep, directory, []
    hidden = stem.startswith(".")
    names = [n for n in names if n.shown.startswith(stem) and (hidden or not n.shown.startswith("."))]
    return head, sep, directory, names


def path_candidates(value: str) -> list[str]:
    """The names a partly typed path could go on to, as a shell lists them on a second ``tab``
    (directories with a trailing ``/``; control characters escaped). Reads the directory: call it off
    the UI thread."""
    _head, _sep, directory, names = _matching_names(value)
    return [f"{n.shown}/" if (directory / n.real).is_dir() else n.shown for n in names]


def complete_path(value: str) -> str | None:
    """The completion of a partly typed path: the longest common continuation of the matching names.

    ``~`` is kept as typed; a single matching directory gets its trailing ``/``; hidden names are offered
    only once a ``.`` is typed; a name's control characters come escaped (``\\1B``), never raw. None when
    nothing longer matches. Reads the directory: call it off the UI thread.
    """
    if value == "~":
        return "~/"
    head, sep, directory, names = _matching_names(value)
    if not names:
        return None
    # Names, not path components, are being completed: a character-wise common prefix is what is wanted.
    common = os.path.commonprefix([n.shown for n in names])  # noqa: RUF071
    completed = f"{head}{sep}{common}"
    if len(names) == 1 and (directory / names[0].real).is_dir():
        completed += "/"
    return completed if len(completed) > len(value) else None


class PathSuggester(Suggester):
    """Suggests file-system completions for the path box (read in a thread, never cached: files change)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        """The completion of ``value``, read off the event loop."""
        return await asyncio.to_thread(complete_path, value)


MAX_CANDIDATES_SHOWN = 12
"""More names than this are counted, not listed (the dialog has a few lines for them)."""


class PathInput(SafeInput):
    """The path box: ``tab`` completes; when the path is ambiguous it lists the candidates and stays, as a
    shell does; with nothing to complete or list it moves on as usual. Control characters in a name are
    shown (and held) escaped, ``\\1B``; :func:`real_path` finds the file again."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "tab",
            "complete",
            "Complete",
            show=False,
            id="upload.complete",
            tooltip="Complete the path; when several names fit, list them (tab again moves on)",
        ),
    ]

    class Candidates(Message):
        """The names the typed path could go on to (empty: nothing to list any more)."""

        def __init__(self, names: tuple[str, ...]) -> None:
            super().__init__()
            self.names = names

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Coming back with shift+tab must not select the whole path, so the next key does not replace it.
        kwargs.setdefault("select_on_focus", False)
        super().__init__(*args, **kwargs)
        self._listed_for: str | None = None

    async def action_complete(self) -> None:
        """Take the completion; else list the candidates once; else move focus to the next field."""
        value = self.value
        if not self.cursor_at_end:
            self.screen.focus_next()
            return
        suggestion = self._suggestion
        if not (suggestion and len(suggestion) > len(value)):
            # The suggester may not have answered yet for the last key: ask directly (off the loop).
            completed: str | None = await asyncio.to_thread(complete_path, value)
            suggestion = completed or ""
        if self.value != value:
            return  # typed on meanwhile: this tab is out of date
        if len(suggestion) > len(value):
            self.value = suggestion
            self.cursor_position = len(self.value)
            return
        if self._listed_for != value:
            names = await asyncio.to_thread(path_candidates, value)
            if len(names) > 1 and self.value == value:
                self._listed_for = value
                self.post_message(self.Candidates(tuple(names)))
                return
        self.screen.focus_next()

    def _watch_value(self, value: str) -> None:
        super()._watch_value(value)
        if self._listed_for is not None and value != self._listed_for:
            self._listed_for = None
            self.post_message(self.Candidates(()))


def candidates_text(names: Sequence[str], palette: Palette) -> Text:
    """The names an ambiguous path could go on to, on as few lines as the dialog wraps them into."""
    if not names:
        return Text("")
    shown = list(names[:MAX_CANDIDATES_SHOWN])
    text = Text(no_wrap=False, overflow="fold", style=palette.style(Level.MUTED))
    text.append(f"{len(names)} fit: ")
    text.append("  ".join(printable(name) for name in shown))
    if len(names) > len(shown):
        text.append(f"  +{len(names) - len(shown)} more: type on")
    return text


@dataclass(frozen=True)
class FileRead:
    """The bytes of the chosen file, or why there are none."""

    path: str
    """As the box shows it (control characters escaped)."""
    data: bytes | None
    error: str | None
    real: str = ""
    """The path on disk (:func:`real_path`); its name is the entry's default file name."""


def read_file(path_text: str) -> FileRead:
    """Read the file ``path_text`` names (``~`` expanded, escapes as :func:`real_path` reads them); a
    one-line error naming the path otherwise (escaped: it cannot drive the terminal).

    The command line's safe read: only a regular file, and a FIFO, socket or device is refused at once
    instead of leaving the check worker stuck in ``open()``.
    """
    shown = path_text.strip()
    if not shown:
        return FileRead(shown, None, None)
    real = real_path(shown)
    try:
        data = read_regular_file(real, limit=MAX_FILE_BYTES, too_large=_too_large)
    except UnreadableFile as exc:
        return FileRead(shown, None, printable(f"{printable(shown)}: {exc}"), real)
    return FileRead(shown, data, None, real)


def _too_large(size: int | None) -> str:
    return (
        f"{size} bytes, far too large for a certificate or CRL"
        if size is not None
        else f"over {MAX_FILE_BYTES} bytes, far too large for a certificate or CRL"
    )


@dataclass(frozen=True)
class UploadForm:
    """What the dialog's fields say."""

    path: str
    list_name: str
    secret_name: str
    """As typed; empty means the default from the file name."""
    overwrite: bool
    entry_name: str = ""
    """The file name in the list, as typed; empty means the chosen file's own name."""


class UploadChecked(Message):
    """The worker read the file and checked the change (posted to the dialog)."""

    def __init__(
        self,
        form: UploadForm,
        read: FileRead,
        check: Check | None,
        change: AddFile | None,
        parts: tuple[BundlePart, ...] = (),
    ) -> None:
        super().__init__()
        self.form = form
        self.read = read
        self.check = check
        self.change = change
        self.parts = parts
        """The certificates of a multi-certificate PEM, when the file is one (offered for splitting)."""


class VaultListed(Message):
    """The vault listing arrived (``secrets``), or could not be read (``error``)."""

    def __init__(self, secrets: Mapping[str, VaultSecret] | None, error: str | None) -> None:
        super().__init__()
        self.secrets = secrets
        self.error = error


class UploadModal(ModalScreen[StagedItem | list[StagedItem] | None]):
    """Choose a file, its list and secret name; stage it once the core accepts it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="upload.cancel", tooltip="Close without staging anything"),
        Binding(
            "ctrl+s",
            "stage",
            "Stage",
            id="upload.stage",
            tooltip="Stage the upload (also enter in a field) when nothing refuses it",
        ),
        Binding(
            "ctrl+b",
            "split",
            "Split bundle",
            id="upload.split",
            tooltip="The file is a bundle of certificates: one entry per certificate, each checked",
        ),
    ]

    def __init__(
        self,
        state: ClusterState,
        staging: Staging,
        *,
        now: datetime,
        vault_listing: VaultListing | None = None,
        list_name: str = LIST_TRUST,
        list_reason: str = "",
        palette: Palette | None = None,
        path: str = "",
        entry_name: str = "",
        secret_name: str = "",
        overwrite: bool = False,
    ) -> None:
        super().__init__(id="upload")
        self._initial_secret = secret_name
        self._initial_entry = entry_name
        self._initial_overwrite = overwrite
        self.state = state
        self.staging = staging
        self.now = now
        self.palette = palette or DEFAULT_PALETTE
        self._vault_listing = vault_listing
        self._initial_list = list_name if list_name in (LIST_TRUST, LIST_ISSUER) else LIST_TRUST
        self._list_reason = list_reason
        self._initial_path = path
        self.vault_secrets: Mapping[str, VaultSecret] | None = None
        self.vault_error: str | None = None
        self.last_check: UploadChecked | None = None
        """The latest check of the fields (tests and the stage action read it)."""

    def compose(self) -> ComposeResult:
        """Fields, verdict, preview, buttons and a hint line."""
        with Vertical(id="upload-dialog", classes="change-dialog") as dialog:
            dialog.border_title = "Upload a certificate or CRL"
            with Horizontal(classes="field-row"):
                yield Label("File", classes="field-label")
                path = PathInput(
                    value=self._initial_path,
                    placeholder="path to a .der, .crt or .crl file",
                    suggester=PathSuggester(),
                    id="upload-path",
                )
                path.cursor_blink = False
                yield path
            candidates = Static("", id="upload-candidates", markup=False)
            candidates.display = False
            yield candidates
            with Horizontal(classes="field-row"):
                yield Label("List", classes="field-label")
                yield ListChoice(self._initial_list, reason=self._list_reason, id="upload-list")
            with Horizontal(classes="field-row"):
                yield Label("Entry", classes="field-label")
                entry = SafeInput(
                    value=self._initial_entry,
                    placeholder="file name in the list (default: the chosen file's name)",
                    id="upload-entry",
                    select_on_focus=False,
                )
                entry.cursor_blink = False
                yield entry
            with Horizontal(classes="field-row"):
                yield Label("Secret", classes="field-label")
                secret = SafeInput(
                    value=self._initial_secret,
                    placeholder="Key Vault secret name (default: from the file name)",
                    id="upload-secret",
                    select_on_focus=False,
                )
                secret.cursor_blink = False
                yield secret
            yield Checkbox(
                "overwrite an entry or vault secret of the same name",
                value=self._initial_overwrite,
                id="upload-overwrite",
            )
            yield Static("", id="upload-verdict", classes="verdict", markup=False)
            with ScrollBody(id="upload-preview", classes="content-preview"):
                yield Static("", id="upload-content", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Stage", id="upload-stage", variant="primary", disabled=True)
                split = Button("Split into entries…", id="upload-split")
                split.display = False  # shown when the file is a bundle of certificates
                yield split
                yield Button("Cancel", id="upload-cancel")
            yield Static(
                "ctrl+s stage · esc cancel · tab completes the path or lists names",
                classes="dialog-hint",
                markup=False,
            )

    def on_mount(self) -> None:
        """Focus the path box, start reading the vault listing, check what is there already."""
        self.query_one("#upload-path", Input).focus()
        if self._vault_listing is not None:
            self._read_vault(self._vault_listing)
        self._show_verdict(Text("choose a file", style=self.palette.style(Level.MUTED)))
        if self._initial_path:
            self._recheck()

    # -- fields ----------------------------------------------------------------------------------

    @on(PathInput.Candidates)
    def _candidates(self, message: PathInput.Candidates) -> None:
        message.stop()
        listed = self.query_one("#upload-candidates", Static)
        listed.update(candidates_text(message.names, self.palette))
        listed.display = bool(message.names)  # no empty line under the path when nothing is listed

    def form(self) -> UploadForm:
        """The fields as they are now."""
        return UploadForm(
            self.query_one("#upload-path", Input).value,
            self.query_one("#upload-list", ListChoice).value,
            self.query_one("#upload-secret", Input).value.strip(),
            self.query_one("#upload-overwrite", Checkbox).value,
            self.query_one("#upload-entry", Input).value.strip(),
        )

    @on(Input.Changed)
    @on(ListChoice.Changed)
    @on(Checkbox.Changed)
    def _field_changed(self, event: Message) -> None:
        event.stop()
        if isinstance(event, Input.Changed) and event.input.id in ("upload-path", "upload-entry"):
            name = self.query_one("#upload-entry", Input).value.strip() or unescaped(
                Path(self.query_one("#upload-path", Input).value.strip()).name
            )
            self.query_one("#upload-secret", Input).placeholder = (
                f"{printable(default_secret_name(name))} (default, from the file name)"
                if name
                else "Key Vault secret name (default: from the file name)"
            )
        self._recheck()

    def _recheck(self) -> None:
        self.query_one("#upload-stage", Button).disabled = True
        self._check(self.form(), self.staging, self.vault_secrets)

    @work(
        thread=True,
        exclusive=True,
        group="upload-check",
        exit_on_error=False,
        name="check upload",
        description="read the chosen file and check the upload",
    )
    def _check(self, form: UploadForm, staging: Staging, vault: Mapping[str, VaultSecret] | None) -> None:
        read = read_file(form.path)
        check: Check | None = None
        change: AddFile | None = None
        parts: tuple[BundlePart, ...] = ()
        if read.data is not None:
            # The real name: one with control characters is then refused by the core's rules, quoted
            # escaped, and an entry name typed in the Entry box still lets the file be used.
            parts = split_bundle(read.data, Path(read.real).name)
            change = AddFile(
                form.list_name,
                form.entry_name or Path(read.real).name,
                read.data,
                secret_name=form.secret_name or None,
                overwrite=form.overwrite,
            )
            check = check_new(staging, [change], self.state, now=self.now, vault_secrets=vault)
        if not get_current_worker().is_cancelled:
            self.post_message(UploadChecked(form, read, check, change, parts))

    @work(
        thread=True,
        exclusive=True,
        group="upload-vault",
        exit_on_error=False,
        name="list vault",
        description="list the Key Vault's secrets for the name checks",
    )
    def _read_vault(self, listing: VaultListing) -> None:
        from tui.ui.change_session import one_line

        try:
            secrets = listing()
        except Exception as exc:  # shown as a note; the plan checks the vault again before any write
            self.post_message(VaultListed(None, one_line(exc)))
            return
        self.post_message(VaultListed(secrets, None))

    @on(VaultListed)
    def _vault_listed(self, message: VaultListed) -> None:
        message.stop()
        self.vault_secrets, self.vault_error = message.secrets, message.error
        self._recheck()

    @on(UploadChecked)
    def _checked(self, message: UploadChecked) -> None:
        message.stop()
        if message.form != self.form():
            return  # typed on since: a newer check is on its way
        self.last_check = message
        read, check = message.read, message.check
        content = self.query_one("#upload-content", Static)
        if read.error is not None:
            self._show_verdict(Text(f"✗ {read.error}", style=self.palette.style(Level.ERROR)))
            content.update("")
        elif check is None:
            self._show_verdict(Text("choose a file", style=self.palette.style(Level.MUTED)))
            content.update("")
        else:
            notes = self._pointers(message)
            if not check.vault_checked:
                why = f" ({self.vault_error})" if self.vault_error else ""
                notes.append(f"Key Vault not read yet{why}: the secret name is checked again when you apply")
            self._show_verdict(issue_lines(check.problems, check.warnings, self.palette, notes=notes))
            resolved = check.resolved[0] if check.resolved else None
            if resolved is not None and resolved.content is not None:
                settings = self.state.settings
                content.update(
                    content_text(
                        resolved.content,
                        self.now,
                        self.palette,
                        warn_days=settings.expiring_warn_days,
                        critical_days=settings.expiring_critical_days,
                    )
                )
            else:
                content.update("")
        self.query_one("#upload-stage", Button).disabled = not self.can_stage
        self.query_one("#upload-split", Button).display = bool(message.parts)

    def _pointers(self, message: UploadChecked) -> list[str]:
        """Where to go instead, when the core refuses what another command does (issue 13 items 23, 26)."""
        notes = []
        check, form = message.check, message.form
        if message.parts:
            notes.append(
                f"→ a bundle of {len(message.parts)} certificates: ctrl+b splits it into one entry each"
            )
        name = (form.entry_name or Path(message.read.path).name).lower()
        if form.list_name == LIST_TRUST and name.endswith(".crl"):
            notes.append(
                "→ a CRL goes in the issuer list, next to its CA: choose issuer (aio-certs issuer add)"
            )
        if check is not None and any(
            p.code == "name-collision" and "already exists" in p.message and "vault secret" in p.message
            for p in check.problems
        ):
            notes.append(
                "→ to put the secret already in Key Vault into a list as it is: v (aio-certs vault add)"
            )
        return notes

    def _show_verdict(self, text: Text) -> None:
        self.query_one("#upload-verdict", Static).update(text)

    @property
    def can_stage(self) -> bool:
        """The latest check is of the current fields and nothing refuses the upload."""
        result = self.last_check
        return (
            result is not None
            and result.check is not None
            and result.check.ok
            and result.change is not None
            and result.form == self.form()
        )

    # -- actions ---------------------------------------------------------------------------------

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_stage()

    @on(Button.Pressed, "#upload-stage")
    def _stage_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_stage()

    @on(Button.Pressed, "#upload-cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    def action_stage(self) -> None:
        """Stage the upload when the core accepts it; otherwise say why not."""
        result = self.last_check
        if not self.can_stage or result is None or result.change is None or result.check is None:
            self.notify("nothing to stage yet: fix what the dialog lists", severity="warning", timeout=4)
            return
        resolved = result.check.resolved[0] if result.check.resolved else None
        self.dismiss(StagedItem(result.change, resolved.content if resolved is not None else None))

    @on(Button.Pressed, "#upload-split")
    def _split_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_split()

    def action_split(self) -> None:
        """Offer one entry per certificate of a bundle, each checked; stage the ones ticked."""
        result = self.last_check
        if result is None or not result.parts or result.form != self.form():
            self.notify("not a bundle: the file holds one certificate or CRL", severity="warning", timeout=4)
            return

        def split(items: list[StagedItem] | None) -> None:
            if items:
                self.dismiss(items)

        self.app.push_screen(
            SplitBundleModal(
                result.parts,
                source=Path(result.read.path).name,
                list_name=result.form.list_name,
                state=self.state,
                staging=self.staging,
                now=self.now,
                vault_secrets=self.vault_secrets,
                palette=self.palette,
            ),
            split,
        )

    def action_cancel(self) -> None:
        """Close without staging."""
        self.dismiss(None)
