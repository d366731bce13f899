"""Ask cert-manager to re-issue a Certificate now, as `cmctl renew` does (default: the root CA).

Sets the Certificate's Issuing condition to True with reason ManuallyTriggered through the status
subresource; cert-manager then issues a new revision. NAME is a Certificate name or NAMESPACE/NAME; without
it the Certificate behind the AIO root CA secret is renewed.
"""
