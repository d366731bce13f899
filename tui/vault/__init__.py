"""Key Vault adapter: azure-keyvault-secrets + azure-identity."""
