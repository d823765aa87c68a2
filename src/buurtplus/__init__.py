"""Buurtpreventie Plus: API backend for Dutch neighbourhood-prevention teams."""

__version__ = "0.1.0"
