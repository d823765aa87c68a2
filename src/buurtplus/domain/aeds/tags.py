"""AED fields as OSM tags (emergency=defibrillator), one table for every file format.

Fields OSM has a tag for use it; the registry's own fields carry the `buurtplus:` prefix.
"""

import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from buurtplus.domain.aeds.availability import check_opening_hours
from buurtplus.domain.aeds.errors import InvalidOpeningHours
from buurtplus.domain.aeds.models import Aed
from buurtplus.domain.aeds.vocabulary import Access, AedStatus, Visibility

# The Netherlands (European part), a little generous: a point outside is a mistake, most
# often latitude and longitude swapped.
NL_LATITUDE = (50.6, 53.8)
NL_LONGITUDE = (3.1, 7.4)

POSTCODE = re.compile(r"^[1-9][0-9]{3}[A-Z]{2}$")
BUURT_CODE = re.compile(r"^BU[0-9]{4}[0-9A-Z]{4}$")
PHONE = re.compile(r"^[0-9 +()-]{3,40}$")


def _text(limit: int) -> Callable[[str], Any]:
    def parse(value: str) -> str:
        if len(value) > limit:
            raise ValueError(f"longer than {limit} characters")
        if any(ord(c) < 32 for c in value):
            raise ValueError("holds control characters")
        return value

    return parse


def _yes_no(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("yes", "true", "1"):
        return True
    if lowered in ("no", "false", "0"):
        return False
    raise ValueError("is yes or no")


def _indoor(value: str) -> bool:
    # OSM also says where inside: indoor=room, corridor, area.
    return value.lower() in ("room", "corridor", "area") or _yes_no(value)


def _enum(kind: type[StrEnum]) -> Callable[[str], Any]:
    def parse(value: str) -> Any:
        try:
            return kind(value)
        except ValueError as exc:
            raise ValueError(f"is one of {[m.value for m in kind]}") from exc

    return parse


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("is a date as YYYY-MM-DD") from exc


def _pattern(pattern: re.Pattern[str], example: str, tidy: Callable[[str], str]) -> Any:
    def parse(value: str) -> str:
        value = tidy(value)
        if not pattern.match(value):
            raise ValueError(f"does not look like {example}")
        return value

    return parse


def _opening_hours(value: str) -> str:
    try:
        return check_opening_hours(value)
    except InvalidOpeningHours as exc:
        raise ValueError(f"is not valid opening_hours: {exc.detail}") from exc


def _partner(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise ValueError("is a partner organisation's id (UUID)") from exc


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class Tag:
    field: str
    tag: str
    parse: Callable[[str], Any]


TAGS = (
    Tag("defibrillator_location", "defibrillator:location", _text(500)),
    Tag("indoor", "indoor", _indoor),
    Tag("level", "level", _text(20)),
    Tag("access", "access", _enum(Access)),
    Tag("opening_hours", "opening_hours", _opening_hours),
    Tag("cabinet_locked", "lock", _yes_no),
    Tag("operator", "operator", _text(200)),
    Tag("contact_name", "contact:name", _text(200)),
    Tag("contact_phone", "contact:phone", _pattern(PHONE, "+31 20 123 4567", str.strip)),
    Tag("manufacturer", "manufacturer", _text(100)),
    Tag("model", "model", _text(100)),
    Tag("addr_street", "addr:street", _text(200)),
    Tag("addr_housenumber", "addr:housenumber", _text(20)),
    Tag(
        "addr_postcode",
        "addr:postcode",
        _pattern(POSTCODE, "1091AB", lambda v: v.replace(" ", "").upper()),
    ),
    Tag("addr_city", "addr:city", _text(100)),
    Tag("buurt_code", "buurtplus:buurt_code", _pattern(BUURT_CODE, "BU0363MA01", str.strip)),
    Tag("pads_expiry", "buurtplus:pads_expiry", _date),
    Tag("battery_expiry", "buurtplus:battery_expiry", _date),
    Tag("status", "buurtplus:status", _enum(AedStatus)),
    Tag("visibility", "buurtplus:visibility", _enum(Visibility)),
    Tag("maintainer_partner_id", "buurtplus:maintainer", _partner),
)
BY_TAG = {t.tag: t for t in TAGS}
# Also read: the plain OSM phone tag.
ALIASES = {"phone": "contact:phone"}
# OSM tags an AED often has that the registry does not keep: accepted and left out.
IGNORED = frozenset(
    {
        "emergency",
        "name",
        "description",
        "note",
        "fixme",
        "check_date",
        "survey:date",
        "source",
        "image",
        "wheelchair",
        "ref",
        "wikidata",
        "website",
        "defibrillator",
    }
)
IGNORED_PREFIXES = ("name:", "description:", "note:", "source:", "check_date:", "survey:")
# The tag that carries a record's source in formats without an id of their own (OSM JSON).
SOURCE_TAG = "buurtplus:source"


def fields_from_tags(tags: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The fields a set of tags gives, and what is wrong with them (empty when nothing)."""
    fields: dict[str, Any] = {}
    problems: list[str] = []
    for raw_tag, raw_value in tags.items():
        tag = ALIASES.get(raw_tag, raw_tag)
        value = raw_value.strip()
        if tag == "emergency" and value != "defibrillator":
            problems.append(f"emergency={value!r} is not a defibrillator")
            continue
        if tag in IGNORED or tag.startswith(IGNORED_PREFIXES) or tag == SOURCE_TAG:
            continue
        spec = BY_TAG.get(tag)
        if spec is None:
            problems.append(f"unknown tag {raw_tag!r}")
            continue
        if value == "":
            continue
        try:
            fields[spec.field] = spec.parse(value)
        except ValueError as exc:
            problems.append(f"{raw_tag} {value[:80]!r} {exc}")
    return fields, problems


def coordinates(latitude: Any, longitude: Any) -> tuple[tuple[float, float] | None, str | None]:
    """(latitude, longitude) as floats in the Netherlands, or why not."""
    try:
        lat, lon = float(latitude), float(longitude)
    except (TypeError, ValueError):
        return None, "bad coordinates: latitude and longitude are numbers"
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None, "bad coordinates: latitude and longitude are numbers"
    if not (NL_LATITUDE[0] <= lat <= NL_LATITUDE[1] and NL_LONGITUDE[0] <= lon <= NL_LONGITUDE[1]):
        return None, (
            f"bad coordinates: ({lat}, {lon}) is outside the Netherlands "
            "(latitude and longitude swapped?)"
        )
    return (lat, lon), None


def tags_of(aed: Aed, *, with_contact: bool) -> dict[str, str]:
    """An AED's tags for export; the contact person only `with_contact`, never the code."""
    tags = {"emergency": "defibrillator"}
    for spec in TAGS:
        if spec.field in ("contact_name", "contact_phone") and not with_contact:
            continue
        value = getattr(aed, spec.field)
        if value is not None:
            tags[spec.tag] = _plain(value)
    return tags
