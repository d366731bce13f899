"""Executes change plans against the adapters with a write-ahead journal."""
