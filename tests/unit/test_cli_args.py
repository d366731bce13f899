"""Flag values are checked when the command line is parsed: one line naming the flag, nothing run.

``--request-timeout nan`` used to be accepted (and ``inf`` or ``-1`` failed late, after connecting, with
exit 3 or 4), ``--cloud Mars`` only failed once the vault URL was needed. Now they are usage errors:
exit 2 for every command, 3 (UNKNOWN) for ``status``. Only the parser runs here, never a command.
"""

from __future__ import annotations

import json
import re

import pytest

from tui.cli import build_parser

COMMANDS = {
    "trust add": ["trust", "add", "plc-1.der"],
    "issuer remove": ["issuer", "remove", "ca.crl"],
    "vault add": ["vault", "add", "plc-1-der", "--list", "trust"],
    "vault list": ["vault", "list"],
    "journal resume": ["journal", "resume", "20260301T120000Z-3f9a1c"],
    "renew": ["renew"],
    "dashboard": ["dashboard"],
    "status": ["status"],
}
BAD_VALUES = [
    ("--request-timeout", "nan", "expected a finite number of seconds, got 'nan'"),
    ("--request-timeout", "inf", "expected a finite number of seconds, got 'inf'"),
    ("--request-timeout", "-1", "must be more than 0 seconds, got '-1'"),
    ("--request-timeout", "0", "must be more than 0 seconds, got '0'"),
    ("--request-timeout", "soon", "expected a finite number of seconds, got 'soon'"),
    ("--wait-timeout", "nan", "expected a finite number of seconds, got 'nan'"),
    ("--wait-timeout", "-1", "must not be negative, got '-1'"),
    (
        "--cloud",
        "Mars",
        "unknown cloud 'Mars' (expected one of AzureCloud, AzureChinaCloud, AzureUSGovernment)",
    ),
    ("--cloud", "Ma\x1b[2Jrs\n", "unknown cloud 'Ma\\1B[2Jrs\\0A'"),
    # From the adversarial pass: these failed late (trust add, vault add: exit 3; status: exit 2 without
    # an error field; renew --auth mars --yes renewed) or, for huge timeouts, with "timestamp out of
    # range for platform time_t" against a reachable cluster.
    (
        "--auth",
        "mars",
        "unknown sign-in mode 'mars' (expected one of default, cli, managed-identity, device-code, "
        "workload-identity, demo)",
    ),
    ("--auth", "ma\x1b]0;x\x07rs", "unknown sign-in mode 'ma\\1B]0;x\\07rs'"),
    ("--vault-url", "http://127.0.0.1:1/", "'http://127.0.0.1:1/': must be an https:// URL"),
    ("--vault-url", "not a url", "'not a url': must be an https:// URL"),
    ("--vault-url", "https:///path", "'https:///path': must be an https:// URL with a host name"),
    ("--vault-url", "https://v.example:99999/", "'https://v.example:99999/': not a valid URL"),
    ("--request-timeout", "1e10", "must be at most 86400 seconds (one day), got '1e10'"),
    ("--request-timeout", "1e20", "must be at most 86400 seconds (one day), got '1e20'"),
    ("--request-timeout", "99999999999", "must be at most 86400 seconds (one day), got '99999999999'"),
    ("--wait-timeout", "1e10", "must be at most 86400 seconds (one day), got '1e10'"),
]
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def _cases() -> list[tuple[str, str, str, str]]:
    cases = []
    for command, (flag, value, reason) in ((c, b) for c in COMMANDS for b in BAD_VALUES):
        no_wait = command in ("vault list", "dashboard", "status")
        if flag == "--wait-timeout" and no_wait:
            continue
        cases.append((command, flag, value, reason))
    return cases


@pytest.mark.parametrize(("command", "flag", "value", "reason"), _cases())
def test_bad_flag_values_are_refused_at_parse_time(
    capsys: pytest.CaptureFixture[str], command: str, flag: str, value: str, reason: str
) -> None:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args([*COMMANDS[command], f"{flag}={value}"])
    assert info.value.code == (3 if command == "status" else 2)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"aio-certs {command}: argument {flag}: {reason}"), captured.err
    assert captured.err.endswith(f" (see aio-certs {command} --help)\n") and captured.err.count("\n") == 1
    assert not _CONTROL.search(captured.err)


def test_status_usage_errors_under_json_still_print_an_object(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["status", "--json", "--cloud", "Mars"])
    assert info.value.code == 3
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["summary"] == {"health": "unknown", "exit_code": 3}
    assert doc["error"].startswith("argument --cloud: unknown cloud 'Mars'")
    assert captured.err == f"aio-certs status: {doc['error']}\n"


@pytest.mark.parametrize(
    ("argv", "code"), [(["status", "--nope"], 3), (["trust", "add", "a.der", "--nope"], 2)]
)
def test_unknown_flags_are_one_line_with_the_commands_status(
    capsys: pytest.CaptureFixture[str], argv: list[str], code: int
) -> None:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(argv)
    assert info.value.code == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unrecognized arguments: --nope" in err


def test_good_values_are_normalised() -> None:
    args = build_parser().parse_args(
        [
            "trust",
            "add",
            "a.der",
            "--request-timeout",
            "2.5",
            "--wait-timeout",
            "0",
            "--cloud",
            " azurechinacloud ",
            "--auth",
            "Device-Code",
            "--vault-url",
            " https://kv.vault.azure.net/ ",
        ]
    )
    assert (args.request_timeout, args.wait_timeout, args.cloud) == (2.5, 0.0, "AzureChinaCloud")
    assert (args.auth, args.vault_url) == ("device-code", "https://kv.vault.azure.net/")
    longest = build_parser().parse_args(["renew", "--request-timeout", "86400", "--wait-timeout", "86400"])
    assert (longest.request_timeout, longest.wait_timeout) == (86400.0, 86400.0)
    status = build_parser().parse_args(["status", "--cloud", "AZUREUSGOVERNMENT"])
    assert (status.request_timeout, status.cloud) == (10.0, "AzureUSGovernment")


def test_local_only_is_a_flag_of_the_list_changes_only_and_reaches_the_settings() -> None:
    from tui.commands.shared.settings import command_settings
    from tui.config import UserConfig

    parser = build_parser()
    for argv in (
        ["trust", "add", "a.der"],
        ["issuer", "remove", "a.der"],
        ["vault", "add", "s", "--list", "trust"],
    ):
        args = parser.parse_args([*argv, "--local-only"])
        assert command_settings(args, UserConfig(), environ={}).change.local_only
        assert not command_settings(parser.parse_args(argv), UserConfig(), environ={}).change.local_only
    for argv in (["renew"], ["journal", "resume", "20260301T120000Z-3f9a1c"], ["vault", "list"]):
        with pytest.raises(SystemExit):
            parser.parse_args([*argv, "--local-only"])
    # --read-only still wins: the settings carry both, and every write path refuses read-only first.
    both = command_settings(
        parser.parse_args(["trust", "add", "a.der", "--local-only", "--read-only"]), UserConfig(), environ={}
    )
    assert both.read_only and both.change.local_only
