"""The compact (columnar) form of the live picture, as ``picture.updated`` and the desk carry it.

A row form (one object of 12 named fields per track) costs about 220 bytes a track; at 10,000
tracks a second that is 2.2 MB of JSON to write and to parse every second. The columnar form,
version :data:`WIRE_VERSION`, sends what moves as parallel arrays, rounded to what a map needs,
and what rarely changes (side, domain, type, call sign, transponder) only for the tracks whose
values are new to the receiver::

    {"v": 2, "time": "2026-03-01T12:00:01.000Z",
     "ids": ["icao:4ca7b5", "mmsi:273318000"],
     "age_ms": [0, 1000],          # the report's time: "time" minus this many milliseconds
     "lat": [55.12345, 54.5], "lon": [18.1, 19.00001],    # degrees, 1e-5 (about a metre)
     "alt_m": [9144, 0], "course_deg": [250.1, 90], "speed_mps": [230.5, 6.2],
     "about": {"icao:4ca7b5": {"side": "russia", "domain": "air", "type": "Su-24",
                               "callsign": null, "transponder": "on"}}}

``alt_m``, ``course_deg`` and ``speed_mps`` hold ``null`` where unknown. A receiver that meets an
id it has no ``about`` for reads ``GET /api/v1/picture?form=columns`` (every track with its
``about``) again. See docs/live.md ("Events on the stream") and docs/desk.md.
"""

from datetime import datetime
from typing import Any, Final

import polars as pl

from parley.encounters.output import iso

#: The version of the columnar form (the row form, a list of objects under "tracks", was 1).
WIRE_VERSION: Final = 2
#: The fields that move, as columns, and the decimals each is rounded to.
MOVING: Final = {"lat": 5, "lon": 5, "alt_m": 0, "course_deg": 1, "speed_mps": 1}
#: The fields sent once per track (and again when one of them changes).
ABOUT: Final = ("side", "domain", "type", "callsign", "transponder")


def encode(
    frame: pl.DataFrame, time: datetime, about: pl.DataFrame | None = None
) -> dict[str, Any]:
    """The columnar form of ``frame`` (picture rows: track, time, the moving and the ``ABOUT``
    fields); ``about`` (track plus the ``ABOUT`` fields): what the receiver already knows, so
    only tracks that differ from it get an ``about`` entry (None: every track gets one)."""
    epoch_ms = int(time.timestamp() * 1000)
    columns = frame.select(
        "track",
        (pl.lit(epoch_ms) - pl.col("time").dt.epoch("ms")).alias("age_ms"),
        *(pl.col(name).round(decimals) for name, decimals in MOVING.items()),
    )
    payload: dict[str, Any] = {"v": WIRE_VERSION, "time": iso(time)}
    payload["ids"] = columns["track"].to_list()
    payload["age_ms"] = columns["age_ms"].to_list()
    for name, decimals in MOVING.items():
        values = columns[name]
        payload[name] = (values.cast(pl.Int64) if decimals == 0 else values).to_list()
    described = changed_about(frame, about)
    payload["about"] = {
        row["track"]: {name: row[name] for name in ABOUT}
        for row in described.select("track", *ABOUT).to_dicts()
    }
    return payload


def changed_about(frame: pl.DataFrame, known: pl.DataFrame | None) -> pl.DataFrame:
    """The rows of ``frame`` whose ``ABOUT`` fields differ from ``known`` (or are not in it)."""
    if known is None or known.height == 0:
        return frame
    joined = frame.join(known.select("track", *ABOUT), on="track", how="left", suffix="__known")
    differs = pl.any_horizontal(pl.col(n).ne_missing(pl.col(f"{n}__known")) for n in ABOUT)
    return joined.filter(differs).select(frame.columns)


def decode(
    payload: dict[str, Any], about: dict[str, dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """The picture rows of a columnar payload (``about``: what earlier payloads said of tracks
    this one does not describe). The inverse of :func:`encode` up to its rounding."""
    if payload.get("v") != WIRE_VERSION:
        raise ValueError(f"not a version {WIRE_VERSION} picture: v={payload.get('v')!r}")
    known = {**(about or {}), **payload["about"]}
    epoch_ms = int(datetime.fromisoformat(payload["time"]).timestamp() * 1000)
    rows = []
    for i, track in enumerate(payload["ids"]):
        row: dict[str, Any] = {"track": track, "time_ms": epoch_ms - payload["age_ms"][i]}
        row |= {name: payload[name][i] for name in MOVING}
        row |= known.get(track, dict.fromkeys(ABOUT))
        rows.append(row)
    return rows


__all__ = ["ABOUT", "MOVING", "WIRE_VERSION", "changed_about", "decode", "encode"]
