"""``baltic-2016``: the April 2016 encounters of ``reference/incidents.md`` over real civil traffic.

The military tracks come from :mod:`parley.scenarios.april2016`, one event per table of the
parameter file (``april_11``, ``april_12``, ``april_14``); the civil traffic from the layers of its
``[civil]`` table (:mod:`parley.scenarios.civil`). The result is deterministic: the only random
choice, each layer's time jitter, is drawn from the parameter ``seed``.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import polars as pl

from parley.errors import InputError
from parley.scenarios.april2016 import (
    Case,
    ExpectedEncounter,
    donald_cook_11_april,
    donald_cook_12_april,
    rc135_14_april,
)
from parley.scenarios.builders import concat_tracks
from parley.scenarios.civil import Layer, moved, read_layer, too_close_tracks
from parley.scenarios.params import Params, as_position, as_utc
from parley.tracks.schema import CANONICAL_COLUMNS

NAME = "baltic-2016"
SOURCE = f"scenario:{NAME}"
_TIMES = ("start", "helicopter_start", "jets_start")
_POSITIONS = ("ship_position", "position")


@dataclass(frozen=True, slots=True)
class Event:
    key: str
    description: str
    build: Callable[..., Case]


EVENTS = (
    Event(
        "april_11",
        "11 April: two Su-24s, about 20 passes over USS Donald Cook",
        donald_cook_11_april,
    ),
    Event(
        "april_12",
        "12 April: a Ka-27 circles USS Donald Cook, then two Su-24s make 11 low passes",
        donald_cook_12_april,
    ),
    Event("april_14", "14 April: a Su-27 barrel-rolls over a US RC-135", rc135_14_april),
)


class ScenarioEncounter(ExpectedEncounter):
    """An encounter the scenario must produce, with the event it belongs to and its time span."""

    event: str
    start: datetime
    end: datetime


def _keywords(key: str, values: Mapping[str, Any]) -> dict[str, Any]:
    keywords = dict(values)
    for name in _TIMES:
        if name in keywords:
            keywords[name] = as_utc(keywords[name], f"{key}.{name}")
    for name in _POSITIONS:
        if name in keywords:
            keywords[name] = as_position(keywords[name], f"{key}.{name}")
    return keywords


def build_event(event: Event, params: Params) -> Case:
    try:
        return event.build(**_keywords(event.key, params[event.key]))
    except (TypeError, ValueError) as exc:
        raise InputError(f"scenario {NAME}, [{event.key}]: {exc}") from exc


def _span(case: Case) -> tuple[datetime, datetime]:
    start, end = case.frame["time"].min(), case.frame["time"].max()
    assert isinstance(start, datetime)
    assert isinstance(end, datetime)
    return start, end


def _layers(civil: Mapping[str, Any]) -> list[tuple[Layer, list[str]]]:
    layers = []
    for item in civil.get("layers", []):
        target = item.get("move_to") or None
        where = f"civil.layers {item.get('name')!r}"
        layer = Layer(
            str(item["name"]),
            str(item["file"]),
            None if target is None else as_position(target, f"{where}.move_to"),
        )
        layers.append((layer, [str(e) for e in item.get("events", [])]))
    return layers


def civil_traffic(params: Params, cases: Mapping[str, Case]) -> pl.DataFrame:
    """Every civil layer placed before each of its events, minus aircraft too close to them."""
    civil = params["civil"]
    rng = np.random.default_rng(int(params["seed"]))
    frames = []
    for layer, events in _layers(civil):
        recording = read_layer(layer)
        for key in events:
            if key not in cases:
                raise InputError(
                    f"scenario {NAME}: civil layer {layer.name!r} names no event {key!r}"
                )
            first_at = _span(cases[key])[0] - timedelta(
                seconds=float(civil["lead_s"]) + float(rng.uniform(0.0, float(civil["jitter_s"])))
            )
            placed = moved(
                recording, to=layer.move_to, first_at=first_at, source=f"{SOURCE}/{layer.name}"
            )
            until = _span(cases[key])[1] + timedelta(seconds=float(civil["trail_s"]))
            placed = placed.filter(pl.col("time") <= until)
            dropped = too_close_tracks(
                placed,
                cases[key].frame,
                clearance_m=float(civil["clearance_m"]),
                window_s=float(civil["window_s"]),
            )
            frames.append(placed.filter(~pl.col("track").is_in(sorted(dropped))))
    return pl.concat(frames) if frames else pl.DataFrame(schema=dict.fromkeys(CANONICAL_COLUMNS))


def military_cases(params: Params) -> dict[str, Case]:
    return {event.key: build_event(event, params) for event in EVENTS}


def build(params: Params) -> pl.DataFrame:
    """The whole scenario as one canonical table, sorted by time."""
    cases = military_cases(params)
    military = concat_tracks(*(case.frame for case in cases.values())).with_columns(
        pl.lit(SOURCE).alias("source")
    )
    table = pl.concat([military.select(CANONICAL_COLUMNS), civil_traffic(params, cases)])
    return table.sort(["time", "track"], maintain_order=True)


def expected(params: Params) -> list[ScenarioEncounter]:
    """The encounters the default rules must find, event by event."""
    found: list[ScenarioEncounter] = []
    for key, case in military_cases(params).items():
        start, end = _span(case)
        found += [
            ScenarioEncounter(**item, event=key, start=start, end=end) for item in case.expected
        ]
    return found


__all__ = [
    "EVENTS",
    "NAME",
    "SOURCE",
    "Event",
    "ScenarioEncounter",
    "build",
    "build_event",
    "civil_traffic",
    "expected",
    "military_cases",
]
