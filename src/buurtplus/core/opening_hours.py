"""Opening hours and time windows as OpenStreetMap writes them, read in Dutch time with the
Dutch public holidays (opening-hours-py): routing rules, AEDs and heart-safety hours share it."""

from zoneinfo import ZoneInfo

from opening_hours import OpeningHours

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def parse_opening_hours(expression: str) -> OpeningHours:
    """Raise ValueError, with the parser's reason, unless `expression` is a valid OSM
    opening_hours value."""
    try:
        return OpeningHours(expression, timezone=AMSTERDAM, country="NL")
    except Exception as exc:  # the parser raises its own error types
        raise ValueError(str(exc).strip()) from exc
