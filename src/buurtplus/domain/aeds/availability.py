"""Whether an AED can be reached at a moment: its OSM opening_hours, evaluated in
Europe/Amsterdam time with Dutch public holidays (opening-hours-py)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache

from opening_hours import OpeningHours, State

from buurtplus.core.opening_hours import AMSTERDAM
from buurtplus.core.opening_hours import parse_opening_hours as parse_osm_hours
from buurtplus.domain.aeds.errors import InvalidOpeningHours


class Availability(StrEnum):
    open = "open"
    closed = "closed"
    # Open only with a comment ("op afspraak", "bel aan"), or no hours known: no promise.
    uncertain = "uncertain"


@dataclass(frozen=True)
class AvailabilityAt:
    state: Availability
    # When the state next changes (UTC); None when it never does (24/7, or unknown).
    next_change: datetime | None
    comment: str | None


@lru_cache(maxsize=4096)
def parse_opening_hours(expression: str) -> OpeningHours:
    """The parsed expression; InvalidOpeningHours when opening-hours-py refuses it."""
    try:
        return parse_osm_hours(expression)
    except ValueError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else "unreadable"
        raise InvalidOpeningHours(expression, reason[:200]) from exc


def check_opening_hours(expression: str) -> str:
    parse_opening_hours(expression)
    return expression


# A pure function of the expression and the moment: a search asks it of a few common
# expressions at one moment, and again of the AEDs it answers with.
@lru_cache(maxsize=1024)
def availability_at(opening_hours: str | None, at: datetime) -> AvailabilityAt:
    if opening_hours is None:
        return AvailabilityAt(Availability.uncertain, None, "no opening hours known")
    rules = parse_opening_hours(opening_hours)
    local = at.astimezone(AMSTERDAM)  # the parser wants a ZoneInfo zone
    state, comment = rules.state(local)
    change = rules.next_change(local)
    next_change = change.astimezone(UTC) if change is not None else None
    if state == State.OPEN and not comment:
        return AvailabilityAt(Availability.open, next_change, None)
    if state == State.CLOSED:
        return AvailabilityAt(Availability.closed, next_change, comment or None)
    return AvailabilityAt(Availability.uncertain, next_change, comment or None)
