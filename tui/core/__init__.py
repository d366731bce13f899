"""Pure core: certificate parsing, the cluster model, health findings and change plans.

Nothing in this package may import Textual, the Kubernetes client, the Azure SDK or do network I/O;
``tests/unit/test_layering.py`` enforces it.
"""
