"""Whose area an AED lies in, and so who may manage it and who sees `responders` AEDs.

A team's area is its polygon when it has one, plus its buurt codes; a team with neither covers
its whole municipality (by the municipality digits in the AED's buurt code).
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from shapely import prepared
from shapely.geometry import Point, shape
from sqlalchemy import Connection, bindparam
from sqlmodel import Session, col, select

from buurtplus.core.actor import Actor, TeamRole
from buurtplus.core.plain_query import PlainQuery
from buurtplus.domain.teams.models import Team


class AedPlace(Protocol):
    """What deciding who reads an AED needs: where it is, who may see it, who maintains it
    (an `Aed`, or a row of those columns)."""

    @property
    def latitude(self) -> float: ...
    @property
    def longitude(self) -> float: ...
    @property
    def buurt_code(self) -> str | None: ...
    @property
    def visibility(self) -> str: ...
    @property
    def maintainer_partner_id(self) -> uuid.UUID | None: ...


class TeamPlace(Protocol):
    """A team's area fields (a `Team`, or a row of those columns)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def area(self) -> dict[str, Any] | None: ...
    @property
    def municipality_code(self) -> str: ...
    @property
    def buurt_codes(self) -> list[str]: ...


@dataclass(frozen=True)
class TeamArea:
    team_id: uuid.UUID
    municipality_digits: str
    buurt_codes: frozenset[str]
    polygon: Any  # a prepared shapely geometry, or None
    # (min_lon, min_lat, max_lon, max_lat) of the polygon, for a first cut in SQL.
    bounds: tuple[float, float, float, float] | None

    def holds(self, *, latitude: float, longitude: float, buurt_code: str | None) -> bool:
        if buurt_code is not None and buurt_code in self.buurt_codes:
            return True
        if self.polygon is not None:
            return bool(self.polygon.covers(Point(longitude, latitude)))
        if not self.buurt_codes:
            return buurt_code is not None and buurt_code[2:6] == self.municipality_digits
        return False

    def holds_aed(self, aed: AedPlace) -> bool:
        return self.holds(latitude=aed.latitude, longitude=aed.longitude, buurt_code=aed.buurt_code)


@lru_cache(maxsize=256)
def _prepared(geometry_json: str) -> tuple[Any, tuple[float, float, float, float]]:
    import json

    geometry = shape(json.loads(geometry_json))
    return prepared.prep(geometry), tuple(geometry.bounds)


def team_area(team: TeamPlace) -> TeamArea:
    polygon = bounds = None
    if team.area:
        import json

        polygon, bounds = _prepared(json.dumps(team.area, sort_keys=True))
    return TeamArea(
        team_id=team.id,
        municipality_digits=team.municipality_code[2:6],
        buurt_codes=frozenset(team.buurt_codes),
        polygon=polygon,
        bounds=bounds,
    )


# Every AED read starts here, so on the driver's cursor: a team's version, and its area's
# fields only for a version not seen before (a change of a team raises its version).
_TEAM_VERSION = PlainQuery(
    select(col(Team.id), col(Team.version)).where(col(Team.id) == bindparam("team_id"))
)
_TEAM_PLACE = PlainQuery(
    select(col(Team.id), col(Team.area), col(Team.municipality_code), col(Team.buurt_codes)).where(
        col(Team.id) == bindparam("team_id")
    )
)
# Team id -> (version, area): the area of the version last seen, replaced when it changes.
_AREAS: dict[uuid.UUID, tuple[int, TeamArea]] = {}


def team_areas(connection: Connection, team_ids: Iterable[uuid.UUID]) -> list[TeamArea]:
    """The areas of these teams (a volunteer's one or two), in the order of their ids. Each
    is worked out once per version of its team: reading and preparing the polygon and the
    buurt codes took more than the rest of a nearby search's reads of them."""
    areas = []
    for team_id in sorted(team_ids):
        current = _TEAM_VERSION.first(connection, team_id=team_id)
        if current is None:
            continue
        known = _AREAS.get(team_id)
        if known is not None and known[0] == current.version:
            areas.append(known[1])
            continue
        row = _TEAM_PLACE.first(connection, team_id=team_id)
        if row is None:
            continue
        area = team_area(row)
        _AREAS[team_id] = (current.version, area)
        areas.append(area)
    return areas


@dataclass(frozen=True)
class Reach:
    """What one actor may do with AEDs: the areas they manage and the areas they belong to."""

    actor: Actor
    managed: Sequence[TeamArea]
    member_of: Sequence[TeamArea]

    def manages(self, aed: AedPlace) -> bool:
        return self.actor.is_admin or any(area.holds_aed(aed) for area in self.managed)

    def manages_place(self, *, latitude: float, longitude: float, buurt_code: str | None) -> bool:
        return self.actor.is_admin or any(
            area.holds(latitude=latitude, longitude=longitude, buurt_code=buurt_code)
            for area in self.managed
        )

    def in_team_area(self, aed: AedPlace) -> bool:
        return any(area.holds_aed(aed) for area in self.member_of)

    def maintains(self, aed: AedPlace) -> bool:
        return (
            self.actor.partner_id is not None and aed.maintainer_partner_id == self.actor.partner_id
        )

    def reads(self, aed: AedPlace) -> bool:
        """Public AEDs for everyone signed in; `responders` AEDs for the members of a team
        whose area holds it, the partner that maintains it, and admins."""
        return (
            aed.visibility == "public"
            or self.actor.is_admin
            or self.maintains(aed)
            or self.in_team_area(aed)
        )

    def sees_contact(self, aed: AedPlace) -> bool:
        """The operator's contact person is for those who look after the AED."""
        return self.manages(aed) or self.maintains(aed)


def reach_of(session: Session, actor: Actor) -> Reach:
    """What `actor` may do with AEDs, read in `session`'s transaction."""
    return reach_on(session.connection(), actor)


def reach_on(connection: Connection, actor: Actor) -> Reach:
    """`reach_of` on a connection (a read without an ORM session)."""
    areas = {area.team_id: area for area in team_areas(connection, actor.team_roles)}
    managed = [
        areas[team_id]
        for team_id, role in actor.team_roles.items()
        if role == TeamRole.coordinator and team_id in areas
    ]
    return Reach(actor=actor, managed=managed, member_of=list(areas.values()))
