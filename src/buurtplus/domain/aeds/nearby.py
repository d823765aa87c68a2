"""The nearest AEDs to a point.

The search reads a bounding box through the (latitude, longitude) index, growing the box from
250 m until it holds enough AEDs within its inscribed circle (or reaches the radius asked
for): each query is an index range scan, never a full scan. SQLite's plan reads
`SEARCH aeds USING INDEX ix_aeds_latitude_longitude (latitude>? AND latitude<?)`; PostgreSQL
does an index or bitmap index scan on the same index (tests/api/test_aeds_nearby.py checks
both). Distances are geodesic (Vincenty on WGS84).
"""

import math
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from buurtplus.core.actor import Actor
from buurtplus.domain.aeds.areas import reach_of
from buurtplus.domain.aeds.availability import Availability
from buurtplus.domain.aeds.geodesy import bounding_box, distance_m
from buurtplus.domain.aeds.models import Aed
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


def _usable(found: NearbyAed, include_unavailable: bool) -> bool:
    aed = found.view.aed
    if include_unavailable:
        return True
    return (
        aed.status == AedStatus.active
        and aed.ready
        and found.view.availability.state != Availability.closed
    )


def aeds_near(
    session: Session,
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
    reach = reach_of(session, actor)
    searched = min(FIRST_RADIUS_M, radius_m)
    seen: dict[object, NearbyAed] = {}
    while True:
        min_lat, max_lat, min_lon, max_lon = bounding_box(latitude, longitude, searched)
        statement = select(Aed).where(
            col(Aed.latitude).between(min_lat, max_lat),
            col(Aed.longitude).between(min_lon, max_lon),
            col(Aed.retired_at).is_(None),
        )
        if not include_unavailable:
            statement = statement.where(
                col(Aed.status) == AedStatus.active, col(Aed.ready).is_(True)
            )
        for aed in session.exec(statement):
            if aed.id in seen or not reach.reads(aed):
                continue
            distance = distance_m(latitude, longitude, aed.latitude, aed.longitude)
            if distance <= radius_m:
                seen[aed.id] = NearbyAed(view_of(reach, aed, at), distance)
        # Everything within `searched` metres is in; enough of those means we are done.
        within = sorted(
            (
                f
                for f in seen.values()
                if f.distance_m <= searched and _usable(f, include_unavailable)
            ),
            key=lambda f: (f.distance_m, str(f.view.aed.id)),
        )
        if len(within) >= limit or searched >= radius_m:
            return within[:limit]
        searched = min(searched * 2, radius_m)
