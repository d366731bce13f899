"""aio-certs: see and fix the certificates of an Azure IoT Operations deployment.

This module holds only the version; importing it must stay free of heavy dependencies so that
light subcommands (``aio-certs inspect``) start fast on small edge hosts.
"""

__version__ = "0.1.0"
