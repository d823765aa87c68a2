"""Coverage of an area by available AEDs, hour by hour over one week.

The area is cut once along the edges of all 500 m zones into faces, each within reach of the
same AEDs throughout. AEDs with the same week of hours form a group; the hours of the week in
which the same groups are open share one coverage, worked out once as a choice of faces. A week
with 24/7 cabinets, shops and a school has a few dozen distinct sets of open AEDs, not 168, and
the polygons of uncovered places are merged only for the hour that is shown.
"""

from dataclasses import dataclass
from datetime import date

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from buurtplus.domain.heart_safety.geometry import (
    QUAD_SEGS,
    REACH_M,
    points_to_rd,
    reach_zones,
    to_rd,
)
from buurtplus.domain.heart_safety.hours import (
    HOURS_PER_WEEK,
    Availability,
    WeekAvailability,
    WeekHour,
    parse_opening_hours,
    week_availability,
    week_hours,
)

# Access values of an AED a bystander may not fetch: it does not cover anyone else.
NO_PUBLIC_ACCESS = frozenset({"private", "no"})


@dataclass(frozen=True)
class AedSite:
    id: str
    lat: float
    lon: float
    opening_hours: str | None  # OSM opening_hours; None: not known
    status: str = "active"
    access: str | None = "yes"

    @property
    def in_service(self) -> bool:
        return self.status == "active" and self.access not in NO_PUBLIC_ACCESS


@dataclass(frozen=True)
class PlacedSite:
    site: AedSite
    x: float  # RD New metres
    y: float
    week: WeekAvailability

    def availability(self, hour: int) -> Availability:
        return self.week.at(hour) if self.site.in_service else Availability.closed


class WeekCoverage:
    """One area's coverage for one week."""

    def __init__(self, area_wgs84: BaseGeometry, sites: list[AedSite], monday: date) -> None:
        area = to_rd(area_wgs84)
        self.area: BaseGeometry = area if area.is_valid else shapely.make_valid(area)
        shapely.prepare(self.area)
        self.area_m2 = float(self.area.area)
        self.monday = monday
        self.hours: list[WeekHour] = week_hours(monday)
        self.sites = self._place(sites)
        # Only AEDs in service whose zone reaches into the area can cover it.
        distances = shapely.distance(
            self.area, shapely.points([s.x for s in self.sites], [s.y for s in self.sites])
        )
        self.counted = [
            s
            for s, distance in zip(self.sites, np.atleast_1d(distances), strict=True)
            if s.site.in_service and distance <= REACH_M
        ]
        masks = sorted({s.week.open for s in self.counted if s.week.open})
        self.group_masks: list[int] = masks
        group_of = {mask: index for index, mask in enumerate(masks)}
        self.site_group = np.array([group_of.get(s.week.open, -1) for s in self.counted], dtype=int)
        self.site_x = np.array([s.x for s in self.counted], dtype=np.float64)
        self.site_y = np.array([s.y for s in self.counted], dtype=np.float64)
        # The set of open groups in each hour, as an index into `open_sets`.
        self.open_sets: list[tuple[int, ...]] = []
        set_index: dict[tuple[int, ...], int] = {}
        self.hour_set: list[int] = []
        for hour in range(HOURS_PER_WEEK):
            key = tuple(g for g, mask in enumerate(masks) if mask >> hour & 1)
            if key not in set_index:
                set_index[key] = len(self.open_sets)
                self.open_sets.append(key)
            self.hour_set.append(set_index[key])
        self._build_faces()
        self._set_covered: dict[int, NDArray[np.bool_]] = {}
        self._set_uncovered: dict[int, BaseGeometry] = {}
        self.geometry_computations = 0

    def _build_faces(self) -> None:
        """Cut the area along every 500 m zone's edge into faces: each face is within reach of
        the same AEDs throughout, so any hour's coverage is a choice of faces."""
        grouped = self.site_group >= 0
        zones = reach_zones(self.site_x[grouped], self.site_y[grouped])
        edges = shapely.union_all(
            np.concatenate([shapely.boundary(zones), [shapely.boundary(self.area)]])
        )
        faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(edges)))
        inner = shapely.point_on_surface(faces)
        inside = shapely.contains_xy(self.area, *shapely.get_coordinates(inner).T)
        self.faces: NDArray[np.object_] = faces[inside]
        self.face_area = shapely.area(self.faces)
        face, zone = shapely.STRtree(zones).query(inner[inside], predicate="within")
        self.face_group = np.zeros((len(self.faces), len(self.group_masks)), dtype=bool)
        self.face_group[face, self.site_group[grouped][zone]] = True

    def _place(self, sites: list[AedSite]) -> list[PlacedSite]:
        if not sites:
            return []
        xs, ys = points_to_rd(
            np.array([s.lon for s in sites], dtype=np.float64),
            np.array([s.lat for s in sites], dtype=np.float64),
        )
        parsed: dict[str | None, WeekAvailability] = {}
        placed = []
        for site, x, y in zip(sites, xs, ys, strict=True):
            if site.opening_hours not in parsed:
                hours = parse_opening_hours(site.opening_hours)
                parsed[site.opening_hours] = week_availability(hours, self.monday)
            week = parsed[site.opening_hours]
            placed.append(PlacedSite(site=site, x=float(x), y=float(y), week=week))
        return placed

    def set_covered(self, set_index: int) -> NDArray[np.bool_]:
        """Which faces are within reach of an AED of a group of one open set (worked out once
        per set)."""
        if set_index not in self._set_covered:
            self.geometry_computations += 1
            groups = list(self.open_sets[set_index])
            self._set_covered[set_index] = np.asarray(
                self.face_group[:, groups].any(axis=1), dtype=np.bool_
            )
        return self._set_covered[set_index]

    def uncovered(self, hour: int) -> BaseGeometry:
        """The places in the area out of reach of every AED open in that hour."""
        set_index = self.hour_set[hour]
        if set_index not in self._set_uncovered:
            faces = self.faces[~self.set_covered(set_index)]
            self._set_uncovered[set_index] = (
                shapely.coverage_union_all(faces) if faces.size else Polygon()
            )
        return self._set_uncovered[set_index]

    def shares(self) -> list[float]:
        if self.area_m2 <= 0:
            return [0.0] * HOURS_PER_WEEK
        by_set = [
            min(1.0, float(self.face_area[self.set_covered(i)].sum()) / self.area_m2)
            for i in range(len(self.open_sets))
        ]
        return [by_set[self.hour_set[h]] for h in range(HOURS_PER_WEEK)]

    def added_by_new_site(self, x: float, y: float) -> list[float]:
        """For each open set: the uncovered area a new 24/7 AED at (x, y) would take in."""
        zone = shapely.buffer(shapely.Point(x, y), REACH_M, quad_segs=QUAD_SEGS)
        near = shapely.STRtree(self.faces).query(zone, predicate="intersects")
        overlap = shapely.area(shapely.intersection(self.faces[near], zone))
        return [
            float(overlap[~self.set_covered(i)[near]].sum()) for i in range(len(self.open_sets))
        ]

    def available_counts(self) -> list[int]:
        sizes = np.bincount(self.site_group[self.site_group >= 0], minlength=len(self.group_masks))
        return [
            int(sum(int(sizes[g]) for g in self.open_sets[self.hour_set[h]]))
            for h in range(HOURS_PER_WEEK)
        ]

    def hour_weights(self) -> list[float]:
        """How long each wall-clock hour really lasts, in hours (0, 1 or 2)."""
        return [h.minutes / 60 for h in self.hours]
