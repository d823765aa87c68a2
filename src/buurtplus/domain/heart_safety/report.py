"""The coverage report of one area for one week: what the heart-safety endpoint answers."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from shapely.geometry.base import BaseGeometry

from buurtplus.domain.heart_safety.best_site import SiteSuggestion, suggest_site
from buurtplus.domain.heart_safety.coverage import AedSite, PlacedSite, WeekCoverage
from buurtplus.domain.heart_safety.geometry import multipolygon_geojson, polygons_only
from buurtplus.domain.heart_safety.hours import HOURS_PER_WEEK, Availability, WeekHour

LEAST_COVERED_STRETCHES = 5


@dataclass(frozen=True)
class HourCoverage:
    hour: WeekHour
    covered_share: float
    available_aeds: int


@dataclass(frozen=True)
class Stretch:
    """Consecutive hours with the same coverage."""

    first: WeekHour
    hours: int
    covered_share: float


@dataclass(frozen=True)
class CoverageReport:
    monday: date
    area_m2: float
    hours: list[HourCoverage]
    mean_share: float  # over the week, each hour weighted by how long it really lasts
    least_covered: list[Stretch]
    shown_hour: WeekHour  # whose uncovered places these are
    uncovered_m2: float
    uncovered: dict[str, Any]  # GeoJSON MultiPolygon, WGS84
    suggestion: SiteSuggestion | None
    sites: list[PlacedSite]  # every AED given, in service or not, with its week
    counted_aeds: int  # in service and reaching into the area
    uncertain_aeds: int  # of those, with hours not known or open only "with a comment"
    distinct_open_sets: int
    geometry_computations: int
    area_rd: BaseGeometry  # for drawing
    uncovered_rd: BaseGeometry

    def availability(self, site: PlacedSite) -> Availability:
        return site.availability(self.shown_hour.index)


def least_covered(hours: list[HourCoverage], count: int = LEAST_COVERED_STRETCHES) -> list[Stretch]:
    """The stretches of equal coverage with the lowest share, lowest first."""
    stretches: list[Stretch] = []
    for entry in hours:
        if entry.hour.minutes == 0:  # the hour the clocks skip does not happen
            continue
        share = round(entry.covered_share, 4)
        last = stretches[-1] if stretches else None
        if (
            last
            and last.covered_share == share
            and last.first.index + last.hours == entry.hour.index
        ):
            stretches[-1] = Stretch(first=last.first, hours=last.hours + 1, covered_share=share)
        else:
            stretches.append(Stretch(first=entry.hour, hours=1, covered_share=share))
    return sorted(stretches, key=lambda s: (s.covered_share, s.first.index))[:count]


def coverage_report(
    area_wgs84: BaseGeometry,
    sites: list[AedSite],
    monday: date,
    *,
    hour: int | None = None,
    suggest: bool = True,
) -> CoverageReport:
    """Coverage of the area for the week starting on `monday`; the uncovered places are those
    of `hour` (0..167), or of the least-covered hour when not given."""
    week = WeekCoverage(area_wgs84, sites, monday)
    shares = week.shares()
    counts = week.available_counts()
    hours = [
        HourCoverage(hour=h, covered_share=shares[h.index], available_aeds=counts[h.index])
        for h in week.hours
    ]
    real = [h for h in hours if h.hour.minutes > 0]
    worst = min(real, key=lambda h: (h.covered_share, h.hour.index)).hour.index
    shown = worst if hour is None else hour
    if not 0 <= shown < HOURS_PER_WEEK:
        raise ValueError("an hour of the week is 0 (Monday 00:00) to 167 (Sunday 23:00)")
    uncovered = polygons_only(week.uncovered(shown))
    weights = week.hour_weights()
    return CoverageReport(
        monday=monday,
        area_m2=week.area_m2,
        hours=hours,
        mean_share=sum(s * w for s, w in zip(shares, weights, strict=True)) / sum(weights),
        least_covered=least_covered(hours),
        shown_hour=week.hours[shown],
        uncovered_m2=float(uncovered.area),
        uncovered=multipolygon_geojson(uncovered),
        suggestion=suggest_site(week, worst) if suggest else None,
        sites=week.sites,
        counted_aeds=len(week.counted),
        uncertain_aeds=sum(1 for s in week.counted if s.week.uncertain),
        distinct_open_sets=len(week.open_sets),
        geometry_computations=week.geometry_computations,
        area_rd=week.area,
        uncovered_rd=uncovered,
    )
