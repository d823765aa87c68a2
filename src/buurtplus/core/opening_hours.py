"""Opening hours and time windows as OpenStreetMap writes them, read in Dutch time with the
Dutch public holidays (opening-hours-py): routing rules, AEDs and heart-safety hours share it."""

from datetime import datetime
from zoneinfo import ZoneInfo

from opening_hours import OpeningHours, State

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


# How far ahead opening-hours-py looks for the next change. Unbounded, an expression that never
# changes again (`Mo-Su 00:00-24:00`, as common in OSM as `24/7`, or hours of a year gone by)
# was searched day by day up to the year 9999: a second of the event loop for each answer.
LOOK_AHEAD_DAYS = 400


def parse_opening_hours(expression: str) -> OpeningHours:
    """Raise ValueError, with the parser's reason, unless `expression` is a valid OSM
    opening_hours value. A next change more than `LOOK_AHEAD_DAYS` ahead is not looked for."""
    try:
        return OpeningHours(
            expression, timezone=AMSTERDAM, country="NL", max_interval_days=LOOK_AHEAD_DAYS
        )
    except Exception as exc:  # the parser raises its own error types
        raise ValueError(str(exc).strip()) from exc


def state_at(hours: OpeningHours, at: datetime) -> tuple[State, str]:
    """The state and comment of `hours` at the moment `at` (aware), in Dutch time.

    opening-hours-py 2.1 reads the last minute of summer time (02:59 before the clocks go back)
    as closed, even for 24/7. The hour after it shows the same times of the clock again, and
    those it reads right: the state is asked of them."""
    local = at.astimezone(AMSTERDAM)  # the parser wants a ZoneInfo zone
    again = local.replace(fold=1)
    state, comment = hours.state(again if again.utcoffset() != local.utcoffset() else local)
    return state, comment
