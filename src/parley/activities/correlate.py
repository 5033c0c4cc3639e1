"""Which activities contain given points: the area holds the position, the window the time.

Pure: points in, activities out. Encounters are not known here (this room may not import them);
whoever holds both (``parley.incidents.activity_link``) turns each encounter into a point.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import polars as pl

from parley.activities.model import Activity

Point = tuple[datetime, float, float]
"""(time UTC, lat, lon in degrees)."""


def activities_containing(
    points: pl.DataFrame | Sequence[Point], activities: Sequence[Activity]
) -> list[tuple[Activity, ...]]:
    """For each point (a frame with ``time``, ``lat``, ``lon`` columns, or (time, lat, lon)
    tuples), the activities whose area and time window both contain it, in the given order."""
    times, lats, lons = _columns(points)
    found: list[list[Activity]] = [[] for _ in range(len(times))]
    for activity in activities:
        start, end = _epoch_us(activity.start), _epoch_us(activity.end)
        in_window = (times >= start) & (times <= end)
        if not in_window.any():
            continue
        candidates = np.flatnonzero(in_window)
        inside = activity.area.contains(lats[candidates], lons[candidates])
        for index in candidates[inside]:
            found[int(index)].append(activity)
    return [tuple(items) for items in found]


def _columns(
    points: pl.DataFrame | Sequence[Point],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    if isinstance(points, pl.DataFrame):
        # epoch of a zoned time is absolute; a naive one is read as UTC (the tracks convention)
        frame = points.select(
            pl.col("time").dt.epoch("us"),
            pl.col("lat").cast(pl.Float64),
            pl.col("lon").cast(pl.Float64),
        )
        return (
            frame["time"].to_numpy(),
            frame["lat"].to_numpy(),
            frame["lon"].to_numpy(),
        )
    times = np.array([_epoch_us(t) for t, _, _ in points], dtype=np.int64)
    lats = np.array([lat for _, lat, _ in points], dtype=np.float64)
    lons = np.array([lon for _, _, lon in points], dtype=np.float64)
    return times, lats, lons


def _epoch_us(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # a naive time in a frame is UTC by convention
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


__all__ = ["Point", "activities_containing"]
