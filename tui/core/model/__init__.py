"""The model of one AIO site: immutable views (state), the raw snapshot they are built from, the
resource table and AIO names, settings, SecretProviderClass parsing and root CA rotation."""
