"""Whether an AED can be reached at a moment: its OSM opening_hours, evaluated in
Europe/Amsterdam time with Dutch public holidays (opening-hours-py)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from opening_hours import OpeningHours, State

from buurtplus.core.opening_hours import AMSTERDAM, state_at
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


# How long an answer without a next change (24/7, no hours known) is taken as it is before
# it is worked out again.
_NO_CHANGE_KEPT = timedelta(hours=1)
_STEADY_KEPT = 4096
# Expression -> (since, until, answer): the answer worked out at `since`, taken for every moment
# from then until its next change, and never past the local midnight after it. A nearby search
# asks it of every AED it considers, at the moment of the search: without this every search
# worked each one out again.
_STEADY: dict[str, tuple[datetime, datetime, "AvailabilityAt"]] = {}


def availability_at(opening_hours: str | None, at: datetime) -> AvailabilityAt:
    """The availability at `at` (an aware moment), and when it next changes."""
    if opening_hours is None:
        return _UNKNOWN
    steady = _STEADY.get(opening_hours)
    if steady is not None and steady[0] <= at < steady[1]:
        return steady[2]
    answer = _evaluated(opening_hours, at)
    until = _kept_until(at, answer)
    if until is not None:
        if len(_STEADY) >= _STEADY_KEPT:
            _STEADY.clear()
        _STEADY[opening_hours] = (at, until, answer)
    return answer


def _kept_until(at: datetime, answer: AvailabilityAt) -> datetime | None:
    """Until when `answer`, worked out at `at`, is taken as it is; None for not at all.

    Where opening-hours-py's next change is not to be trusted, nothing is kept: on the day the
    clocks change it gives a change in the repeated hour an hour late, and with a fallback
    rule (`||`) it may give none where the state changes at midnight."""
    local = at.astimezone(AMSTERDAM)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    next_midnight = midnight + timedelta(days=1)  # the local midnight, whatever the offset
    if midnight.utcoffset() != next_midnight.utcoffset():
        return None
    until = answer.next_change or at + _NO_CHANGE_KEPT
    return min(until, next_midnight.astimezone(UTC))


_UNKNOWN = AvailabilityAt(Availability.uncertain, None, "no opening hours known")


# A pure function of the expression and the moment: asked again for moments before the one
# kept above (a search `at` a moment in the past).
@lru_cache(maxsize=1024)
def _evaluated(opening_hours: str, at: datetime) -> AvailabilityAt:
    rules = parse_opening_hours(opening_hours)
    state, comment = state_at(rules, at)
    change = rules.next_change(at.astimezone(AMSTERDAM))  # the parser wants a ZoneInfo zone
    next_change = change.astimezone(UTC) if change is not None else None
    if state == State.OPEN and not comment:
        return AvailabilityAt(Availability.open, next_change, None)
    if state == State.CLOSED:
        return AvailabilityAt(Availability.closed, next_change, comment or None)
    return AvailabilityAt(Availability.uncertain, next_change, comment or None)
