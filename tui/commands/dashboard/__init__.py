"""Open the live dashboard on a site: root CA, issuers and OPC UA lists, updated as the cluster changes.

This is what ``aio-certs`` runs when no command is given. It connects like kubectl (``--kubeconfig``,
``KUBECONFIG``, ``--context``), watches the AIO namespace, reads the Key Vault behind the OPC UA lists in
the background, and redraws only what changes (a few repaints a second at most).
"""
