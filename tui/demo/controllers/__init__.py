"""Simulated controllers of the demo site: cert-manager, trust-manager and the secret sync controller.

Each is a small loop over the same client libraries the product uses (the ``kubernetes`` client against
the emulated API server, ``SecretClient`` against the Key Vault emulator), driven by an injected clock.
"""
