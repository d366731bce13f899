"""Run ``aio-certs vault add`` (the change flow, on one secret) or ``vault list`` (the unmapped secrets)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from tui.commands.shared.change_flow import open_session, run_change
from tui.commands.shared.exits import EXIT_OK, EXIT_UNREACHABLE, Refused, fail, warn
from tui.commands.shared.settings import Settings, check_timeouts, command_settings, load_user_config
from tui.commands.shared.trail import requested_trail, run_audited
from tui.core.certs.model import iso_utc
from tui.core.changes.changeset import AddVaultSecret, ChangeSet
from tui.core.changes.file_rules import read_content, vault_value
from tui.core.durations import days_left, expiry_phrase
from tui.core.model.snapshot import VaultSecret
from tui.core.text import printable
from tui.ops.runner import SiteUnavailable


def run(args: argparse.Namespace) -> int:
    """Run ``vault add`` or ``vault list``."""
    if args.action == "add":
        return _add(args)
    try:
        return _list(command_settings(args, load_user_config()), as_json=args.json)
    except Refused as refused:
        return fail("vault list", str(refused), refused.code)
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except Exception as exc:  # a bug must still end in one line, never a traceback
        return fail(
            "vault list", f"unexpected error: {type(exc).__name__}: {exc}".splitlines()[0], EXIT_UNREACHABLE
        )


def _add(args: argparse.Namespace) -> int:
    list_name, secret, target_key = args.list_name, args.secret, args.target_key
    trail = requested_trail(
        "vault add",
        context=args.context,
        list_name=list_name,
        names=[target_key] if target_key else [],
        secrets=[secret],
    )

    def build() -> ChangeSet:
        return stage(list_name, secret, target_key)

    return run_audited(
        "vault add",
        trail,
        lambda: run_change(
            command_settings(args, load_user_config()),
            command="vault add",
            action="vault add",
            build=build,
            trail=trail,
        ),
    )


def _holds(secret: VaultSecret | None, now: datetime) -> dict[str, Any]:
    """What a secret's value holds, for ``vault list``: kind, subject (a CRL's issuer), notAfter (a CRL's
    nextUpdate), the days-left phrase and whether it has expired; or the problem."""
    empty = {"kind": None, "subject": None, "not_after": None, "expiry": None, "expired": None}
    if secret is None or secret.value is None:
        return {**empty, "problem": "value not read"}
    held = vault_value(secret)
    content = read_content(held.payload, secret.name) if held.payload is not None else None
    if content is None or content.kind is None:
        reason = held.problem if content is None else (content.problem[1] if content.problem else None)
        return {**empty, "problem": reason or "no certificate or CRL"}
    end: datetime | None
    if content.certificate is not None:
        kind, subject, end = "certificate", content.certificate.subject, content.certificate.not_after
        if content.certificate.is_ca:
            kind = "CA"
    else:
        assert content.crl is not None
        kind, subject, end = "crl", content.crl.issuer, content.crl.next_update
    days = days_left(end, now) if end is not None else None
    return {
        "kind": kind,
        "subject": subject,
        "not_after": iso_utc(end),
        "expiry": expiry_phrase(days) if days is not None else None,
        "expired": days is not None and days < 0,
        "problem": None,
    }


def stage(list_name: str, secret: str, target_key: str | None) -> ChangeSet:
    """The one-change set ``vault add`` asks for."""
    return ChangeSet.of([AddVaultSecret(list_name, secret, target_key=target_key)])


def _list(settings: Settings, *, as_json: bool) -> int:
    check_timeouts(settings)
    session, connection = open_session(settings)
    warn("vault list", connection.warning)
    try:
        try:
            site = session.read(need_vault=True)
        except SiteUnavailable as exc:
            raise Refused(str(exc), EXIT_UNREACHABLE) from None
    finally:
        connection.close()
    assert site.vault is not None
    mapped = {e.source_path.lower() for e in site.state.opcua if e.source_path}
    mapped |= {o.object_name.lower() for s in site.state.spcs for o in s.objects}
    unmapped = sorted((n for n in site.vault.secrets if n.lower() not in mapped), key=str.lower)
    # What each holds (subject, expiry) needs its value: one read per unmapped secret, as `v` does.
    values: dict[str, VaultSecret] = {}
    if unmapped and site.vault_client is not None:
        # The vault reader (the Azure SDK's paging) is needed only when there is something to read.
        from tui.vault.reader import read_vault_snapshot

        values = dict(read_vault_snapshot(site.vault_client, names=unmapped, clock=session.clock).secrets)
    now = session.clock.now()
    rows: list[dict[str, Any]] = []
    for name in unmapped:
        secret = site.vault.secrets[name]
        rows.append(
            {
                "name": name,
                "content_type": secret.content_type,
                "enabled": secret.enabled,
                "tags": dict(secret.tags),
                "expires_on": iso_utc(secret.expires_on),
                **_holds(values.get(name), now),
            }
        )
    if as_json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    if not rows:
        where = printable(site.vault.vault_url)
        print(f"every secret in {where} is already in a list (or the vault is empty)")
        return EXIT_OK
    width = max(len(r["name"]) for r in rows)
    for row in rows:
        state = "" if row["enabled"] else "  (disabled)"
        if row["kind"] is not None:
            mark = "EXPIRED  " if row["expired"] else ""
            end = "next update" if row["kind"] == "crl" else "until"
            ends = f"  {end} {row['not_after'][:10]} ({row['expiry']})" if row["not_after"] else ""
            what = f"{mark}{row['kind']} {row['subject']}{ends}"
        else:
            what = f"{row['content_type'] or '-'}  ({row['problem'] or 'value not read'})"
        # Names, subjects and content types come from the vault: a terminal must not act on them.
        print(printable(f"{row['name']:<{width}}  {what}{state}"))
    print(
        f"{len(rows)} secret(s) not in any list; add one with: aio-certs vault add NAME --list trust",
        file=sys.stderr,
    )
    return EXIT_OK
