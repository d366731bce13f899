"""The embedded AIO environment: emulated API server, Key Vault emulator, simulated controllers."""
