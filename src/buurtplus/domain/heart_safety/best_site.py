"""Where one new 24/7 AED would cover the most of what is now uncovered.

The measure is the week's mean: the uncovered area a new 500 m zone would take in, averaged
over the hours of the week (each hour weighted by how long it really lasts). A place that is
uncovered only at night counts for the nights; one that is never covered counts fully. That is
exactly how much the week's mean coverage would rise.

The search rasterises "uncovered hours" over the area on a grid (at most about 20 000 cells),
sums it over a 500 m disk around every cell with one FFT convolution, refines the best few
places on a 10 m grid, and measures the winner exactly with polygons.
"""

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from buurtplus.domain.heart_safety.coverage import WeekCoverage
from buurtplus.domain.heart_safety.geometry import REACH_M, point_to_wgs84

MAX_CELLS = 20_000
MIN_SPACING_M = 25.0
FINE_SPACING_M = 10.0
CANDIDATES = 3


@dataclass(frozen=True)
class SiteSuggestion:
    lon: float
    lat: float
    x: float  # RD New metres
    y: float
    # The area it newly covers, averaged over the week's hours, and as a share of the area.
    added_mean_m2: float
    added_mean_share: float
    # The area it newly covers in the least-covered hour.
    added_worst_hour_m2: float


def _axis(low: float, high: float, spacing: float) -> NDArray[np.float64]:
    count = max(1, int(np.ceil((high - low) / spacing)))
    axis: NDArray[np.float64] = low + spacing * (np.arange(count, dtype=np.float64) + 0.5)
    return axis


def _uncovered_hours(
    week: WeekCoverage, xs: NDArray[np.float64], ys: NDArray[np.float64]
) -> NDArray[np.float64]:
    """For a grid (ys by xs), the hours of the week each cell centre is in the area and out of
    reach of every open AED (0 outside the area)."""
    gx, gy = np.meshgrid(xs, ys)
    cx, cy = gx.ravel(), gy.ravel()
    inside = shapely.contains_xy(week.area, cx, cy)
    weights = week.hour_weights()
    set_weight = np.zeros(len(week.open_sets))
    for hour, set_index in enumerate(week.hour_set):
        set_weight[set_index] += weights[hour]
    covered_by_group = np.zeros((len(week.group_masks), cx.size), dtype=bool)
    if week.site_x.size and week.group_masks:
        tree = shapely.STRtree(shapely.points(week.site_x, week.site_y))
        cells, sites = tree.query(shapely.points(cx, cy), predicate="dwithin", distance=REACH_M)
        groups = week.site_group[sites]
        keep = groups >= 0
        covered_by_group[groups[keep], cells[keep]] = True
    hours = np.zeros(cx.size)
    for set_index, groups_open in enumerate(week.open_sets):
        if groups_open:
            covered = covered_by_group[list(groups_open)].any(axis=0)
            hours += set_weight[set_index] * ~covered
        else:
            hours += set_weight[set_index]
    return np.where(inside, hours, 0.0).reshape(gy.shape)


def _disk_sums(grid: NDArray[np.float64], spacing: float) -> NDArray[np.float64]:
    """For every cell, the sum of the grid over the cells within 500 m of it."""
    r = int(REACH_M // spacing)
    offsets = np.arange(-r, r + 1) * spacing
    kernel = (offsets[:, None] ** 2 + offsets[None, :] ** 2 <= REACH_M**2).astype(np.float64)
    shape = (grid.shape[0] + 2 * r, grid.shape[1] + 2 * r)
    full = np.fft.irfft2(np.fft.rfft2(grid, shape) * np.fft.rfft2(kernel, shape), shape)
    sums: NDArray[np.float64] = full[r : r + grid.shape[0], r : r + grid.shape[1]]
    return sums


def _best_cells(
    week: WeekCoverage,
    xs: NDArray[np.float64],
    ys: NDArray[np.float64],
    spacing: float,
    *,
    within: tuple[float, float, float, float] | None = None,
    count: int = 1,
) -> list[tuple[float, float, float]]:
    """The `count` best places (x, y, score) on a grid, at least 500 m apart."""
    scores = _disk_sums(_uncovered_hours(week, xs, ys), spacing)
    gx, gy = np.meshgrid(xs, ys)
    # A new AED goes in the area itself (and, when refining, near the coarse pick).
    allowed = shapely.contains_xy(week.area, gx, gy)
    if within is not None:
        x0, y0, x1, y1 = within
        allowed &= (gx >= x0) & (gx <= x1) & (gy >= y0) & (gy <= y1)
    scores = np.where(allowed, scores, -1.0)
    picks: list[tuple[float, float, float]] = []
    for _ in range(count):
        index = np.unravel_index(int(np.argmax(scores)), scores.shape)
        best = float(scores[index])
        if best <= 0:
            break
        x, y = float(gx[index]), float(gy[index])
        picks.append((x, y, best))
        scores = np.where((gx - x) ** 2 + (gy - y) ** 2 < REACH_M**2, -1.0, scores)
    return picks


def _refine(week: WeekCoverage, x: float, y: float, spacing: float) -> tuple[float, float, float]:
    half = spacing + REACH_M + FINE_SPACING_M
    xs = _axis(x - half, x + half, FINE_SPACING_M)
    ys = _axis(y - half, y + half, FINE_SPACING_M)
    found = _best_cells(
        week, xs, ys, FINE_SPACING_M, within=(x - spacing, y - spacing, x + spacing, y + spacing)
    )
    return found[0] if found else (x, y, 0.0)


def added_cover(week: WeekCoverage, x: float, y: float, hour: int) -> tuple[float, float]:
    """Measured with polygons: the uncovered area a 24/7 AED at (x, y) takes in, averaged over
    the week, and in `hour`."""
    gained = week.added_by_new_site(x, y)
    weights = week.hour_weights()
    mean = sum(gained[week.hour_set[h]] * w for h, w in enumerate(weights)) / sum(weights)
    return mean, gained[week.hour_set[hour]]


def suggest_site(week: WeekCoverage, worst_hour: int) -> SiteSuggestion | None:
    """The best place for one new 24/7 AED, or None when nothing is left uncovered."""
    if week.area_m2 <= 0:
        return None
    x0, y0, x1, y1 = week.area.bounds
    spacing = max(MIN_SPACING_M, float(np.sqrt((x1 - x0) * (y1 - y0) / MAX_CELLS)))
    coarse = _best_cells(
        week, _axis(x0, x1, spacing), _axis(y0, y1, spacing), spacing, count=CANDIDATES
    )
    if not coarse:
        return None
    refined = [_refine(week, x, y, spacing) for x, y, _ in coarse]
    x, y, _ = max(refined, key=lambda pick: pick[2])
    mean, worst = added_cover(week, x, y, worst_hour)
    if mean <= 0:
        return None
    lon, lat = point_to_wgs84(x, y)
    return SiteSuggestion(
        lon=round(lon, 6),
        lat=round(lat, 6),
        x=x,
        y=y,
        added_mean_m2=mean,
        added_mean_share=mean / week.area_m2,
        added_worst_hour_m2=worst,
    )
