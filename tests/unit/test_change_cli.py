"""Shared behaviour of the change commands: confirmation, refusals, read-only."""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Any

import pytest

from tests.plansite import PLC2, build, plan_for, plan_site
from tui.cli import build_parser
from tui.commands.shared.confirm import confirm
from tui.commands.shared.exits import EXIT_USAGE, Refused
from tui.commands.shared.settings import Settings, check_timeouts, command_settings, refuse_if_read_only
from tui.config import UserConfig
from tui.core.changes.changeset import AddFile
from tui.core.changes.plan import rebase_plan
from tui.core.model import resources as rk
from tui.core.model.spc import cli_object, parse_spc, serialize_objects


def _settings(*argv: str) -> Settings:
    """The settings of ``aio-certs trust add x.der ARGV...`` with no config file."""
    args = build_parser().parse_args(["trust", "add", "x.der", *argv])
    return command_settings(args, UserConfig(), environ={"HOME": "/nonexistent"})


def test_yes_skips_the_question_but_still_shows_warnings() -> None:
    err = io.StringIO()
    confirm(
        "Apply?",
        yes=True,
        warnings=["SecretSync is ARM-managed"],
        stdin=io.StringIO(""),
        stderr=err,
        isatty=lambda: False,
    )
    assert err.getvalue() == "warning: SecretSync is ARM-managed\n"


def test_no_terminal_is_refused_before_any_output() -> None:
    err = io.StringIO()
    with pytest.raises(Refused, match="stdin is not a terminal; pass --yes"):
        confirm(
            "Apply?", yes=False, warnings=["w"], stdin=io.StringIO("y\n"), stderr=err, isatty=lambda: False
        )
    assert err.getvalue() == ""


@pytest.mark.parametrize("answer", ["y\n", "YES\n", " yes \n"])
def test_yes_answers_go_on(answer: str) -> None:
    err = io.StringIO()
    confirm("Apply?", yes=False, stdin=io.StringIO(answer), stderr=err, isatty=lambda: True)
    assert err.getvalue() == "Apply? [y/N] "


@pytest.mark.parametrize("answer", ["\n", "n\n", "yep\n", ""])
def test_anything_else_declines(answer: str) -> None:
    with pytest.raises(Refused, match="not confirmed; nothing was changed") as info:
        confirm("Apply?", yes=False, stdin=io.StringIO(answer), stderr=io.StringIO(), isatty=lambda: True)
    assert info.value.code == 1


def test_read_only_refuses_and_bad_timeouts_are_usage_errors() -> None:
    with pytest.raises(Refused, match="trust add: refused, read-only mode is on"):
        refuse_if_read_only(_settings("--read-only"), "trust add")
    refuse_if_read_only(_settings(), "trust add")
    # The parser refuses such values already; the settings are checked again before anything is done.
    settings = _settings("--request-timeout", "5", "--wait-timeout", "5")
    with pytest.raises(Refused) as info:
        check_timeouts(replace(settings, request_timeout=0))
    assert info.value.code == EXIT_USAGE
    with pytest.raises(Refused, match="--wait-timeout"):
        check_timeouts(replace(settings, change=replace(settings.change, wait_timeout=-1)))


@pytest.mark.parametrize("kept", [True, False])
def test_a_conflict_has_its_own_exit_status_and_one_line(
    kept: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui.commands.shared.change_flow import report_result, result_json
    from tui.commands.shared.exits import EXIT_CONFLICT
    from tui.ops.apply import CONFLICT, ApplyResult

    result = ApplyResult(
        "20261204T000000Z-abcdef",
        CONFLICT,
        (),
        0,
        "vault secret same-der was written by someone else",
        journal_kept=kept,
    )
    assert report_result("trust add", result) == EXIT_CONFLICT == 6
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("aio-certs trust add: conflict") and "someone else" in line
    assert ("journal rollback 20261204T000000Z-abcdef" in line) is kept
    assert result_json(result)["outcome"] == "conflict" and result_json(result)["journal_kept"] is kept


def test_a_resume_refused_until_the_user_acts_exits_1_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    # From the adversarial pass: a resume refused because a secret is deleted but recoverable exited
    # 4 ("resume failed"), the status of a broken apply, although nothing was written.
    from tui.commands.shared.change_flow import report_result
    from tui.commands.shared.exits import EXIT_REFUSED
    from tui.ops.apply import REFUSED, ApplyResult

    result = ApplyResult(
        "20261204T000000Z-abcdef",
        REFUSED,
        (),
        1,
        "vault secret plc-der, written by this apply, was deleted since and is recoverable; recover it "
        "(az keyvault secret recover) or purge it, then resume",
        journal_kept=True,
    )
    assert report_result("journal resume", result, verb="resume") == EXIT_REFUSED == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("aio-certs journal resume: resume refused: vault secret plc-der, written by")
    assert line.endswith("nothing was written (journal 20261204T000000Z-abcdef kept)")


@pytest.mark.parametrize("purge", [True, False])
def test_the_apply_question_says_a_purge_deletes_the_secret_for_good(purge: bool) -> None:
    # Issue 13 item 11 (CLI): `trust remove --purge` asked only "Apply these 4 step(s)...?".
    from tui.commands.shared.change_flow import apply_question
    from tui.core.changes.changeset import RemoveEntry

    plan = plan_for(plan_site(), RemoveEntry("trust", "plc-1.der", purge=purge))
    question = apply_question(plan, "aio-ctx")
    assert question.startswith(f"Apply these {len(plan.steps)} step(s) to context aio-ctx?")
    said = "This deletes and PURGES Key Vault secret plc-1-der: deleted for good, it cannot be recovered."
    assert (said in question) is purge
    assert ("PURGE" in apply_question(plan_for(plan_site(), RemoveEntry("trust", "plc-1.der")), "c")) is False


def _replans() -> tuple[Any, Any]:
    """A plan, and the same change planned again after someone else added an object (revision 1)."""
    first = plan_for(plan_site(), AddFile("trust", "plc-2.der", PLC2.der))
    moved = plan_site()
    for obj in moved.objects[rk.SECRET_PROVIDER_CLASSES.key].values():
        objects = [*parse_spc(obj).objects, cli_object("someone-else-der")]
        obj["spec"]["parameters"]["objects"] = serialize_objects(objects)
        obj["metadata"]["resourceVersion"] = "501"
    built = build(moved)
    return first, rebase_plan(first, built.state, raw=built.raw)


def test_a_replan_prints_the_new_diff_and_with_yes_goes_on(capsys: pytest.CaptureFixture[str]) -> None:
    # Issue 13 item 15 (CLI): the apply re-planned after a concurrent change without a word.
    from tui.commands.shared.change_flow import replan_asker

    first, again = _replans()
    assert again.revision == 1 and not again.problems
    assert replan_asker("aio-ctx", yes=True)(first, again) is True
    out, err = capsys.readouterr()
    assert out == again.render_diff() + "\n" and "rebased 1x" in out and "(resourceVersion 501)" in out
    assert "the lists changed while this apply ran" in err and "revision 1" in err


def test_a_replan_without_a_yes_and_without_a_terminal_stops(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.commands.shared.change_flow import replan_asker

    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))  # not a terminal: nobody can answer
    first, again = _replans()
    assert replan_asker("aio-ctx", yes=False)(first, again) is False
    assert "rebased 1x" in capsys.readouterr().out  # the new diff was shown all the same


def test_the_question_asked_again_lists_only_the_warnings_the_replan_adds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tui.commands.shared.change_flow import replan_asker
    from tui.ops.apply import new_warnings

    first, _ = _replans()
    warned = plan_for(plan_site(), AddFile("trust", "plc-2.DER", PLC2.der))
    assert warned.warnings and not first.warnings
    assert new_warnings(first, warned) == [str(w) for w in warned.warnings]
    assert new_warnings(warned, warned) == []
    assert replan_asker("c", yes=True)(first, warned) is True
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if line.startswith("warning: ")] == [
        f"warning: {w}" for w in warned.warnings
    ]
