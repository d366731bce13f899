"""Run an embedded AIO site on loopback: emulated Kubernetes API, Key Vault and controllers.

With --serve the site runs until interrupted (Ctrl-C or SIGTERM). It writes DIR/kubeconfig,
DIR/vault-ca.pem and DIR/env; after `source DIR/env`, kubectl and every aio-certs command work against
the demo exactly as against a real site.
"""
