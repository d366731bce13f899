"""Tests of the embedded demo site itself (tui.demo): the emulated API server, the Key Vault emulator and
its store, the simulated controllers, the seed and the environment that runs them.

Tests that only use the demo as a stand-in site for the product's own code (changes, status, the
dashboard) live in the integration and ui tiers.
"""
