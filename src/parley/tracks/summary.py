"""What ``parley tracks info`` reports about a track set."""

from datetime import datetime
from typing import Any

import polars as pl

from parley.tracks.load import TrackSet

MAX_EXAMPLES_PER_RULE = 5


def _counts(table: pl.DataFrame, column: str) -> dict[str, dict[str, int]]:
    grouped = (
        table.group_by(column)
        .agg(pl.col("track").n_unique().alias("tracks"), pl.len().alias("positions"))
        .sort(column)
    )
    return {
        str(key): {"tracks": int(tracks), "positions": int(positions)}
        for key, tracks, positions in grouped.iter_rows()
    }


def summarize(tracks: TrackSet) -> dict[str, Any]:
    """A JSON-ready summary: tracks, positions, span, box, sides, domains, rejections."""
    table = tracks.table
    report = tracks.hygiene
    summary: dict[str, Any] = {
        "files": [
            {"path": f.path, "format": f.format, "rows": f.rows + f.rejected_by_reader}
            for f in tracks.files
        ],
        "tracks": table["track"].n_unique(),
        "positions": table.height,
        "time_span": None,
        "bbox": None,
        "sides": _counts(table, "side"),
        "domains": _counts(table, "domain"),
        "rejected_rows": report.rejected,
        "rejected_by_rule": dict(sorted(report.rejected_by_rule.items())),
        "rejected_examples": {},
        "duplicates_removed": report.duplicates_removed,
        "out_of_order_sorted": report.out_of_order,
        "vrate_derived": report.vrate_derived,
    }
    if table.height:
        first: datetime = table["time"].min()  # type: ignore[assignment]
        last: datetime = table["time"].max()  # type: ignore[assignment]
        summary["time_span"] = {
            "start": first.isoformat().replace("+00:00", "Z"),
            "end": last.isoformat().replace("+00:00", "Z"),
            "seconds": (last - first).total_seconds(),
        }
        summary["bbox"] = {
            "lat_min": table["lat"].min(),
            "lat_max": table["lat"].max(),
            "lon_min": table["lon"].min(),
            "lon_max": table["lon"].max(),
        }
    examples: dict[str, list[str]] = {}
    for rejection in report.rejections:
        bucket = examples.setdefault(rejection.rule, [])
        if len(bucket) < MAX_EXAMPLES_PER_RULE:
            bucket.append(str(rejection))
    summary["rejected_examples"] = examples
    return summary


__all__ = ["summarize"]
