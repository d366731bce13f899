"""Every CertificateInfo / CrlInfo field, checked against what the test built (not against our parser)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from tests import certgen as g
from tui.core.certs import CertificateInfo, CrlInfo, Decoded, decode_bytes, serial_hex

ROOT = g.make_ca("Fields Root", key="rsa", path_length=1)
SUB = g.make_intermediate(ROOT, "Fields Issuing CA", key="ec")


def info_of(issued: g.Issued) -> CertificateInfo:
    return decode_bytes(issued.der).certificates[0]


def test_leaf_fields() -> None:
    not_before = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    leaf = g.make_leaf(
        SUB,
        "plc-1",
        uris=("urn:contoso:plc-1", "urn:second"),
        dns=("plc-1.local",),
        ips=("10.0.0.5", "2001:db8::1"),
        emails=("ops@contoso.example",),
        not_before=not_before,
        days=100,
        serial=0x0ABC,
    )
    info = info_of(leaf)
    assert info.subject == "CN=plc-1,O=aio-certs tests"
    assert info.issuer == "CN=Fields Issuing CA,O=aio-certs tests"
    assert info.common_name == "plc-1"
    assert info.serial == "0ABC"  # whole bytes, upper case, as `openssl x509 -serial`
    assert info.serial_number == 0x0ABC
    assert info.not_before == not_before and info.not_before.tzinfo is not None
    assert info.not_after == not_before + timedelta(days=100)
    assert info.sha1 == hashlib.sha1(leaf.der).hexdigest().upper()
    assert info.sha256 == hashlib.sha256(leaf.der).hexdigest().upper()
    assert (info.is_ca, info.path_length, info.self_signed) == (False, None, False)
    assert info.key == "EC secp256r1"
    assert info.signature_algorithm == "ecdsa-with-SHA256"
    assert info.key_usage == ("Digital Signature", "Non Repudiation", "Key Encipherment", "Data Encipherment")
    assert info.extended_key_usage == ("TLS Web Server Authentication", "TLS Web Client Authentication")
    assert info.san == (
        "URI:urn:contoso:plc-1",
        "URI:urn:second",
        "DNS:plc-1.local",
        "IP:10.0.0.5",
        "IP:2001:db8::1",
        "email:ops@contoso.example",
    )
    assert info.application_uri == "urn:contoso:plc-1"  # OPC UA: the first SAN URI
    ski = x509.SubjectKeyIdentifier.from_public_key(leaf.key.public_key()).digest.hex().upper()
    aki = x509.SubjectKeyIdentifier.from_public_key(SUB.key.public_key()).digest.hex().upper()
    assert (info.subject_key_id, info.authority_key_id) == (ski, aki)
    assert info.version == 3
    assert info.der == leaf.der


def test_ca_fields() -> None:
    root, sub = info_of(ROOT), info_of(SUB)
    assert (root.is_ca, root.path_length, root.self_signed) == (True, 1, True)
    assert (sub.is_ca, sub.path_length, sub.self_signed) == (True, 0, False)
    assert root.key == "RSA 2048" and root.signature_algorithm == "sha256WithRSAEncryption"
    assert sub.signature_algorithm == "sha256WithRSAEncryption"  # signed by the RSA root
    assert root.key_usage == ("Digital Signature", "Certificate Sign", "CRL Sign")
    assert root.subject_key_id == root.authority_key_id
    assert root.application_uri is None and root.san == ()


@pytest.mark.parametrize(
    ("spec", "key", "signature"),
    [
        ("rsa1024", "RSA 1024", "sha256WithRSAEncryption"),
        ("ec", "EC secp256r1", "ecdsa-with-SHA256"),
        ("ec384", "EC secp384r1", "ecdsa-with-SHA256"),
        ("ec521", "EC secp521r1", "ecdsa-with-SHA256"),
        ("ed25519", "Ed25519", "ED25519"),
        ("ed448", "Ed448", "ED448"),
    ],
)
def test_key_and_signature_names(spec: g.KeySpec, key: str, signature: str) -> None:
    info = info_of(g.make_leaf(None, f"self-{spec}", key=spec))
    assert (info.key, info.signature_algorithm, info.self_signed) == (key, signature, True)


def test_sha1_and_pss_signatures() -> None:
    old = info_of(g.make_ca("Old Root", key="rsa", hash_algorithm=hashes.SHA1()))
    assert (old.signature_algorithm, old.self_signed) == ("sha1WithRSAEncryption", True)
    ec_old = info_of(g.make_ca("Old EC Root", key="ec", hash_algorithm=hashes.SHA1()))
    assert (ec_old.signature_algorithm, ec_old.self_signed) == ("ecdsa-with-SHA1", True)
    pss = info_of(g.make_leaf(None, "pss", key="rsa", pss=True))
    assert (pss.signature_algorithm, pss.self_signed) == ("rsassaPss", True)


def test_same_name_other_key_is_not_self_signed() -> None:
    # Issuer == subject by name, but another key signed it: a CA re-keyed under the same name.
    impostor_signer = g.make_ca("Twin", key=g.make_key("ec", "other"))
    twin = g.make_leaf(impostor_signer, subject=impostor_signer.subject, key=g.make_key("ec", "twin"))
    info = info_of(twin)
    assert info.subject == info.issuer
    assert info.self_signed is False


def test_version_1_certificate() -> None:
    info = info_of(g.make_leaf(ROOT, "v1 device", version=1))
    assert info.version == 1
    assert (info.is_ca, info.key_usage, info.san, info.subject_key_id) == (False, (), (), None)
    assert info_of(g.make_ca("v1 root", version=1)).self_signed is True


def test_utf8_subject_and_rfc4514_escaping() -> None:
    subject = g.name(
        'Ünïcødé 工場, "A"+B',
        organization=" lead and trail ",
        country="DE",
        extra=((NameOID.EMAIL_ADDRESS, "a@b.example"), (NameOID.TITLE, "#1")),
    )
    info = info_of(g.make_leaf(SUB, subject=subject))
    assert info.subject == (
        'CN=Ünïcødé 工場\\, \\"A\\"\\+B,title=\\#1,emailAddress=a@b.example,O=\\ lead and trail\\ ,C=DE'
    )
    assert info.common_name == 'Ünïcødé 工場, "A"+B'


def test_control_characters_cannot_reach_the_terminal() -> None:
    subject = g.name("evil\x1b[2J\nname\u009b")
    info = info_of(g.make_leaf(SUB, subject=subject, uris=("urn:x\x07",)))
    assert info.subject == "CN=evil\\1B[2J\\0Aname\\C2\\9B"
    assert info.common_name == "evil\\1B[2J\\0Aname\\C2\\9B"
    assert info.application_uri == "urn:x\\07"
    assert all(ord(ch) >= 0x20 for ch in info.subject + "".join(info.san))


def test_serial_hex_matches_openssl_conventions() -> None:
    assert serial_hex(0) == "00"
    assert serial_hex(0x1) == "01"
    assert serial_hex(0xABC) == "0ABC"
    assert serial_hex(0x80) == "80"
    assert serial_hex(-0x1234) == "-1234"


def test_certificate_json_has_the_issue_fields_exactly() -> None:
    start = datetime(2025, 1, 2, tzinfo=UTC)
    leaf = g.make_leaf(SUB, "plc-2", uris=("urn:plc-2",), not_before=start, days=10)
    info = info_of(leaf)
    obj = info.to_json("certs/plc-2.der")
    required = {
        "kind",
        "source",
        "subject",
        "issuer",
        "serial",
        "not_before",
        "not_after",
        "sha1",
        "sha256",
        "is_ca",
        "self_signed",
        "key",
        "signature_algorithm",
        "san",
        "application_uri",
    }
    assert required <= set(obj)
    assert obj["kind"] == "certificate" and obj["source"] == "certs/plc-2.der"
    assert obj["not_before"] == "2025-01-02T00:00:00Z" and obj["not_after"] == "2025-01-12T00:00:00Z"
    assert obj["san"] == ["URI:urn:plc-2"] and obj["application_uri"] == "urn:plc-2"
    assert (obj["sha1"], obj["serial"], obj["is_ca"]) == (info.sha1, info.serial, False)
    assert "der" not in obj and "pem" not in obj
    assert json.loads(json.dumps(obj)) == obj  # plain JSON types only


def test_crl_fields_and_json() -> None:
    this_update = datetime(2025, 2, 1, tzinfo=UTC)
    crl = g.make_crl(SUB, revoked=(5, 0x1234), this_update=this_update, crl_number=9)
    info = decode_bytes(crl.der).crls[0]
    assert info.issuer == "CN=Fields Issuing CA,O=aio-certs tests"
    assert (info.this_update, info.next_update) == (this_update, this_update + timedelta(days=7))
    assert (info.revoked, info.revoked_serials, info.crl_number) == (2, frozenset({5, 0x1234}), 9)
    assert info.authority_key_id == info_of(SUB).subject_key_id
    assert info.sha256 == hashlib.sha256(crl.der).hexdigest().upper()
    assert info.signature_algorithm == "ecdsa-with-SHA256"
    obj = info.to_json("site.crl")
    assert {k: obj[k] for k in ("kind", "source", "issuer", "this_update", "next_update", "revoked")} == {
        "kind": "crl",
        "source": "site.crl",
        "issuer": info.issuer,
        "this_update": "2025-02-01T00:00:00Z",
        "next_update": "2025-02-08T00:00:00Z",
        "revoked": 2,
    }
    assert obj["revoked_serials"] == ["05", "1234"]


def test_crl_without_next_update_or_entries() -> None:
    info = decode_bytes(g.make_crl(ROOT, next_update=None, crl_number=None).der).crls[0]
    assert (info.next_update, info.revoked, info.crl_number) == (None, 0, None)
    assert info.to_json("x")["next_update"] is None


def test_decoded_built_by_hand_lists_entries() -> None:
    cert = info_of(SUB)
    crl: CrlInfo = decode_bytes(g.make_crl(SUB).der).crls[0]
    decoded = Decoded(source="s", certificates=(cert,), crls=(crl,), private_key_present=False, form="pem")
    assert decoded.entries == (cert, crl)


def test_recurring_values_are_one_object_across_certificates() -> None:
    """2,000 device certificates from one CA hold one issuer string, one key kind, one usage tuple:
    equal values become the same object, and nothing else about them changes."""
    ca = g.make_ca("Shared Values CA")
    first, second = (
        decode_bytes(g.make_leaf(ca, name, uris=[f"urn:{name}"]).der).certificates[0] for name in ("a", "b")
    )
    shared = ("issuer", "key", "signature_algorithm", "key_usage", "extended_key_usage", "authority_key_id")
    for field in shared:
        assert getattr(first, field) == getattr(second, field)
        assert getattr(first, field) is getattr(second, field), field
    assert first.subject != second.subject and first.san != second.san
    assert not hasattr(first, "__dict__")  # slots: no per-certificate dictionary
    root = info_of(g.make_ca("Self Signed Shared"))
    assert root.self_signed and root.issuer is root.subject
