"""Deterministic key material for the demo site: the same seed integer always gives the same keys.

``cryptography`` cannot be seeded, so RSA primes are searched here from a seeded ``random.Random``
(sieve, then Miller-Rabin) and EC keys are derived from a seeded scalar. This is *demo* key material:
reproducible thumbprints matter more here than secrecy, and nothing outside the demo uses it.
RSA generation costs about 0.25 s a key in pure Python, so keys are cached per process.
"""

from __future__ import annotations

import hashlib
import random
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric import ec, rsa

_PUBLIC_EXPONENT = 65537
_SIEVE_LIMIT = 1 << 16
_WINDOW = 1 << 12  # odd candidates examined per random starting point


def _small_primes(limit: int) -> tuple[int, ...]:
    sieve = bytearray([1]) * limit
    sieve[0:2] = b"\0\0"
    for i in range(2, int(limit**0.5) + 1):
        if sieve[i]:
            sieve[i * i :: i] = bytes(len(range(i * i, limit, i)))
    return tuple(i for i in range(3, limit) if sieve[i])


_SMALL_PRIMES = _small_primes(_SIEVE_LIMIT)

# Group orders of the curves the demo uses; a derived scalar must lie in [1, order - 1].
_CURVE_ORDERS: dict[str, int] = {
    "secp256r1": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "secp384r1": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973", 16
    ),
}


def derive_rng(seed: int, label: str) -> random.Random:
    """A ``random.Random`` that depends only on ``seed`` and ``label`` (stable across Python runs)."""
    digest = hashlib.sha256(f"aio-certs-demo/{seed}/{label}".encode()).digest()
    return random.Random(int.from_bytes(digest, "big"))


def _miller_rabin(n: int, rng: random.Random, rounds: int) -> bool:
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(rounds):
        x = pow(rng.randrange(2, n - 2), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(bits: int, rng: random.Random) -> int:
    while True:
        # Top two bits set so that the product of two primes has exactly 2*bits bits.
        base = rng.getrandbits(bits) | (3 << (bits - 2)) | 1
        alive = bytearray([1]) * _WINDOW  # slot k stands for base + 2k
        for p in _SMALL_PRIMES:
            first = (-(base % p) * ((p + 1) // 2)) % p  # k with base + 2k divisible by p
            if first < _WINDOW:
                alive[first::p] = bytes(len(range(first, _WINDOW, p)))
        for k in range(_WINDOW):
            if not alive[k]:
                continue
            candidate = base + 2 * k
            # e must be invertible mod p-1; one cheap round rejects most composites, then 4 more rounds
            # (enough for random 1024-bit candidates, FIPS 186-5 table C.1).
            if (
                candidate % _PUBLIC_EXPONENT != 1
                and _miller_rabin(candidate, rng, 1)
                and _miller_rabin(candidate, rng, 4)
            ):
                return candidate


@lru_cache(maxsize=32)
def rsa_key(seed: int, label: str, bits: int = 2048) -> rsa.RSAPrivateKey:
    """The RSA key named ``label`` for ``seed``: identical on every run."""
    rng = derive_rng(seed, f"rsa{bits}/{label}")
    while True:
        p = _prime(bits // 2, rng)
        q = _prime(bits // 2, rng)
        if p != q:
            break
    if p < q:
        p, q = q, p
    n = p * q
    d = pow(_PUBLIC_EXPONENT, -1, (p - 1) * (q - 1))
    numbers = rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=d % (p - 1),
        dmq1=d % (q - 1),
        iqmp=pow(q, -1, p),
        public_numbers=rsa.RSAPublicNumbers(_PUBLIC_EXPONENT, n),
    )
    return numbers.private_key()


@lru_cache(maxsize=256)
def ec_key(seed: int, label: str, curve_name: str = "secp256r1") -> ec.EllipticCurvePrivateKey:
    """The EC key named ``label`` for ``seed`` on ``curve_name`` (secp256r1 or secp384r1)."""
    try:
        order = _CURVE_ORDERS[curve_name]
    except KeyError:
        raise ValueError(f"unsupported curve {curve_name!r} (use secp256r1 or secp384r1)") from None
    curve: ec.EllipticCurve = ec.SECP256R1() if curve_name == "secp256r1" else ec.SECP384R1()
    digest = hashlib.sha512(f"aio-certs-demo/{seed}/ec/{curve_name}/{label}".encode()).digest()
    scalar = int.from_bytes(digest, "big") % (order - 1) + 1
    return ec.derive_private_key(scalar, curve)
