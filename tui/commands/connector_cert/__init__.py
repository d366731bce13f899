"""Write the OPC UA connector's own public certificate to a file, for the OPC UA servers to trust.

The connector presents one application instance certificate to every OPC UA server; each server must
have it in its trusted certificates. By default cert-manager issues it self-signed and renews it (each
renewal a new certificate to hand out again); with a certificate of your own it is the client-certificate
SecretSync's. This writes the one in use, DER by default (what OPC UA servers import) or PEM, and never
reads or writes its private key.
"""
