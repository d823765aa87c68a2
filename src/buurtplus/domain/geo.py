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
