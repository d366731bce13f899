"""``inspect`` reads every field the way ``openssl x509`` / ``openssl crl`` do.

Each certificate is given to /usr/bin/openssl as DER and the printed values are compared with our
decode of the same bytes (and of the PEM, the Key Vault hex text and a chain file holding it).
openssl escapes UTF-8 bytes in names as ``\\XX`` (its ESC_MSB flag); those escapes are turned back into
text before comparing, everything else must match character for character.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests import certgen as g
from tui.core.certs import CertificateInfo, CrlInfo, crl_signed_by, decode_bytes

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
pytestmark = [
    pytest.mark.skipif(not Path(OPENSSL).exists(), reason="openssl is not installed"),
    # Zero and negative serials (old devices) make cryptography warn; they are decoded on purpose.
    pytest.mark.filterwarnings(
        "ignore:Parsed a serial number:cryptography.utils.CryptographyDeprecationWarning"
    ),
]

# openssl names P-256 by its ANSI name; everything else by the SECG name cryptography uses.
_CURVE_ALIASES = {"prime256v1": "secp256r1"}


def _openssl(args: list[str], data: bytes) -> str:
    out = subprocess.run([OPENSSL, *args], input=data, capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def _unescape_msb(text: str) -> str:
    """Turn openssl's ``\\C3\\A9`` runs (bytes >= 0x80) back into UTF-8 text; keep other escapes."""
    out: list[str] = []
    pending = bytearray()
    i = 0
    while i < len(text):
        if text[i] == "\\" and re.fullmatch(r"[89A-F][0-9A-F]", text[i + 1 : i + 3]):
            pending.append(int(text[i + 1 : i + 3], 16))
            i += 3
            continue
        if pending:
            out.append(pending.decode("utf-8"))
            pending.clear()
        if text[i] == "\\":  # an escape pair (\, \+ \\ ...): copy both characters untouched
            out.append(text[i : i + 2])
            i += 2
        else:
            out.append(text[i])
            i += 1
    if pending:
        out.append(pending.decode("utf-8"))
    return "".join(out)


def _openssl_time(text: str) -> datetime:
    return datetime.strptime(" ".join(text.split()), "%b %d %H:%M:%S %Y GMT").replace(tzinfo=UTC)


def _fields(text: str) -> dict[str, str]:
    pairs = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    # openssl spells the digest differently per command ("sha1 Fingerprint", "SHA2-256 Fingerprint").
    return {("fingerprint" if k.endswith("Fingerprint") else k): v for k, v in pairs.items()}


def _section(text: str, title: str) -> str | None:
    """The first line after an ``X509v3 <title>:`` header in ``-text`` output."""
    match = re.search(rf"X509v3 {re.escape(title)}:.*\n\s*(.*)\n", text)
    return match.group(1).strip() if match else None


def _openssl_san(entry: str) -> str:
    if entry.startswith("IP Address:"):
        return "IP:" + str(ipaddress.ip_address(entry.removeprefix("IP Address:")))
    return entry


def assert_agrees_with_openssl(info: CertificateInfo, der: bytes) -> None:
    """Every field openssl prints for ``der`` equals ours."""
    basic = _fields(
        _openssl(
            [
                "x509",
                "-inform",
                "DER",
                "-noout",
                "-serial",
                "-dates",
                "-subject",
                "-issuer",
                "-nameopt",
                "RFC2253",
                "-fingerprint",
                "-sha1",
            ],
            der,
        )
    )
    sha256 = _fields(_openssl(["x509", "-inform", "DER", "-noout", "-fingerprint", "-sha256"], der))
    text = _openssl(["x509", "-inform", "DER", "-noout", "-text", "-nameopt", "RFC2253"], der)

    assert info.serial == basic["serial"]
    assert info.subject == _unescape_msb(basic["subject"])
    assert info.issuer == _unescape_msb(basic["issuer"])
    assert info.not_before == _openssl_time(basic["notBefore"])
    assert info.not_after == _openssl_time(basic["notAfter"])
    assert info.sha1 == basic["fingerprint"].replace(":", "")
    assert info.sha256 == sha256["fingerprint"].replace(":", "")

    version = re.search(r"Version: (\d+)", text)
    assert version and info.version == int(version.group(1))
    signature = re.search(r"Signature Algorithm: (\S+)", text)
    assert signature and info.signature_algorithm == signature.group(1)

    algorithm = re.search(r"Public Key Algorithm: (\S+)", text)
    assert algorithm
    if algorithm.group(1) == "rsaEncryption":
        bits = re.search(r"Public-Key: \((\d+) bit\)", text)
        assert bits and info.key == f"RSA {bits.group(1)}"
    elif algorithm.group(1) == "id-ecPublicKey":
        curve = re.search(r"ASN1 OID: (\S+)", text)
        assert curve and info.key == f"EC {_CURVE_ALIASES.get(curve.group(1), curve.group(1))}"
    else:
        assert info.key.upper() == algorithm.group(1)  # ED25519 / ED448

    constraints = _section(text, "Basic Constraints")
    if constraints is None:
        assert (info.is_ca, info.path_length) == (False, None)
    else:
        assert info.is_ca == ("CA:TRUE" in constraints)
        pathlen = re.search(r"pathlen:(\d+)", constraints)
        assert info.path_length == (int(pathlen.group(1)) if pathlen else None)
    key_usage = _section(text, "Key Usage")
    assert info.key_usage == (tuple(key_usage.split(", ")) if key_usage else ())
    eku = _section(text, "Extended Key Usage")
    assert info.extended_key_usage == (tuple(eku.split(", ")) if eku else ())
    san = _section(text, "Subject Alternative Name")
    assert info.san == (tuple(_openssl_san(e) for e in san.split(", ")) if san else ())
    uris = [e.removeprefix("URI:") for e in info.san if e.startswith("URI:")]
    assert info.application_uri == (uris[0] if uris else None)
    ski = _section(text, "Subject Key Identifier")
    assert info.subject_key_id == (ski.replace(":", "") if ski else None)
    aki = _section(text, "Authority Key Identifier")
    assert info.authority_key_id == (aki.removeprefix("keyid:").replace(":", "") if aki else None)


# -- the corpus ---------------------------------------------------------------------------------------

ROOT_RSA = g.make_ca("Agreement Root", key="rsa", path_length=2)
SUB_EC = g.make_intermediate(ROOT_RSA, "Agreement Issuing CA", key="ec")
UTF8_NAME = g.name(
    'Ünïcødé 工場, Line "3" + <x>; #1',
    organization=" Contoso\\Works ",
    country="DE",
    extra=(
        (NameOID.LOCALITY_NAME, "München"),
        (NameOID.STATE_OR_PROVINCE_NAME, "Bayern"),
        (NameOID.EMAIL_ADDRESS, "ops@contoso.example"),
        (NameOID.SERIAL_NUMBER, "SN-0042"),
        (NameOID.DOMAIN_COMPONENT, "contoso"),
        (NameOID.TITLE, "#hash lead"),
    ),
)
MULTI_RDN = x509.Name(
    [
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Contoso")]),
        x509.RelativeDistinguishedName(
            [x509.NameAttribute(NameOID.COMMON_NAME, "multi"), x509.NameAttribute(NameOID.USER_ID, "u42")]
        ),
    ]
)

CASES: dict[str, Callable[[], g.Issued]] = {
    "rsa-root": lambda: ROOT_RSA,
    "ec-intermediate": lambda: SUB_EC,
    "ec-leaf-opcua": lambda: g.make_leaf(
        SUB_EC,
        "plc-1",
        uris=("urn:contoso:plc-1",),
        dns=("plc-1.local",),
        ips=("10.0.0.5", "2001:db8::1"),
        emails=("plc@contoso.example",),
    ),
    "ec384-leaf-sha384": lambda: g.make_leaf(SUB_EC, "p384", key="ec384", hash_algorithm=hashes.SHA384()),
    "ec521-self-signed": lambda: g.make_leaf(None, "p521", key="ec521", hash_algorithm=hashes.SHA512()),
    "ed25519-leaf": lambda: g.make_leaf(SUB_EC, "ed", key="ed25519", uris=("urn:ed",)),
    "ed448-self-signed": lambda: g.make_leaf(None, "ed448", key="ed448"),
    "rsa-sha1-self-signed": lambda: g.make_ca("Old SHA1 Root", key="rsa", hash_algorithm=hashes.SHA1()),
    "rsa-pss": lambda: g.make_leaf(ROOT_RSA, "pss", key="rsa", pss=True),
    "v1-leaf": lambda: g.make_leaf(ROOT_RSA, "v1 device", version=1),
    "v1-self-signed-ec": lambda: g.make_ca("v1 root", version=1),
    "utf8-and-escapes": lambda: g.make_leaf(
        SUB_EC,
        subject=UTF8_NAME,
        eku=(
            ExtendedKeyUsageOID.CODE_SIGNING,
            ExtendedKeyUsageOID.EMAIL_PROTECTION,
            ExtendedKeyUsageOID.TIME_STAMPING,
            ExtendedKeyUsageOID.OCSP_SIGNING,
            ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
            x509.ObjectIdentifier("1.3.6.1.4.1.311.10.3.4"),
            x509.ObjectIdentifier("1.3.6.1.4.1.99999.7"),
        ),
    ),
    "multi-valued-rdn": lambda: g.make_leaf(SUB_EC, subject=MULTI_RDN),
    "zero-serial": lambda: g.with_serial(g.make_leaf(None, "zero", key="rsa"), 0),
    "negative-serial": lambda: g.with_serial(g.make_leaf(SUB_EC, "negative"), -0x1234, signer=SUB_EC),
    "expired": lambda: g.make_leaf(SUB_EC, "old", not_before=g.EPOCH - timedelta(days=800), days=30),
    "not-yet-valid-2050": lambda: g.make_leaf(SUB_EC, "future", not_before=datetime(2050, 6, 1, tzinfo=UTC)),
    "key-agreement-usage": lambda: g.make_leaf(
        SUB_EC,
        "ka",
        key_usage=x509.KeyUsage(
            digital_signature=False,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=True,
            key_cert_sign=False,
            crl_sign=False,
            encipher_only=True,
            decipher_only=False,
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_der_fields_agree_with_openssl(case: str) -> None:
    issued = CASES[case]()
    decoded = decode_bytes(issued.der, case)
    assert decoded.form == "der" and len(decoded.certificates) == 1
    assert_agrees_with_openssl(decoded.certificates[0], issued.der)


@pytest.mark.parametrize("case", ["rsa-root", "ed25519-leaf", "utf8-and-escapes"])
def test_pem_and_key_vault_hex_forms_agree_with_openssl(case: str) -> None:
    issued = CASES[case]()
    for data, form in ((issued.pem, "pem"), (g.kv_hex(issued.pem), "hex"), (g.kv_hex(issued.der), "hex")):
        decoded = decode_bytes(data, case)
        assert decoded.form == form
        assert_agrees_with_openssl(decoded.certificates[0], issued.der)


def test_committed_key_vault_hex_sample_agrees_with_openssl() -> None:
    raw = (Path(__file__).parents[1] / "data" / "sample-historian-der.hex").read_bytes()
    der = bytes.fromhex(raw.decode("ascii"))
    decoded = decode_bytes(raw, "sample")
    assert decoded.form == "hex"
    assert_agrees_with_openssl(decoded.certificates[0], der)


def test_chain_file_holds_what_openssl_finds_and_links_verify(tmp_path: Path) -> None:
    leaf = CASES["ec-leaf-opcua"]()
    chain = tmp_path / "chain.pem"
    crlf = g.bundle(leaf, SUB_EC, ROOT_RSA).replace(b"\n", b"\r\n")
    chain.write_bytes(b"text before\r\n" + crlf + b"after")
    decoded = decode_bytes(chain.read_bytes(), str(chain))
    listing = _openssl(["storeutl", "-noout", "-certs", str(chain)], b"")
    assert f"Total found: {len(decoded.certificates)}" in listing
    for info, issued in zip(decoded.certificates, (leaf, SUB_EC, ROOT_RSA), strict=True):
        assert_agrees_with_openssl(info, issued.der)
    root_file, sub_file, leaf_file = (tmp_path / n for n in ("root.pem", "sub.pem", "leaf.pem"))
    root_file.write_bytes(ROOT_RSA.pem)
    sub_file.write_bytes(SUB_EC.pem)
    leaf_file.write_bytes(leaf.pem)
    verdict = subprocess.run(
        [
            OPENSSL,
            "verify",
            "-no_check_time",
            "-CAfile",
            str(root_file),
            "-untrusted",
            str(sub_file),
            str(leaf_file),
        ],
        capture_output=True,
        text=True,
    )
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr


@pytest.mark.parametrize(
    "case", ["rsa-root", "rsa-sha1-self-signed", "v1-self-signed-ec", "ed448-self-signed"]
)
def test_self_signed_agrees_with_openssl_self_signature_check(case: str, tmp_path: Path) -> None:
    issued = CASES[case]()
    info = decode_bytes(issued.der).certificates[0]
    path = tmp_path / "c.pem"
    path.write_bytes(issued.pem)
    # -x509_strict off, SHA-1 allowed at security level 0: the question is only "does it verify itself".
    verdict = subprocess.run(
        [
            OPENSSL,
            "verify",
            "-no_check_time",
            "-check_ss_sig",
            "-auth_level",
            "0",
            "-CAfile",
            str(path),
            str(path),
        ],
        capture_output=True,
        text=True,
    )
    assert info.self_signed is True
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr


def _assert_crl_agrees(info: CrlInfo, der: bytes) -> None:
    fields = _fields(
        _openssl(
            [
                "crl",
                "-inform",
                "DER",
                "-noout",
                "-issuer",
                "-lastupdate",
                "-nextupdate",
                "-nameopt",
                "RFC2253",
                "-fingerprint",
                "-sha256",
            ],
            der,
        )
    )
    text = _openssl(["crl", "-inform", "DER", "-noout", "-text", "-nameopt", "RFC2253"], der)
    assert info.issuer == _unescape_msb(fields["issuer"])
    assert info.this_update == _openssl_time(fields["lastUpdate"])
    if fields["nextUpdate"] == "NONE":
        assert info.next_update is None
    else:
        assert info.next_update == _openssl_time(fields["nextUpdate"])
    assert info.sha256 == fields["fingerprint"].replace(":", "")
    serials = re.findall(r"Serial Number: ([0-9A-F]+)", text)
    assert info.revoked == len(serials)
    assert info.revoked_serials == frozenset(int(s, 16) for s in serials)
    number = re.search(r"CRL Number: \n\s*(\d+)", text)
    assert info.crl_number == (int(number.group(1)) if number else None)
    algorithm = re.search(r"Signature Algorithm: (\S+)", text)
    assert algorithm and info.signature_algorithm == algorithm.group(1)
    aki = _section(text, "Authority Key Identifier")
    assert info.authority_key_id == (aki.removeprefix("keyid:").replace(":", "") if aki else None)


CRL_CASES: dict[str, Callable[[], g.IssuedCrl]] = {
    "empty": lambda: g.make_crl(SUB_EC),
    "three-revoked": lambda: g.make_crl(SUB_EC, revoked=(1, 0xABCDEF, 2**100 + 7), crl_number=42),
    "rsa-no-next-update": lambda: g.make_crl(ROOT_RSA, revoked=(5,), next_update=None, crl_number=None),
    "utf8-issuer": lambda: g.make_crl(g.make_ca("Wurzel-CA München", key="ed25519"), revoked=(9,)),
}


@pytest.mark.parametrize("case", sorted(CRL_CASES))
def test_crl_fields_agree_with_openssl(case: str) -> None:
    crl = CRL_CASES[case]()
    for data in (crl.der, crl.pem, g.kv_hex(crl.der)):
        decoded = decode_bytes(data, case)
        assert len(decoded.crls) == 1 and decoded.certificates == ()
        _assert_crl_agrees(decoded.crls[0], crl.der)


@pytest.mark.parametrize("signer", ["right", "impostor"])
def test_crl_signature_check_agrees_with_openssl(signer: str, tmp_path: Path) -> None:
    impostor = g.make_ca("Agreement Issuing CA", key="ec384", subject=SUB_EC.subject)
    crl = g.make_crl(SUB_EC if signer == "right" else impostor, revoked=(3,))
    ca_file, crl_file = tmp_path / "ca.pem", tmp_path / "c.crl"
    ca_file.write_bytes(SUB_EC.pem)
    crl_file.write_bytes(crl.pem)
    verdict = subprocess.run(
        [OPENSSL, "crl", "-in", str(crl_file), "-CAfile", str(ca_file), "-noout"],
        capture_output=True,
        text=True,
    )
    openssl_ok = "verify OK" in verdict.stdout + verdict.stderr
    ours = crl_signed_by(decode_bytes(crl.der).crls[0], decode_bytes(SUB_EC.der).certificates[0])
    assert ours is openssl_ok is (signer == "right")


def _openssl_long_names(oids: list[str], tmp_path: Path) -> list[str]:
    config = tmp_path / "oids.cnf"
    config.write_text("asn1=SEQUENCE:s\n[s]\n" + "".join(f"o{i}=OID:{o}\n" for i, o in enumerate(oids)))
    listing = _openssl(["asn1parse", "-genconf", str(config)], b"")
    return re.findall(r"OBJECT\s+:(.+?)\s*$", listing, flags=re.MULTILINE)


@pytest.mark.parametrize("table", ["SIGNATURE_NAMES", "EKU_NAMES"])
def test_every_algorithm_and_usage_name_is_openssls(table: str, tmp_path: Path) -> None:
    from tui.core.certs import fields as x509_fields

    names: dict[str, str] = getattr(x509_fields, table)
    assert _openssl_long_names(list(names), tmp_path) == list(names.values())


def test_every_name_attribute_is_spelled_as_openssl_does() -> None:
    from tui.core.certs.fields import _ATTR_NAMES

    two_letter = {"2.5.4.6", "1.3.6.1.4.1.311.60.2.1.3"}  # country codes must be two letters
    attrs = [
        x509.NameAttribute(x509.ObjectIdentifier(oid), "DE" if oid in two_letter else f"v{i}")
        for i, oid in enumerate(_ATTR_NAMES)
    ]
    issued = g.make_leaf(SUB_EC, subject=x509.Name(attrs))
    assert_agrees_with_openssl(decode_bytes(issued.der).certificates[0], issued.der)
