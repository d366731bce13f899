"""Kubernetes adapter: config loading, reflectors (list+watch), reads and guarded writes."""
