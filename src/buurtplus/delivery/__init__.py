"""Delivery to partners: the outbox, Standard Webhooks signing, the SSRF guard and the worker."""
