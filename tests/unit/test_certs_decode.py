"""decode_bytes / decode_file: every wrapping a certificate arrives in, and every way it can be broken."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

from tests import certgen as g
from tui.core.certs import MAX_BYTES, CertError, CertificateInfo, CrlInfo, Decoded, decode_bytes, decode_file

ROOT = g.make_ca("Decode Root")
SUB = g.make_intermediate(ROOT, "Decode Issuing CA")
LEAF = g.make_leaf(SUB, "plc-7", uris=("urn:plc-7",))
CRL = g.make_crl(SUB, revoked=(LEAF.serial,))


def _sha1s(decoded: Decoded) -> list[str]:
    return [c.sha1 for c in decoded.certificates]


def _sha1(issued: g.Issued) -> str:
    return decode_bytes(issued.der).certificates[0].sha1


# -- forms ----------------------------------------------------------------------------------------


def test_pem_bundle_in_order_with_crlf_and_surrounding_text() -> None:
    text = (
        b"Certificate:\r\n    Data: (openssl -text output)\r\n"
        + g.bundle(LEAF, SUB, ROOT).replace(b"\n", b"\r\n")
        + b"trailing notes\r\n"
    )
    decoded = decode_bytes(text, "chain.pem")
    assert decoded.form == "pem"
    assert decoded.source == "chain.pem"
    assert _sha1s(decoded) == [_sha1(LEAF), _sha1(SUB), _sha1(ROOT)]
    assert decoded.private_key_present is False


def test_certificates_and_crls_keep_file_order_in_entries() -> None:
    decoded = decode_bytes(g.bundle(SUB, CRL, LEAF))
    assert [type(e) for e in decoded.entries] == [CertificateInfo, CrlInfo, CertificateInfo]
    assert decoded.certificates == (decoded.entries[0], decoded.entries[2])
    assert decoded.crls == (decoded.entries[1],)


def test_single_der_certificate_and_der_crl() -> None:
    cert = decode_bytes(LEAF.der)
    assert (cert.form, len(cert.certificates), cert.crls) == ("der", 1, ())
    crl = decode_bytes(CRL.der)
    assert (crl.form, crl.certificates, len(crl.crls)) == ("der", (), 1)
    assert crl.crls[0].revoked_serials == frozenset({LEAF.serial})


def test_concatenated_der_chain_as_opc_ua_sends_it() -> None:
    decoded = decode_bytes(LEAF.der + SUB.der + ROOT.der + b"\x00\x00")
    assert decoded.form == "der"
    assert _sha1s(decoded) == [_sha1(LEAF), _sha1(SUB), _sha1(ROOT)]


@pytest.mark.parametrize("variant", ["lower", "upper", "wrapped", "trailing-newline"])
def test_key_vault_hex_of_der_and_pem(variant: str) -> None:
    for raw in (LEAF.der, LEAF.pem):
        text = raw.hex()
        if variant == "upper":
            text = text.upper()
        elif variant == "wrapped":
            text = "\n".join(text[i : i + 76] for i in range(0, len(text), 76))
        elif variant == "trailing-newline":
            text += "\r\n"
        decoded = decode_bytes(text.encode(), "plc-7-der")
        assert decoded.form == "hex"
        assert _sha1s(decoded) == [_sha1(LEAF)]


def test_key_vault_hex_crl() -> None:
    decoded = decode_bytes(g.kv_hex(CRL.der))
    assert decoded.form == "hex" and decoded.crls[0].sha256 == decode_bytes(CRL.der).crls[0].sha256


def test_cert_with_key_reports_presence_but_never_the_key() -> None:
    decoded = decode_bytes(LEAF.key_pem + LEAF.pem)
    assert decoded.private_key_present is True
    assert _sha1s(decoded) == [_sha1(LEAF)]
    key_body = LEAF.key_pem.split(b"\n")[1].decode()
    assert key_body not in repr(decoded)


def test_pkcs7_bundle_pem_and_der() -> None:
    der = pkcs7.serialize_certificates([LEAF.cert, ROOT.cert], serialization.Encoding.DER)
    pem = pkcs7.serialize_certificates([LEAF.cert, ROOT.cert], serialization.Encoding.PEM)
    for data in (der, pem):
        assert sorted(_sha1s(decode_bytes(data))) == sorted([_sha1(LEAF), _sha1(ROOT)])


def test_openssl_trusted_certificate_block() -> None:
    # The "TRUSTED CERTIFICATE" form appends trust settings after the certificate.
    aux = bytes.fromhex("3012300a06082b06010505070301a0040c02686f")
    body = base64.encodebytes(LEAF.der + aux)
    pem = b"-----BEGIN TRUSTED CERTIFICATE-----\n" + body + b"-----END TRUSTED CERTIFICATE-----\n"
    decoded = decode_bytes(pem)
    assert _sha1s(decoded) == [_sha1(LEAF)]


def test_utf16_text_from_windows_and_utf8_bom() -> None:
    assert _sha1s(decode_bytes(LEAF.pem.decode().encode("utf-16"))) == [_sha1(LEAF)]
    assert _sha1s(decode_bytes(b"\xef\xbb\xbf" + LEAF.pem)) == [_sha1(LEAF)]
    assert _sha1s(decode_bytes(b"\xef\xbb\xbf" + g.kv_hex(LEAF.der))) == [_sha1(LEAF)]


def test_pem_property_round_trips() -> None:
    info = decode_bytes(LEAF.der).certificates[0]
    assert info.pem.encode() == LEAF.pem
    crl = decode_bytes(CRL.der).crls[0]
    assert decode_bytes(crl.pem.encode()).crls[0] == crl


def test_repeated_decode_returns_equal_results() -> None:
    assert decode_bytes(g.bundle(LEAF, SUB)) == decode_bytes(g.bundle(LEAF, SUB))


# -- bad input ------------------------------------------------------------------------------------


def _reason(data: bytes, source: str = "f.pem") -> str:
    with pytest.raises(CertError) as caught:
        decode_bytes(data, source)
    err = caught.value
    assert err.source == source
    assert str(err) == f"{source}: {err.reason}"
    assert "\n" not in str(err)
    return err.reason


def test_empty_and_blank() -> None:
    assert _reason(b"") == "empty file"
    assert _reason(b" \r\n\t\n") == "empty file"


def test_key_only_files() -> None:
    assert _reason(LEAF.key_pem) == "no certificate found (file holds a private key)"
    rsa_key = g.make_key("rsa").private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    assert _reason(rsa_key) == "no certificate found (file holds a private key)"
    der_key = LEAF.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert _reason(der_key) == "no certificate found (file holds a private key)"
    encrypted = LEAF.key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    assert _reason(encrypted) == "no certificate found (file holds a private key)"
    assert _reason(g.kv_hex(LEAF.key_pem)) == "no certificate found (file holds a private key)"


def test_pkcs12_is_refused_with_the_way_out() -> None:
    p12 = pkcs12.serialize_key_and_certificates(
        b"plc", LEAF.key, LEAF.cert, None, serialization.NoEncryption()
    )
    reason = _reason(p12, "plc.p12")
    assert reason.startswith("PKCS#12 (.p12/.pfx) is not supported")
    assert "openssl pkcs12 -in plc.p12 -nokeys -out" in reason
    assert "PKCS#12" in _reason(g.kv_hex(p12), "plc-p12")


def test_broken_base64_names_the_block() -> None:
    pem = g.bundle(ROOT, LEAF).decode()
    lines = pem.splitlines()
    second_body = lines.index("-----BEGIN CERTIFICATE-----", 1) + 2
    lines[second_body] = "!!!" + lines[second_body][3:]
    assert _reason("\n".join(lines).encode()) == "PEM block 2 (CERTIFICATE): invalid base64"


def test_truncated_pem_and_der() -> None:
    assert _reason(LEAF.pem[:-40]) == "PEM block 1 (CERTIFICATE): truncated, no END line"
    reason = _reason(LEAF.der[:-10], "f.der")
    assert reason.startswith("truncated DER")


def test_valid_base64_that_is_not_a_certificate() -> None:
    body = base64.encodebytes(b"\x30\x03\x02\x01\x05")
    reason = _reason(b"-----BEGIN CERTIFICATE-----\n" + body + b"-----END CERTIFICATE-----\n")
    assert reason.startswith("PEM block 1 (CERTIFICATE): not a valid certificate")


def test_random_text_and_bytes() -> None:
    unknown = "not a certificate or CRL (no PEM block, not DER, not Key Vault hex)"
    assert _reason(b"hello world, not a cert\n") == unknown
    assert _reason(bytes(range(1, 200))) == unknown
    assert _reason(b"deadbeef") == "Key Vault hex holds neither PEM nor DER"
    assert _reason(g.kv_hex(LEAF.der)[:-1]) == "odd number of hex digits (Key Vault hex cut short?)"


def test_other_pem_blocks_are_named() -> None:
    csr = b"-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n"
    assert _reason(csr) == "no certificate found (file holds CERTIFICATE REQUEST)"


def test_a_damaged_certificate_in_a_good_bundle_fails_the_file() -> None:
    bad = bytearray(SUB.der)
    bad[-5] ^= 0xFF  # signature bytes only: still parses, so this must stay a good file
    assert len(decode_bytes(bytes(bad)).certificates) == 1
    # BasicConstraints with an OCTET STRING where the BOOLEAN belongs: the outer structure parses,
    # the extension does not, and the whole file is refused rather than silently shortened.
    good = bytes.fromhex("30060101ff020100")
    assert SUB.der.count(good) == 1
    broken = SUB.der.replace(good, bytes.fromhex("30060401ff020100"))
    reason = _reason(LEAF.der + broken, "chain.der")
    assert reason.startswith("DER element 2: malformed certificate")


def test_too_large_bytes_are_refused_without_parsing() -> None:
    assert _reason(b"0" * (MAX_BYTES + 1)).startswith("too large")


# -- files ----------------------------------------------------------------------------------------


def test_decode_file_reads_and_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "leaf.der"
    path.write_bytes(LEAF.der)
    decoded = decode_file(path)
    assert decoded.source == str(path)
    assert _sha1s(decoded) == [_sha1(LEAF)]


def test_decode_file_refuses_a_huge_file_by_size_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.pem"
    with path.open("wb") as handle:  # sparse: 5 MiB on paper, nothing on disk to read
        handle.truncate(5 * 1024 * 1024)
    with pytest.raises(CertError) as caught:
        decode_file(path)
    assert caught.value.reason == "too large (5.0 MiB; limit 4 MiB)"


def test_decode_file_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(CertError, match="no such file"):
        decode_file(missing)
    with pytest.raises(CertError, match="is a directory"):
        decode_file(tmp_path)
    locked = tmp_path / "locked.pem"
    locked.write_bytes(LEAF.pem)
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running as a user who can read any file (root)")
        with pytest.raises(CertError, match="permission denied"):
            decode_file(locked)
    finally:
        locked.chmod(0o600)


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc")
def test_decode_file_read_error_is_one_line() -> None:
    # Opens fine, fails on read (EIO): the path is named, the OS reason given, no traceback.
    with pytest.raises(CertError) as caught:
        decode_file("/proc/self/mem")
    assert str(caught.value) == "/proc/self/mem: cannot read (input/output error)"


def test_bytearray_and_memoryview_inputs() -> None:
    assert _sha1s(decode_bytes(bytearray(LEAF.der))) == [_sha1(LEAF)]
    assert _sha1s(decode_bytes(memoryview(g.bundle(LEAF)))) == [_sha1(LEAF)]
