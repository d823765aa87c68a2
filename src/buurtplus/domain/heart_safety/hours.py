"""The 168 hours of a week in Amsterdam, and which of them an AED is available.

An hour counts as available only when the AED is open for the whole hour (a cabinet that
closes at 17:30 does not cover 17:00-18:00): a bystander who runs for it must find it open.
Hours are wall-clock hours in Europe/Amsterdam, as opening hours are written, so a shop that
opens at 08:00 opens at 08:00 in a daylight-saving week too. Public holidays are those of
opening-hours-py's Dutch calendar for the week asked for (so `PH off` closes on Koningsdag).
"""

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from opening_hours import OpeningHours, State

from buurtplus.core import opening_hours as osm_hours
from buurtplus.core.opening_hours import AMSTERDAM

HOURS_PER_WEEK = 168
ALL_HOURS = (1 << HOURS_PER_WEEK) - 1
WEEKDAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class Availability(StrEnum):
    open = "open"
    closed = "closed"
    # Open only with a comment ("on request"), or the hours say "unknown" or are not known.
    uncertain = "uncertain"


@dataclass(frozen=True)
class WeekHour:
    index: int  # 0 is Monday 00:00-01:00
    weekday: int  # 0 is Monday
    hour: int  # 0..23, wall clock
    start: datetime  # aware, Europe/Amsterdam
    # 60, but 0 for the hour the clocks skip in March and 120 for the one they repeat in October.
    minutes: int

    @property
    def label(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.hour:02d}:00"


def week_monday(value: str) -> date:
    """The Monday of an ISO week given as `2026-W48`, or of the week a date `2026-11-26` is in."""
    match = _ISO_WEEK.match(value.strip())
    try:
        if match:
            return date.fromisocalendar(int(match[1]), int(match[2]), 1)
        day = date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a week (2026-W48) or a date (2026-11-26)") from exc
    return day - timedelta(days=day.weekday())


def monday_of(moment: datetime) -> date:
    day = moment.astimezone(AMSTERDAM).date()
    return day - timedelta(days=day.weekday())


def hour_of_week(moment: datetime) -> tuple[date, int]:
    """The week (its Monday) a moment lies in and its hour of that week, in Amsterdam."""
    local = moment.astimezone(AMSTERDAM)
    return monday_of(moment), local.weekday() * 24 + local.hour


def week_hours(monday: date) -> list[WeekHour]:
    hours = []
    for index in range(HOURS_PER_WEEK):
        wall = datetime.combine(monday + timedelta(days=index // 24), time(index % 24))
        start = wall.replace(tzinfo=AMSTERDAM)
        end = (wall + timedelta(hours=1)).replace(tzinfo=AMSTERDAM)
        seconds = (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()
        hours.append(
            WeekHour(
                index=index,
                weekday=index // 24,
                hour=index % 24,
                start=start,
                minutes=int(seconds // 60),
            )
        )
    return hours


def parse_opening_hours(expression: str | None) -> OpeningHours | None:
    """The parsed hours; None when unknown or unreadable (then never counted as open)."""
    if expression is None or not expression.strip():
        return None
    try:
        return osm_hours.parse_opening_hours(expression)
    except ValueError:
        return None


@dataclass(frozen=True)
class WeekAvailability:
    """Bit i of each mask is hour i of the week."""

    open: int
    uncertain: int

    def at(self, index: int) -> Availability:
        if self.open >> index & 1:
            return Availability.open
        if self.uncertain >> index & 1:
            return Availability.uncertain
        return Availability.closed


UNKNOWN_WEEK = WeekAvailability(open=0, uncertain=ALL_HOURS)


def _bits(first: int, last: int) -> int:
    """Hours first..last-1 (clipped to the week) as a mask."""
    first, last = max(first, 0), min(last, HOURS_PER_WEEK)
    return ((1 << (last - first)) - 1) << first if last > first else 0


def week_availability(hours: OpeningHours | None, monday: date) -> WeekAvailability:
    """Which hours of the week starting at `monday` the AED is open throughout (`open`), and
    which it is open only with a comment or unknown for part of the hour (`uncertain`)."""
    if hours is None:
        return UNKNOWN_WEEK
    start = datetime.combine(monday, time())
    end = start + timedelta(days=7)
    clean: list[tuple[float, float]] = []
    open_mask = uncertain_mask = 0
    # The parser works in wall-clock time: its intervals are local times, whatever the offset.
    for begin, finish, state, comment in hours.intervals(
        start.replace(tzinfo=AMSTERDAM), end.replace(tzinfo=AMSTERDAM)
    ):
        offset = (begin.replace(tzinfo=None) - start) / timedelta(hours=1)
        stop = ((finish.replace(tzinfo=None) if finish else end) - start) / timedelta(hours=1)
        if state == State.OPEN and not comment:
            if clean and clean[-1][1] == offset:  # 08:00-12:30,12:30-18:00 is one stretch
                offset = clean.pop()[0]
            clean.append((offset, stop))
        elif state != State.CLOSED:
            uncertain_mask |= _bits(math.floor(offset), math.ceil(stop))
    for offset, stop in clean:
        open_mask |= _bits(math.ceil(offset), math.floor(stop))
    return WeekAvailability(open=open_mask, uncertain=uncertain_mask & ~open_mask)
