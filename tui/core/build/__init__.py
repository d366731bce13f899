"""From raw Kubernetes objects (and the vault) to a :class:`~tui.core.model.state.ClusterState`.

:mod:`~tui.core.build.assemble` puts the state together; each other module reads and joins one part
(cert-manager objects, discovery, the root CA, the trust bundle, SecretSyncs, OPC UA entries, chains)
and :mod:`~tui.core.build.memo` / :mod:`~tui.core.build.cache` make rebuilds incremental."""
