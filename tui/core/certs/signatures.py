"""Does this public key verify that certificate's (or CRL's) signature?

cryptography's own ``verify_directly_issued_by`` refuses SHA-1 signatures, but old roots and many OPC UA
devices still carry them and they are mathematically self-signed all the same (openssl agrees). So the
check is done here with the key's own ``verify``, for every algorithm cryptography can verify.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes


def signature_verifies(
    key: CertificatePublicKeyTypes, signed: x509.Certificate | x509.CertificateRevocationList
) -> bool:
    """True when ``key`` verifies the signature of ``signed``; False on any mismatch or oddity."""
    try:
        if isinstance(signed, x509.Certificate):
            data = signed.tbs_certificate_bytes
        else:
            data = signed.tbs_certlist_bytes
        signature = signed.signature
        if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            key.verify(signature, data)
            return True
        digest = signed.signature_hash_algorithm
        if digest is None:
            return False
        params = signed.signature_algorithm_parameters
        if isinstance(key, rsa.RSAPublicKey):
            if not isinstance(params, padding.PSS | padding.PKCS1v15):
                return False  # an RSA key cannot have made an ECDSA/DSA signature
            key.verify(signature, data, params, digest)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(digest))
        elif isinstance(key, dsa.DSAPublicKey):
            key.verify(signature, data, digest)
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True
