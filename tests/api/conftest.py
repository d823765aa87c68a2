"""Fixtures shared by the API tests."""

from tests.fixtures.patrols import (
    buddy,
    coordinator,
    outsider,
    patrol,
    plus_mode,
    team,
    underway,
    walker,
)
from tests.fixtures.world import world

__all__ = [
    "buddy",
    "coordinator",
    "outsider",
    "patrol",
    "plus_mode",
    "team",
    "underway",
    "walker",
    "world",
]
