"""The demo's Key Vault emulator: the secret store and the HTTPS server the real SecretClient talks to."""
