"""The committed samples under tests/data (the README's first line inspects sample-chain.pem)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tui.core.certs import cert_signed_by, crl_signed_by, decode_file

DATA = Path(__file__).resolve().parents[1] / "data"


def test_sample_chain_is_a_valid_three_link_chain_for_decades() -> None:
    decoded = decode_file(DATA / "sample-chain.pem")
    leaf, issuing, root = decoded.certificates
    assert (decoded.form, decoded.private_key_present) == ("pem", False)
    assert leaf.application_uri == "urn:contoso:line3:plc-1"
    assert (leaf.is_ca, issuing.is_ca, root.is_ca, root.self_signed) == (False, True, True, True)
    assert cert_signed_by(leaf, issuing) and cert_signed_by(issuing, root)
    # The README's output should show days left, not EXPIRED, for a long time yet.
    assert min(c.not_after for c in decoded.certificates) >= datetime(2045, 1, 1, tzinfo=UTC)


def test_sample_key_vault_hex_and_crl() -> None:
    historian = decode_file(DATA / "sample-historian-der.hex")
    assert historian.form == "hex" and historian.certificates[0].self_signed
    crl = decode_file(DATA / "sample-issuing.crl").crls[0]
    issuing = decode_file(DATA / "sample-chain.pem").certificates[1]
    assert crl.revoked == 2 and crl_signed_by(crl, issuing)
