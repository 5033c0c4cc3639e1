"""Small geodesy for short distances: a local tangent plane around a reference latitude.

Encounters happen within a few nautical miles, so a local east/north plane (equirectangular at the
reference latitude, on a sphere of the mean Earth radius) is exact to far better than a metre over
10 km, and it keeps every kernel a few NumPy operations.
"""

import numpy as np
import numpy.typing as npt

from parley.tracks.units import EARTH_RADIUS_M

FloatArray = npt.NDArray[np.float64]
METRES_PER_DEGREE = EARTH_RADIUS_M * np.pi / 180.0


def local_offsets(
    lat: FloatArray | float,
    lon: FloatArray | float,
    lat0: FloatArray | float,
    lon0: FloatArray | float,
) -> tuple[FloatArray, FloatArray]:
    """East and north metres of (lat, lon) from (lat0, lon0), in the plane tangent at lat0."""
    dlon = (np.asarray(lon) - np.asarray(lon0) + 180.0) % 360.0 - 180.0
    east = dlon * METRES_PER_DEGREE * np.cos(np.radians(lat0))
    north = (np.asarray(lat) - np.asarray(lat0)) * METRES_PER_DEGREE
    return np.asarray(east, dtype=np.float64), np.asarray(north, dtype=np.float64)


def offset_position(
    lat0: FloatArray | float,
    lon0: FloatArray | float,
    east_m: FloatArray | float,
    north_m: FloatArray | float,
) -> tuple[FloatArray, FloatArray]:
    """The position ``east_m``/``north_m`` metres from (lat0, lon0): inverse of local_offsets."""
    lat = np.asarray(lat0) + np.asarray(north_m) / METRES_PER_DEGREE
    lon = np.asarray(lon0) + np.asarray(east_m) / (METRES_PER_DEGREE * np.cos(np.radians(lat0)))
    lon = (lon + 180.0) % 360.0 - 180.0
    return np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)


def haversine_m(
    lat1: FloatArray | float,
    lon1: FloatArray | float,
    lat2: FloatArray | float,
    lon2: FloatArray | float,
) -> FloatArray:
    """Great-circle distance in metres."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))


__all__ = ["METRES_PER_DEGREE", "FloatArray", "haversine_m", "local_offsets", "offset_position"]
