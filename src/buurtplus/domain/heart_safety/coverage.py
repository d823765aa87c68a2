"""Coverage of an area by available AEDs, hour by hour over one week.

The geometry work is done once per distinct set of open AEDs, not once per hour: AEDs with the
same week of hours form a group whose 500 m zones are merged once, and an hour's coverage is
the merge of the groups open in it, cached by the set of groups. A week with 24/7 cabinets,
shops and a school has a few dozen distinct sets, not 168.
"""

from dataclasses import dataclass
from datetime import date

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from buurtplus.domain.heart_safety.geometry import (
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
    """One area's coverage for one week; geometry is built lazily and once per open set."""

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
        self._group_cover: dict[int, BaseGeometry] = {}
        self._set_cover: dict[int, BaseGeometry] = {}
        self.geometry_computations = 0

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

    def group_cover(self, group: int) -> BaseGeometry:
        """The part of the area within reach of the AEDs of one group."""
        if group not in self._group_cover:
            members = self.site_group == group
            zones = reach_zones(self.site_x[members], self.site_y[members])
            self._group_cover[group] = shapely.intersection(self.area, shapely.union_all(zones))
        return self._group_cover[group]

    def set_cover(self, set_index: int) -> BaseGeometry:
        """The part of the area within reach of an AED of one of the groups of an open set."""
        if set_index not in self._set_cover:
            self.geometry_computations += 1
            groups = self.open_sets[set_index]
            if not groups:
                cover: BaseGeometry = Polygon()
            elif len(groups) == 1:
                cover = self.group_cover(groups[0])
            else:
                cover = shapely.union_all([self.group_cover(g) for g in groups])
            self._set_cover[set_index] = cover
        return self._set_cover[set_index]

    def covered(self, hour: int) -> BaseGeometry:
        return self.set_cover(self.hour_set[hour])

    def uncovered(self, hour: int) -> BaseGeometry:
        return shapely.difference(self.area, self.covered(hour))

    def shares(self) -> list[float]:
        if self.area_m2 <= 0:
            return [0.0] * HOURS_PER_WEEK
        by_set = [
            min(1.0, self.set_cover(i).area / self.area_m2) for i in range(len(self.open_sets))
        ]
        return [by_set[self.hour_set[h]] for h in range(HOURS_PER_WEEK)]

    def available_counts(self) -> list[int]:
        sizes = np.bincount(self.site_group[self.site_group >= 0], minlength=len(self.group_masks))
        return [
            int(sum(int(sizes[g]) for g in self.open_sets[self.hour_set[h]]))
            for h in range(HOURS_PER_WEEK)
        ]

    def hour_weights(self) -> list[float]:
        """How long each wall-clock hour really lasts, in hours (0, 1 or 2)."""
        return [h.minutes / 60 for h in self.hours]
