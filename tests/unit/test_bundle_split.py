"""Splitting a PEM bundle into one list entry per certificate (issue 13 item 26)."""

from __future__ import annotations

from tests import certgen as cg
from tui.core.changes.bundle import split_bundle
from tui.core.changes.file_rules import read_content


def test_each_certificate_becomes_one_pem_entry_named_after_its_common_name() -> None:
    ca = cg.make_ca("Vendor Root CA")
    a, b = cg.make_leaf(ca, "PLC 7"), cg.make_leaf(ca, "PLC 7")  # same name twice: numbered
    parts = split_bundle(ca.pem + a.pem + b.pem, "vendor.pem")
    assert [p.file_name for p in parts] == ["vendor-root-ca.crt", "plc-7.crt", "plc-7-2.crt"]
    assert [p.data for p in parts] == [ca.pem, a.pem, b.pem]
    # Each part is exactly what a .crt entry must hold: one PEM certificate.
    assert {read_content(p.data, p.file_name).kind for p in parts} == {"pem-certificate"}


def test_nothing_is_offered_for_one_certificate_a_key_a_crl_or_der() -> None:
    ca = cg.make_ca("Vendor Root CA")
    leaf = cg.make_leaf(ca, "PLC 7")
    assert split_bundle(leaf.pem, "one.pem") == ()
    assert split_bundle(ca.der, "one.der") == ()
    key = b"-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n"
    assert split_bundle(ca.pem + leaf.pem + key, "with-key.pem") == ()
    crl = cg.make_crl(ca)
    assert split_bundle(ca.pem + leaf.pem + crl.pem, "with-crl.pem") == ()
    assert split_bundle(b"not a certificate", "junk.pem") == ()
