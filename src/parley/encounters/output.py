"""The detection output contract: JSON, GeoJSON, CSV and Parquet.

JSON: ``{"encounters": [...], "rejected_rows": int, "policy": {...}, "stats": {...}}``; each
encounter as documented in ``docs/detect.md``. Times are ISO 8601 UTC with ``Z``; distances in
metres, speeds in m/s, rounded to centimetres.
"""

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from parley.encounters.detector import Detection
from parley.encounters.policy import Policy
from parley.errors import InputError

CONTRACT_VERSION = 1
_FLOATS = ("min_slant_m", "min_horizontal_m", "vertical_m", "max_closure_mps")
EVIDENCE_WINDOW_AIR_S = 60.0
EVIDENCE_WINDOW_SEA_S = 600.0


#: ``iso`` as a Polars format: milliseconds cut (not rounded) as ``isoformat`` cuts them.
ISO_FORMAT = "%Y-%m-%dT%H:%M:%S%.3fZ"


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _positions(table: pl.DataFrame, track: str, t0: datetime, t1: datetime) -> list[dict[str, Any]]:
    rows = table.filter((pl.col("track") == track) & pl.col("time").is_between(t0, t1)).select(
        "time", "lat", "lon", "alt_m", "speed_mps", "course_deg"
    )
    return [
        {
            "time": iso(r["time"]),
            "lat": round(r["lat"], 6),
            "lon": round(r["lon"], 6),
            "alt_m": None if r["alt_m"] is None else round(r["alt_m"], 1),
            "speed_mps": None if r["speed_mps"] is None else round(r["speed_mps"], 1),
            "course_deg": None if r["course_deg"] is None else round(r["course_deg"], 1),
        }
        for r in rows.iter_rows(named=True)
    ]


def evidence_window(kind: str) -> timedelta:
    seconds = EVIDENCE_WINDOW_SEA_S if kind == "sea-sea" else EVIDENCE_WINDOW_AIR_S
    return timedelta(seconds=seconds)


def encounter_records(
    detection: Detection, table: pl.DataFrame | None = None
) -> list[dict[str, Any]]:
    """The encounters as JSON-ready dicts; with ``table``, each carries its evidence.

    Built from whole columns (one ``to_list`` each), not row by row: the live detector builds
    them for every encounter of every detection round.
    """
    frame = detection.encounters
    if frame.height == 0:
        return []
    # (Python datetimes are slow to make: only the evidence needs them)
    moments = ("start", "end") if table is not None else ("start", "end", "cpa_time")
    column = {name: frame[name].to_list() for name in frame.columns if name not in moments}
    stamps = frame.select(
        pl.col("start", "end", "cpa_time").dt.strftime(ISO_FORMAT).name.suffix("_iso")
    )
    column.update({name: stamps[name].to_list() for name in stamps.columns})
    for name in _FLOATS:
        column[f"{name}_rounded"] = [round(value, 2) for value in column[name]]
    records = []
    for i in range(frame.height):
        record: dict[str, Any] = {
            "id": column["id"][i],
            "a": column["a"][i],
            "b": column["b"][i],
            "sides": column["sides"][i],
            "kind": column["kind"][i],
            "start": column["start_iso"][i],
            "end": column["end_iso"][i],
            "cpa_time": column["cpa_time_iso"][i],
            **{name: column[f"{name}_rounded"][i] for name in _FLOATS},
            "passes": column["passes"][i],
            "orbits": column["orbits"][i],
            "overflight": column["overflight"][i],
            "low_fast_pass": column["low_fast_pass"][i],
            "civil_safety": column["civil_safety"][i],
            "severity": column["severity"][i],
            "reasons": column["reasons"][i],
        }
        if table is not None:
            record["evidence"] = evidence(
                table, record["a"], record["b"], record["kind"], column["cpa_time"][i]
            )
        records.append(record)
    return records


def evidence(table: pl.DataFrame, a: str, b: str, kind: str, cpa_time: datetime) -> dict[str, Any]:
    """Both tracks' positions in the evidence window around the closest approach."""
    window = evidence_window(kind)
    t0, t1 = cpa_time - window, cpa_time + window
    return {
        "window_s": window.total_seconds(),
        "a": _positions(table, a, t0, t1),
        "b": _positions(table, b, t0, t1),
    }


def to_json_document(
    detection: Detection, policy: Policy, rejected_rows: int, table: pl.DataFrame | None = None
) -> dict[str, Any]:
    return {
        "encounters": encounter_records(detection, table),
        "rejected_rows": rejected_rows,
        "policy": policy.to_dict(),
        "stats": {"contract_version": CONTRACT_VERSION, **detection.stats},
    }


def _line(table: pl.DataFrame, track: str, t0: datetime, t1: datetime) -> list[list[float]]:
    rows = table.filter((pl.col("track") == track) & pl.col("time").is_between(t0, t1))
    return [[round(lon, 6), round(lat, 6)] for lat, lon in rows.select("lat", "lon").iter_rows()]


def _cpa_point(table: pl.DataFrame, row: dict[str, Any]) -> list[float]:
    """Midpoint of the two tracks' interpolated positions at the CPA instant."""
    points = []
    for track in (row["a"], row["b"]):
        rows = table.filter(pl.col("track") == track).sort("time")
        times = rows["time"].dt.epoch("us").to_numpy() / 1e6
        at = row["cpa_time"].timestamp()
        points.append(
            (
                float(np.interp(at, times, rows["lat"].to_numpy())),
                float(np.interp(at, times, rows["lon"].to_numpy())),
            )
        )
    return [
        round((points[0][1] + points[1][1]) / 2, 6),
        round((points[0][0] + points[1][0]) / 2, 6),
    ]


def to_geojson(detection: Detection, table: pl.DataFrame) -> dict[str, Any]:
    """One Feature per encounter: both tracks around the episode and the closest-approach point."""
    features = []
    records = encounter_records(detection)
    for record, row in zip(records, detection.encounters.iter_rows(named=True), strict=True):
        pad = evidence_window(row["kind"]) / 2
        t0, t1 = row["start"] - pad, row["end"] + pad
        geometries: list[dict[str, Any]] = [
            {"type": "LineString", "coordinates": _line(table, row["a"], t0, t1)},
            {"type": "LineString", "coordinates": _line(table, row["b"], t0, t1)},
            {"type": "Point", "coordinates": _cpa_point(table, row)},
        ]
        geometries = [g for g in geometries if g["type"] == "Point" or len(g["coordinates"]) >= 2]
        properties = {k: v for k, v in record.items() if k not in ("sides", "reasons")}
        properties["sides"] = ",".join(record["sides"])
        properties["reasons"] = ",".join(record["reasons"])
        features.append(
            {
                "type": "Feature",
                "id": record["id"],
                "geometry": {"type": "GeometryCollection", "geometries": geometries},
                "properties": properties,
            }
        )
    return {"type": "FeatureCollection", "features": features}


def flat_table(detection: Detection) -> pl.DataFrame:
    return detection.encounters.with_columns(
        pl.col("sides").list.join(","), pl.col("reasons").list.join(",")
    )


def write_output(
    path: Path,
    detection: Detection,
    policy: Policy,
    rejected_rows: int,
    table: pl.DataFrame,
    evidence: bool,
) -> None:
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            document = to_json_document(
                detection, policy, rejected_rows, table if evidence else None
            )
            path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        elif suffix == ".geojson":
            path.write_text(json.dumps(to_geojson(detection, table)) + "\n", encoding="utf-8")
        elif suffix == ".csv":
            flat_table(detection).with_columns(
                pl.col("start", "end", "cpa_time").dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
            ).write_csv(path)
        elif suffix == ".parquet":
            detection.encounters.write_parquet(path)
        else:
            raise InputError(f"{path}: output must end in .json, .geojson, .csv or .parquet")
    except OSError as exc:
        raise InputError(f"{path}: cannot be written ({exc.strerror or exc})") from exc


__all__ = [
    "CONTRACT_VERSION",
    "encounter_records",
    "evidence",
    "to_geojson",
    "to_json_document",
    "write_output",
]
