"""Add files to, or remove entries from, the OPC UA connector's issuer list (CA certificates, CRLs).

Files go to Key Vault first (whole file as hex, tag file-encoding=hex, content type by extension, as
`az iot ops connector opcua issuer add`), then into the SecretProviderClass and the SecretSync, with a
journal so an interrupted change can be resumed or rolled back.
"""
