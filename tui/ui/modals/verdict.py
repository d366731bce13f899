"""Text blocks the change dialogs share: the core's verdict (problems, warnings) and a decoded file.

Problems and warnings are the core's one-line messages, shown exactly as the CLI prints them, so a user
who meets the same refusal in both places reads the same words.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from rich.text import Text

from tui.core.changes.file_rules import FileContent
from tui.core.changes.validation import Issue
from tui.ui.modals.preview import section_text
from tui.ui.modals.safe import safe
from tui.ui.view.levels import Level, Palette
from tui.ui.view.preview_doc import Section, certificate_fields, crl_fields

OK_LINE = "✓ ready to stage"


def issue_lines(
    problems: Iterable[Issue],
    warnings: Iterable[Issue],
    palette: Palette,
    *,
    ok_line: str = OK_LINE,
    notes: Iterable[str] = (),
) -> Text:
    """One line per problem (error colour) and warning, then notes; ``ok_line`` when there is no problem.

    Every line is escaped (:func:`~tui.ui.modals.safe.safe`): the core quotes names escaped already, and
    this is the guard for anything that was not."""
    lines: list[Text] = []
    problems = list(problems)
    for problem in problems:
        lines.append(Text(f"✗ {problem.message}", style=palette.style(Level.ERROR)))
    for warning in warnings:
        lines.append(Text(f"! {warning.message}", style=palette.style(Level.WARNING)))
    if not problems and ok_line:
        lines.append(Text(ok_line, style=palette.style(Level.OK)))
    for note in notes:
        lines.append(Text(note, style=palette.style(Level.MUTED)))
    return Text("\n").join(safe(line) for line in lines)


def content_text(
    content: FileContent, now: datetime, palette: Palette, *, warn_days: int, critical_days: int
) -> Text:
    """The decoded certificate or CRL, field by field (the preview's sections)."""
    if content.certificate is not None:
        kind = "PEM certificate" if content.kind == "pem-certificate" else "DER certificate"
        section = Section(kind, certificate_fields(content.certificate, now, warn_days, critical_days))
    elif content.crl is not None:
        section = Section("CRL", crl_fields(content.crl, now))
    else:
        reason = content.problem[1] if content.problem is not None else "no certificate or CRL"
        return Text(f"cannot be a list entry: {reason}", style=palette.style(Level.ERROR))
    return safe(section_text(section, palette))
