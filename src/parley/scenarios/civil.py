"""Real civil traffic as background: a recorded sample moved in place and time.

A layer is one bundled recording, read by the ordinary readers (hygiene included), whose median
position is moved to a chosen point (in the plane tangent there, so distances, speeds and courses
stay what they were) and whose first report is moved to a chosen instant. Its tracks keep their
real identities and are all ``civil``.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from parley.tracks.geo import local_offsets, offset_position
from parley.tracks.load import load_tracks
from parley.tracks.schema import CIVIL, conform

SAMPLES_FOLDER = Path(__file__).resolve().parents[1] / "data" / "samples"
_BUCKET_S = 60


@dataclass(frozen=True, slots=True)
class Layer:
    name: str
    file: str
    #: where the layer's median position lands; None leaves it where it was recorded
    move_to: tuple[float, float] | None


def read_layer(layer: Layer) -> pl.DataFrame:
    """The recording as a clean canonical table, every track ``civil``."""
    table = load_tracks([SAMPLES_FOLDER / layer.file]).table
    return table.with_columns(pl.lit(CIVIL).alias("side"))


def moved(
    table: pl.DataFrame, *, to: tuple[float, float] | None, first_at: datetime, source: str
) -> pl.DataFrame:
    """``table`` translated so its median lands on ``to`` and its first report at ``first_at``."""
    shift = first_at - table["time"].min()  # type: ignore[operator]
    assert isinstance(shift, timedelta)
    result = table.with_columns(
        (pl.col("time") + pl.lit(shift)).alias("time"), pl.lit(source).alias("source")
    )
    if to is None:
        return conform(result, keep_line=False)
    lat0, lon0 = float(table["lat"].median()), float(table["lon"].median())  # type: ignore[arg-type]
    east, north = local_offsets(table["lat"].to_numpy(), table["lon"].to_numpy(), lat0, lon0)
    lat, lon = offset_position(to[0], to[1], east, north)
    return conform(
        result.with_columns(pl.Series("lat", lat), pl.Series("lon", lon)), keep_line=False
    )


def too_close_tracks(
    civil: pl.DataFrame, military: pl.DataFrame, *, clearance_m: float, window_s: float
) -> set[str]:
    """Civil aircraft that come within ``clearance_m`` of a military aircraft (± ``window_s``)."""
    civil_air = civil.filter(pl.col("domain") == "air")
    aircraft = military.filter(pl.col("domain") == "air")
    if civil_air.is_empty() or aircraft.is_empty():
        return set()
    reach = max(1, int(np.ceil(window_s / _BUCKET_S)))
    bucket = (pl.col("time").dt.epoch("s") // _BUCKET_S).alias("bucket")
    left = civil_air.select("track", "time", "lat", "lon", bucket)
    right = aircraft.select(
        pl.col("time").alias("m_time"),
        pl.col("lat").alias("m_lat"),
        pl.col("lon").alias("m_lon"),
        bucket,
    )
    spread = pl.concat([right.with_columns(pl.col("bucket") + k) for k in range(-reach, reach + 1)])
    pairs = left.join(spread, on="bucket").filter(
        (pl.col("time") - pl.col("m_time")).abs() <= timedelta(seconds=window_s)
    )
    if pairs.is_empty():
        return set()
    east, north = local_offsets(
        pairs["lat"].to_numpy(),
        pairs["lon"].to_numpy(),
        pairs["m_lat"].to_numpy(),
        pairs["m_lon"].to_numpy(),
    )
    close = np.hypot(east, north) < clearance_m
    return set(pairs.filter(pl.Series(close))["track"].unique().to_list())


__all__ = ["SAMPLES_FOLDER", "Layer", "moved", "read_layer", "too_close_tracks"]
