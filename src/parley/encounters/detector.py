"""The archive detector: the canonical table in, one encounter per episode per pair out."""

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from itertools import permutations
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from parley.encounters.candidates import TrackArrays, candidate_slices, segment_slices
from parley.encounters.classify import Features, classify
from parley.encounters.episodes import aggregate
from parley.encounters.live_episodes import PART_COLUMNS, Columns, episode_features
from parley.encounters.policy import Policy
from parley.encounters.subintervals import measure_windows
from parley.tracks.schema import CIVIL

log = logging.getLogger(__name__)

SLICE_S = 60
#: Sub-interval events measured per batch: bounds the memory of the vectorised kernel.
EVENTS_PER_BATCH = 2_000_000
#: Up to this many inside sub-intervals the episodes are reduced with NumPy, past it with Polars.
NUMPY_EPISODES_MAX_PARTS = 200_000
_MICROSECOND = timedelta(microseconds=1)

ProgressCallback = Callable[[int, int], None]


@dataclass(slots=True)
class Detection:
    encounters: pl.DataFrame
    stats: dict[str, Any] = field(default_factory=dict)


def _track_table(table: pl.DataFrame) -> pl.DataFrame:
    """One row per track, sorted by id (its code is its row): side, domain and darkness.

    A track is dark when any of its reports has the transponder off. Grouping is done on integer
    codes (an Enum of the sorted ids), which costs a fraction of grouping 10 M strings.
    """
    ids = table["track"].unique().sort()
    codes = pl.Enum(ids.to_list())
    per_track = (
        table.select(
            pl.col("track").cast(codes).to_physical().cast(pl.Int64).alias("code"),
            "side",
            "domain",
            (pl.col("transponder") == "off").alias("dark"),
        )
        .group_by("code")
        .agg(
            pl.col("side").drop_nulls().first().fill_null(CIVIL),
            pl.col("domain").first(),
            pl.col("dark").any(),
        )
        .sort("code")
    )
    return per_track.with_columns(pl.Series("track", ids.to_list())).select(
        "code", "track", "side", "domain", "dark"
    )


def _group_of(side: str, domain: str, dark: bool) -> str:
    return f"{side}|{domain}|{'dark' if dark else 'lit'}"


def _kind(domain_a: str, domain_b: str) -> str:
    if domain_a == domain_b:
        return f"{domain_a}-{domain_b}"
    return "air-sea"


def eligible_pairs(tracks: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """The (group_a, group_b) combinations examined, with the kind and the civil-safety flag."""
    groups = tracks.select("side", "domain", "dark").unique().rows()
    parties = sorted({side for side, _, _ in groups if side != CIVIL})
    allowed: set[tuple[str, str]] = set()
    if policy.pairs.parties == "all":
        allowed = set(permutations(parties, 2))
    else:
        for x, y in policy.pairs.parties:
            allowed |= {(x, y), (y, x)}
    rows = []
    for (side_a, dom_a, dark_a), (side_b, dom_b, dark_b) in permutations(groups, 2):
        opposing = (side_a, side_b) in allowed
        civil_safety = (
            policy.pairs.civil_safety
            and dom_a == dom_b == "air"
            and (
                (side_a != CIVIL and dark_a and side_b == CIVIL)
                or (side_b != CIVIL and dark_b and side_a == CIVIL)
            )
        )
        if opposing or civil_safety:
            rows.append(
                (
                    _group_of(side_a, dom_a, dark_a),
                    _group_of(side_b, dom_b, dark_b),
                    _kind(dom_a, dom_b),
                    bool(civil_safety),
                )
            )
    # the same two groups paired with themselves (e.g. two dark tracks of one party) never oppose
    return pl.DataFrame(
        rows,
        schema={
            "group_a": pl.String,
            "group_b": pl.String,
            "kind": pl.String,
            "civil_safety": pl.Boolean,
        },
        orient="row",
    )


def _arrays(
    table: pl.DataFrame, tracks: pl.DataFrame, policy: Policy, origin_us: int
) -> TrackArrays:
    """The columns the geometry needs, as NumPy arrays sorted by track code and time.

    Track codes are the positions of the ids in the sorted track table, taken through an Enum
    cast rather than a join, so only seven numeric columns are ever sorted.
    """
    codes = pl.Enum(tracks["track"].to_list())
    gap_s = (
        pl.when(pl.col("domain") == "sea")
        .then(policy.gaps.sea_max_gap_s)
        .otherwise(policy.gaps.air_max_gap_s)
    )
    frame = table.select(
        pl.col("track").cast(codes).to_physical().cast(pl.Int64).alias("code"),
        (pl.col("time").dt.epoch("us") - origin_us).alias("t_us"),
        pl.col("lat").cast(pl.Float64),
        pl.col("lon").cast(pl.Float64),
        pl.col("alt_m").fill_null(0.0).cast(pl.Float64),
        pl.col("speed_mps").fill_null(float("nan")).cast(pl.Float64),
        (gap_s * 1e6).cast(pl.Int64).alias("max_gap_us"),
    )
    columns = [frame[name].to_numpy() for name in frame.columns]
    code, t_us = columns[0], columns[1]
    in_order = (code[1:] > code[:-1]) | ((code[1:] == code[:-1]) & (t_us[1:] >= t_us[:-1]))
    if not in_order.all():
        order = np.lexsort((t_us, code))
        columns = [column[order] for column in columns]
    return TrackArrays(*columns)


#: The columns detection reads; the others are left behind before anything is copied.
_DETECTION_COLUMNS = (
    "time",
    "track",
    "side",
    "domain",
    "lat",
    "lon",
    "alt_m",
    "speed_mps",
    "transponder",
)


def _usable(table: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """Aircraft reports without altitude cannot be placed in 3-D: they are left out and counted."""
    missing = (pl.col("domain") == "air") & pl.col("alt_m").is_null()
    count = int(table.select(missing.sum()).item() or 0)
    return (table.filter(~missing) if count else table), count


def _windows(candidates: pl.DataFrame, tracks: pl.DataFrame, slice_us: int) -> pl.DataFrame:
    domains = tracks.select("code", "domain")
    return (
        candidates.join(domains.rename({"code": "a", "domain": "domain_a"}), on="a")
        .join(domains.rename({"code": "b", "domain": "domain_b"}), on="b")
        .with_columns(
            (pl.col("slice") * slice_us).alias("w0"),
            ((pl.col("slice") + 1) * slice_us).alias("w1"),
            pl.when(pl.col("kind") != "air-sea")
            .then(pl.lit(""))
            .when(pl.col("domain_a") == "air")
            .then(pl.lit("a"))
            .otherwise(pl.lit("b"))
            .alias("air_is"),
        )
    )


def _encounter_id(a: str, b: str, start: datetime) -> str:
    digest = hashlib.sha256(f"{a}|{b}|{start.isoformat()}".encode()).hexdigest()
    return f"enc-{digest[:12]}"


def _episodes(inside: pl.DataFrame, policy: Policy) -> Columns:
    """``aggregate``'s episodes as NumPy columns, sorted by a, b, start.

    Up to ``NUMPY_EPISODES_MAX_PARTS`` parts they are reduced with NumPy (``live_episodes``,
    held equal to ``aggregate`` by its tests): Polars' fixed cost per query made a quarter of a
    live detection round. Past it, Polars' parallel group-by.
    """
    if inside.height > NUMPY_EPISODES_MAX_PARTS:
        episodes = aggregate(inside, policy).drop("episode")
        return {name: episodes[name].to_numpy() for name in episodes.columns}
    parts = {name: inside[name].to_numpy() for name in PART_COLUMNS if name != "kind"}
    # the kinds as a fixed-width text array: NumPy compares those far faster than objects
    parts["kind"] = inside["kind"].to_numpy().astype(str)
    return episode_features(parts, policy)


def _severities(
    episodes: Columns, dark: npt.NDArray[np.bool_], policy: Policy
) -> tuple[list[str], list[str]]:
    """Each episode's severity, and its reasons joined by commas (a reason holds none)."""
    names = [feature.name for feature in fields(Features)]  # the episodes' column names
    severities, reasons = [], []
    rows = zip(*(episodes[name].tolist() for name in names), strict=True)
    for features, transponder_off in zip(rows, dark.tolist(), strict=True):
        severity, why = classify(Features(*features), policy)
        if transponder_off:
            why.append("transponder-off")
        severities.append(severity)
        reasons.append(",".join(why))
    return severities, reasons


def _offsets_us(seconds: npt.NDArray[np.float64]) -> list[int]:
    """Whole microseconds, rounded as ``timedelta(seconds=s)`` rounds them."""
    return [timedelta(seconds=s) // _MICROSECOND for s in seconds.tolist()]


def _finish(
    episodes: Columns, tracks: pl.DataFrame, policy: Policy, origin: datetime
) -> pl.DataFrame:
    """The encounters table, built column by column.

    Track codes are the positions of the ids in the sorted track table, so the episodes' order
    (a, b, start by code) is already the table's (a, b, start by id).
    """
    a, b = episodes["a"], episodes["b"]
    ids = tracks["track"].to_numpy()
    track_a, track_b = ids[a].tolist(), ids[b].tolist()
    dark = tracks["dark"].to_numpy()
    severities, reasons = _severities(episodes, dark[a] | dark[b], policy)
    origin_us = _epoch_us(origin)
    offsets = {name: _offsets_us(episodes[name]) for name in ("start", "end", "cpa_time")}
    encounter_ids = [
        _encounter_id(x, y, origin + timedelta(microseconds=us))
        for x, y, us in zip(track_a, track_b, offsets["start"], strict=True)
    ]
    sides = tracks["side"]
    moment = ENCOUNTER_SCHEMA["start"]
    columns = pl.DataFrame(
        [
            pl.Series("id", encounter_ids, pl.String),
            pl.Series("a", track_a, pl.String),
            pl.Series("b", track_b, pl.String),
            sides.gather(a).alias("side_a"),
            sides.gather(b).alias("side_b"),
            pl.Series("kind", episodes["kind"].tolist(), pl.String),
            *(
                pl.Series(name, np.add(offsets[name], origin_us, dtype=np.int64)).cast(moment)
                for name in ("start", "end", "cpa_time")
            ),
            *(
                pl.Series(name, episodes[name], pl.Float64)
                for name in ("min_slant_m", "min_horizontal_m", "vertical_m", "max_closure_mps")
            ),
            pl.Series("passes", episodes["passes"], pl.Int64),
            pl.Series("orbits", np.where(episodes["kind"] == "air-sea", episodes["orbits"], 0)),
            pl.Series("overflight", episodes["overflight"], pl.Boolean),
            pl.Series("low_fast_pass", episodes["low_fast_pass"], pl.Boolean),
            pl.Series("civil_safety", episodes["civil_safety"], pl.Boolean),
            pl.Series("severity", severities, pl.String),
            pl.Series("reasons", reasons, pl.String),
        ]
    )
    listed = {
        "sides": pl.concat_list("side_a", "side_b"),
        "reasons": pl.col("reasons").str.split(","),
    }
    return columns.select(
        listed.get(name, pl.col(name)).cast(dtype).alias(name)
        for name, dtype in ENCOUNTER_SCHEMA.items()
    )


def _epoch_us(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // _MICROSECOND


ENCOUNTER_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(),
    "a": pl.String(),
    "b": pl.String(),
    "sides": pl.List(pl.String()),
    "kind": pl.String(),
    "start": pl.Datetime("us", "UTC"),
    "end": pl.Datetime("us", "UTC"),
    "cpa_time": pl.Datetime("us", "UTC"),
    "min_slant_m": pl.Float64(),
    "min_horizontal_m": pl.Float64(),
    "vertical_m": pl.Float64(),
    "max_closure_mps": pl.Float64(),
    "passes": pl.Int64(),
    "orbits": pl.Int64(),
    "overflight": pl.Boolean(),
    "low_fast_pass": pl.Boolean(),
    "civil_safety": pl.Boolean(),
    "severity": pl.String(),
    "reasons": pl.List(pl.String()),
}


def _batches(windows: pl.DataFrame, arrays: TrackArrays, stride_us: int) -> list[pl.DataFrame]:
    """Split windows so each batch holds about EVENTS_PER_BATCH sample instants."""
    if windows.height == 0:
        return []
    keys = arrays.code * stride_us + arrays.t_us
    counts = np.zeros(windows.height, dtype=np.int64)
    w0, w1 = windows["w0"].to_numpy(), windows["w1"].to_numpy()
    for column in ("a", "b"):
        code = windows[column].to_numpy()
        counts += np.searchsorted(keys, code * stride_us + w1) - np.searchsorted(
            keys, code * stride_us + w0
        )
    batch_of = np.cumsum(counts + 2) // EVENTS_PER_BATCH
    labelled = windows.with_columns(pl.Series("_batch", batch_of))
    return [part.drop("_batch") for part in labelled.partition_by("_batch", maintain_order=True)]


def _origin(requested: datetime | None, first: datetime, first_us: int) -> tuple[datetime, int]:
    """The run's origin as a datetime and as epoch microseconds (never after the first report)."""
    if requested is None:
        return first, first_us
    delta = requested - datetime(1970, 1, 1, tzinfo=UTC)
    requested_us = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if requested_us > first_us:
        raise ValueError("origin is after the first report")
    return requested, requested_us


def detect(
    table: pl.DataFrame,
    policy: Policy | None = None,
    progress: ProgressCallback | None = None,
    *,
    origin: datetime | None = None,
) -> Detection:
    """Every encounter between examined pairs in the canonical ``table``.

    ``origin`` (at or before the first report) fixes the start of the 60 s time slices; by default
    it is the first report. The live detector passes its own origin so that re-detecting a part of
    the traffic cuts time exactly where detecting all of it would.
    """
    policy = policy or Policy()
    started = time.perf_counter()
    usable, no_altitude = _usable(table.select(_DETECTION_COLUMNS))
    stats: dict[str, Any] = {
        "positions": table.height,
        "tracks": table["track"].n_unique() if table.height else 0,
        "positions_without_altitude": no_altitude,
    }
    empty = Detection(pl.DataFrame(schema=ENCOUNTER_SCHEMA), stats)
    if usable.height < 2:
        stats.update(candidate_windows=0, subintervals_inside=0, seconds=0.0)
        return empty
    tracks = _track_table(usable)
    first_us = int(usable.select(pl.col("time").min().dt.epoch("us")).item())
    origin_dt, origin_us = _origin(origin, usable["time"].min(), first_us)  # type: ignore[arg-type]
    arrays = _arrays(usable, tracks, policy, origin_us)
    del usable  # the arrays hold all the geometry needs from here on
    slice_us = SLICE_S * 1_000_000
    # the key stride of (track, time) lookups: windows end on slice boundaries, so it must pass
    # the end of the last slice, or a window's end would reach into the next track's samples
    span_us = (int(arrays.t_us.max()) // slice_us + 1) * slice_us + 1
    n_tracks = int(tracks.height)
    if n_tracks * span_us >= 2**62:
        from parley.errors import InputError

        raise InputError("archive too long for one run: split it by time (or use --cluster)")
    boxes = segment_slices(arrays, slice_us).join(
        tracks.select(
            "code",
            pl.concat_str(
                "side",
                "domain",
                pl.when("dark").then(pl.lit("dark")).otherwise(pl.lit("lit")),
                separator="|",
            ).alias("group"),
        ),
        on="code",
    )
    candidates = candidate_slices(boxes, eligible_pairs(tracks, policy), policy, slice_us)
    windows = _windows(candidates, tracks, slice_us)
    batches = _batches(windows, arrays, span_us)
    parts = []
    for index, batch in enumerate(batches):
        parts.append(measure_windows(arrays, span_us, batch, policy))
        if progress:
            progress(index + 1, len(batches))
    inside = pl.concat(parts) if parts else pl.DataFrame()
    stats.update(
        candidate_pairs=candidates.select("a", "b").n_unique() if candidates.height else 0,
        candidate_windows=candidates.height,
        subintervals_inside=inside.height,
    )
    if inside.height == 0:
        stats["seconds"] = round(time.perf_counter() - started, 3)
        return empty
    episodes = _episodes(inside, policy)
    encounters = _finish(episodes, tracks, policy, origin_dt.astimezone(UTC))
    stats["encounters"] = encounters.height
    stats["seconds"] = round(time.perf_counter() - started, 3)
    log.info("detected %d encounters in %.2f s", encounters.height, stats["seconds"])
    return Detection(encounters, stats)


__all__ = ["ENCOUNTER_SCHEMA", "Detection", "detect", "eligible_pairs"]
