"""Run ``aio-certs inspect``: decode every file given, print the human report or the JSON array."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from datetime import datetime
from typing import Any, TextIO

from tui.core.certs import (
    CertError,
    CertificateInfo,
    CrlInfo,
    Decoded,
    crl_is_stale,
    crl_signed_by,
    days_left,
    decode_bytes,
    decode_file,
    is_expired,
    is_not_yet_valid,
    printable,
)
from tui.core.certs.decode import UTF16_PROBLEM, read_capped
from tui.core.clock import Clock, SystemClock
from tui.core.durations import days_left as whole_days_left
from tui.core.durations import expiry_phrase, screen_time


def _when(moment: datetime) -> str:
    # The one screen form of a moment (the dashboard and status use it too).
    return screen_time(moment)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def validity_note(cert: CertificateInfo, now: datetime) -> str:
    """``412 days left``, ``EXPIRED 3 days ago`` or ``NOT YET VALID, starts in 2 days``."""
    if is_not_yet_valid(cert, now):
        # Rounded up: a certificate starting in an hour starts "in 1 day", never "in 0 days".
        return f"NOT YET VALID, starts in {_plural(-whole_days_left(now, cert.not_before), 'day')}"
    # The same figure as --json's days_left and every other view (tui.core.durations.days_left).
    left = days_left(cert, now)
    if is_expired(cert, now):
        return expiry_phrase(left, expired_word="EXPIRED", long=True)
    return f"{_plural(left, 'day')} left"


def _ca_text(cert: CertificateInfo) -> str:
    if not cert.is_ca:
        return "no, self-signed" if cert.self_signed else "no"
    parts = ["yes"]
    if cert.path_length is not None:
        parts.append(f"path length {cert.path_length}")
    if cert.self_signed:
        parts.append("self-signed root")
    return ", ".join(parts)


def render_certificate(cert: CertificateInfo, now: datetime) -> list[str]:
    """The human block for one certificate (no header line)."""
    lines = [
        f"  subject    {cert.subject}",
        f"  issuer     {cert.issuer}",
        f"  valid      {_when(cert.not_before)} to {_when(cert.not_after)} ({validity_note(cert, now)})",
        f"  sha1       {cert.sha1}",
        f"  sha256     {cert.sha256}",
        f"  serial     {cert.serial}",
        f"  key        {cert.key}, signed {cert.signature_algorithm}",
        f"  CA         {_ca_text(cert)}",
    ]
    if cert.application_uri:
        lines.append(f"  app URI    {cert.application_uri}")
    if cert.san:
        lines.append(f"  SAN        {', '.join(cert.san)}")
    if cert.extended_key_usage:
        lines.append(f"  usage      {', '.join(cert.extended_key_usage)}")
    if cert.version != 3:
        lines.append(f"  version    {cert.version}")
    return [printable(line) for line in lines]


def crl_signature(crl: CrlInfo, cas: list[CertificateInfo]) -> tuple[str, str | None]:
    """``(state, ca subject)``: ``verified``/``invalid`` against a CA named like the CRL's issuer
    among ``cas``, or ``unchecked`` when none of them is."""
    candidates = [ca for ca in cas if ca.subject == crl.issuer]
    for ca in candidates:
        if crl_signed_by(crl, ca):
            return "verified", ca.subject
    if candidates:
        return "invalid", candidates[0].subject
    return "unchecked", None


def render_crl(crl: CrlInfo, now: datetime, cas: list[CertificateInfo]) -> list[str]:
    """The human block for one CRL (no header line)."""
    if crl.next_update is None:
        nxt = "none (never stale)"
    else:
        left = whole_days_left(crl.next_update, now)
        if crl_is_stale(crl, now):
            nxt = f"{_when(crl.next_update)} (STALE: {expiry_phrase(left, expired_word='due', long=True)})"
        else:
            nxt = f"{_when(crl.next_update)} (in {_plural(left, 'day')})"
    state, _ = crl_signature(crl, cas)
    signature = {
        "verified": "verified with the CA given",
        "invalid": "DOES NOT VERIFY with the CA given",
        "unchecked": "not checked (pass the issuing CA certificate too)",
    }[state]
    lines = [
        f"  issuer     {crl.issuer}",
        f"  updated    {_when(crl.this_update)}",
        f"  next       {nxt}",
        f"  revoked    {_plural(crl.revoked, 'certificate')}",
        f"  signature  {signature}",
        f"  sha256     {crl.sha256}",
    ]
    if crl.crl_number is not None:
        lines.append(f"  number     {crl.crl_number}")
    return [printable(line) for line in lines]


def render_human(results: list[Decoded], now: datetime) -> str:
    """The whole human report for the files that decoded, in order."""
    cas = [c for d in results for c in d.certificates if c.is_ca or c.self_signed]
    blocks: list[str] = []
    for decoded in results:
        total = len(decoded.entries)
        for index, entry in enumerate(decoded.entries, start=1):
            kind = "certificate" if isinstance(entry, CertificateInfo) else "CRL"
            head = printable(f"{decoded.source}: {kind} {index} of {total} ({decoded.form.upper()})")
            if isinstance(entry, CertificateInfo):
                body = render_certificate(entry, now)
            else:
                body = render_crl(entry, now, cas)
            blocks.append("\n".join([head, *body]))
        if decoded.private_key_present:
            blocks.append(printable(f"{decoded.source}: also holds a private key (not shown)"))
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def render_json(results: list[Decoded], now: datetime) -> str:
    """The ``--json`` array: one object per certificate or CRL, in file order."""
    cas = [c for d in results for c in d.certificates if c.is_ca or c.self_signed]
    items: list[dict[str, Any]] = []
    for decoded in results:
        for entry in decoded.entries:
            obj = entry.to_json(decoded.source)
            if isinstance(entry, CertificateInfo):
                obj["days_left"] = days_left(entry, now)
            else:
                obj["days_left"] = (
                    whole_days_left(entry.next_update, now) if entry.next_update is not None else None
                )
                obj["stale"] = crl_is_stale(entry, now)
                obj["signature"], obj["signature_ca"] = crl_signature(entry, cas)
            obj["private_key_in_file"] = decoded.private_key_present
            items.append(obj)
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"


def _safe(stream: TextIO) -> TextIO:
    # A subject in UTF-8 must not crash an ASCII terminal or pipe: escape what cannot be encoded.
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        with contextlib.suppress(ValueError, OSError):
            reconfigure(errors="backslashreplace")
    return stream


def run(args: argparse.Namespace, clock: Clock | None = None) -> int:
    """Decode every file, print the report, return 0 when all decoded and 1 otherwise (a UTF-16 file is
    shown but counts as a failure: it is not usable as a list file as it is)."""
    now = (clock or SystemClock()).now()
    out, err = _safe(sys.stdout), _safe(sys.stderr)
    results: list[Decoded] = []
    failed = 0
    for path in args.files:
        try:
            if path == "-":
                results.append(decode_bytes(read_capped(sys.stdin.buffer, "<stdin>"), "<stdin>"))
            else:
                results.append(decode_file(path))
        except CertError as exc:
            failed += 1
            print(f"aio-certs inspect: {printable(str(exc))}", file=err)
            continue
        if results[-1].utf16:
            # Shown (it decodes), but as upload says, not usable as a list file as it is: exit 1.
            failed += 1
            print(f"aio-certs inspect: {printable(results[-1].source)}: {UTF16_PROBLEM}", file=err)
    out.write(render_json(results, now) if args.json else render_human(results, now))
    out.flush()
    return 1 if failed else 0
