"""Data hygiene, the same for every format: every rule counted, nothing dropped silently.

Order: malformed rows rejected (time, position, domain, transponder) → exact duplicates removed →
rows sorted by track and time (out-of-order reports counted) → impossible jumps flagged and taken
out of the geometry → missing vertical rates derived.
"""

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from parley.tracks.geo import haversine_m
from parley.tracks.readers.base import Rejection
from parley.tracks.schema import CANONICAL_COLUMNS, DOMAINS, LINE_COLUMN, TRANSPONDER_STATES

FILE_COLUMN = "_file"


@dataclass(frozen=True, slots=True)
class HygieneSettings:
    """Thresholds of the hygiene rules (settings, not constants)."""

    max_air_speed_mps: float = 600.0
    max_sea_speed_mps: float = 40.0
    #: Position noise allowed on top of the speed limit before a jump is called impossible.
    jump_noise_m: float = 50.0
    #: Reports closer in time than this count as this far apart when implying a speed.
    jump_min_dt_s: float = 1.0
    max_jump_passes: int = 6


@dataclass(slots=True)
class HygieneReport:
    rows_in: int = 0
    rows_out: int = 0
    duplicates_removed: int = 0
    out_of_order: int = 0
    vrate_derived: int = 0
    rejected_by_rule: Counter[str] = field(default_factory=Counter)
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return sum(self.rejected_by_rule.values())

    def add(self, rejections: list[Rejection]) -> None:
        self.rejections.extend(rejections)
        self.rejected_by_rule.update(r.rule for r in rejections)


def _rejections_from(frame: pl.DataFrame, rule: str) -> list[Rejection]:
    """``frame`` has _file, _line and reason columns."""
    return [
        Rejection(file, line, reason, rule)
        for file, line, reason in frame.select(FILE_COLUMN, LINE_COLUMN, "reason").iter_rows()
    ]


def _reason_for_malformed() -> pl.Expr:
    lat, lon = pl.col("lat"), pl.col("lon")
    return (
        pl.when(pl.col("time").is_null())
        .then(pl.lit("missing or unparsable time"))
        .when(pl.col("track").is_null())
        .then(pl.lit("missing track id"))
        .when(lat.is_null() | lat.is_nan())
        .then(pl.lit("missing latitude"))
        .when(lon.is_null() | lon.is_nan())
        .then(pl.lit("missing longitude"))
        .when(lat.abs() > 90)
        .then(pl.format("latitude {} outside ±90", lat))
        .when(lon.abs() > 180)
        .then(pl.format("longitude {} outside ±180", lon))
        .when(pl.col("domain").is_null() | ~pl.col("domain").is_in(DOMAINS))
        .then(pl.format("unknown domain {} (air or sea)", pl.col("domain").fill_null("(none)")))
        .when(~pl.col("transponder").is_in(TRANSPONDER_STATES))
        .then(pl.format("unknown transponder state {} (on or off)", pl.col("transponder")))
        .otherwise(None)
    )


def reject_malformed(frame: pl.DataFrame, report: HygieneReport) -> pl.DataFrame:
    frame = frame.with_columns(
        pl.col("domain").str.to_lowercase(),
        pl.col("transponder")
        .str.to_lowercase()
        .fill_null(
            pl.when(pl.col("track").str.starts_with("radar:"))
            .then(pl.lit("off"))
            .otherwise(pl.lit("on"))
        ),
    ).with_columns(_reason_for_malformed().alias("reason"))
    bad = frame.filter(pl.col("reason").is_not_null())
    report.add(_rejections_from(bad, "malformed"))
    return frame.filter(pl.col("reason").is_null()).drop("reason")


def remove_duplicates(frame: pl.DataFrame, report: HygieneReport) -> pl.DataFrame:
    before = frame.height
    frame = frame.unique(subset=list(CANONICAL_COLUMNS[:-1]), keep="first", maintain_order=True)
    report.duplicates_removed += before - frame.height
    return frame


def sort_tracks(frame: pl.DataFrame, report: HygieneReport) -> pl.DataFrame:
    backwards = frame.select(
        (pl.col("time").diff().over("track") < pl.duration(microseconds=0)).sum()
    ).item()
    report.out_of_order += int(backwards or 0)
    return frame.sort(["track", "time"], maintain_order=True)


def _implied_speeds(
    track_codes: np.ndarray,
    t_s: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    settings: HygieneSettings,
) -> np.ndarray:
    """Implied speed from each row to the next of the same track (NaN at a track's end)."""
    dist = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:]) - settings.jump_noise_m
    dt = np.maximum(np.diff(t_s), settings.jump_min_dt_s)
    speed = np.maximum(dist, 0.0) / dt
    speed[track_codes[:-1] != track_codes[1:]] = np.nan
    return np.asarray(speed, dtype=np.float64)


def _outliers(too_fast: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Which rows to blame, given which consecutive segments imply an impossible speed.

    A spike (impossible in and out) is blamed on its middle row; an impossible first segment on the
    track's first row when the rows after it agree; an impossible last segment on the last row.
    When only jumps that persist remain (everything after them moved), the row after each jump is
    blamed, one per pass.
    """
    into = np.concatenate([[False], too_fast])
    out_of = np.concatenate([too_fast, [False]])
    next_out = np.concatenate([out_of[1:], [False]])
    spike = into & out_of
    after_spike = np.concatenate([[False], spike[:-1]])
    flagged = spike | (ends & into & ~after_spike) | (starts & out_of & ~next_out)
    if not flagged.any():
        flagged = into
    return np.asarray(flagged, dtype=bool)


def flag_impossible_jumps(
    frame: pl.DataFrame, settings: HygieneSettings, report: HygieneReport
) -> pl.DataFrame:
    """Take out positions that imply an impossible speed (frame sorted by track and time)."""
    keep = np.ones(frame.height, dtype=bool)
    codes = frame["track"].cast(pl.Categorical).to_physical().to_numpy()
    t_s = frame["time"].dt.epoch("us").to_numpy().astype(np.float64) / 1e6
    lat = frame["lat"].to_numpy()
    lon = frame["lon"].to_numpy()
    is_air = frame["domain"].to_numpy() == "air"
    limit = np.where(is_air, settings.max_air_speed_mps, settings.max_sea_speed_mps)
    reasons: dict[int, str] = {}
    for _ in range(settings.max_jump_passes):
        idx = np.flatnonzero(keep)
        if idx.size < 2:
            break
        kept_codes = codes[idx]
        speed = _implied_speeds(kept_codes, t_s[idx], lat[idx], lon[idx], settings)
        too_fast = np.nan_to_num(speed, nan=0.0) > limit[idx][:-1]
        if not too_fast.any():
            break
        boundary = kept_codes[1:] != kept_codes[:-1]
        starts = np.concatenate([[True], boundary])
        ends = np.concatenate([boundary, [True]])
        flagged = _outliers(too_fast, starts, ends)
        speeds_in = np.concatenate([[np.nan], speed])
        speeds_out = np.concatenate([speed, [np.nan]])
        for position in np.flatnonzero(flagged):
            row = int(idx[position])
            implied = np.nanmax([speeds_in[position], speeds_out[position]])
            kind = "aircraft" if is_air[row] else "ship"
            reasons[row] = (
                f"impossible jump: implied speed {implied:.0f} m/s above the {kind} limit "
                f"{limit[row]:.0f} m/s"
            )
        keep[idx[flagged]] = False
    if reasons:
        rows = sorted(reasons)
        flagged_rows = frame[rows].with_columns(pl.Series("reason", [reasons[r] for r in rows]))
        report.add(_rejections_from(flagged_rows, "impossible_jump"))
    return frame.filter(pl.Series(keep))


def derive_vertical_rates(frame: pl.DataFrame, report: HygieneReport) -> pl.DataFrame:
    """Vertical rate from altitude differences where the source gave none (aircraft only)."""
    dt = pl.col("time").diff().over("track").dt.total_microseconds() / 1e6
    backward = (pl.col("alt_m").diff().over("track") / dt).replace(
        [float("inf"), -float("inf")], None
    )
    forward = backward.shift(-1).over("track")
    derived = pl.coalesce(backward, forward)
    missing = (
        pl.col("vrate_mps").is_null() & (pl.col("domain") == "air") & pl.col("alt_m").is_not_null()
    )
    frame = frame.with_columns(missing.alias("_derive"))
    frame = frame.with_columns(
        pl.when(pl.col("_derive")).then(derived).otherwise(pl.col("vrate_mps")).alias("vrate_mps"),
    )
    report.vrate_derived += int(
        frame.select((pl.col("_derive") & pl.col("vrate_mps").is_not_null()).sum()).item()
    )
    return frame.drop("_derive")


def fill_defaults(frame: pl.DataFrame) -> pl.DataFrame:
    """Ships sit at sea level; a ship without altitude is at 0 m."""
    return frame.with_columns(
        pl.when((pl.col("domain") == "sea") & pl.col("alt_m").is_null())
        .then(0.0)
        .otherwise(pl.col("alt_m"))
        .alias("alt_m")
    )


def clean(
    frame: pl.DataFrame,
    settings: HygieneSettings | None = None,
    report: HygieneReport | None = None,
) -> tuple[pl.DataFrame, HygieneReport]:
    """Apply every rule to a raw frame (canonical columns plus ``_file`` and ``_line``)."""
    settings = settings or HygieneSettings()
    report = report or HygieneReport()
    report.rows_in += frame.height
    frame = reject_malformed(frame, report)
    frame = fill_defaults(frame)
    frame = remove_duplicates(frame, report)
    frame = sort_tracks(frame, report)
    frame = flag_impossible_jumps(frame, settings, report)
    frame = derive_vertical_rates(frame, report)
    report.rows_out += frame.height
    return frame, report


__all__ = ["FILE_COLUMN", "HygieneReport", "HygieneSettings", "clean"]
