"""Spatial cells inside a time partition: which tracks each cell needs, and which cell owns what.

The globe is cut into latitude bands and, in each band, longitude cells that wrap around the
antimeridian. A cell's task detects on every track that comes within its *halo* of the cell's
core during the time partition's data window, with **all** of those tracks' rows of that window,
so any pair it sees is measured exactly as the whole partition would measure it. A cell owns an
episode when the episode's *ownership point* lies in its core: the midpoint of the two tracks at
the episode's start. Every cell that sees the pair computes the same point from the same rows, and
the cores do not overlap, so exactly one cell owns each episode.

Why the halo is the largest horizontal radius ``R`` of the monitoring volumes: an episode starts
when the pair enters its volume, so at its start the two tracks are at most ``R`` apart in the
detector's plane (east ``Δlon · cos(mid-latitude)``, north ``Δlat``), and each is at most ``R / 2``
from their midpoint in latitude, and at most ``R / (2 cos φ)`` in longitude where ``φ`` is the
midpoint's latitude. The halo is twice that: a margin for the plane being interpolated between
segment ends rather than evaluated at the start instant (a relative error of the change of
``cos φ`` over one segment, a few per cent at 85°). Each track's position at the start lies on one
of its interpolated segments (consecutive usable reports at most the interpolation gap apart), so a
track whose segment boxes come within the halo of the owner's core is in the owner's task. A band
whose core reaches past 85° of latitude is one cell around the pole (the longitude halo grows
without bound there).
"""

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from parley.encounters.policy import Policy
from parley.tracks.geo import METRES_PER_DEGREE

#: A band whose core reaches this far from the equator is one cell around the pole.
POLAR_LATITUDE_DEG = 85.0

USABLE = ~((pl.col("domain") == "air") & pl.col("alt_m").is_null())


@dataclass(frozen=True, slots=True)
class CellGrid:
    """Cells of about ``degrees`` × ``degrees``: 180° and 360° are divided into whole numbers."""

    degrees: float

    def __post_init__(self) -> None:
        if not 0.0 < self.degrees <= 360.0:
            raise ValueError("cell degrees must be in (0, 360]")

    @property
    def lat_bands(self) -> int:
        return max(1, round(180.0 / self.degrees))

    @property
    def lon_cells(self) -> int:
        return max(1, round(360.0 / self.degrees))

    @property
    def band_deg(self) -> float:
        return 180.0 / self.lat_bands

    @property
    def lon_cell_deg(self) -> float:
        return 360.0 / self.lon_cells

    @property
    def count(self) -> int:
        return self.lat_bands * self.lon_cells


def halo_m(policy: Policy) -> float:
    """The largest horizontal radius of the monitoring volumes (see the module's argument)."""
    volumes = policy.volumes
    return max(
        volumes.air_air_horizontal_m, volumes.air_sea_horizontal_m, volumes.sea_sea_horizontal_m
    )


def band_halos(grid: CellGrid, policy: Policy) -> pl.DataFrame:
    """Per latitude band: its longitude halo in degrees, whether a track near it is near every
    one of its cells (``whole``), and whether it is a single polar cell (``polar``)."""
    halo_deg = halo_m(policy) / METRES_PER_DEGREE
    rows = []
    for band, polar in enumerate(polar_bands(grid)):
        lon_halo = 0.0 if polar else halo_deg / math.cos(math.radians(_poleward(grid, band)))
        whole = polar or 2.0 * lon_halo + grid.lon_cell_deg >= 360.0
        rows.append((band, lon_halo, whole, polar))
    schema = {"iy": pl.Int64, "lon_halo": pl.Float64, "whole": pl.Boolean, "polar": pl.Boolean}
    return pl.DataFrame(rows, schema=schema, orient="row")


def polar_bands(grid: CellGrid) -> list[bool]:
    """Per latitude band: whether its core reaches past the polar latitude (one cell, ix 0)."""
    return [_poleward(grid, band) >= POLAR_LATITUDE_DEG for band in range(grid.lat_bands)]


def _poleward(grid: CellGrid, band: int) -> float:
    """The largest absolute latitude of a band's core."""
    return max(abs(-90.0 + band * grid.band_deg), abs(-90.0 + (band + 1) * grid.band_deg))


def _gap_us(policy: Policy) -> pl.Expr:
    gap_s = (
        pl.when(pl.col("domain") == "sea")
        .then(policy.gaps.sea_max_gap_s)
        .otherwise(policy.gaps.air_max_gap_s)
    )
    return (gap_s * 1e6).cast(pl.Int64)


def segment_boxes(rows: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """Per usable report: the box of it and, when the segment to the track's next report is
    interpolated (``0 < dt <= gap``), of that next report too; longitudes unwrapped eastwards."""
    ordered = (
        rows.filter(USABLE)
        .select(
            "track",
            pl.col("time").dt.epoch("us").alias("t"),
            pl.col("lat").cast(pl.Float64),
            pl.col("lon").cast(pl.Float64),
            _gap_us(policy).alias("gap"),
        )
        .sort("track", "t", maintain_order=True)
    )
    dt = pl.col("t").shift(-1) - pl.col("t")
    interpolated = (pl.col("track").shift(-1) == pl.col("track")) & (dt > 0) & (dt <= pl.col("gap"))
    next_lat = pl.when(interpolated).then(pl.col("lat").shift(-1)).otherwise(pl.col("lat"))
    next_lon = (
        pl.when(interpolated)
        .then(pl.col("lon") + (pl.col("lon").shift(-1) - pl.col("lon") + 180.0) % 360.0 - 180.0)
        .otherwise(pl.col("lon"))
    )
    return ordered.with_columns(next_lat.alias("lat_next"), next_lon.alias("lon_next")).select(
        "track",
        pl.min_horizontal("lat", "lat_next").alias("lat_lo"),
        pl.max_horizontal("lat", "lat_next").alias("lat_hi"),
        pl.min_horizontal("lon", "lon_next").alias("lon_lo"),
        pl.max_horizontal("lon", "lon_next").alias("lon_hi"),
    )


def track_cells(rows: pl.DataFrame, grid: CellGrid, policy: Policy) -> pl.DataFrame:
    """``track``, ``cell``: each cell whose core widened by the halo a track's boxes reach."""
    lat_halo = halo_m(policy) / METRES_PER_DEGREE
    band, width, cells = grid.band_deg, grid.lon_cell_deg, grid.lon_cells
    last_band = grid.lat_bands - 1
    iy0 = ((pl.col("lat_lo") - lat_halo + 90.0) / band).floor().cast(pl.Int64).clip(0, last_band)
    iy1 = ((pl.col("lat_hi") + lat_halo + 90.0) / band).floor().cast(pl.Int64).clip(0, last_band)
    ix0 = ((pl.col("lon_lo") - pl.col("lon_halo") + 180.0) / width).floor().cast(pl.Int64)
    ix1 = ((pl.col("lon_hi") + pl.col("lon_halo") + 180.0) / width).floor().cast(pl.Int64)
    spans = (
        segment_boxes(rows, policy)
        .with_columns(pl.int_ranges(iy0, iy1 + 1).alias("iy"))
        .explode("iy")
        .join(band_halos(grid, policy), on="iy")
        .select(
            "track",
            "iy",
            pl.when("whole").then(0).otherwise(ix0).alias("ix0"),
            # more than one turn of longitude is every cell once; a polar band is one cell
            pl.when("polar")
            .then(0)
            .when("whole")
            .then(cells - 1)
            .otherwise(pl.min_horizontal(ix1, ix0 + cells - 1))
            .alias("ix1"),
        )
        .unique()
    )
    return (
        spans.with_columns(pl.int_ranges("ix0", pl.col("ix1") + 1).alias("ix"))
        .explode("ix")
        .select(
            "track", (pl.col("iy") * cells + (pl.col("ix") % cells + cells) % cells).alias("cell")
        )
        .unique()
        .sort("cell", "track")
    )


def _wrap(delta: pl.Expr) -> pl.Expr:
    return (delta + 180.0) % 360.0 - 180.0


def positions_at(rows: pl.DataFrame, queries: pl.DataFrame) -> pl.DataFrame:
    """``queries`` (``track``, ``t`` in epoch µs) with ``lat``, ``lon`` interpolated as the
    detector does: linearly between the usable reports around ``t`` (longitude the short way)."""
    reports = (
        rows.filter(USABLE)
        .select(
            "track",
            pl.col("time").dt.epoch("us").alias("t_report"),
            pl.col("lat").cast(pl.Float64),
            pl.col("lon").cast(pl.Float64),
        )
        .sort("t_report", maintain_order=True)
    )
    ordered = queries.with_row_index("_query").sort("t", maintain_order=True)
    around = {
        strategy: ordered.join_asof(
            reports,
            left_on="t",
            right_on="t_report",
            by="track",
            strategy=strategy,
            check_sortedness=False,  # both are sorted by time above
        ).sort("_query")
        for strategy in ("backward", "forward")
    }
    before, after = around["backward"], around["forward"]
    t0 = pl.coalesce(before["t_report"], after["t_report"])
    t1 = pl.coalesce(after["t_report"], before["t_report"])
    lat0 = pl.coalesce(before["lat"], after["lat"])
    lat1 = pl.coalesce(after["lat"], before["lat"])
    lon0 = pl.coalesce(before["lon"], after["lon"])
    lon1 = pl.coalesce(after["lon"], before["lon"])
    span = (t1 - t0).cast(pl.Float64)
    fraction = pl.when(span > 0).then((pl.col("t") - t0) / span).otherwise(0.0)
    return before.select(
        "track",
        "t",
        (lat0 + fraction * (lat1 - lat0)).alias("lat"),
        (lon0 + fraction * _wrap(lon1 - lon0)).alias("lon"),
    )


def owning_cells(encounters: pl.DataFrame, rows: pl.DataFrame, grid: CellGrid) -> np.ndarray:
    """The cell owning each encounter: the one holding both tracks' midpoint at its start."""
    if encounters.height == 0:
        return np.zeros(0, dtype=np.int64)
    start = pl.col("start").dt.epoch("us").alias("t")
    a = positions_at(rows, encounters.select(pl.col("a").alias("track"), start))
    b = positions_at(rows, encounters.select(pl.col("b").alias("track"), start))
    lat = ((a["lat"] + b["lat"]) / 2.0).to_numpy()
    lon_a, lon_b = a["lon"].to_numpy(), b["lon"].to_numpy()
    lon = lon_a + ((lon_b - lon_a + 180.0) % 360.0 - 180.0) / 2.0
    return cell_of(lat, lon, grid)


def cell_of(lat: np.ndarray, lon: np.ndarray, grid: CellGrid) -> np.ndarray:
    """The cell whose core holds each point (longitude any value: it wraps)."""
    iy = np.clip(np.floor((lat + 90.0) / grid.band_deg), 0, grid.lat_bands - 1).astype(np.int64)
    east = (np.asarray(lon) + 180.0) % 360.0
    ix = np.floor(east / grid.lon_cell_deg).astype(np.int64) % grid.lon_cells
    ix = np.where(np.asarray(polar_bands(grid))[iy], 0, ix)
    return np.asarray(iy * grid.lon_cells + ix, dtype=np.int64)


__all__ = [
    "POLAR_LATITUDE_DEG",
    "USABLE",
    "CellGrid",
    "band_halos",
    "cell_of",
    "halo_m",
    "owning_cells",
    "polar_bands",
    "positions_at",
    "segment_boxes",
    "track_cells",
]
