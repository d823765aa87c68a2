"""Checks on GeoJSON geometry (WGS84 longitude/latitude)."""

from typing import Any

from shapely.geometry import shape


def check_area(geometry: dict[str, Any]) -> None:
    """Raise ValueError unless `geometry` is a valid GeoJSON Polygon or MultiPolygon."""
    if geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValueError("an area is a GeoJSON Polygon or MultiPolygon")
    try:
        area = shape(geometry)
        bounds = area.bounds
        valid = area.is_valid and not area.is_empty
    except Exception as exc:  # shapely raises many kinds on malformed coordinates
        raise ValueError(f"not a readable {geometry['type']}: coordinates are malformed") from exc
    if not valid:
        raise ValueError("the polygon is empty or crosses itself")
    min_lon, min_lat, max_lon, max_lat = bounds
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise ValueError("coordinates are [longitude, latitude] in degrees (WGS84)")


# A round is a walk through a neighbourhood, not a trace of every step.
MAX_ROUTE_POSITIONS = 5000


def check_route(geometry: dict[str, Any]) -> None:
    """Raise ValueError unless `geometry` is a valid GeoJSON LineString."""
    if geometry.get("type") != "LineString":
        raise ValueError("a route is a GeoJSON LineString")
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list) or len(coordinates) < 2:
        raise ValueError("a LineString has at least two positions")
    if len(coordinates) > MAX_ROUTE_POSITIONS:
        raise ValueError(f"a route has at most {MAX_ROUTE_POSITIONS} positions")
    for position in coordinates:
        if not isinstance(position, list) or len(position) not in (2, 3):
            raise ValueError("each position is [longitude, latitude] (and maybe altitude)")
        longitude, latitude = position[0], position[1]
        if not (-180 <= longitude <= 180 and -90 <= latitude <= 90):
            raise ValueError("coordinates are [longitude, latitude] in degrees (WGS84)")
    try:
        line = shape(geometry)
        valid = line.is_valid and not line.is_empty and line.length > 0
    except Exception as exc:  # shapely raises many kinds on malformed coordinates
        raise ValueError("not a readable LineString: coordinates are malformed") from exc
    if not valid:
        raise ValueError("the LineString has fewer than two distinct positions")
