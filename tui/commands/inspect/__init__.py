"""Decode certificate and CRL files (PEM, DER, Key Vault hex) and show what a technician checks.

Only the standard library is imported by :mod:`.arguments`; the certificate core (and with it
``cryptography``) comes with :mod:`.run`, so ``aio-certs --help`` stays fast on small edge hosts.
"""
