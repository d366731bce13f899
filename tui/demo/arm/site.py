"""Where the demo's list resources live in ARM: one subscription, resource group and custom location.

A real Arc-connected AIO site has the same three ids: the cluster's ``azure-arc/azure-clusterconfig``
ConfigMap names the subscription and resource group, and the AIO instance's ``extendedLocation`` names the
custom location (docs/domain.md §9.4). The demo's are fixed, so every start and every screenshot is the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.core.model.arm import ArmIds, ArmKind

DEMO_SUBSCRIPTION = "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"
DEMO_RESOURCE_GROUP = "aio-demo-rg"
DEMO_CUSTOM_LOCATION = "aio-demo-cl"
DEMO_LOCATION = "westeurope"
DEMO_CLUSTER = "aio-demo-cluster"
"""The Arc-connected cluster's resource name (``AZURE_RESOURCE_NAME`` in ``azure-clusterconfig``)."""
DEMO_TENANT = "72f988bf-0000-4000-8000-00000000a10c"
"""The same tenant the demo's Key Vault challenge names."""


@dataclass(frozen=True)
class ArmSite:
    """The ARM scope the emulator serves, and the Azure region its resources are placed in."""

    subscription: str = DEMO_SUBSCRIPTION
    resource_group: str = DEMO_RESOURCE_GROUP
    custom_location: str = DEMO_CUSTOM_LOCATION
    """The custom location's name (its full id is :attr:`custom_location_id`)."""
    location: str = DEMO_LOCATION
    tenant: str = DEMO_TENANT
    cluster: str = DEMO_CLUSTER

    @property
    def custom_location_id(self) -> str:
        """The custom location's full id (``.../Microsoft.ExtendedLocation/customLocations/<name>``)."""
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}/providers/"
            f"Microsoft.ExtendedLocation/customLocations/{self.custom_location}"
        )

    @property
    def ids(self) -> ArmIds:
        """The core's view of the same ids."""
        return ArmIds(self.subscription, self.resource_group, self.custom_location_id)

    def resource_id(self, kind: ArmKind, name: str) -> str:
        """The full id of resource ``name`` of ``kind``."""
        return self.ids.resource_id(kind, name)


DEMO_ARM_SITE = ArmSite()
