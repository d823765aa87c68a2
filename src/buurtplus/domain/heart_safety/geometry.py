"""The metric frame of heart safety: WGS84 in and out, RD New (EPSG:28992) for metres.

Areas are measured and buffered in RD New, the Dutch national grid, where a metre is a metre
to well within a per mille anywhere in the Netherlands.
"""

from functools import cache
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon, box, mapping, shape
from shapely.geometry.base import BaseGeometry

# A 6-minute zone: what a bystander can fetch an AED from and be back in time.
REACH_M = 500.0
# 32 segments a quarter: a 128-gon, whose area is within 0.05 % of the true circle's.
QUAD_SEGS = 32
# Uncovered bits smaller than this are artefacts of polygon edges, not places.
SLIVER_M2 = 1.0


@cache
def _to_rd() -> Transformer:
    return Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)


@cache
def _to_wgs84() -> Transformer:
    return Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)


def _apply(transformer: Transformer, coords: NDArray[np.float64]) -> NDArray[np.float64]:
    x, y = transformer.transform(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def to_rd(geometry: BaseGeometry) -> BaseGeometry:
    """A WGS84 (longitude, latitude) geometry in RD New metres."""
    return shapely.transform(geometry, lambda c: _apply(_to_rd(), c))


def to_wgs84(geometry: BaseGeometry) -> BaseGeometry:
    """An RD New geometry in WGS84 (longitude, latitude)."""
    return shapely.transform(geometry, lambda c: _apply(_to_wgs84(), c))


def points_to_rd(
    lons: NDArray[np.float64], lats: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x, y = _to_rd().transform(lons, lats)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def point_to_wgs84(x: float, y: float) -> tuple[float, float]:
    """(longitude, latitude) of an RD New point."""
    lon, lat = _to_wgs84().transform(x, y)
    return float(lon), float(lat)


def area_from_geojson(geometry: dict[str, Any]) -> BaseGeometry:
    """A team's area (GeoJSON Polygon or MultiPolygon in WGS84) as a shapely geometry."""
    area = shape(geometry)
    if not isinstance(area, Polygon | MultiPolygon) or area.is_empty:
        raise ValueError("an area is a non-empty GeoJSON Polygon or MultiPolygon")
    return area


def area_from_bbox(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> BaseGeometry:
    if not (min_lon < max_lon and min_lat < max_lat):
        raise ValueError("a bounding box is min_lon,min_lat,max_lon,max_lat with min < max")
    return box(min_lon, min_lat, max_lon, max_lat)


def reach_zones(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.object_]:
    """The 500 m zone around each point (RD New)."""
    zones: NDArray[np.object_] = shapely.buffer(shapely.points(x, y), REACH_M, quad_segs=QUAD_SEGS)
    return zones


def polygons_only(geometry: BaseGeometry) -> MultiPolygon:
    """The polygonal parts of a geometry without slivers, as one MultiPolygon."""
    parts = [
        part
        for part in shapely.get_parts(geometry)
        if isinstance(part, Polygon) and part.area >= SLIVER_M2
    ]
    return MultiPolygon(parts)


def multipolygon_geojson(geometry_rd: BaseGeometry) -> dict[str, Any]:
    """A GeoJSON MultiPolygon in WGS84, coordinates rounded to 6 decimals (about 10 cm)."""
    geojson: dict[str, Any] = mapping(to_wgs84(polygons_only(geometry_rd)))
    return {
        "type": "MultiPolygon",
        "coordinates": [
            [[[round(x, 6), round(y, 6)] for x, y in ring] for ring in polygon]
            for polygon in geojson["coordinates"]
        ],
    }
