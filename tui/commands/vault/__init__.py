"""Put a certificate or CRL already in Key Vault into an OPC UA list, or list the secrets in no list.

`vault add SECRET --list trust|issuer` maps an existing secret into the list (SPC object and SecretSync
mapping; nothing is written to the vault). Its value must decode (hex, PEM or DER) to one certificate or
CRL: picking the wrong secret would break the connector's connection, so anything else is refused.
`vault list` shows the vault's secrets that no list maps yet, with what they hold.
"""
