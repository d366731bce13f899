"""Add files to, or remove entries from, the OPC UA connector's trust list (certificates it trusts).

Files go to Key Vault first (whole file as hex, tag file-encoding=hex, content type by extension, as
`az iot ops connector opcua trust add`), then into the SecretProviderClass and the SecretSync, with a
journal so an interrupted change can be resumed or rolled back.
"""
