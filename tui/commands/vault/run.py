"""Run ``aio-certs vault add`` (the change flow, on one secret) or ``vault list`` (the unmapped secrets)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tui.commands.shared.change_flow import open_session, run_change
from tui.commands.shared.exits import EXIT_OK, EXIT_UNREACHABLE, Refused, fail, warn
from tui.commands.shared.settings import Settings, check_timeouts, command_settings, load_user_config
from tui.commands.shared.trail import requested_trail, run_audited
from tui.core.changes.changeset import AddVaultSecret, ChangeSet
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
    rows: list[dict[str, Any]] = []
    for name, secret in sorted(site.vault.secrets.items(), key=lambda item: item[0].lower()):
        if name.lower() in mapped:
            continue
        rows.append(
            {
                "name": name,
                "content_type": secret.content_type,
                "enabled": secret.enabled,
                "tags": dict(secret.tags),
                "expires_on": secret.expires_on.isoformat() if secret.expires_on else None,
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
        expires = f"  expires {row['expires_on'][:10]}" if row["expires_on"] else ""
        # Names and content types are whatever was stored in the vault: a terminal must not act on them.
        print(printable(f"{row['name']:<{width}}  {row['content_type'] or '-'}{expires}{state}"))
    print(
        f"{len(rows)} secret(s) not in any list; add one with: aio-certs vault add NAME --list trust",
        file=sys.stderr,
    )
    return EXIT_OK
