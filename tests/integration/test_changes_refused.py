"""Every refused input changes nothing anywhere: the whole cluster and the whole vault are compared.

One demo serves the module: each test proves it left the site exactly as it found it, which is also
what keeps the tests independent. The CLI runs in a subprocess; each refusal must be one line per
problem on stderr, exit status 1 (2 for bad usage), and no audit of an apply.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from tests import certgen
from tests.integration.changes_support import run_cli, running_demo, site_snapshot
from tui.demo.environment import DemoEnvironment

NOT_A_CERT = "notes-txt"


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoEnvironment]:
    with running_demo() as env:
        # A vault secret that is not a certificate, for the "add from Key Vault" refusal.
        env.vault.put_secret(
            NOT_A_CERT,
            b"maintenance window: Sundays".hex(),
            content_type="text/plain",
            tags={"file-encoding": "hex"},
        )
        yield env


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _valid(cn: str) -> certgen.Issued:
    return certgen.make_leaf(None, cn, not_before=_now() - timedelta(days=1), days=365)


def _refused(demo: DemoEnvironment, tmp_path: Path, *args: str, code: int = 1) -> list[str]:
    """Run a change that must be refused; return its stderr lines after checking nothing changed."""
    before = site_snapshot(demo)
    result = run_cli(demo, tmp_path, *args)
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert site_snapshot(demo) == before
    audit = tmp_path / "audit.jsonl"
    assert "applied" not in (audit.read_text() if audit.exists() else "")
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and all(line.startswith("aio-certs ") for line in lines), lines
    return lines


def _file(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_bad_extension(demo: DemoEnvironment, tmp_path: Path) -> None:
    path = _file(tmp_path, "plc-x.pem", _valid("plc-x").pem)
    [line] = _refused(demo, tmp_path, "trust", "add", path, "--yes")
    assert "plc-x.pem" in line and ".pem" in line


def test_a_file_name_that_is_no_target_key_says_how_to_name_the_entry(
    demo: DemoEnvironment, tmp_path: Path
) -> None:
    # Trial finding 22: the refusal named the rule but not the way out.
    path = _file(tmp_path, "my ca with space.der", _valid("my-ca").der)
    lines = _refused(demo, tmp_path, "trust", "add", path, "--yes")
    [line] = [ln for ln in lines if "targetKey" in ln]
    assert "trust/my ca with space.der: not a valid SecretSync targetKey" in line
    assert line.endswith(
        "; name the entry with --target-key my-ca-with-space.der (in the dialog: its Entry field)"
    )
    # The suggestion is itself a valid name: taking it passes the name rule.
    dry = run_cli(demo, tmp_path, "trust", "add", path, "--target-key", "my-ca-with-space.der", "--dry-run")
    assert "targetKey" not in dry.stderr


def test_expired_certificate(demo: DemoEnvironment, tmp_path: Path) -> None:
    old = certgen.make_leaf(None, "old", not_before=_now() - timedelta(days=400), days=30)
    [line] = _refused(demo, tmp_path, "trust", "add", _file(tmp_path, "old.der", old.der), "--yes")
    assert "old.der" in line and "expired" in line


def test_private_key_in_the_file(demo: DemoEnvironment, tmp_path: Path) -> None:
    leaf = _valid("with-key")
    lines = _refused(
        demo, tmp_path, "trust", "add", _file(tmp_path, "with-key.crt", leaf.pem + leaf.key_pem), "--yes"
    )
    assert any("private key" in line for line in lines)


def test_a_utf16_pem_is_refused_in_one_line(demo: DemoEnvironment, tmp_path: Path) -> None:
    # From the adversarial pass: a Windows "Unicode" export of a PEM was accepted (the decoder reads
    # UTF-16 for inspect) and uploaded as is, which no PEM reader on the edge can parse.
    data = _valid("plc-utf16").pem.decode().encode("utf-16")
    [line] = _refused(demo, tmp_path, "trust", "add", _file(tmp_path, "plc-utf16.crt", data), "--yes")
    assert "plc-utf16.crt" in line and "is UTF-16 text; save it as ASCII (UTF-8) PEM" in line


def test_pkcs12(demo: DemoEnvironment, tmp_path: Path) -> None:
    leaf = _valid("bundle")
    blob = pkcs12.serialize_key_and_certificates(
        b"bundle",
        leaf.key,
        leaf.cert,
        None,  # type: ignore[arg-type]
        serialization.NoEncryption(),
    )
    lines = _refused(demo, tmp_path, "trust", "add", _file(tmp_path, "bundle.der", blob), "--yes")
    assert any("PKCS#12" in line for line in lines)


def test_duplicate_thumbprint(demo: DemoEnvironment, tmp_path: Path) -> None:
    existing = bytes.fromhex(demo.vault.snapshot()["secrets"]["plc-press-line1-der"]["versions"][-1]["value"])
    lines = _refused(demo, tmp_path, "trust", "add", _file(tmp_path, "copy-of-press.der", existing), "--yes")
    # Says where it already is (the seeded list holds it twice: under .der and an -old.crt copy).
    assert any("already in the trust list as plc-press-line1" in line for line in lines)


def test_name_collision_without_overwrite(demo: DemoEnvironment, tmp_path: Path) -> None:
    lines = _refused(
        demo, tmp_path, "trust", "add", _file(tmp_path, "historian-main.der", _valid("h").der), "--yes"
    )
    assert any("historian-main" in line and "overwrite" in line for line in lines)


def test_crl_without_its_ca(demo: DemoEnvironment, tmp_path: Path) -> None:
    ca = certgen.make_ca("Lonely CA", not_before=_now() - timedelta(days=1))
    crl = certgen.make_crl(
        ca, this_update=_now() - timedelta(hours=1), next_update=_now() + timedelta(days=7)
    )
    lines = _refused(demo, tmp_path, "issuer", "add", _file(tmp_path, "lonely.crl", crl.der), "--yes")
    assert any("lonely.crl" in line for line in lines)


def test_crl_not_signed_by_the_ca(demo: DemoEnvironment, tmp_path: Path) -> None:
    ca = certgen.make_ca("Real CA", not_before=_now() - timedelta(days=1))
    impostor = certgen.make_ca("Real CA", key="rsa", not_before=_now() - timedelta(days=1))
    crl = certgen.make_crl(
        impostor, this_update=_now() - timedelta(hours=1), next_update=_now() + timedelta(days=7)
    )
    lines = _refused(
        demo,
        tmp_path,
        "issuer",
        "add",
        _file(tmp_path, "real.der", ca.der),
        _file(tmp_path, "real.crl", crl.der),
        "--yes",
    )
    assert any("real.crl" in line and "sign" in line for line in lines)


def test_bad_secret_name(demo: DemoEnvironment, tmp_path: Path) -> None:
    lines = _refused(
        demo,
        tmp_path,
        "trust",
        "add",
        _file(tmp_path, "ok.der", _valid("ok").der),
        "--secret-name",
        "bad_name!",
        "--yes",
    )
    assert any("bad_name!" in line for line in lines)


def test_vault_secret_that_is_not_a_certificate(demo: DemoEnvironment, tmp_path: Path) -> None:
    lines = _refused(demo, tmp_path, "vault", "add", NOT_A_CERT, "--list", "trust", "--yes")
    assert any(NOT_A_CERT in line for line in lines)


def test_issuer_list_refuses_a_leaf(demo: DemoEnvironment, tmp_path: Path) -> None:
    lines = _refused(
        demo, tmp_path, "issuer", "add", _file(tmp_path, "leaf.der", _valid("leaf").der), "--yes"
    )
    assert any("CA" in line for line in lines)


def test_unknown_entry_to_remove(demo: DemoEnvironment, tmp_path: Path) -> None:
    lines = _refused(demo, tmp_path, "trust", "remove", "no-such.der", "--yes")
    assert any("no-such.der" in line for line in lines)


def test_missing_file(demo: DemoEnvironment, tmp_path: Path) -> None:
    [line] = _refused(demo, tmp_path, "trust", "add", str(tmp_path / "absent.der"), "--yes")
    assert line.endswith("absent.der: no such file")


def test_read_only_flag_and_config_refuse_every_write(demo: DemoEnvironment, tmp_path: Path) -> None:
    path = _file(tmp_path, "ro.der", _valid("ro").der)
    [line] = _refused(demo, tmp_path, "trust", "add", path, "--yes", "--read-only")
    assert "read-only mode is on" in line
    (tmp_path / "config.toml").write_text("read_only = true\n", encoding="utf-8")
    before = site_snapshot(demo)
    for args in (
        ("trust", "remove", "historian-main.der"),
        ("issuer", "remove", "fabrikam-device-ca.der"),
        ("vault", "add", NOT_A_CERT, "--list", "trust"),
        ("journal", "rollback", "x"),
        ("renew",),
    ):
        result = run_cli(demo, tmp_path, *args, "--yes", AIO_CERTS_CONFIG=str(tmp_path / "config.toml"))
        assert result.returncode == 1, (args, result.stderr)
        assert "read-only mode is on" in result.stderr
    assert site_snapshot(demo) == before


def test_no_terminal_without_yes_and_dry_run_write_nothing(demo: DemoEnvironment, tmp_path: Path) -> None:
    path = _file(tmp_path, "tty.der", _valid("tty").der)
    [line] = _refused(demo, tmp_path, "trust", "add", path)
    assert "stdin is not a terminal; pass --yes" in line
    before = site_snapshot(demo)
    dry = run_cli(demo, tmp_path, "trust", "add", path, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "+ tty-der -> tty.der" in dry.stdout
    assert site_snapshot(demo) == before
    journal_dir = tmp_path / "journal"
    assert not journal_dir.exists() or not any(journal_dir.iterdir())  # a dry run journals nothing


def test_several_problems_give_one_line_each(demo: DemoEnvironment, tmp_path: Path) -> None:
    old = certgen.make_leaf(None, "old2", not_before=_now() - timedelta(days=400), days=30)
    lines = _refused(
        demo,
        tmp_path,
        "trust",
        "add",
        _file(tmp_path, "a.pem", _valid("a").pem),
        _file(tmp_path, "old2.der", old.der),
        "--yes",
    )
    assert len(lines) >= 2
    assert any("a.pem" in line for line in lines) and any("old2.der" in line for line in lines)


def test_bad_usage_is_exit_2(demo: DemoEnvironment, tmp_path: Path) -> None:
    [line] = _refused(
        demo,
        tmp_path,
        "trust",
        "add",
        _file(tmp_path, "u1.der", b"x"),
        _file(tmp_path, "u2.der", b"y"),
        "--secret-name",
        "one",
        "--yes",
        code=2,
    )
    assert "--secret-name" in line


def test_a_name_soft_deleted_in_the_vault(demo: DemoEnvironment, tmp_path: Path) -> None:
    # Deleted (not purged) earlier: the vault would answer 409 to the write; refused before any write.
    demo.vault.put_secret(
        "retired-gw-der", _valid("retired").der.hex(), "application/pkix-cert", {"file-encoding": "hex"}
    )
    demo.vault.store.delete_secret("retired-gw-der")
    lines = _refused(
        demo, tmp_path, "trust", "add", _file(tmp_path, "retired-gw.der", _valid("new gw").der), "--yes"
    )
    assert any("vault secret retired-gw-der is deleted but recoverable" in line for line in lines), lines
    # The same file under another secret name is accepted by the planner (dry run: nothing written).
    result = run_cli(
        demo,
        tmp_path,
        "trust",
        "add",
        _file(tmp_path, "retired-gw.der", _valid("new gw").der),
        "--secret-name",
        "retired-gw-2-der",
        "--dry-run",
    )
    assert result.returncode == 0, result.stderr


# -- overwriting a vault secret: what it holds is read and judged first (issue 9, item 1) --------------


def test_overwrite_of_a_password_secret_is_refused(demo: DemoEnvironment, tmp_path: Path) -> None:
    # Listed like any secret, but its value is a password: --overwrite must not destroy it.
    demo.vault.put_secret("db-password", "hunter2-not-a-certificate", content_type="text/plain")
    path = _file(tmp_path, "coll.der", _valid("collector").der)
    [line] = _refused(demo, tmp_path, "trust", "add", path, "-s", "db-password", "--overwrite", "--yes")
    assert "db-password" in line and "holds no certificate or CRL" in line, line
    assert "hunter2" not in line


def test_overwrite_of_a_private_key_secret_is_refused(demo: DemoEnvironment, tmp_path: Path) -> None:
    key_pem = _valid("keyholder").key_pem.decode()
    demo.vault.put_secret("gw-key-pem", key_pem, content_type="application/x-pem-file")
    path = _file(tmp_path, "gw.der", _valid("gw").der)
    [line] = _refused(demo, tmp_path, "trust", "add", path, "-s", "gw-key-pem", "--overwrite", "--yes")
    assert "gw-key-pem" in line and "PRIVATE KEY" not in line, line


def test_overwrite_of_a_disabled_secret_is_refused(demo: DemoEnvironment, tmp_path: Path) -> None:
    # Its value cannot be read, so it cannot be judged: refused rather than overwritten blind.
    demo.vault.put_secret(
        "sealed-der",
        _valid("sealed").der.hex(),
        content_type="application/pkix-cert",
        tags={"file-encoding": "hex"},
        enabled=False,
    )
    path = _file(tmp_path, "sealed.der", _valid("sealed new").der)
    [line] = _refused(demo, tmp_path, "trust", "add", path, "--overwrite", "--yes")
    assert "sealed-der" in line and "disabled" in line, line


def test_overwrite_of_a_secret_another_list_still_maps_is_refused(
    demo: DemoEnvironment, tmp_path: Path
) -> None:
    # fabrikam-device-ca-der backs issuer/fabrikam-device-ca.der: a trust add must not replace it.
    path = _file(tmp_path, "other.der", _valid("other").der)
    lines = _refused(
        demo, tmp_path, "trust", "add", path, "-s", "fabrikam-device-ca-der", "--overwrite", "--yes"
    )
    assert any("fabrikam-device-ca-der" in line and "already backs issuer/" in line for line in lines), lines
