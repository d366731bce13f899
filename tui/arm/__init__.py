"""The Azure Resource Manager adapter: the list resources behind the OPC UA lists (docs/domain.md §9)."""
