"""Geodesic distance on the WGS84 ellipsoid, and bounding boxes.

Distances are pyproj's `Geod` (GeographicLib, Karney's algorithm: accurate to nanometres and
for any two points). A search measures every AED in its box: Vincenty's formula written in
Python took six times as long per distance and a tenth of a nearby search.
"""

import math

from pyproj import Geod

_WGS84 = Geod(ellps="WGS84")
# Metres per degree of latitude, at least (at the equator: 110 574 m).
MIN_METRES_PER_DEGREE_LATITUDE = 110_574.0


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Geodesic distance in metres between two WGS84 points."""
    return float(_WGS84.inv(lon1, lat1, lon2, lat2)[2])


def bounding_box(
    latitude: float, longitude: float, radius_m: float
) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) that holds every point within `radius_m`; a little
    generous (the exact distance filters afterwards)."""
    d_lat = radius_m / MIN_METRES_PER_DEGREE_LATITUDE * 1.01
    widest = min(89.0, abs(latitude) + d_lat)
    # A degree of longitude is shortest at the box's edge furthest from the equator.
    d_lon = radius_m / (111_320.0 * math.cos(math.radians(widest))) * 1.01
    return latitude - d_lat, latitude + d_lat, longitude - d_lon, longitude + d_lon
