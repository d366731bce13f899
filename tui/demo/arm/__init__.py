"""The demo's Azure Resource Manager: the two Microsoft.SecretSyncController resource types over HTTPS.

``site`` names the one subscription, resource group and custom location it serves; ``shapes`` builds the
resources' properties and their cluster copies; ``store`` keeps resources, ETags and long-running
operations; ``server`` speaks ARM's REST protocol as the azure-mgmt SDK and the official CLI call it;
``emulator`` runs it on loopback with its own CA and holds the test switches. The Arc projection that
applies each ARM change to the emulated cluster is ``tui.demo.controllers.arc``.
"""
