"""Candidate pairs without an all-pairs stage: per time slice, a spatial grid, only eligible sides.

Each track's path during a time slice lies inside the box of the samples that bound its segments
there (linear interpolation never leaves that box). Two tracks can only be inside a monitoring
volume during the slice when their boxes, widened by the volume radius, meet; boxes are binned into
grid cells and only boxes sharing a cell are compared, and only between sides that are examined.
"""

from dataclasses import dataclass

import numpy as np
import polars as pl

from parley.encounters.policy import Policy
from parley.tracks.geo import METRES_PER_DEGREE

MAX_COS_LATITUDE_DEG = 89.0


@dataclass(frozen=True, slots=True)
class TrackArrays:
    """The positions usable for geometry, sorted by track code then time (NumPy views)."""

    code: np.ndarray  # int64 track index (tracks sorted by id)
    t_us: np.ndarray  # int64 microseconds since the run's origin
    lat: np.ndarray
    lon: np.ndarray
    alt: np.ndarray
    speed: np.ndarray  # reported ground speed, NaN when unknown
    max_gap_us: np.ndarray  # per row: the interpolation gap of its track's domain


_BOX_COLUMNS = ("lat_lo", "lat_hi", "lon_lo", "lon_hi", "alt_lo", "alt_hi")


def segment_slices(arrays: TrackArrays, slice_us: int) -> pl.DataFrame:
    """One row per (track, slice) with the box of the segments it flies in that slice.

    Rows are sorted by track and time, so the segments starting in one slice of one track are
    contiguous and reduce in place (NumPy ``reduceat``); only the few segments that run on into
    later slices are listed again for those slices.
    """
    code = arrays.code
    same_track = code[1:] == code[:-1]
    dt = np.diff(arrays.t_us)
    start = np.flatnonzero(same_track & (dt <= arrays.max_gap_us[:-1]) & (dt > 0))
    end = start + 1
    # a segment crossing the antimeridian ends beyond ±180°: its box stays a few cells wide
    lon_start = arrays.lon[start]
    lon_end = lon_start + (arrays.lon[end] - lon_start + 180.0) % 360.0 - 180.0
    boxes = (
        np.minimum(arrays.lat[start], arrays.lat[end]),
        np.maximum(arrays.lat[start], arrays.lat[end]),
        np.minimum(lon_start, lon_end),
        np.maximum(lon_start, lon_end),
        np.minimum(arrays.alt[start], arrays.alt[end]),
        np.maximum(arrays.alt[start], arrays.alt[end]),
    )
    seg_code = code[start]
    slice_lo = arrays.t_us[start] // slice_us
    slice_hi = (arrays.t_us[end] - 1) // slice_us
    if start.size == 0:
        return pl.DataFrame(
            schema={"code": pl.Int64, "slice": pl.Int64, **dict.fromkeys(_BOX_COLUMNS, pl.Float64)}
        )
    run_starts = np.flatnonzero(
        np.concatenate([[True], (seg_code[1:] != seg_code[:-1]) | (slice_lo[1:] != slice_lo[:-1])])
    )
    reducers = (np.minimum, np.maximum) * 3
    first = pl.DataFrame(
        {
            "code": seg_code[run_starts],
            "slice": slice_lo[run_starts],
            **{
                name: reducer.reduceat(values, run_starts)
                for name, reducer, values in zip(_BOX_COLUMNS, reducers, boxes, strict=True)
            },
        }
    )
    spill = np.flatnonzero(slice_hi > slice_lo)
    if spill.size == 0:
        return first
    later = (
        pl.DataFrame(
            {
                "code": seg_code[spill],
                "slice_lo": slice_lo[spill] + 1,
                "slice_hi": slice_hi[spill],
                **{name: values[spill] for name, values in zip(_BOX_COLUMNS, boxes, strict=True)},
            }
        )
        .with_columns(pl.int_ranges("slice_lo", pl.col("slice_hi") + 1).alias("slice"))
        .explode("slice")
        .select("code", "slice", *_BOX_COLUMNS)
    )
    return (
        pl.concat([first, later])
        .group_by("code", "slice")
        .agg(
            pl.col("lat_lo").min(),
            pl.col("lat_hi").max(),
            pl.col("lon_lo").min(),
            pl.col("lon_hi").max(),
            pl.col("alt_lo").min(),
            pl.col("alt_hi").max(),
        )
    )


def _cells(boxes: pl.DataFrame, half_radius_m: float, cell_deg: float) -> pl.DataFrame:
    """Each widened box listed once per grid cell it touches.

    Longitude cells divide the full circle evenly and are numbered modulo their count, so boxes
    on either side of the antimeridian share the cells there.
    """
    lat_pad = half_radius_m / METRES_PER_DEGREE
    max_abs_lat = pl.max_horizontal(pl.col("lat_lo").abs(), pl.col("lat_hi").abs()).clip(
        upper_bound=MAX_COS_LATITUDE_DEG
    )
    lon_pad = lat_pad / max_abs_lat.radians().cos()
    lon_cells = max(int(360.0 // cell_deg), 1)
    lon_cell_deg = 360.0 / lon_cells
    ix0 = ((pl.col("lon_lo") - lon_pad + 180.0) / lon_cell_deg).floor().cast(pl.Int64)
    ix1 = ((pl.col("lon_hi") + lon_pad + 180.0) / lon_cell_deg).floor().cast(pl.Int64)
    return (
        boxes.with_columns(
            ((pl.col("lat_lo") - lat_pad) / cell_deg).floor().cast(pl.Int64).alias("iy0"),
            ((pl.col("lat_hi") + lat_pad) / cell_deg).floor().cast(pl.Int64).alias("iy1"),
            ix0.alias("ix0"),
            pl.min_horizontal(ix1, ix0 + lon_cells - 1).alias("ix1"),
        )
        .with_columns(pl.int_ranges("iy0", pl.col("iy1") + 1).alias("iy"))
        .explode("iy")
        .with_columns(pl.int_ranges("ix0", pl.col("ix1") + 1).alias("ix"))
        .explode("ix")
        .with_columns(((pl.col("ix") % lon_cells + lon_cells) % lon_cells).alias("ix"))
        .select("code", "slice", "iy", "ix")
    )


def _box_gap_m(frame: pl.DataFrame) -> pl.Expr:
    """A lower bound of the horizontal distance between two boxes (suffix _a and _b)."""
    lat_gap = pl.max_horizontal(
        pl.col("lat_lo_b") - pl.col("lat_hi_a"), pl.col("lat_lo_a") - pl.col("lat_hi_b"), 0.0
    )
    # on the circle of longitudes: the smallest gap with b as it is or one turn east or west
    lon_gap = pl.min_horizontal(
        *(
            pl.max_horizontal(
                pl.col("lon_lo_b") + turn - pl.col("lon_hi_a"),
                pl.col("lon_lo_a") - pl.col("lon_hi_b") - turn,
                0.0,
            )
            for turn in (0.0, 360.0, -360.0)
        )
    )
    max_abs_lat = pl.max_horizontal(
        pl.col("lat_lo_a").abs(),
        pl.col("lat_hi_a").abs(),
        pl.col("lat_lo_b").abs(),
        pl.col("lat_hi_b").abs(),
    ).clip(upper_bound=MAX_COS_LATITUDE_DEG)
    del frame
    return (
        (lat_gap * METRES_PER_DEGREE) ** 2
        + (lon_gap * METRES_PER_DEGREE * max_abs_lat.radians().cos()) ** 2
    ).sqrt()


def candidate_slices(
    boxes: pl.DataFrame, pair_kinds: pl.DataFrame, policy: Policy, slice_us: int
) -> pl.DataFrame:
    """(a, b, slice) whose widened boxes meet, for the eligible pairs of ``pair_kinds``.

    ``pair_kinds`` lists eligible (group_a, group_b) combinations; ``boxes`` carries each track's
    ``group`` (a side-domain-darkness class), so the join is bipartite by construction.
    """
    volumes = policy.volumes
    radius = max(
        volumes.air_air_horizontal_m, volumes.air_sea_horizontal_m, volumes.sea_sea_horizontal_m
    )
    cell_deg = radius / METRES_PER_DEGREE
    cells = _cells(boxes, radius / 2.0, cell_deg).join(
        boxes.select("code", "slice", "group"), on=["code", "slice"]
    )
    left = cells.join(pair_kinds.select("group_a").unique(), left_on="group", right_on="group_a")
    joined = (
        left.rename({"code": "a", "group": "group_a"})
        .join(
            cells.rename({"code": "b", "group": "group_b"}),
            on=["slice", "iy", "ix"],
        )
        .join(pair_kinds, on=["group_a", "group_b"])
        .filter(pl.col("a") < pl.col("b"))
        .select("a", "b", "slice", "kind", "civil_safety")
        .unique(["a", "b", "slice"])
    )
    box_cols = ["lat_lo", "lat_hi", "lon_lo", "lon_hi", "alt_lo", "alt_hi"]
    a_boxes = boxes.select(["code", "slice", *box_cols]).rename(
        {"code": "a", **{c: f"{c}_a" for c in box_cols}}
    )
    b_boxes = boxes.select(["code", "slice", *box_cols]).rename(
        {"code": "b", **{c: f"{c}_b" for c in box_cols}}
    )
    joined = joined.join(a_boxes, on=["a", "slice"]).join(b_boxes, on=["b", "slice"])
    gap = _box_gap_m(joined)
    vertical_gap = pl.max_horizontal(
        pl.col("alt_lo_b") - pl.col("alt_hi_a"), pl.col("alt_lo_a") - pl.col("alt_hi_b"), 0.0
    )
    lowest = pl.min_horizontal("alt_lo_a", "alt_lo_b")
    near = (
        pl.when(pl.col("kind") == "air-air")
        .then((gap < volumes.air_air_horizontal_m) & (vertical_gap < volumes.air_air_vertical_m))
        .when(pl.col("kind") == "air-sea")
        # the ship sits at 0 m, so the lowest altitude of the pair is the ship's, and the
        # aircraft's is the other one: require the higher of the two lows under the ceiling
        .then(
            (gap < volumes.air_sea_horizontal_m)
            & (pl.max_horizontal("alt_lo_a", "alt_lo_b") < volumes.air_sea_max_altitude_m)
        )
        .otherwise(gap < volumes.sea_sea_horizontal_m)
    )
    del lowest
    return (
        joined.filter(near)
        .select("a", "b", "slice", "kind", "civil_safety")
        .sort("a", "b", "slice")
    )


def segment_lookup(
    arrays: TrackArrays, stride_us: int, code: np.ndarray, t_us: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each (track, instant): the row starting the segment that holds it, and whether valid."""
    keys = arrays.code * stride_us + arrays.t_us
    row = np.searchsorted(keys, code * stride_us + t_us, side="right") - 1
    row = np.clip(row, 0, len(keys) - 2) if len(keys) > 1 else np.zeros_like(row)
    if len(keys) < 2:
        return row, np.zeros(row.shape, dtype=bool)
    nxt = row + 1
    valid = (
        (arrays.code[row] == code)
        & (arrays.code[nxt] == code)
        & (arrays.t_us[row] <= t_us)
        & (arrays.t_us[nxt] >= t_us)
        & (arrays.t_us[nxt] - arrays.t_us[row] <= arrays.max_gap_us[row])
        & (arrays.t_us[nxt] > arrays.t_us[row])
    )
    return row, valid


__all__ = ["TrackArrays", "candidate_slices", "segment_lookup", "segment_slices"]
