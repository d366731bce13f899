"""Judgements on a built state: findings with their severity, stale entries, the status report."""
