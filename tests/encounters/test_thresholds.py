"""Numbers given in feet are converted exactly: adjacent flight levels are separated."""

from datetime import UTC, datetime, timedelta

import polars as pl

from parley.encounters.detector import detect
from parley.tracks.geo import offset_position
from parley.tracks.schema import conform
from parley.tracks.units import feet_to_m

START = datetime(2016, 4, 14, 10, 0, tzinfo=UTC)


def _crossing(vertical_ft: float) -> pl.DataFrame:
    rows = []
    for k in range(120):
        t = START + timedelta(seconds=k)
        for track, side, east, north, alt in (
            ("icao:000001", "nato", -12000.0 + 200.0 * k, 0.0, feet_to_m(30000)),
            ("icao:100001", "russia", 0.0, -12000.0 + 200.0 * k, feet_to_m(30000 + vertical_ft)),
        ):
            lat, lon = offset_position(55.5, 19.0, east, north)
            rows.append(
                {
                    "time": t,
                    "track": track,
                    "side": side,
                    "domain": "air",
                    "lat": float(lat),
                    "lon": float(lon),
                    "alt_m": alt,
                }
            )
    return conform(pl.DataFrame(rows), keep_line=False)


def test_adjacent_flight_levels_are_not_an_encounter() -> None:
    assert detect(_crossing(1000.0)).encounters.height == 0


def test_less_than_1000_ft_apart_is_inside_the_volume() -> None:
    encounters = detect(_crossing(975.0)).encounters
    assert encounters.height == 1
    assert abs(encounters["vertical_m"][0] - feet_to_m(975.0)) < 0.01
