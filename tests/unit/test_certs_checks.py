"""The pure judgements: validity against an injected ``now``, signatures, revocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes

from tests import certgen as g
from tui.core.certs import (
    cert_signed_by,
    crl_is_stale,
    crl_signed_by,
    days_left,
    decode_bytes,
    is_expired,
    is_not_yet_valid,
    is_revoked,
)
from tui.core.clock import FrozenClock

START = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ROOT = g.make_ca("Checks Root")
SUB = g.make_intermediate(ROOT, "Checks Issuing CA")
LEAF_ISSUED = g.make_leaf(SUB, "plc", not_before=START, days=30)
LEAF = decode_bytes(LEAF_ISSUED.der).certificates[0]
ROOT_INFO = decode_bytes(ROOT.der).certificates[0]
SUB_INFO = decode_bytes(SUB.der).certificates[0]


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (timedelta(0), 30),
        (timedelta(days=29, hours=23, minutes=59), 0),
        (timedelta(days=29, hours=12), 0),
        (timedelta(days=10, seconds=1), 19),
        (timedelta(days=30), 0),
        (timedelta(days=30, seconds=1), -1),
        (timedelta(days=32), -2),
        (-timedelta(days=1), 31),
    ],
)
def test_days_left_rounds_down(offset: timedelta, expected: int) -> None:
    assert days_left(LEAF, START + offset) == expected


def test_validity_window_boundaries_follow_a_moving_clock() -> None:
    clock = FrozenClock(START - timedelta(seconds=1))
    assert is_not_yet_valid(LEAF, clock.now()) and not is_expired(LEAF, clock.now())
    clock.advance(1)
    assert not is_not_yet_valid(LEAF, clock.now()) and not is_expired(LEAF, clock.now())
    clock.set(LEAF.not_after)  # the last second is still valid (RFC 5280: notAfter is inclusive)
    assert not is_expired(LEAF, clock.now())
    clock.advance(1)
    assert is_expired(LEAF, clock.now()) and not is_not_yet_valid(LEAF, clock.now())


def test_crl_staleness() -> None:
    crl = decode_bytes(g.make_crl(SUB, this_update=START).der).crls[0]
    assert crl.next_update == START + timedelta(days=7)
    assert not crl_is_stale(crl, START + timedelta(days=7))
    assert crl_is_stale(crl, START + timedelta(days=7, seconds=1))
    forever = decode_bytes(g.make_crl(SUB, this_update=START, next_update=None).der).crls[0]
    assert not crl_is_stale(forever, START + timedelta(days=10_000))


def test_certificate_chain_links() -> None:
    assert cert_signed_by(LEAF, SUB_INFO)
    assert cert_signed_by(SUB_INFO, ROOT_INFO)
    assert cert_signed_by(ROOT_INFO, ROOT_INFO)
    assert not cert_signed_by(LEAF, ROOT_INFO)  # wrong issuer by name
    assert not cert_signed_by(SUB_INFO, LEAF)


def test_same_name_impostor_does_not_sign() -> None:
    impostor_ca = g.make_ca("Checks Issuing CA", key="ec384", subject=SUB.subject)
    impostor = decode_bytes(impostor_ca.der).certificates[0]
    assert impostor.subject == SUB_INFO.subject
    assert not cert_signed_by(LEAF, impostor)


def test_crl_signature_and_revocation() -> None:
    crl = decode_bytes(g.make_crl(SUB, revoked=(LEAF_ISSUED.serial,)).der).crls[0]
    assert crl_signed_by(crl, SUB_INFO)
    assert not crl_signed_by(crl, ROOT_INFO)
    impostor = g.make_ca("Checks Issuing CA", key="ed25519", subject=SUB.subject)
    assert not crl_signed_by(crl, decode_bytes(impostor.der).certificates[0])
    forged = decode_bytes(g.make_crl(impostor).der).crls[0]
    assert forged.issuer == SUB_INFO.subject and not crl_signed_by(forged, SUB_INFO)
    assert is_revoked(LEAF, crl)
    assert not is_revoked(SUB_INFO, crl)


def test_a_crl_only_revokes_its_own_issuers_serials() -> None:
    other = g.make_ca("Other CA")
    same_serial = decode_bytes(g.make_crl(other, revoked=(LEAF_ISSUED.serial,)).der).crls[0]
    assert LEAF.serial_number in same_serial.revoked_serials
    assert not is_revoked(LEAF, same_serial)


def test_sha1_chain_links_verify() -> None:
    old_root = g.make_ca("Old Root", key="rsa", hash_algorithm=hashes.SHA1())
    old_leaf = g.make_leaf(old_root, "old device", key="rsa", hash_algorithm=hashes.SHA1())
    leaf, root = (decode_bytes(i.der).certificates[0] for i in (old_leaf, old_root))
    assert cert_signed_by(leaf, root)


def test_checking_many_children_keeps_only_their_issuers_key() -> None:
    """The verdicts are the same as before, and what stays parsed is one key per issuer, not a
    ``cryptography`` object per certificate checked (callers remember the verdicts themselves)."""
    from tui.core.certs import checks

    checks._issuer_key.cache_clear()
    children = [decode_bytes(g.make_leaf(SUB, f"device-{n}", days=30).der).certificates[0] for n in range(6)]
    assert all(cert_signed_by(child, SUB_INFO) for child in children)
    assert not any(cert_signed_by(child, ROOT_INFO) for child in children)  # issuer name differs
    crl = decode_bytes(g.make_crl(SUB).der).crls[0]
    assert crl_signed_by(crl, SUB_INFO)
    info = checks._issuer_key.cache_info()
    assert info.currsize == 1  # SUB's key alone, parsed once for six certificates and a CRL
    assert info.misses == 1
    assert not hasattr(checks, "_certificate") and not hasattr(checks, "_crl")
