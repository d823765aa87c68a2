"""The nearest AEDs to a point.

The search reads a bounding box through the latitude-cell index (domain/aeds/models.py),
growing the box from 250 m (twice as wide each time, four times while nothing usable was found)
until it holds enough AEDs within its inscribed circle (or reaches the radius asked for): each
query is a short index range scan per cell, never a full scan. SQLite's plan reads `SEARCH aeds
USING INDEX ix_aeds_latitude_cell (<expr>=? AND longitude>? AND longitude<?)` (with `ANALYZE`'s
statistics it may take the (latitude, longitude) index for a box of many kilometres);
PostgreSQL scans either index as its planner judges a box (tests/aeds/test_nearby.py checks
both). Distances are geodesic (WGS84, pyproj's `Geod`).

A search reads a few columns per AED in the box (where it is, who may see it, whether it can be
used) and loads whole AEDs only for the few it answers with: in a cardiac arrest it is asked
many times a minute, and most AEDs in a box are too far or not the nearest.
"""

import math
import uuid
from collections import namedtuple
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy import Connection, bindparam
from sqlmodel import col

from buurtplus.core.actor import Actor
from buurtplus.core.plain_query import PlainQuery
from buurtplus.domain.aeds.areas import Reach, reach_on
from buurtplus.domain.aeds.availability import Availability, availability_at
from buurtplus.domain.aeds.geodesy import bounding_box, distance_m
from buurtplus.domain.aeds.models import LATITUDE_CELL, Aed, latitude_cells
from buurtplus.domain.aeds.service import AedView, view_of
from buurtplus.domain.aeds.vocabulary import AedStatus

# Straight-line walking at 5 km/h; real streets are longer, so this is a lower bound.
WALKING_SPEED_M_PER_S = 5000 / 3600
FIRST_RADIUS_M = 250.0


@dataclass(frozen=True)
class NearbyAed:
    view: AedView
    distance_m: float

    @property
    def walking_seconds(self) -> int:
        return math.ceil(self.distance_m / WALKING_SPEED_M_PER_S)


@lru_cache(maxsize=128)
def _box(*, usable_only: bool, cells: int) -> PlainQuery:
    """The AEDs in a bounding box of `cells` latitude cells (`cell_0` …) that are not retired,
    as the columns a search decides on; with `usable_only`, active and ready ones only. Built
    once per shape and run on the driver's cursor: a search runs it several times."""
    statement = sa.select(
        col(Aed.id),
        col(Aed.latitude),
        col(Aed.longitude),
        col(Aed.buurt_code),
        col(Aed.visibility),
        col(Aed.maintainer_partner_id),
        col(Aed.opening_hours),
    ).where(
        LATITUDE_CELL.in_([bindparam(f"cell_{n}", type_=sa.Integer) for n in range(cells)]),
        col(Aed.longitude).between(bindparam("min_lon"), bindparam("max_lon")),
        col(Aed.latitude).between(bindparam("min_lat"), bindparam("max_lat")),
        col(Aed.retired_at).is_(None),
    )
    if usable_only:
        statement = statement.where(col(Aed.status) == AedStatus.active, col(Aed.ready).is_(True))
    return PlainQuery(statement)


_AEDS = Aed.__table__  # type: ignore[attr-defined]


class AedRow(namedtuple("AedRow", [column.key for column in _AEDS.c])):  # type: ignore[misc]
    """Every column of an AED as it is read, with the properties of `Aed` (below): what an
    answer reads of the AEDs it names. Building ORM objects of them took a tenth of a search."""

    __slots__ = ()


for _name, _property in vars(Aed).items():
    if isinstance(_property, property):
        setattr(AedRow, _name, _property)


@lru_cache(maxsize=64)
def _by_ids(count: int) -> PlainQuery:
    """Every column of the AEDs of `count` ids (`id_0` …), one statement per count (an
    expanding `IN` is compiled again on every run), on the driver's cursor: loading the few
    AEDs answered through the ORM took longer than the search that chose them."""
    ids = [bindparam(f"id_{n}", type_=_AEDS.c.id.type) for n in range(count)]
    return PlainQuery(sa.select(*_AEDS.c).where(_AEDS.c.id.in_(ids)), row=AedRow)


def aeds_near(
    connection: Connection,
    *,
    actor: Actor,
    latitude: float,
    longitude: float,
    at: datetime,
    limit: int,
    radius_m: float,
    include_unavailable: bool = False,
) -> list[NearbyAed]:
    """Up to `limit` AEDs within `radius_m`, nearest first. By default only those that are
    active, ready and not closed at `at` (open, or uncertain: open only with a comment)."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):  # NaN too
        raise ValueError(f"no point on the globe: {latitude}, {longitude}")
    reach = reach_on(connection, actor)
    searched = min(FIRST_RADIUS_M, radius_m)
    # Each AED read once; of those the actor may read within the radius, the distance (with
    # the id, the tie-break: ids sort as their text does) and opening hours. Whether one is
    # closed at `at` is asked only of the nearest, in order, until enough are open: the rest
    # never answer.
    read: set[uuid.UUID] = set()
    candidates: dict[uuid.UUID, tuple[float, uuid.UUID, str | None]] = {}
    closed: dict[uuid.UUID, bool] = {}

    def is_closed(aed_id: uuid.UUID) -> bool:
        if include_unavailable:
            return False
        if aed_id not in closed:
            state = availability_at(candidates[aed_id][2], at).state
            closed[aed_id] = state == Availability.closed
        return closed[aed_id]

    while True:
        min_lat, max_lat, min_lon, max_lon = bounding_box(latitude, longitude, searched)
        bounds = {"min_lat": min_lat, "max_lat": max_lat, "min_lon": min_lon, "max_lon": max_lon}
        cells = latitude_cells(min_lat, max_lat)
        bounds.update((f"cell_{n}", cell) for n, cell in enumerate(cells))
        box = _box(usable_only=not include_unavailable, cells=len(cells))
        for row in box.all(connection, **bounds):
            if row.id in read:
                continue
            read.add(row.id)
            distance = distance_m(latitude, longitude, row.latitude, row.longitude)
            if distance <= radius_m and reach.reads(row):
                candidates[row.id] = (distance, row.id, row.opening_hours)
        # Everything within `searched` metres is in; enough of those means we are done.
        chosen: dict[uuid.UUID, float] = {}
        for aed_id in sorted(candidates, key=candidates.__getitem__):
            distance = candidates[aed_id][0]
            if distance > searched or len(chosen) == limit:
                break
            if not is_closed(aed_id):
                chosen[aed_id] = distance
        if len(chosen) >= limit or searched >= radius_m:
            break
        # Nothing usable yet (a village, the countryside): a wider step, so the search does
        # not read the same inner rows four times over on its way out.
        searched = min(searched * (2 if chosen else 4), radius_m)
    ids = {f"id_{n}": aed_id for n, aed_id in enumerate(chosen)}
    rows = _by_ids(len(ids)).all(connection, **ids) if ids else []
    found = [NearbyAed(view_of(reach, row, at), chosen[row.id]) for row in rows]
    # Read a moment after the rows decided on (each statement sees the latest commit): one
    # retired, switched off or hidden from this reader meanwhile is left out, not answered.
    return sorted(
        (f for f in found if _still_answered(f, reach, include_unavailable)),
        key=lambda f: (f.distance_m, f.view.aed.id),
    )


def _still_answered(found: NearbyAed, reach: Reach, include_unavailable: bool) -> bool:
    aed = found.view.aed
    if aed.retired_at is not None or not reach.reads(aed):
        return False
    return include_unavailable or (
        aed.status == AedStatus.active
        and aed.ready
        and found.view.availability.state != Availability.closed
    )
