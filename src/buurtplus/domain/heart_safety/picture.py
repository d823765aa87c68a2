"""The coverage picture as SVG: area, AEDs by availability, uncovered places, the suggested
site, a legend and a scale bar. Drawn in RD New, so a kilometre is as long north as east."""

from xml.sax.saxutils import escape, quoteattr

import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from buurtplus.domain.heart_safety.geometry import REACH_M
from buurtplus.domain.heart_safety.hours import Availability
from buurtplus.domain.heart_safety.report import CoverageReport

WIDTH = 900
MAP_HEIGHT = 640
MARGIN = 24
LEGEND_HEIGHT = 150
HEIGHT_PX = MAP_HEIGHT + LEGEND_HEIGHT

COVERED = "#cfe8cf"
UNCOVERED = "#f08080"
OUTLINE = "#1f3a5f"
SUGGESTED = "#1f5fbf"
SITE_COLOURS = {
    Availability.open: "#1a9641",
    Availability.closed: "#6b6b6b",
    Availability.uncertain: "#f0a30a",
}
OUT_OF_SERVICE = "#7b1fa2"
LEGEND = [
    ("swatch", COVERED, "Within 500 m of an available AED"),
    ("swatch", UNCOVERED, "Not covered: no available AED within 500 m"),
    ("dot", SITE_COLOURS[Availability.open], "AED available"),
    ("dot", SITE_COLOURS[Availability.closed], "AED closed at this hour"),
    ("dot", SITE_COLOURS[Availability.uncertain], "AED hours uncertain (not counted)"),
    ("dot", OUT_OF_SERVICE, "AED out of service or not public"),
    ("ring", SUGGESTED, "Best place for a new 24/7 AED"),
]
_NICE_LENGTHS = (50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000)


class _Frame:
    """RD New metres to SVG pixels (y down)."""

    def __init__(self, bounds: tuple[float, float, float, float]) -> None:
        x0, y0, x1, y1 = bounds
        span_x, span_y = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
        self.scale = min((WIDTH - 2 * MARGIN) / span_x, (MAP_HEIGHT - 2 * MARGIN) / span_y)
        self.x0 = x0 - ((WIDTH - 2 * MARGIN) / self.scale - span_x) / 2
        self.y1 = y1 + ((MAP_HEIGHT - 2 * MARGIN) / self.scale - span_y) / 2

    def px(self, x: float, y: float) -> tuple[float, float]:
        return MARGIN + (x - self.x0) * self.scale, MARGIN + (self.y1 - y) * self.scale

    def path(self, geometry: BaseGeometry) -> str:
        parts = []
        for polygon in shapely.get_parts(geometry):
            if not isinstance(polygon, Polygon) or polygon.is_empty:
                continue
            for ring in (polygon.exterior, *polygon.interiors):
                points = [self.px(x, y) for x, y in ring.coords]
                parts.append("M" + " L".join(f"{px:.1f},{py:.1f}" for px, py in points[:-1]) + " Z")
        return " ".join(parts)


def _scale_bar(frame: _Frame) -> str:
    target = (WIDTH - 2 * MARGIN) / 4 / frame.scale
    metres = min(_NICE_LENGTHS, key=lambda length: abs(length - target))
    length = metres * frame.scale
    x, y = MARGIN + 8, MAP_HEIGHT - MARGIN + 12
    label = f"{metres // 1000} km" if metres >= 1000 and metres % 1000 == 0 else f"{metres} m"
    return (
        f'<g id="scale-bar" stroke="#000" stroke-width="2">'
        f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x + length:.1f}" y2="{y:.1f}"/>'
        f'<line x1="{x:.1f}" y1="{y - 5:.1f}" x2="{x:.1f}" y2="{y + 5:.1f}"/>'
        f'<line x1="{x + length:.1f}" y1="{y - 5:.1f}" x2="{x + length:.1f}" y2="{y + 5:.1f}"/>'
        f'<text x="{x + length + 6:.1f}" y="{y + 4:.1f}" stroke="none" font-size="12">'
        f"{label}</text></g>"
    )


def _legend() -> str:
    items = []
    for n, (kind, colour, text) in enumerate(LEGEND):
        column, row = divmod(n, 4)
        x = MARGIN + column * (WIDTH - 2 * MARGIN) / 2
        y = MAP_HEIGHT + 34 + row * 24
        if kind == "swatch":
            mark = (
                f'<rect x="{x:.0f}" y="{y - 10}" width="18" height="14" fill="{colour}" '
                'stroke="#555"/>'
            )
        elif kind == "dot":
            mark = f'<circle cx="{x + 9:.0f}" cy="{y - 3}" r="6" fill="{colour}" stroke="#fff"/>'
        else:
            mark = (
                f'<circle cx="{x + 9:.0f}" cy="{y - 3}" r="7" fill="none" stroke="{colour}" '
                'stroke-width="3"/>'
            )
        items.append(f'{mark}<text x="{x + 26:.0f}" y="{y + 2}">{escape(text)}</text>')
    return (
        f'<g id="legend" font-size="13"><text x="{MARGIN}" y="{MAP_HEIGHT + 14}" '
        f'font-weight="bold">Legend</text>{"".join(items)}</g>'
    )


def render_svg(report: CoverageReport, *, title: str) -> str:
    """The picture of the report's shown hour. `title` is plain text (escaped here)."""
    area = report.area_rd
    x0, y0, x1, y1 = area.bounds
    frame = _Frame((x0, y0, x1, y1))
    hour = report.shown_hour
    share = report.hours[hour.index].covered_share
    # Drawing finer than a pixel only makes the file bigger.
    tolerance = 0.5 / frame.scale
    uncovered = shapely.simplify(report.uncovered_rd, tolerance)
    heading = (
        f"{title}: {hour.label} in week {report.monday.isocalendar().year}-"
        f"W{report.monday.isocalendar().week:02d}, {share:.0%} of the area within "
        f"{REACH_M:.0f} m of an available AED"
    )
    body = [
        f'<rect width="{WIDTH}" height="{HEIGHT_PX}" fill="#ffffff"/>',
        f'<text x="{MARGIN}" y="16" font-size="14" font-weight="bold">{escape(heading)}</text>',
        f'<path id="area" d="{frame.path(shapely.simplify(area, tolerance))}" fill="{COVERED}" '
        'fill-rule="evenodd" stroke="none"/>',
        f'<path id="uncovered" d="{frame.path(uncovered)}" fill="{UNCOVERED}" '
        'fill-rule="evenodd" stroke="none"/>',
        f'<path id="outline" d="{frame.path(shapely.simplify(area, tolerance))}" fill="none" '
        f'stroke="{OUTLINE}" stroke-width="2" fill-rule="evenodd"/>',
    ]
    sites = []
    for placed in report.sites:
        px, py = frame.px(placed.x, placed.y)
        if not (0 <= px <= WIDTH and 0 <= py <= MAP_HEIGHT):
            continue
        if placed.site.in_service:
            state = placed.availability(hour.index)
            colour, label = SITE_COLOURS[state], state.value
        else:
            colour, label = OUT_OF_SERVICE, "out of service"
        sites.append(
            f'<circle class="aed" cx="{px:.1f}" cy="{py:.1f}" r="6" fill="{colour}" '
            f'stroke="#ffffff" stroke-width="1.5" data-state={quoteattr(label)}>'
            f"<title>{escape(f'AED {placed.site.id}: {label}')}</title></circle>"
        )
    body.append(f'<g id="aeds">{"".join(sites)}</g>')
    if report.suggestion is not None:
        sx, sy = frame.px(report.suggestion.x, report.suggestion.y)
        body.append(
            f'<g id="suggested-site"><circle cx="{sx:.1f}" cy="{sy:.1f}" '
            f'r="{max(REACH_M * frame.scale, 9):.1f}" fill="none" stroke="{SUGGESTED}" '
            'stroke-width="2" stroke-dasharray="6 4"/>'
            f'<circle cx="{sx:.1f}" cy="{sy:.1f}" r="8" fill="none" stroke="{SUGGESTED}" '
            'stroke-width="4"/><title>Best place for a new 24/7 AED</title></g>'
        )
    body += [_scale_bar(frame), _legend()]
    height = HEIGHT_PX
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif">'
        f"<title>{escape(heading)}</title>{''.join(body)}</svg>\n"
    )
