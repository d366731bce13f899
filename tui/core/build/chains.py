"""Chains within the OPC UA lists: which list CA signed each certificate and CRL, and what is revoked."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from tui.core.build.cache import DecodeCache
from tui.core.certs import CertificateInfo, CrlInfo, cert_signed_by, crl_signed_by, is_revoked
from tui.core.model.state import entry_key


def _signs_cert(cache: DecodeCache, child: CertificateInfo) -> Callable[[CertificateInfo], bool]:
    """Whether a candidate CA verifies ``child``'s signature (memoised in ``cache``)."""
    return lambda ca: cache.verified(child.sha256, ca.sha256, lambda: cert_signed_by(child, ca))


def _signs_crl(cache: DecodeCache, crl: CrlInfo) -> Callable[[CertificateInfo], bool]:
    """Whether a candidate CA verifies ``crl``'s signature (memoised in ``cache``)."""
    return lambda ca: cache.verified(crl.sha256, ca.sha256, lambda: crl_signed_by(crl, ca))


def link_chains(rows: Sequence[dict[str, Any]], cache: DecodeCache) -> None:
    """Add ``signed_by``, ``issuer_in_list``, ``crl_key`` and ``revoked`` to entry rows in place.

    A certificate or CRL is linked to a list CA whose subject is its issuer name and whose key verifies
    its signature (same list preferred); each CA gets its CRL; a certificate is revoked when its signing
    CA's CRL lists its serial. Signature checks are memoised in ``cache``.
    """
    cas: dict[str, list[tuple[str, str, str, CertificateInfo]]] = defaultdict(list)
    for row in rows:
        cert = row["certificate"]
        if cert is not None and (cert.is_ca or cert.version == 1):
            key = entry_key(row["list_name"], row["target_key"])
            cas[cert.subject].append((key, row["list_name"], row["target_key"], cert))
    for candidates in cas.values():
        candidates.sort(key=lambda c: c[2])

    def pick(
        row: dict[str, Any], key: str, issuer: str, check: Callable[[CertificateInfo], bool]
    ) -> str | None:
        candidates = [c for c in cas.get(issuer, ()) if c[0] != key]
        row["issuer_in_list"] = bool(candidates)
        # Prefer a CA in the same list, then the other list.
        candidates.sort(key=lambda c: c[1] != row["list_name"])
        return next((c[0] for c in candidates if check(c[3])), None)

    crl_of: dict[str, dict[str, Any]] = {}
    ca_list: dict[str, str] = {c[0]: c[1] for group in cas.values() for c in group}
    for row in rows:
        key = entry_key(row["list_name"], row["target_key"])
        cert, crl = row["certificate"], row["crl"]
        if cert is not None and not cert.self_signed:
            row["signed_by"] = pick(row, key, cert.issuer, _signs_cert(cache, cert))
        elif crl is not None:
            signer = pick(row, key, crl.issuer, _signs_crl(cache, crl))
            row["signed_by"] = signer
            if signer is not None:
                known = crl_of.get(signer)
                # Several CRLs for one CA: the one in the CA's own list wins, then the newest.
                mine = (row["list_name"] == ca_list[signer], crl.this_update)
                if known is None or mine > (known["list_name"] == ca_list[signer], known["crl"].this_update):
                    crl_of[signer] = row
    by_key = {entry_key(row["list_name"], row["target_key"]): row for row in rows}
    for ca_key, crl_row in crl_of.items():
        by_key[ca_key]["crl_key"] = entry_key(crl_row["list_name"], crl_row["target_key"])
    for row in rows:
        signer = row.get("signed_by")
        if row["certificate"] is not None and signer is not None and signer in crl_of:
            row["revoked"] = is_revoked(row["certificate"], crl_of[signer]["crl"])
