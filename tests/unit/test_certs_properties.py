"""Property tests: no input, however damaged, makes the decoder raise anything but CertError.

A decode either fails with a one-line CertError naming the source, or returns at least one
certificate or CRL; it never returns an empty result and never leaks another exception type.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import certgen as g
from tui.core.certs import CertError, decode_bytes

ROOT = g.make_ca("Prop Root", key="rsa")
LEAF = g.make_leaf(ROOT, "prop-leaf", key="ec", uris=("urn:prop",), dns=("prop.local",), ips=("10.1.2.3",))
CRL = g.make_crl(ROOT, revoked=(1, 2, 3))
SAMPLES = [
    LEAF.der,
    LEAF.pem,
    ROOT.der,
    CRL.der,
    CRL.pem,
    g.bundle(LEAF, ROOT, CRL),
    g.kv_hex(LEAF.der),
    LEAF.der + ROOT.der,
    LEAF.key_pem + LEAF.pem,
]

# Mutated serials can come out zero or negative, and country names other than two letters: cryptography
# warns about those, which is expected here. (tui.core.certs.decode silences both for the product, but pytest
# restores the warning filters after collection, so filters set at import time do not apply to tests.)
pytestmark = [
    pytest.mark.filterwarnings(
        "ignore:Parsed a serial number:cryptography.utils.CryptographyDeprecationWarning"
    ),
    pytest.mark.filterwarnings("ignore:Attribute's length must be:UserWarning"),
]

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _decode_or_cert_error(data: bytes) -> None:
    try:
        decoded = decode_bytes(data, "prop")
    except CertError as err:
        assert err.source == "prop"
        assert err.reason and "\n" not in str(err)
        return
    assert decoded.entries, "a successful decode must hold something"
    assert len(decoded.entries) == len(decoded.certificates) + len(decoded.crls)


@SETTINGS
@given(st.binary(max_size=2048))
def test_random_bytes(data: bytes) -> None:
    _decode_or_cert_error(data)


@SETTINGS
@given(st.sampled_from(SAMPLES), st.data())
def test_mutated_valid_inputs(sample: bytes, data: st.DataObject) -> None:
    mutated = bytearray(sample)
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "set", "cut", "insert", "delete"]))
        pos = data.draw(st.integers(0, max(len(mutated) - 1, 0)))
        if op == "flip" and mutated:
            mutated[pos] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "set" and mutated:
            mutated[pos] = data.draw(st.integers(0, 255))
        elif op == "cut":
            del mutated[pos:]
        elif op == "insert":
            mutated[pos:pos] = data.draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del mutated[pos : pos + data.draw(st.integers(1, 16))]
    _decode_or_cert_error(bytes(mutated))


@SETTINGS
@given(st.text(alphabet="0123456789abcdefABCDEF \n-", max_size=600))
def test_hex_like_text(text: str) -> None:
    _decode_or_cert_error(text.encode())


@SETTINGS
@given(st.sampled_from(SAMPLES[:2]), st.integers(0, 2000))
def test_der_length_header_lies(sample: bytes, fake_length: int) -> None:
    # Rewrite the outer length to any value: truncation or trailing junk must both be CertErrors.
    body = sample[4:] if sample[1] == 0x82 else sample[2:]
    header = bytes([0x30, 0x82]) + fake_length.to_bytes(2, "big")
    _decode_or_cert_error(header + body)


def test_every_header_byte_set_to_edge_values() -> None:
    # Exhaustive over the first bytes, where version, serial and algorithm live: a random search can
    # miss a single byte (a version of 1 or 7 once escaped as cryptography's own InvalidVersion).
    for sample in (LEAF.der, CRL.der):
        for pos in range(min(len(sample), 48)):
            for value in (0x00, 0x01, 0x02, 0x05, 0x07, 0x30, 0x7F, 0x80, 0x81, 0xFF):
                mutated = bytearray(sample)
                mutated[pos] = value
                _decode_or_cert_error(bytes(mutated))


def test_unsupported_version_is_named() -> None:
    version = bytes.fromhex("a003020102")
    assert LEAF.der.count(version) == 1
    with pytest.raises(CertError) as caught:
        decode_bytes(LEAF.der.replace(version, bytes.fromhex("a003020101")), "v2.der")
    assert str(caught.value) == "v2.der: DER: X.509 version 2 is not supported"
