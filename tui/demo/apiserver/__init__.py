"""The emulated Kubernetes API server of the demo site (a kmock subclass) and what it adds to kmock:
status codes, list kinds, discovery, selectors, resource versions, watches, patches, errors."""
