"""Geodesic distance on the WGS84 ellipsoid (Vincenty's inverse formula), and bounding boxes.

Millimetre-accurate for the short distances of a neighbourhood (tested against pyproj's Geod);
the iteration only fails to converge for nearly antipodal points, which no search here asks.
"""

import math

# WGS84
A = 6378137.0
F = 1 / 298.257223563
B = A * (1 - F)
# Metres per degree of latitude, at least (at the equator: 110 574 m).
MIN_METRES_PER_DEGREE_LATITUDE = 110_574.0


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Geodesic distance in metres between two WGS84 points."""
    if lat1 == lat2 and lon1 == lon2:
        return 0.0
    u1 = math.atan((1 - F) * math.tan(math.radians(lat1)))
    u2 = math.atan((1 - F) * math.tan(math.radians(lat2)))
    big_l = math.radians(lon2 - lon1)
    lam = big_l
    sin_u1, cos_u1 = math.sin(u1), math.cos(u1)
    sin_u2, cos_u2 = math.sin(u2), math.cos(u2)
    for _ in range(200):
        sin_lam, cos_lam = math.sin(lam), math.cos(lam)
        sin_sigma = math.hypot(cos_u2 * sin_lam, cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_lam)
        if sin_sigma == 0:
            return 0.0
        cos_sigma = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_lam
        sigma = math.atan2(sin_sigma, cos_sigma)
        sin_alpha = cos_u1 * cos_u2 * sin_lam / sin_sigma
        cos2_alpha = 1 - sin_alpha**2
        cos_2sigma_m = cos_sigma - 2 * sin_u1 * sin_u2 / cos2_alpha if cos2_alpha else 0.0
        c = F / 16 * cos2_alpha * (4 + F * (4 - 3 * cos2_alpha))
        previous = lam
        lam = big_l + (1 - c) * F * sin_alpha * (
            sigma + c * sin_sigma * (cos_2sigma_m + c * cos_sigma * (-1 + 2 * cos_2sigma_m**2))
        )
        if abs(lam - previous) < 1e-12:
            break
    u_sq = cos2_alpha * (A**2 - B**2) / B**2
    big_a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
    big_b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
    delta_sigma = (
        big_b
        * sin_sigma
        * (
            cos_2sigma_m
            + big_b
            / 4
            * (
                cos_sigma * (-1 + 2 * cos_2sigma_m**2)
                - big_b / 6 * cos_2sigma_m * (-3 + 4 * sin_sigma**2) * (-3 + 4 * cos_2sigma_m**2)
            )
        )
    )
    return B * big_a * (sigma - delta_sigma)


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
