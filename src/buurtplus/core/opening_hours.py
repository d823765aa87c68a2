"""Opening hours and time windows as OpenStreetMap writes them, read in Dutch time with the
Dutch public holidays (opening-hours-py): routing rules, AEDs and heart-safety hours share it."""

from zoneinfo import ZoneInfo

from opening_hours import OpeningHours

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def parse_opening_hours(expression: str) -> OpeningHours:
    """Raise ValueError, with the parser's reason, unless `expression` is a valid OSM
    opening_hours value.

    Evaluated in its normalised form, which means the same: asked when it next changes,
    `Mo-Su 00:00-24:00` (common in OSM) took a second, searching every day up to the year
    9999; as the `24/7` it normalises to, it answers at once."""
    try:
        return OpeningHours(expression, timezone=AMSTERDAM, country="NL").normalize()
    except Exception as exc:  # the parser raises its own error types
        raise ValueError(str(exc).strip()) from exc
