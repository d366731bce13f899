"""Seed: what Azure Arc leaves on a connected cluster that aio-certs reads (docs/domain.md §9.4).

The ``azure-arc`` namespace and its ``azure-clusterconfig`` ConfigMap naming the cluster's subscription,
resource group and resource name (the keys the official CLI checks against ARM). Every Arc-connected AIO
site has them, whether its lists are ARM-owned or cluster-only.
"""

from __future__ import annotations

from typing import Any

from tui.core.model import resources as rk
from tui.core.model.arm import (
    ARC_CONFIG_MAP,
    ARC_CONFIG_NAMESPACE,
    ARC_RESOURCE_GROUP_KEY,
    ARC_SUBSCRIPTION_KEY,
)
from tui.demo.arm.site import ArmSite
from tui.demo.seed.objects import k8s_object

ARC_RESOURCE_NAME_KEY = "AZURE_RESOURCE_NAME"


def arc_namespace() -> dict[str, Any]:
    """The ``azure-arc`` namespace the Arc agents run in."""
    return k8s_object(
        rk.NAMESPACES,
        ARC_CONFIG_NAMESPACE,
        labels={"kubernetes.io/metadata.name": ARC_CONFIG_NAMESPACE},
        status={"phase": "Active"},
    )


def arc_cluster_config(site: ArmSite) -> dict[str, Any]:
    """``azure-arc/azure-clusterconfig``: where the cluster lives in ARM."""
    return k8s_object(
        rk.CONFIGMAPS,
        ARC_CONFIG_MAP,
        ARC_CONFIG_NAMESPACE,
        data={
            ARC_SUBSCRIPTION_KEY: site.subscription,
            ARC_RESOURCE_GROUP_KEY: site.resource_group,
            ARC_RESOURCE_NAME_KEY: site.cluster,
        },
    )
