"""Print a one-screen health summary of the site's certificates, or the full snapshot with --json.

Reads the cluster once (parallel lists, no watches) and the Key Vault behind the OPC UA lists when it
can be found, then prints what a technician would paste into a ticket: the root CA and its rotation,
the issuers, the OPC UA lists by health, and the top findings.
"""
