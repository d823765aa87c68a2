"""A team's patrol schedule as iCalendar (RFC 5545), for calendar apps to subscribe to."""

from datetime import datetime

from icalendar import Calendar, Event, vText

from buurtplus.domain.patrols.planning import PatrolView
from buurtplus.domain.patrols.workflow import PatrolStatus
from buurtplus.domain.teams.models import Team

PRODUCT_ID = "-//Buurtpreventie Plus//Patrols//NL"
UID_DOMAIN = "patrols.buurtplus"

_EVENT_STATUS = {
    PatrolStatus.planned: "CONFIRMED",
    PatrolStatus.active: "CONFIRMED",
    PatrolStatus.completed: "CONFIRMED",
    PatrolStatus.cancelled: "CANCELLED",
}


def _summary(view: PatrolView) -> str:
    status = view.patrol.status
    if status == PatrolStatus.cancelled:
        return "Buurtpreventieronde (afgelast)"
    count = len(view.participants)
    if view.understaffed and status == PatrolStatus.planned:
        return f"Buurtpreventieronde ({count}/2, nog een loper nodig)"
    return f"Buurtpreventieronde ({count} lopers)"


def _plain(text: str) -> str:
    """Text without control characters (line breaks in a description are escaped by the
    library; anything else would break a feed line or a calendar app)."""
    return "".join(c for c in text if c == "\n" or (ord(c) >= 0x20 and ord(c) != 0x7F))


def patrols_calendar(team: Team, views: list[PatrolView], *, now: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    # Typed as text, so the library escapes it (an unknown property would be written raw).
    calendar.add("x-wr-calname", vText(_plain(f"Rondes {team.name}").replace("\n", " ")))
    calendar.add("x-wr-timezone", "Europe/Amsterdam")
    for view in views:
        patrol = view.patrol
        status = patrol.status
        event = Event()
        event.add("uid", f"{patrol.id}@{UID_DOMAIN}")
        event.add("dtstamp", now)
        event.add("last-modified", patrol.updated_at)
        event.add("created", patrol.created_at)
        # Calendar apps replace an event when its sequence goes up.
        event.add("sequence", patrol.version)
        # A walked round shows when it was actually walked; one started late and still being
        # walked ends no earlier than now.
        start = patrol.started_at or patrol.planned_start
        end = patrol.finished_at or patrol.planned_end
        event.add("dtstart", start)
        event.add("dtend", max(end, start, now) if status == PatrolStatus.active else end)
        event.add("summary", _summary(view))
        # A planned round without a pair yet is not sure to happen.
        tentative = view.understaffed and status == PatrolStatus.planned
        event.add("status", "TENTATIVE" if tentative else _EVENT_STATUS[status])
        # No names: a feed URL ends up in other companies' calendar servers.
        lines = [f"Team: {team.name}", f"Status: {status}", f"Lopers: {len(view.participants)}"]
        if patrol.note:
            lines.append(patrol.note)
        event.add("description", _plain("\n".join(lines)))
        event.add("categories", ["Buurtpreventie"])
        calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical
