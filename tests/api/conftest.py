"""Fixtures shared by the API tests."""

from tests.fixtures.world import world

__all__ = ["world"]
