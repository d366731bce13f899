"""``aio-certs inspect`` as a user runs it: a real process, exit codes, stdout and stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from tests import certgen as g
from tui.core.changes.file_rules import read_content

ROOT_DIR = Path(__file__).resolve().parents[2]
CA = g.make_ca("CLI Site CA")
LEAF = g.make_leaf(CA, "plc-9", uris=("urn:contoso:plc-9",), dns=("plc-9.local",))


@dataclass(frozen=True)
class Run:
    """What one ``aio-certs inspect`` process did."""

    returncode: int
    stdout: str
    stderr: str


def inspect(*args: str, stdin: bytes = b"", env: dict[str, str] | None = None) -> Run:
    done = subprocess.run(
        [sys.executable, "-m", "tui", "inspect", *args],
        input=stdin,
        capture_output=True,
        cwd=ROOT_DIR,
        env={**os.environ, **(env or {})},
        timeout=60,
    )
    return Run(done.returncode, done.stdout.decode("utf-8"), done.stderr.decode("utf-8"))


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """A directory of good and bad inputs, one per kind of problem."""
    p12 = pkcs12.serialize_key_and_certificates(b"x", LEAF.key, LEAF.cert, None, serialization.NoEncryption())
    broken = LEAF.pem.decode().splitlines()
    broken[3] = "@@@@" + broken[3][4:]
    content = {
        "chain.pem": g.bundle(LEAF, CA),
        "leaf.der": LEAF.der,
        "plc-9-der.hex": g.kv_hex(LEAF.der),
        "site.crl": g.make_crl(CA, revoked=(LEAF.serial,)).der,
        "empty.pem": b"",
        "truncated.der": LEAF.der[: len(LEAF.der) // 2],
        "random.bin": bytes(range(7, 250)),
        "broken-base64.pem": "\n".join(broken).encode(),
        "key-only.pem": LEAF.key_pem,
        "store.p12": p12,
        "with-key.pem": LEAF.key_pem + LEAF.pem,
    }
    out = {}
    for name, data in content.items():
        (tmp_path / name).write_bytes(data)
        out[name] = tmp_path / name
    huge = tmp_path / "huge.pem"
    with huge.open("wb") as handle:
        handle.truncate(5 * 1024 * 1024)
    out["huge.pem"] = huge
    out["missing.pem"] = tmp_path / "missing.pem"
    out["a-directory"] = tmp_path
    return out


def test_good_files_exit_zero_with_a_block_per_item(files: dict[str, Path]) -> None:
    names = ["chain.pem", "leaf.der", "plc-9-der.hex", "site.crl"]
    result = inspect(*(str(files[n]) for n in names))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    heads = [line for line in result.stdout.splitlines() if line and not line.startswith(" ")]
    assert heads == [
        f"{files['chain.pem']}: certificate 1 of 2 (PEM)",
        f"{files['chain.pem']}: certificate 2 of 2 (PEM)",
        f"{files['leaf.der']}: certificate 1 of 1 (DER)",
        f"{files['plc-9-der.hex']}: certificate 1 of 1 (HEX)",
        f"{files['site.crl']}: CRL 1 of 1 (DER)",
    ]
    assert "  app URI    urn:contoso:plc-9" in result.stdout
    assert "  signature  verified with the CA given" in result.stdout


BAD = {
    "empty.pem": "empty file",
    "truncated.der": "truncated DER",
    "random.bin": "not a certificate or CRL",
    "broken-base64.pem": "PEM block 1 (CERTIFICATE): invalid base64",
    "key-only.pem": "no certificate found (file holds a private key)",
    "store.p12": "PKCS#12 (.p12/.pfx) is not supported; export the certificates as PEM: openssl pkcs12 -in",
    "huge.pem": "too large (5.0 MiB; limit 4 MiB)",
    "missing.pem": "no such file",
    "a-directory": "is a directory",
}


def test_every_bad_input_is_one_stderr_line_and_the_good_ones_still_report(files: dict[str, Path]) -> None:
    args = [str(files["leaf.der"]), *(str(files[n]) for n in BAD), str(files["chain.pem"])]
    result = inspect(*args)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == len(BAD)
    for line, (name, reason) in zip(lines, BAD.items(), strict=True):
        assert line.startswith(f"aio-certs inspect: {files[name]}: "), line
        assert reason in line, line
    assert f"{files['leaf.der']}: certificate 1 of 1 (DER)" in result.stdout
    assert f"{files['chain.pem']}: certificate 2 of 2 (PEM)" in result.stdout


def test_json_is_an_array_in_file_order_even_with_failures(files: dict[str, Path]) -> None:
    result = inspect("--json", str(files["site.crl"]), str(files["empty.pem"]), str(files["chain.pem"]))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    items = json.loads(result.stdout)
    assert [(i["kind"], i["source"]) for i in items] == [
        ("crl", str(files["site.crl"])),
        ("certificate", str(files["chain.pem"])),
        ("certificate", str(files["chain.pem"])),
    ]
    assert items[0]["revoked"] == 1 and items[0]["signature"] == "verified"
    assert items[1]["application_uri"] == "urn:contoso:plc-9"
    assert items[2]["is_ca"] is True and items[2]["self_signed"] is True


def test_private_key_is_noted_never_printed(files: dict[str, Path]) -> None:
    key_lines = [line for line in LEAF.key_pem.decode().splitlines() if not line.startswith("-----")]
    for args in (
        [str(files["with-key.pem"])],
        ["--json", str(files["with-key.pem"])],
        [str(files["key-only.pem"])],
    ):
        result = inspect(*args)
        for line in key_lines:
            assert line not in result.stdout + result.stderr
    human = inspect(str(files["with-key.pem"]))
    assert f"{files['with-key.pem']}: also holds a private key (not shown)" in human.stdout


def test_stdin_dash_reads_key_vault_hex() -> None:
    result = inspect("--json", "-", stdin=g.kv_hex(LEAF.der) + b"\n")
    assert result.returncode == 0, result.stderr
    (item,) = json.loads(result.stdout)
    assert item["source"] == "<stdin>" and item["application_uri"] == "urn:contoso:plc-9"


def test_utf8_subject_on_an_ascii_only_pipe_does_not_crash(tmp_path: Path) -> None:
    path = tmp_path / "umlaut.pem"
    path.write_bytes(g.make_leaf(CA, "Gerät München").pem)
    result = inspect(str(path), env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.stderr
    assert "CN=Ger\\xe4t M\\xfcnchen" in result.stdout


def test_usage_errors_exit_two() -> None:
    result = inspect()
    assert result.returncode == 2
    assert "FILE" in result.stderr and "Traceback" not in result.stderr


def test_zero_serial_from_an_old_device_is_shown_without_library_warnings(tmp_path: Path) -> None:
    path = tmp_path / "old-device.der"
    path.write_bytes(g.with_serial(g.make_leaf(None, "old device"), 0).der)
    result = inspect(str(path))
    assert (result.returncode, result.stderr) == (0, "")
    assert "  serial     00\n" in result.stdout


def test_a_country_that_is_not_two_letters_is_shown_as_written_without_warnings(tmp_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    with pytest.warns(UserWarning, match="Attribute's length"):  # what the library says about it
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "Germany", _validate=False),
                x509.NameAttribute(NameOID.COMMON_NAME, "field device"),
            ]
        )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(g.EPOCH)
        .not_valid_after(g.EPOCH + timedelta(days=9))
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / "field-device.der"
    path.write_bytes(cert.public_bytes(serialization.Encoding.DER))
    result = inspect(str(path))
    assert (result.returncode, result.stderr) == (0, "")
    assert "  subject    CN=field device,C=Germany\n" in result.stdout


def test_utf16_text_is_shown_but_refused_as_upload_refuses_it(tmp_path: Path) -> None:
    """Trial finding 17: ``inspect utf16.pem`` exited 0 with no note while upload refuses the file."""
    data = LEAF.pem.decode("ascii").encode("utf-16")  # with its byte-order mark, as Windows saves it
    path = tmp_path / "utf16.pem"
    path.write_bytes(data)
    result = inspect(str(path))
    assert result.returncode == 1
    # One line, the same reason upload gives for the same bytes.
    upload = read_content(data, "utf16.pem").problem
    assert upload is not None
    assert result.stderr.splitlines() == [f"aio-certs inspect: {path}: {upload[1]}"]
    assert "save it as ASCII (UTF-8)" in result.stderr
    assert "subject    CN=plc-9" in result.stdout  # what it holds is still shown
    # Another good file alongside does not hide the failure; stdin is judged alike.
    assert inspect(str(path), "-", stdin=LEAF.pem).returncode == 1
    assert inspect("-", stdin=data).returncode == 1
