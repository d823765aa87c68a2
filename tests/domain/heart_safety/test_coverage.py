"""Coverage per hour of the week, on areas small enough to check by hand (pure, no database)."""

import math
from datetime import date

import pytest
import shapely
from shapely.geometry import box, shape

from buurtplus.domain.heart_safety.coverage import AedSite, WeekCoverage
from buurtplus.domain.heart_safety.geometry import point_to_wgs84, to_rd, to_wgs84
from buurtplus.domain.heart_safety.hours import Availability, week_monday
from buurtplus.domain.heart_safety.report import coverage_report

ZONE_M2 = math.pi * 500**2
# An ordinary week: no public holiday, no change of the clocks.
JUNE = date(2026, 6, 8)
# Koningsdag, Monday 27 April 2026.
KINGS_DAY_WEEK = date(2026, 4, 27)
# The clocks go forward on Sunday 29 March 2026 and back on Sunday 25 October 2026.
SPRING_FORWARD_WEEK = date(2026, 3, 23)
FALL_BACK_WEEK = date(2026, 10, 19)
# Origin of the tests' areas, in RD New metres (near Amersfoort).
X0, Y0 = 150_000.0, 450_000.0


def square(size_m: float) -> shapely.Polygon:
    """A square area in WGS84 whose RD New sides are `size_m` long, corner at (X0, Y0)."""
    return to_wgs84(box(X0, Y0, X0 + size_m, Y0 + size_m))


def aed(name: str, x: float, y: float, hours: str | None, **extra: str) -> AedSite:
    lon, lat = point_to_wgs84(X0 + x, Y0 + y)
    return AedSite(id=name, lat=lat, lon=lon, opening_hours=hours, **extra)


def at(weekday: int, hour: int) -> int:
    return weekday * 24 + hour


def test_one_round_the_clock_aed_in_the_middle_covers_its_zone_share_every_hour() -> None:
    report = coverage_report(square(2000), [aed("a", 1000, 1000, "24/7")], JUNE)

    assert report.area_m2 == pytest.approx(4_000_000, rel=1e-6)
    for entry in report.hours:
        assert entry.covered_share == pytest.approx(ZONE_M2 / 4_000_000, rel=1e-3)
        assert entry.available_aeds == 1
    assert report.mean_share == pytest.approx(ZONE_M2 / 4_000_000, rel=1e-3)
    assert report.uncovered_m2 == pytest.approx(4_000_000 - ZONE_M2, rel=1e-3)
    assert report.geometry_computations == 1


def test_office_hours_cover_by_day_and_leave_the_night_uncovered() -> None:
    # A 600 m square lies wholly within 500 m of its centre.
    report = coverage_report(square(600), [aed("a", 300, 300, "Mo-Fr 08:00-18:00")], JUNE)
    shares = [h.covered_share for h in report.hours]

    for day in range(5):
        assert shares[at(day, 7)] == 0
        assert all(shares[at(day, hour)] == pytest.approx(1.0) for hour in range(8, 18))
        assert shares[at(day, 18)] == 0
    assert all(shares[at(day, hour)] == 0 for day in (5, 6) for hour in range(24))
    assert report.mean_share == pytest.approx(50 / 168, rel=1e-3)
    # By default the uncovered places are those of the first least-covered hour: Monday night.
    assert report.shown_hour.index == 0
    assert report.uncovered_m2 == pytest.approx(360_000, rel=1e-6)
    assert report.least_covered[0].first.index == 0
    assert report.least_covered[0].hours == 8
    assert report.least_covered[0].covered_share == 0


def test_an_hour_counts_only_when_the_aed_is_open_all_of_it() -> None:
    report = coverage_report(square(600), [aed("a", 300, 300, "Mo 08:30-17:30")], JUNE)
    shares = [h.covered_share for h in report.hours]

    assert shares[at(0, 8)] == 0
    assert shares[at(0, 9)] == pytest.approx(1.0)
    assert shares[at(0, 16)] == pytest.approx(1.0)
    assert shares[at(0, 17)] == 0


def test_ph_off_closes_the_aed_on_kings_day() -> None:
    site = aed("a", 300, 300, "Mo-Fr 08:00-18:00; PH off")
    holiday = coverage_report(square(600), [site], KINGS_DAY_WEEK)
    ordinary = coverage_report(square(600), [site], JUNE)

    assert holiday.hours[at(0, 10)].covered_share == 0  # Monday 27 April
    assert holiday.hours[at(1, 10)].covered_share == pytest.approx(1.0)
    assert ordinary.hours[at(0, 10)].covered_share == pytest.approx(1.0)


def test_ph_off_closes_the_aed_on_both_christmas_days() -> None:
    # 25 and 26 December 2026 are a Friday and a Saturday.
    report = coverage_report(
        square(600), [aed("a", 300, 300, "Mo-Sa 09:00-17:00; PH off")], date(2026, 12, 21)
    )

    assert report.hours[at(3, 12)].covered_share == pytest.approx(1.0)
    assert report.hours[at(4, 12)].covered_share == 0
    assert report.hours[at(5, 12)].covered_share == 0


def test_spring_forward_week_keeps_local_hours_and_skips_the_missing_one() -> None:
    report = coverage_report(
        square(600), [aed("a", 300, 300, "Su 01:00-12:00")], SPRING_FORWARD_WEEK
    )
    sunday = {h.hour.hour: h for h in report.hours if h.hour.weekday == 6}

    assert sunday[2].hour.minutes == 0  # 02:00-03:00 does not happen on 29 March
    assert sunday[1].hour.start.isoformat() == "2026-03-29T01:00:00+01:00"
    assert sunday[8].hour.start.isoformat() == "2026-03-29T08:00:00+02:00"
    assert all(sunday[hour].covered_share == pytest.approx(1.0) for hour in range(1, 12))
    assert sunday[12].covered_share == 0
    assert all(s.first.minutes > 0 for s in report.least_covered)
    # 10 real hours of the week's 167 are covered.
    assert report.mean_share == pytest.approx(10 / 167, rel=1e-3)


def test_fall_back_week_counts_the_repeated_hour_twice() -> None:
    report = coverage_report(square(600), [aed("a", 300, 300, "Su 02:00-03:00")], FALL_BACK_WEEK)
    sunday = {h.hour.hour: h for h in report.hours if h.hour.weekday == 6}

    assert sunday[2].hour.minutes == 120
    assert sunday[2].hour.start.isoformat() == "2026-10-25T02:00:00+02:00"
    assert sunday[2].covered_share == pytest.approx(1.0)
    assert sunday[3].covered_share == 0
    assert report.mean_share == pytest.approx(2 / 169, rel=1e-3)


def test_open_only_with_a_comment_or_unknown_hours_do_not_count_as_open() -> None:
    sites = [
        aed("appointment", 300, 300, 'Mo-Fr 08:00-18:00 "by appointment"'),
        aed("unknown", 300, 300, None),
    ]
    report = coverage_report(square(600), sites, JUNE)

    assert all(h.covered_share == 0 for h in report.hours)
    assert report.counted_aeds == 2
    assert report.uncertain_aeds == 2
    states = {s.site.id: s.availability(at(0, 10)) for s in report.sites}
    assert states == {"appointment": Availability.uncertain, "unknown": Availability.uncertain}
    assert report.sites[0].availability(at(0, 20)) == Availability.closed


def test_out_of_service_and_private_aeds_cover_nothing() -> None:
    sites = [
        aed("defective", 300, 300, "24/7", status="defective"),
        aed("private", 300, 300, "24/7", access="private"),
    ]
    report = coverage_report(square(600), sites, JUNE)

    assert report.counted_aeds == 0
    assert report.mean_share == 0


def test_an_aed_outside_the_area_covers_the_part_it_reaches() -> None:
    near = coverage_report(square(1000), [aed("near", -300, 500, "24/7")], JUNE)
    far = coverage_report(square(1000), [aed("far", -600, 500, "24/7")], JUNE)

    # The circular segment of a 500 m zone 300 m from the edge.
    segment = 500**2 * math.acos(0.6) - 300 * math.sqrt(500**2 - 300**2)
    assert near.hours[0].covered_share == pytest.approx(segment / 1_000_000, rel=2e-3)
    assert far.counted_aeds == 0


def test_hours_with_the_same_open_aeds_are_computed_once() -> None:
    sites = [
        aed("cabinet", 2000, 2000, "24/7"),
        aed("office 1", 600, 600, "Mo-Fr 08:00-18:00"),
        aed("office 2", 3400, 600, "Mo-Fr 08:00-18:00"),
        aed("shop", 2000, 3400, "Mo-Sa 09:00-17:00"),
    ]
    report = coverage_report(square(4000), sites, JUNE)

    # Night {cabinet}, 8 and 17 {cabinet, office}, 9-16 {all}, Saturday {cabinet, shop}.
    assert report.distinct_open_sets == 4
    assert report.geometry_computations == 4
    assert report.hours[at(0, 12)].available_aeds == 4
    assert report.hours[at(5, 12)].available_aeds == 2
    assert report.hours[at(0, 12)].covered_share == pytest.approx(4 * ZONE_M2 / 16e6, rel=1e-3)
    assert report.hours[at(5, 12)].covered_share == pytest.approx(2 * ZONE_M2 / 16e6, rel=1e-3)


def test_the_uncovered_places_are_those_of_the_hour_asked_for() -> None:
    sites = [aed("cabinet", 500, 1000, "24/7"), aed("office", 1500, 1000, "Mo-Fr 08:00-18:00")]
    night = coverage_report(square(2000), sites, JUNE, hour=at(0, 3))
    day = coverage_report(square(2000), sites, JUNE, hour=at(0, 12))

    for report, covered in ((night, ZONE_M2), (day, 2 * ZONE_M2)):
        geojson = report.uncovered
        assert geojson["type"] == "MultiPolygon"
        assert to_rd(shape(geojson)).area == pytest.approx(4e6 - covered, rel=2e-3)
    assert day.shown_hour.label == "Mo 12:00"


def test_the_best_new_site_fills_the_gap_between_two_aeds() -> None:
    # A 3 km by 1 km strip with AEDs 500 m from each end: the middle kilometre is a gap that
    # one zone fits exactly.
    area = to_wgs84(box(X0, Y0, X0 + 3000, Y0 + 1000))
    sites = [aed("west", 500, 500, "24/7"), aed("east", 2500, 500, "24/7")]
    report = coverage_report(area, sites, JUNE)
    suggestion = report.suggestion

    assert suggestion is not None
    assert math.hypot(suggestion.x - (X0 + 1500), suggestion.y - (Y0 + 500)) < 25
    assert suggestion.added_mean_m2 == pytest.approx(ZONE_M2, rel=5e-3)
    assert suggestion.added_mean_share == pytest.approx(ZONE_M2 / 3e6, rel=5e-3)
    assert suggestion.added_worst_hour_m2 == pytest.approx(ZONE_M2, rel=5e-3)


def test_the_best_new_site_weighs_the_hours_a_place_is_uncovered() -> None:
    # West is covered by day only, east never: the new cabinet goes east.
    area = to_wgs84(box(X0, Y0, X0 + 2000, Y0 + 1000))
    report = coverage_report(area, [aed("office", 500, 500, "Mo-Fr 08:00-18:00")], JUNE)

    assert report.suggestion is not None
    assert report.suggestion.x > X0 + 1300


def test_no_site_is_suggested_when_all_is_covered() -> None:
    report = coverage_report(square(600), [aed("a", 300, 300, "24/7")], JUNE)

    assert report.suggestion is None
    assert report.uncovered["coordinates"] == []


def test_the_week_is_an_iso_week_or_the_week_of_a_date() -> None:
    assert week_monday("2026-W48") == date(2026, 11, 23)
    assert week_monday("2026-11-26") == date(2026, 11, 23)
    with pytest.raises(ValueError, match="not a week"):
        week_monday("2026-W54")
    with pytest.raises(ValueError, match="not a week"):
        week_monday("soon")


def test_sites_with_the_same_hours_share_one_group() -> None:
    sites = [aed(str(n), 100 * n, 100, "Mo-Fr 08:00-18:00") for n in range(5)]
    week = WeekCoverage(square(1000), sites, JUNE)

    assert len(week.group_masks) == 1
    assert len(week.open_sets) == 2
