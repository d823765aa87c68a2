"""How long heart-safety coverage takes for a city: 200 km², a few hundred AEDs, in process."""

import random
import time
from datetime import date

import shapely
from shapely.geometry import Point

from bench.report import Row
from buurtplus.domain.heart_safety.coverage import AedSite
from buurtplus.domain.heart_safety.geometry import point_to_wgs84, to_wgs84
from buurtplus.domain.heart_safety.report import coverage_report

# A mix like a Dutch town's registry: cabinets on walls, shops, offices, schools, sport clubs.
HOURS = [
    ("24/7", 40),
    ("Mo-Fr 08:00-18:00; PH off", 15),
    ("Mo-Sa 09:00-18:00; Su 12:00-17:00; PH off", 12),
    ("Mo-Fr 07:30-17:00; PH off", 10),
    ("Mo-Su 07:00-22:00", 8),
    ("Mo-Fr 18:00-23:00; Sa-Su 09:00-18:00", 6),
    ('Mo-Fr 08:30-17:30 "by appointment"', 4),
    ("Tu-Sa 10:00-17:00", 5),
]
# Amersfoort as the centre, in RD New metres.
CENTRE = (155_000.0, 463_000.0)
RADIUS_M = 7_820.0  # a lumpy disc of about 200 km²


def varied_hours(rng: random.Random) -> str:
    """Opening hours of their own: many more distinct sets of open AEDs."""
    if rng.random() < 0.4:
        return "24/7"
    days = rng.choice(["Mo-Fr", "Mo-Sa", "Mo-Su", "Tu-Sa", "Mo-Th"])
    return f"{days} {rng.randint(6, 10):02d}:00-{rng.randint(16, 23):02d}:00"


def city(
    count: int, rng: random.Random, *, varied: bool = False
) -> tuple[shapely.Polygon, list[AedSite]]:
    # A lumpy disc, not a square: a city boundary has many vertices.
    outline = Point(*CENTRE).buffer(RADIUS_M, quad_segs=64)
    area = shapely.transform(
        outline,
        lambda c: CENTRE + (c - CENTRE) * (1 + 0.04 * rng.random()),
    )
    expressions = [h for h, weight in HOURS for _ in range(weight)]
    sites = []
    for n in range(count):
        while True:
            x = CENTRE[0] + rng.uniform(-RADIUS_M, RADIUS_M)
            y = CENTRE[1] + rng.uniform(-RADIUS_M, RADIUS_M)
            if area.contains(Point(x, y)):
                break
        lon, lat = point_to_wgs84(x, y)
        hours = varied_hours(rng) if varied else rng.choice(expressions)
        sites.append(AedSite(id=f"aed-{n}", lat=lat, lon=lon, opening_hours=hours))
    return to_wgs84(area), sites


def run(rounds: int = 5) -> list[Row]:
    rng = random.Random(11)
    rows = []
    for count, varied in ((300, False), (600, False), (300, True)):
        area, sites = city(count, rng, varied=varied)
        timings = []
        for _ in range(rounds):
            started = time.perf_counter()
            report = coverage_report(area, sites, date(2026, 11, 23))
            timings.append(time.perf_counter() - started)
        timings.sort()
        suggestion = report.suggestion
        print(
            f"coverage {report.area_m2 / 1e6:3.0f} km², {count} AEDs"
            f"{' (varied hours)' if varied else ''}: "
            f"median {timings[len(timings) // 2]:.2f} s, best {timings[0]:.2f} s "
            f"({report.distinct_open_sets} distinct open sets; mean coverage "
            f"{report.mean_share:.0%}, worst hour {report.shown_hour.label}; a new AED adds "
            f"{(suggestion.added_mean_share if suggestion else 0):.2%})"
        )
        rows.append(
            Row(
                f"heart-safety coverage, {count} AEDs{' (varied hours)' if varied else ''}",
                "—",
                timings[len(timings) // 2],
                "s (median)",
            )
        )
    return rows
